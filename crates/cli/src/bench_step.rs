//! `hashformer bench-step`: times pre-training steps (forward, loss, backward, AdamW) of a
//! model configuration on synthetic full-length batches, for comparison with PyTorch
//! (`tools/bench/torch_train_step.py` does the same step) and across backends.

use anyhow::{Context, Result};
use clap::Args;
use hashformer_model::{HashformerConfig, Precision};
use hashformer_train::timing::time_train_steps;
use hashformer_train::{AdamWConfig, Decay, LrSchedule, Objective, PretrainConfig};
use serde_json::json;

use crate::backend::{Backend, PrecisionArg};
use crate::pretrain::ModelArgs;

/// Arguments of `hashformer bench-step`.
#[derive(Debug, Args)]
pub struct BenchStepArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Backend.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
    /// The encoder's compute precision (f32 master weights; f16 with loss scaling).
    #[arg(long, value_enum, default_value = "f32")]
    precision: PrecisionArg,
    /// Devices for data parallelism (one micro-batch of --batch-size each).
    #[arg(long, default_value_t = 1, value_parser = crate::args::count)]
    devices: usize,
    /// Sequences per batch.
    #[arg(long, default_value_t = 16, value_parser = crate::args::count)]
    batch_size: usize,
    /// Tokens per sequence (all real: no padding).
    #[arg(long, default_value_t = 128, value_parser = crate::args::max_length)]
    seq_len: usize,
    /// Dropout probability (hidden and attention); 0 shows what dropout costs.
    #[arg(long, default_value_t = 0.1, value_parser = crate::args::probability)]
    dropout: f64,
    /// Untimed warm-up steps.
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Timed steps.
    #[arg(long, default_value_t = 10, value_parser = crate::args::count)]
    steps: usize,
}

/// The pre-training settings of a timed Shuffle+Random step (no evaluation, no checkpoints).
pub fn step_config(
    model: HashformerConfig,
    batch_size: usize,
    seq_len: usize,
    grad_accum: usize,
) -> PretrainConfig {
    PretrainConfig {
        model,
        objective: Objective::ShuffleRandom {
            manipulate_prob: 0.1,
        },
        max_length: seq_len,
        batch_size,
        grad_accum,
        steps: 1,
        schedule: LrSchedule {
            peak: 1e-4,
            warmup_steps: 0,
            total_steps: 1,
            decay: Decay::Constant,
        },
        optimizer: AdamWConfig::default(),
        seed: 0,
        log_every: 1,
        eval_every: 0,
        eval_batches: 0,
        checkpoint_every: 0,
        keep_checkpoints: 1,
        precision: Precision::F32,
    }
}

/// Runs `hashformer bench-step` and prints one JSON object.
///
/// # Errors
/// An unavailable backend or a failing step.
pub fn run(args: &BenchStepArgs) -> Result<()> {
    let devices = args.backend.devices(args.devices)?;
    let model = args
        .model
        .model_config()
        .with_hidden_dropout_prob(args.dropout)
        .with_attention_probs_dropout_prob(args.dropout);
    let config = PretrainConfig {
        precision: args.precision.into(),
        ..step_config(model, args.batch_size, args.seq_len, args.devices.max(1))
    };
    let timing = time_train_steps(&config, &devices, args.warmup, args.steps)
        .context("timing training steps")?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let out = json!({
        "implementation": "hashformers (Burn 0.22.1)",
        "backend": format!("{:?}", args.backend).to_lowercase(),
        "variant": format!("{:?}", args.model.variant).to_lowercase(),
        "config": format!("{:?}", args.model.config).to_lowercase(),
        "batch_size": args.batch_size,
        "devices": args.devices,
        "dropout": args.dropout,
        "precision": Precision::from(args.precision).name(),
        "seq_len": args.seq_len,
        "threads": std::env::var("RAYON_NUM_THREADS").ok().and_then(|t| t.parse().ok()).unwrap_or(threads),
        "median_step_s": timing.median(),
        "tokens_per_s": timing.tokens_per_s(),
        "step_s": timing.seconds,
        "mean_phase_s": timing.phases,
    });
    println!("{out}");
    Ok(())
}
