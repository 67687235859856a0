//! What decides a pre-training run: the objective and [`PretrainConfig`], checked before
//! anything runs, and the collator they ask for.

use burn::prelude::Device;
use hashformer_model::{HashformerConfig, Precision};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::optim::AdamWConfig;
use crate::schedule::LrSchedule;

/// The pre-training objective.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Objective {
    /// Shuffle+Random token classification (the reference's, for every variant).
    ShuffleRandom {
        /// Probability of shuffling, and then of replacing, an ordinary token (default 0.10).
        manipulate_prob: f64,
    },
    /// Masked LM over the id table (Emb variants and the BPE baseline only).
    MaskedLm {
        /// Probability that an ordinary token is predicted (default 0.15).
        mask_prob: f64,
    },
}

/// Everything that decides what a pre-training run computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PretrainConfig {
    /// The model.
    pub model: HashformerConfig,
    /// The objective.
    pub objective: Objective,
    /// Padded sequence length (`<s>` and `</s>` included).
    pub max_length: usize,
    /// Sequences per micro-batch.
    pub batch_size: usize,
    /// Micro-batches per optimizer step.
    pub grad_accum: usize,
    /// Optimizer steps of the whole run.
    pub steps: u64,
    /// Learning-rate schedule (its `total_steps` is `steps`).
    pub schedule: LrSchedule,
    /// AdamW settings.
    pub optimizer: AdamWConfig,
    /// Seed of initialisation, data order, collator and dropout.
    pub seed: u64,
    /// Log training metrics every this many steps.
    pub log_every: u64,
    /// Evaluate on the held-out split every this many steps (0: only at the end).
    pub eval_every: u64,
    /// Held-out batches per evaluation.
    pub eval_batches: usize,
    /// Write a checkpoint every this many steps (0: only at the end).
    pub checkpoint_every: u64,
    /// Checkpoints to keep.
    pub keep_checkpoints: usize,
    /// The encoder's compute precision (`f16` with loss scaling); weights and the optimizer
    /// stay `f32`. Absent from the `run.json` of runs before it existed: `f32`.
    #[serde(default)]
    pub precision: Precision,
}

impl PretrainConfig {
    /// Validates the config and returns the first of `devices` (the one that holds the
    /// model), once every device computes in the run's precision.
    ///
    /// # Errors
    /// As [`validate`](Self::validate); [`Error::NoDevice`] without devices; a model
    /// [`Error::Config`](hashformer_model::Error::Config) naming a device that lacks the
    /// precision's dtype.
    pub(crate) fn check_run<'a>(&self, devices: &'a [Device]) -> Result<&'a Device> {
        self.validate()?;
        for device in devices {
            self.precision.check_device(device)?;
        }
        devices.first().ok_or(Error::NoDevice)
    }

    /// Checks the values that would otherwise fail deep in the loop.
    ///
    /// # Errors
    /// [`Error::Config`] naming the field; model config errors.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &'static str, reason: &str| {
            Err(Error::Config {
                field,
                reason: reason.to_owned(),
            })
        };
        self.model.validate()?;
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1");
        }
        if self.grad_accum == 0 {
            return bad("grad_accum", "must be at least 1");
        }
        if self.steps == 0 {
            return bad("steps", "must be at least 1");
        }
        if self.log_every == 0 {
            return bad("log_every", "must be at least 1");
        }
        if self.max_length < 4 || self.max_length + 2 > self.model.max_position_embeddings {
            return bad(
                "max_length",
                &format!(
                    "must be in 4..={} (max_position_embeddings − 2)",
                    self.model.max_position_embeddings - 2
                ),
            );
        }
        match self.objective {
            Objective::ShuffleRandom { manipulate_prob: p } if !(0.0..=1.0).contains(&p) => {
                bad("manipulate_prob", "must be in [0, 1]")
            }
            Objective::MaskedLm { mask_prob: p } if !(0.0..=1.0).contains(&p) || p == 0.0 => {
                bad("mask_prob", "must be in (0, 1]")
            }
            Objective::MaskedLm { .. }
                if !self.model.variant.kind().takes_ids() =>
            {
                bad(
                    "objective",
                    "masked LM needs an id table (Emb or the BPE baseline); Pool/Add/Proj use Shuffle+Random",
                )
            }
            _ => Ok(()),
        }
    }
}
