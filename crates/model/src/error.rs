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
