#![doc = include_str!("../README.md")]

mod compare;
mod error;
mod evaluate;
pub mod metrics;
mod read;
mod run;
mod submit;
mod task;
mod tsv;

pub use compare::{
    compare, comparison_markdown, ComparedModel, Comparison, ModelComparison, Spread,
};
pub use error::{Error, Position, Result};
pub use evaluate::{evaluate, GlueScore, TaskMetrics};
pub use hashformer_train::{Example, Target};
pub use read::{read_file, read_from, read_split};
pub use run::{
    markdown, merge_results, run_glue, write_glue_results, GlueObserver, GlueResults,
    GlueRunConfig, SeedResult, TaskResult, DEV_PREDICTIONS,
};
pub use submit::{
    format_predictions, read_predictions, read_predictions_from, write_predictions, Prediction,
    Submission, PREDICTION_HEADER,
};
pub use task::{LabelKind, Metric, Split, Task, TextColumns, UnknownTask};
