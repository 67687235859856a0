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
    /// Hashing or encoding text failed.
    #[error(transparent)]
    Hashing(#[from] hashformer_hashing::Error),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
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
