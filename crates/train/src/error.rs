//! Errors of the training crate.

use std::path::PathBuf;

/// Everything that can go wrong preparing data, training or checkpointing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The run cannot be set up as asked (missing BPE, mismatched config, bad option).
    #[error("{0}")]
    Setup(String),
    /// A checkpoint or resume state is unreadable or does not belong to this run.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The loss or the gradients became NaN or infinite.
    #[error("training stopped at step {step}: the {what} is not finite ({value}); the last good checkpoint is kept")]
    NonFinite {
        /// The step that produced it.
        step: u64,
        /// "loss" or "gradient norm".
        what: String,
        /// The value.
        value: f64,
    },
    /// Hashing or encoding failed.
    #[error(transparent)]
    Hashing(#[from] hashformer_hashing::Error),
    /// The metrics log could not be written.
    #[error(transparent)]
    Log(#[from] hashformer_report::LogError),
    /// Building, loading or saving a model failed.
    #[error(transparent)]
    Model(#[from] hashformer_model::Error),
    /// The corpus could not be read, prepared or accessed (file and line in the message).
    #[error(transparent)]
    Corpus(#[from] hashformer_corpus::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
