//! What fine-tuning trains and evaluates on: an [`Example`] (a text or text pair with its
//! source index) and its [`Target`] (a class or a score), which is also a model's output.

use serde::{Deserialize, Serialize};

/// The gold value of an example, or a model's output for it: a class index, or a regression
/// score (STS-B).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Target {
    /// A class index (into the task's label names).
    Class(usize),
    /// A regression score.
    Score(f32),
}

/// One text or text pair with its gold value (`None` for unlabelled test examples): what
/// fine-tuning trains and evaluates on, and what the GLUE readers produce.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The example's id in its source, which predictions echo (GLUE: the 0-based row of a
    /// train or dev file, or a test file's `index` column).
    pub index: u64,
    /// The first (or only) text, verbatim.
    pub text_a: String,
    /// The second text of a pair.
    pub text_b: Option<String>,
    /// The gold value.
    pub target: Option<Target>,
}
