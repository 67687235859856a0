//! Errors of the corpus crate: reading corpus files, packing, preparing and opening a
//! prepared corpus, and drawing batches. Each names the file (and line) concerned.

use std::path::PathBuf;

/// Everything that can go wrong reading, preparing or accessing a corpus.
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
    /// Another process is preparing the same directory.
    #[error(transparent)]
    InUse(#[from] hashformer_files::LockError),
    /// Corpus text is malformed at a line (invalid UTF-8, broken `<doc>` blocks).
    #[error("{} line {line}: {problem}", path.display())]
    Corpus {
        /// The corpus file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        problem: CorpusProblem,
    },
    /// A corpus file failed while being read (a corrupt gzip stream, a disk error).
    #[error("reading {} failed at line {line}", path.display())]
    ReadAt {
        /// The corpus file.
        path: PathBuf,
        /// 1-based number of the line being read.
        line: u64,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The corpus inputs hold no file to read.
    #[error("no corpus files in {inputs:?}")]
    NoCorpusFiles {
        /// The inputs as given.
        inputs: Vec<PathBuf>,
    },
    /// A configuration field has an invalid value.
    #[error("config field `{field}`: {reason}")]
    InvalidConfig {
        /// The field (its JSON key).
        field: &'static str,
        /// Why the value is refused.
        reason: String,
    },
    /// An output directory already holds something that this run must not replace.
    #[error("{}: {reason}", dir.display())]
    OutputExists {
        /// The directory.
        dir: PathBuf,
        /// What differs, and how to proceed.
        reason: String,
    },
    /// A prepared corpus is damaged or from another format version.
    #[error("{}: {reason}", path.display())]
    PreparedCorrupt {
        /// The file found wrong.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A JSON file could not be read or written.
    #[error("JSON error in {}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause (with line and column when parsing).
        #[source]
        source: serde_json::Error,
    },
    /// A chunk index past the end of a prepared split.
    #[error("{}: chunk {index} is out of range (the split has {len})", path.display())]
    ChunkOutOfRange {
        /// The split's text file.
        path: PathBuf,
        /// The index asked for.
        index: u64,
        /// The number of chunks.
        len: u64,
    },
    /// A batch cannot be drawn: its size is zero or larger than the data.
    #[error("cannot draw batches of {batch_size} from {len} examples")]
    InvalidBatch {
        /// The batch size asked for.
        batch_size: usize,
        /// The number of examples.
        len: u64,
    },
}

/// What is wrong with a corpus line (see [`Error::Corpus`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CorpusProblem {
    /// The line is not valid UTF-8.
    #[error("invalid UTF-8 at byte {byte} of the line")]
    InvalidUtf8 {
        /// 0-based byte offset of the first invalid byte within the line.
        byte: usize,
    },
    /// A `<doc …>` line inside an open `<doc>` block.
    #[error("<doc> opened inside the <doc> opened at line {outer_line}")]
    NestedDoc {
        /// The line of the enclosing `<doc …>`.
        outer_line: u64,
    },
    /// A `<doc …>` block still open at the end of the file.
    #[error("<doc> is never closed (the file ends at line {eof_line})")]
    UnterminatedDoc {
        /// The last line of the file.
        eof_line: u64,
    },
    /// A `</doc>` line with no open `<doc>`.
    #[error("</doc> without an open <doc>")]
    UnmatchedDocEnd,
    /// Text outside any `<doc>` block in a WikiExtractor file.
    #[error("text outside a <doc> block")]
    TextOutsideDoc,
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
