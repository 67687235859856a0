//! The errors of this crate: [`LogError`] for the metrics log, [`PlotError`] for charts.
//! Every variant names the file concerned.

use std::io;
use std::path::PathBuf;

/// What can go wrong writing or reading a metrics log. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The file could not be opened, read or written.
    #[error("I/O error on {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A line is not valid JSON (or not UTF-8), or a record could not be serialised.
    #[error("{} line {line}, column {column}: {message}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line number in the file.
        line: usize,
        /// 1-based column within the line (0 when unknown).
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A line is valid JSON but not a record: not an object, or no non-negative integer `"step"`.
    #[error("{} line {line}: {reason}", path.display())]
    Record {
        /// The file.
        path: PathBuf,
        /// 1-based line number in the file.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

/// What can go wrong drawing a chart. Every variant names the file concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The metrics log could not be read (missing file, malformed line).
    #[error(transparent)]
    Log(#[from] LogError),
    /// The log holds no finite loss, score or learning-rate value (or, for
    /// [`plot_runs`](crate::plot_runs), no run has a held-out value).
    #[error("{}: no loss, score or learning-rate values to plot", path.display())]
    NoData {
        /// The metrics log (for `plot_runs`, the PNG to be written).
        path: PathBuf,
    },
    /// [`PlotOptions`](crate::PlotOptions) asks for a width or height outside
    /// [`MIN_SIDE`](crate::MIN_SIDE)`..=`[`MAX_SIDE`](crate::MAX_SIDE).
    #[error("{}: image size {width}x{height} is outside {min}..={max} pixels a side", path.display())]
    Size {
        /// The PNG to be written.
        path: PathBuf,
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
        /// The smallest side allowed.
        min: u32,
        /// The largest side allowed.
        max: u32,
    },
    /// The bundled font could not be loaded (a broken build).
    #[error("{}: the bundled font could not be loaded", path.display())]
    Font {
        /// The PNG to be written.
        path: PathBuf,
    },
    /// Drawing or PNG encoding failed.
    #[error("{}: {message}", path.display())]
    Render {
        /// The PNG to be written.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The PNG could not be written.
    #[error("I/O error on {}", path.display())]
    Io {
        /// The PNG (or its temporary file).
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}
