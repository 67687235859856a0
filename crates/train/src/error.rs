//! Errors of the training crate.

use std::path::PathBuf;

use hashformer_embeddings::EmbeddingKind;

/// Everything that can go wrong setting up a run, training or checkpointing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("I/O error on {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A setting of the run is out of range or inconsistent.
    #[error("{field}: {reason}")]
    Config {
        /// The setting (a `PretrainConfig` or `FinetuneConfig` field).
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// No device was given to train on.
    #[error("no device to train on")]
    NoDevice,
    /// The text encoder was built for another variant than the model.
    #[error("the encoder is for {encoder:?} but the model is {model:?}")]
    EncoderMismatch {
        /// The encoder's variant.
        encoder: EmbeddingKind,
        /// The model's variant.
        model: EmbeddingKind,
    },
    /// The examples cannot be trained on (none, or unlabelled ones, or targets that do not
    /// fit the head).
    #[error("{0}")]
    Examples(String),
    /// The training split holds fewer sequences than one batch.
    #[error(
        "the training split of {} has {sequences} sequences, fewer than one batch of {batch_size}",
        corpus.display()
    )]
    TooFewSequences {
        /// The prepared corpus.
        corpus: PathBuf,
        /// Sequences in its training split.
        sequences: u64,
        /// The batch size asked for.
        batch_size: usize,
    },
    /// The data thread ended before the run did.
    #[error("the data thread stopped unexpectedly")]
    DataThread,
    /// A device could not be synchronised.
    #[error("device sync failed: {0}")]
    DeviceSync(String),
    /// A run directory's `run.json` describes another run than the one asked to resume.
    #[error(
        "{} describes a different run (config or corpus differ); resume with the same \
         settings, or start a new run directory",
        path.display()
    )]
    OtherRun {
        /// The `run.json`.
        path: PathBuf,
    },
    /// A run directory already holds a run (`run.json`, metrics, checkpoints or a final
    /// model) and was asked neither to resume nor to overwrite it.
    #[error(
        "{} already holds a run ({found}): pass --resume to continue it, --overwrite to delete \
         it and start afresh, or choose another directory",
        run_dir.display()
    )]
    RunExists {
        /// The run directory.
        run_dir: PathBuf,
        /// What of a run was found there (`run.json, metrics.jsonl`).
        found: String,
    },
    /// `--resume` of a run directory without a complete checkpoint.
    #[error(
        "{} has no checkpoint to resume from: run without --resume to start it (with \
         --overwrite if it holds an earlier run's files)",
        run_dir.display()
    )]
    NothingToResume {
        /// The run directory.
        run_dir: PathBuf,
    },
    /// Another process is using the directory.
    #[error(transparent)]
    InUse(#[from] hashformer_files::LockError),
    /// A run or checkpoint JSON file cannot be written or read back.
    #[error("JSON error in {}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's or writer's error.
        #[source]
        source: serde_json::Error,
    },
    /// A checkpoint or resume state is unreadable or does not belong to this run.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The loss or the gradients became NaN or infinite.
    #[error("training stopped at step {step}: the {what} is not finite ({value}); the last good checkpoint is kept")]
    NonFinite {
        /// The step that produced it.
        step: u64,
        /// "loss", "gradient norm" or "weight update".
        what: String,
        /// The value.
        value: f64,
    },
    /// The metrics log could not be written.
    #[error(transparent)]
    Log(#[from] hashformer_report::LogError),
    /// Pre-training runs cannot be compared ([`crate::compare_runs`]): no runs, a repeated
    /// label, or a step without a held-out evaluation of every run.
    #[error("cannot compare: {message}")]
    Comparison {
        /// What is wrong.
        message: String,
    },
    /// Building, loading or saving a model, or encoding text for it, failed.
    #[error(transparent)]
    Model(#[from] hashformer_model::Error),
    /// The corpus could not be read, prepared or accessed (file and line in the message).
    #[error(transparent)]
    Corpus(#[from] hashformer_corpus::Error),
}

impl Error {
    /// A `map_err` adapter naming the file of an I/O error.
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_owned();
        move |source| Self::Io { path, source }
    }

    /// A `map_err` adapter naming the file of a JSON error.
    pub(crate) fn json(path: &std::path::Path) -> impl FnOnce(serde_json::Error) -> Self {
        let path = path.to_owned();
        move |source| Self::Json { path, source }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
