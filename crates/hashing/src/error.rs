//! Errors of the hashing crate.

use std::path::PathBuf;

/// Everything that can go wrong while building a hasher or encoding text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A bucket count of zero.
    #[error("the number of buckets must be positive, got {0}")]
    InvalidBuckets(u32),
    /// An HMAC key the MAC implementation refused.
    #[error("invalid HMAC key: {0}")]
    InvalidKey(String),
    /// A sequence length too short to hold the special tokens.
    #[error("max_length must be at least {min} (room for the special tokens), got {max_length}")]
    InvalidMaxLength {
        /// The length asked for.
        max_length: usize,
        /// The smallest valid length.
        min: usize,
    },
    /// The BPE resources could not be parsed or used.
    #[error("roberta-base BPE: {0}")]
    Bpe(String),
    /// A BPE resource file could not be read.
    #[error("I/O error on {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A BPE directory holds neither `tokenizer.json` nor `vocab.json` + `merges.txt`.
    #[error("{}: no tokenizer.json, and no vocab.json + merges.txt", dir.display())]
    MissingBpeFiles {
        /// The directory searched.
        dir: PathBuf,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
