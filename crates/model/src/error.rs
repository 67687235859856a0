//! Errors of the model crate.

use std::path::PathBuf;

/// Everything that can go wrong building, loading or saving a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is out of range or inconsistent.
    #[error("config field \"{field}\": {reason}")]
    Config {
        /// The `config.json` key.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// `config.json` is not valid JSON for a HashFormer.
    #[error("{}: {message}", path.display())]
    ConfigJson {
        /// The file.
        path: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A checkpoint tensor is missing, unexpected or has the wrong shape or type.
    #[error("{}: {message}", path.display())]
    Tensor {
        /// The checkpoint file.
        path: PathBuf,
        /// Which tensor and what is wrong.
        message: String,
    },
    /// The checkpoint file is not a readable safetensors file (truncated, corrupted).
    #[error("{}: not a valid safetensors file: {message}", path.display())]
    Safetensors {
        /// The file.
        path: PathBuf,
        /// The reader's message.
        message: String,
    },
    /// The model needs the roberta-base BPE files and none were given.
    #[error("{what} needs the roberta-base BPE (vocab.json + merges.txt or tokenizer.json)")]
    MissingBpe {
        /// What needs it: "LSH hashing" or "the BPE baseline".
        what: &'static str,
    },
    /// A batch's sequences are not the form its variant reads.
    #[error("{kind:?} models read {} sequences, not {given} sequences", if kind.takes_ids() { "id" } else { "hash" })]
    InputForm {
        /// The variant.
        kind: hashformer_embeddings::EmbeddingKind,
        /// The form given: "id" or "hash".
        given: &'static str,
    },
    /// A model was given a batch encoded for another variant.
    #[error("the model is {model} but the batch was encoded for {batch:?}")]
    InputMismatch {
        /// The model's token embedding.
        model: &'static str,
        /// The batch's variant.
        batch: hashformer_embeddings::EmbeddingKind,
    },
    /// A checkpoint's weights are a pickled `pytorch_model.bin`, which is never unpickled
    /// here (unpickling can run code).
    #[error(
        "{}: pickled PyTorch weights are not read (unpickling can run code); convert them to \
         model.safetensors first: python tools/convert/bin_to_safetensors.py {} (it loads with \
         torch.load(weights_only=True), then safetensors.torch.save_file)",
        path.display(),
        path.parent().map_or_else(|| ".".into(), |p| p.display().to_string())
    )]
    PickledWeights {
        /// The `pytorch_model.bin`.
        path: PathBuf,
    },
    /// A reference checkpoint's `config.json` does not say how its inputs are hashed.
    #[error(
        "{}: the config does not record the hashing scheme (the reference's never does): give \
         it: md5 for hashformer-md-*, lsh for hashformer-lsh-*, bpe for the BPE RoBERTa baseline",
        path.display()
    )]
    SchemeNeeded {
        /// The `config.json`.
        path: PathBuf,
    },
    /// A checkpoint conversion cannot be done as asked.
    #[error("{}: {reason}", path.display())]
    Convert {
        /// The directory or file concerned.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Hashing or encoding text failed.
    #[error(transparent)]
    Hashing(#[from] hashformer_hashing::Error),
    /// A file could not be read or written.
    #[error("I/O error on {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
