//! How a fine-tuning run is set up and what it reports: [`FinetuneConfig`] (the reference's
//! recipe by default), where the classifier starts ([`Init`]), the progress observer and the
//! summary.

use std::path::PathBuf;

use hashformer_model::{HashformerConfig, Precision};
use serde::{Deserialize, Serialize};

use crate::finetune::example::Target;
use crate::optim::AdamWConfig;
use crate::schedule::Decay;

/// How to fine-tune.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinetuneConfig {
    /// Padded length (`<s>`, `</s>` included); the reference's 128.
    pub max_length: usize,
    /// Examples per batch.
    pub batch_size: usize,
    /// Passes over the training set.
    pub epochs: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Warm-up as a share of all steps (reference: 0.06).
    pub warmup_ratio: f64,
    /// Decay after warm-up (reference: cosine with 5 hard restarts).
    pub decay: Decay,
    /// AdamW settings.
    pub optimizer: AdamWConfig,
    /// Seed of the head initialisation, the order and dropout (reference: 0, 1, 2).
    pub seed: u64,
    /// Dev evaluations per epoch (the last one at the end of the epoch).
    pub evals_per_epoch: usize,
    /// Log training loss every this many steps.
    pub log_every: u64,
    /// Names of the labels by index, saved with the model (`id2label`) for `classify`;
    /// empty when there are none (then labels show as `LABEL_<i>`).
    #[serde(default)]
    pub label_names: Vec<String>,
    /// The encoder's compute precision during training and the dev evaluations (`f16` with
    /// loss scaling); weights, optimizer and the saved model stay `f32`.
    #[serde(default)]
    pub precision: Precision,
}

impl Default for FinetuneConfig {
    fn default() -> Self {
        Self {
            max_length: 128,
            batch_size: 32,
            epochs: 3,
            lr: 1e-4,
            warmup_ratio: 0.06,
            decay: Decay::CosineHardRestarts { cycles: 5.0 },
            optimizer: AdamWConfig::default(),
            seed: 0,
            evals_per_epoch: 1,
            log_every: 50,
            label_names: Vec::new(),
            precision: Precision::F32,
        }
    }
}

/// Where the classifier starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Init {
    /// A pre-trained checkpoint directory (its head, if any, is replaced).
    Pretrained(PathBuf),
    /// Random initialisation of this configuration (an ablation).
    Scratch(HashformerConfig),
}

/// What a fine-tuning run reports.
#[derive(Debug, Clone, PartialEq)]
pub struct FinetuneSummary {
    /// The best dev score.
    pub best_score: f64,
    /// The step of the best dev score.
    pub best_step: u64,
    /// Dev outputs of the best model, in dev order.
    pub best_outputs: Vec<Target>,
    /// The dev score at the end of training.
    pub final_score: f64,
    /// Optimizer steps done.
    pub steps: u64,
    /// Wall time.
    pub seconds: f64,
    /// The model configuration used.
    pub model_config: HashformerConfig,
}

/// Progress of a fine-tuning run.
pub trait FinetuneObserver {
    /// Training starts with `total_steps` steps.
    fn on_start(&mut self, _total_steps: u64) {}
    /// A step finished.
    fn on_step(&mut self, _step: u64, _loss: f64) {}
    /// A dev evaluation finished.
    fn on_eval(&mut self, _step: u64, _score: f64, _best: f64) {}
}

impl FinetuneObserver for () {}
