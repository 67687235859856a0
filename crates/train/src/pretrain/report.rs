//! What a pre-training run reports: the training window and held-out reports (the metrics
//! log's records), the observer the CLI draws progress from, run options and the summary.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::pretrain::counts::{ClassCounts, ClassRecall};

/// Training metrics over the steps since the last report.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// Always `"train"`.
    pub split: &'static str,
    /// Optimizer steps done.
    pub step: u64,
    /// Epoch of the training split being read.
    pub epoch: u64,
    /// Mean loss over the window.
    pub loss: f64,
    /// Accuracy over the window.
    pub accuracy: f64,
    /// Shuffle+Random: recall per class (absent for masked LM).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub recall: Option<ClassRecall>,
    /// Learning rate of the last step.
    pub lr: f64,
    /// Gradient norm of the last step (before clipping).
    pub grad_norm: f64,
    /// Real tokens per second over the window.
    pub tokens_per_s: f64,
    /// Positions computed per second over the window: each micro-batch's sequences times the
    /// length they are cut to, padding included. `bench-step`'s tokens per second count the
    /// same thing (its sequences have no padding), so this is the rate to compare with it.
    pub positions_per_s: f64,
    /// The `f16` loss scale after the last step (absent in `f32` and `bf16`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_scale: Option<f64>,
    /// Seconds of training in this process so far, plus those of the resumed run.
    pub elapsed_s: f64,
}

/// Held-out metrics.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// Always `"valid"`.
    pub split: &'static str,
    /// Optimizer steps done.
    pub step: u64,
    /// Mean loss per labelled position.
    pub loss: f64,
    /// Accuracy.
    pub accuracy: f64,
    /// Shuffle+Random: recall per class (absent for masked LM).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub recall: Option<ClassRecall>,
    /// Accuracy of always predicting the most frequent class.
    pub majority_rate: f64,
    /// Loss of always predicting the held-out class frequencies (their entropy): the loss a
    /// model that learned nothing about the tokens would reach.
    pub prior_loss: f64,
    /// Labelled positions evaluated.
    pub positions: u64,
}

/// What the caller sees of a run (the CLI draws progress from it).
pub trait Observer {
    /// The run starts (or resumes) at `start_step` of `total_steps`.
    fn on_start(&mut self, _start_step: u64, _total_steps: u64) {}
    /// One optimizer step is done (called every step with its loss).
    fn on_step(&mut self, _step: u64, _loss: f64) {}
    /// A training report was logged.
    fn on_report(&mut self, _report: &StepReport) {}
    /// An evaluation finished.
    fn on_eval(&mut self, _report: &EvalReport) {}
    /// A checkpoint was written.
    fn on_checkpoint(&mut self, _step: u64, _dir: &Path) {}
}

/// An observer that ignores everything.
impl Observer for () {}

/// Options that do not change what a run computes.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Stop (with a checkpoint) once this much time has passed; resume continues the run.
    pub time_limit: Option<Duration>,
    /// Continue from the newest checkpoint of the run directory; without one, the run is
    /// refused ([`crate::Error::NothingToResume`]) rather than started afresh.
    pub resume: bool,
    /// Start afresh in a run directory that holds another run's files, deleting them (its
    /// checkpoints, metrics, `run.json` and final model; nothing else in the directory).
    pub overwrite: bool,
    /// Stop (with a checkpoint) after this step, e.g. to split a run into sessions.
    pub stop_after: Option<u64>,
    /// Stop (with a checkpoint) after the step under way once this is set, from another
    /// thread or a signal handler (`hashformer pretrain` sets it on Ctrl-C or SIGTERM);
    /// resume continues.
    pub stop: Option<Arc<AtomicBool>>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Optimizer steps done.
    pub step: u64,
    /// Whether all configured steps ran (false: stopped by the time limit).
    pub finished: bool,
    /// The last evaluation, if any ran.
    pub last_eval_loss: Option<f64>,
    /// The last evaluation's accuracy.
    pub last_eval_accuracy: Option<f64>,
    /// The final model directory.
    pub model_dir: PathBuf,
    /// Wall time of this process's training.
    pub seconds: f64,
}

/// Training metrics gathered since the last report.
#[derive(Debug)]
pub(crate) struct Window {
    pub(crate) loss_sum: f64,
    pub(crate) steps: u64,
    pub(crate) tokens: u64,
    /// Positions computed (sequences × cut length, padding included).
    pub(crate) positions: u64,
    /// The `f16` loss scale after the last step.
    pub(crate) loss_scale: Option<f64>,
    pub(crate) counts: ClassCounts,
    pub(crate) started: Option<Instant>,
    /// Gradient norm of the last step (before clipping).
    pub(crate) grad_norm: f64,
}

impl Window {
    pub(crate) fn new() -> Self {
        Self {
            loss_sum: 0.0,
            steps: 0,
            tokens: 0,
            positions: 0,
            loss_scale: None,
            counts: ClassCounts::default(),
            started: Some(Instant::now()),
            grad_norm: f64::NAN,
        }
    }

    pub(crate) fn report(
        &self,
        step: u64,
        epoch: u64,
        lr: f64,
        elapsed_s: f64,
        per_class: bool,
    ) -> StepReport {
        let seconds = self.started.map_or(f64::NAN, |s| s.elapsed().as_secs_f64());
        StepReport {
            split: "train",
            step,
            epoch,
            loss: self.loss_sum / self.steps.max(1) as f64,
            accuracy: self.counts.accuracy(),
            recall: per_class.then(|| self.counts.recall()),
            lr,
            grad_norm: self.grad_norm,
            tokens_per_s: self.tokens as f64 / seconds,
            positions_per_s: self.positions as f64 / seconds,
            loss_scale: self.loss_scale,
            elapsed_s,
        }
    }
}
