//! Errors of the GLUE crate. Every error about a file names the file, the line (1-based,
//! header included) and, where there is one, the field, e.g.
//! `CoLA/train.tsv line 42, field "label": expected 0 or 1, got "x"`.

use std::fmt;
use std::path::PathBuf;

use crate::task::{Split, Task};

/// A line of a file, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// The file as the caller named it.
    pub file: PathBuf,
    /// 1-based line number; the header is line 1 where there is one.
    pub line: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}", self.file.display(), self.line)
    }
}

/// Everything that can go wrong reading GLUE files, computing metrics or writing submissions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, read or written.
    #[error("I/O error on {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A line is not valid UTF-8.
    #[error("{at}: not valid UTF-8")]
    InvalidUtf8 {
        /// Where.
        at: Position,
    },
    /// A file that needs a header line is empty.
    #[error("{}: empty file, expected a header line", file.display())]
    EmptyFile {
        /// The file.
        file: PathBuf,
    },
    /// The header lacks a column the task needs.
    #[error("{}: no column \"{column}\" in the header (found {found:?})", file.display())]
    MissingColumn {
        /// The file.
        file: PathBuf,
        /// The column looked for.
        column: &'static str,
        /// The header's columns.
        found: Vec<String>,
    },
    /// A row has more or fewer tab-separated fields than the header (or CoLA's 4).
    #[error("{at}: expected {expected} tab-separated fields, got {got}")]
    FieldCount {
        /// Where.
        at: Position,
        /// Fields in the header.
        expected: usize,
        /// Fields in this row.
        got: usize,
    },
    /// A field holds a value the task does not allow: an unknown label, a score out of range,
    /// an index that is not a non-negative integer.
    #[error("{at}, field \"{field}\": expected {expected}, got {got:?}")]
    BadField {
        /// Where.
        at: Position,
        /// The column name.
        field: String,
        /// What was allowed, e.g. `0 or 1`.
        expected: String,
        /// The field as read.
        got: String,
    },
    /// Two rows carry the same index.
    #[error("{at}: index {index} already on line {first_line}")]
    DuplicateIndex {
        /// The second row.
        at: Position,
        /// The repeated index.
        index: u64,
        /// The line of the first row with it.
        first_line: usize,
    },
    /// Gold rows have no prediction.
    #[error(
        "no prediction for {count} gold example(s), the first with index {first} \
         (predictions must cover every gold index)"
    )]
    MissingPredictions {
        /// How many gold examples lack one.
        count: usize,
        /// The smallest such index.
        first: u64,
    },
    /// Predictions carry indices that no gold example has.
    #[error("{count} prediction(s) with an index not in the gold data, the first {index}")]
    UnknownIndex {
        /// The first such index, in prediction order.
        index: u64,
        /// How many predictions have one.
        count: usize,
    },
    /// An index occurs twice among the gold examples or among the predictions given.
    #[error("index {index} occurs twice in the {what}")]
    RepeatedIndex {
        /// `gold examples` or `predictions`.
        what: &'static str,
        /// The index.
        index: u64,
    },
    /// A task has no such split (AX has only a test split).
    #[error("{task} has no {split:?} split")]
    NoSuchSplit {
        /// The task.
        task: Task,
        /// The split asked for.
        split: Split,
    },
    /// A task name that [`Task`]'s `FromStr` does not know.
    #[error(transparent)]
    UnknownTask(#[from] crate::task::UnknownTask),
    /// Fine-tuning failed.
    #[error("{task}, seed {seed}: fine-tuning failed")]
    Train {
        /// The task.
        task: Task,
        /// The seed.
        seed: u64,
        /// The training error.
        #[source]
        source: hashformer_train::Error,
    },
    /// A results file or a seed's `result.json` is not the JSON this crate writes, or a
    /// result cannot be written as JSON.
    #[error("JSON error in {}", path.display())]
    ResultsJson {
        /// The file.
        path: PathBuf,
        /// The JSON reader's or writer's error (with line and column when reading).
        #[source]
        source: serde_json::Error,
    },
    /// A results file names a task this crate does not know.
    #[error("unknown task in {}", path.display())]
    ResultsTask {
        /// The file.
        path: PathBuf,
        /// The task name's error.
        #[source]
        source: crate::task::UnknownTask,
    },
    /// A results file ([`crate::merge_results`]) or a seed's `result.json` cannot be used.
    #[error("{}: {message}", path.display())]
    BadResults {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Models cannot be compared ([`crate::compare`]): no runs, a repeated label, no task
    /// shared by every run, or an unknown baseline.
    #[error("cannot compare: {message}")]
    Comparison {
        /// What is wrong.
        message: String,
    },
    /// Predictions and gold labels differ in number.
    #[error("{predictions} predictions for {gold} gold labels")]
    LengthMismatch {
        /// Number of predictions.
        predictions: usize,
        /// Number of gold labels.
        gold: usize,
    },
    /// A metric of no examples.
    #[error("no examples to compute a metric on")]
    Empty,
    /// A label does not fit the task: a score for a classification task, a class index past
    /// the task's classes, a class for STS-B, a non-finite score.
    #[error("{task}: label {label} does not fit the task ({expected})")]
    LabelMismatch {
        /// The task.
        task: Task,
        /// The label, as `Debug` prints it.
        label: String,
        /// What the task takes.
        expected: String,
    },
    /// The same task was given twice (to a submission or a GLUE score).
    #[error("{task} given twice")]
    DuplicateTask {
        /// The task.
        task: Task,
    },
    /// The zip archive could not be built.
    #[error("{}: writing the zip archive", path.display())]
    Zip {
        /// The archive.
        path: PathBuf,
        /// The zip writer's error.
        source: zip::result::ZipError,
    },
}

/// Writes `bytes` to `path` atomically (`hashformer_files::write_atomic`).
///
/// # Errors
/// [`Error::Io`] naming the file.
pub(crate) fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    hashformer_files::write_atomic(path, bytes).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
