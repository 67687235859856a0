//! `hashformer glue`: fine-tune a checkpoint (or a randomly initialised model, as an ablation)
//! on GLUE tasks with several seeds, and write `results.json` and `results.md`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use hashformer_embeddings::Variant;
use hashformer_glue::{run_glue, GlueObserver, GlueRunConfig, SeedResult, Split, Task};
use hashformer_model::{load_config, HashformerConfig, TextEncoder};
use hashformer_train::{AdamWConfig, Decay, FinetuneConfig, FinetuneObserver, Init};
use indicatif::{ProgressBar, ProgressStyle};

use crate::backend::{Backend, PrecisionArg};
use crate::data::{self, bpe_for};
use crate::pretrain::ModelArgs;

/// The tasks with a local training set.
const DEFAULT_TASKS: &str = "cola,sst2,mrpc,stsb,rte,wnli";

/// Decay after warm-up.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GlueSchedule {
    /// Cosine with 5 hard restarts (the reference's).
    Cosine,
    /// Linear to zero.
    Linear,
}

/// Arguments of `hashformer glue`.
#[derive(Debug, Args)]
pub struct GlueArgs {
    /// A pre-trained checkpoint directory (config.json + model.safetensors).
    #[arg(long, conflicts_with = "scratch")]
    model: Option<PathBuf>,
    /// Start from random weights instead (ablation), with --variant/--scheme/--config.
    #[arg(long)]
    scratch: bool,
    /// The --scratch model.
    #[command(flatten)]
    scratch_model: ModelArgs,
    /// Comma-separated tasks.
    #[arg(long, default_value = DEFAULT_TASKS)]
    tasks: String,
    /// How many seeds: FIRST..FIRST+N.
    #[arg(long, default_value_t = 3, value_parser = crate::args::count_u64)]
    seeds: u64,
    /// The first seed (to add seeds to an earlier run, then combine with `glue-merge`).
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// Epochs.
    #[arg(long, default_value_t = 3, value_parser = crate::args::count)]
    epochs: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 1e-4, value_parser = crate::args::learning_rate)]
    lr: f64,
    /// Examples per batch.
    #[arg(long, default_value_t = 32, value_parser = crate::args::count)]
    batch_size: usize,
    /// Sequence length.
    #[arg(long, default_value_t = 128, value_parser = crate::args::max_length)]
    max_length: usize,
    /// Decay after the 6% warm-up.
    #[arg(long, value_enum, default_value = "cosine")]
    schedule: GlueSchedule,
    /// Dev evaluations per epoch.
    #[arg(long, default_value_t = 1)]
    evals_per_epoch: usize,
    /// Backend.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
    /// The encoder's compute precision while fine-tuning and evaluating (the saved models
    /// are f32; f16 with dynamic loss scaling).
    #[arg(long, value_enum, default_value = "f32")]
    precision: PrecisionArg,
    /// Output directory. Rerunning into the same directory skips the seeds already finished.
    #[arg(long)]
    out: PathBuf,
    /// GLUE directory [default: glue in the data directory: $HASHFORMER_DATA, else the per-user one].
    #[arg(long)]
    glue: Option<PathBuf>,
    /// roberta-base directory for LSH and BPE models [default: roberta-base in the data directory: $HASHFORMER_DATA, else the per-user one].
    #[arg(long)]
    roberta: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Runs `hashformer glue`.
///
/// # Errors
/// Bad arguments, missing data or checkpoints, training errors.
pub fn run(args: &GlueArgs) -> Result<()> {
    let device = args.backend.device()?;
    let tasks: Vec<Task> = args
        .tasks
        .split(',')
        .map(|t| t.trim().parse::<Task>())
        .collect::<std::result::Result<_, _>>()
        .context("--tasks")?;
    let (init, model_config): (Init, HashformerConfig) = match (&args.model, args.scratch) {
        (Some(dir), false) => (
            Init::Pretrained(dir.clone()),
            load_config(dir).with_context(|| format!("reading {}", dir.display()))?,
        ),
        (None, true) => {
            let mut c = args.scratch_model.model_config();
            if c.variant == Variant::Bpe {
                c = c.with_bpe_vocab_size(50265);
            }
            (Init::Scratch(c.clone()), c)
        }
        _ => bail!("give a pre-trained model with --model DIR, or --scratch"),
    };
    let bpe = bpe_for(&model_config, args.roberta.as_deref())?;
    let encoder = TextEncoder::new(&model_config, args.max_length, bpe)?;
    let files: Vec<(&'static str, &'static str)> = tasks
        .iter()
        .flat_map(|t| [Split::Train, Split::Dev].map(|s| (t.dir_name(), t.file_name(s))))
        .filter_map(|(dir, file)| Some((dir, file?)))
        .collect();
    let glue_dir = data::resolve_glue(args.glue.as_deref(), &files)?;
    let config = GlueRunConfig {
        tasks,
        seeds: (args.first_seed..args.first_seed + args.seeds).collect(),
        finetune: FinetuneConfig {
            max_length: args.max_length,
            batch_size: args.batch_size,
            epochs: args.epochs,
            lr: args.lr,
            decay: match args.schedule {
                GlueSchedule::Cosine => Decay::CosineHardRestarts { cycles: 5.0 },
                GlueSchedule::Linear => Decay::Linear,
            },
            optimizer: AdamWConfig::default(),
            evals_per_epoch: args.evals_per_epoch,
            precision: args.precision.into(),
            ..FinetuneConfig::default()
        },
    };
    let mut progress = Progress {
        bar: (!args.quiet).then(|| ProgressBar::new(0)),
        label: String::new(),
    };
    let results = run_glue(
        &glue_dir,
        &init,
        &encoder,
        &config,
        &args.out,
        &device,
        &mut progress,
    )
    .with_context(|| format!("fine-tuning into {}", args.out.display()))?;
    if let Some(bar) = &progress.bar {
        bar.finish_and_clear();
    }
    print!("{}", hashformer_glue::markdown(&results));
    println!("results: {}", args.out.join("results.json").display());
    Ok(())
}

struct Progress {
    bar: Option<ProgressBar>,
    label: String,
}

impl FinetuneObserver for Progress {
    fn on_start(&mut self, total_steps: u64) {
        if let Some(bar) = &self.bar {
            bar.reset();
            bar.set_length(total_steps);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} {bar:30} {pos}/{len} [{elapsed} < {eta}] {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_prefix(self.label.clone());
        }
    }

    fn on_step(&mut self, step: u64, loss: f64) {
        if let Some(bar) = &self.bar {
            bar.set_position(step);
            if step.is_multiple_of(10) {
                bar.set_message(format!("loss {loss:.4}"));
            }
        }
    }

    fn on_eval(&mut self, step: u64, score: f64, best: f64) {
        let line = format!(
            "{} step {step}: dev score {:.2} (best {:.2})",
            self.label,
            100.0 * score,
            100.0 * best
        );
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }
}

impl GlueObserver for Progress {
    fn on_task(&mut self, task: Task, seed: u64) {
        self.label = format!("{task} seed {seed}");
    }

    fn on_result(&mut self, r: &SeedResult) {
        let line = format!(
            "{}: {} in {:.0} s",
            self.label,
            serde_json::to_string(&r.metrics).unwrap_or_default(),
            r.seconds
        );
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }
}

/// Arguments of `hashformer glue-merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// `results.json` files of `hashformer glue` runs of one model.
    #[arg(required = true)]
    results: Vec<PathBuf>,
    /// Where to write the combined results.json and results.md.
    #[arg(long)]
    out: PathBuf,
}

/// Runs `hashformer glue-merge`.
///
/// # Errors
/// Unreadable or inconsistent results files, write errors.
pub fn merge(args: &MergeArgs) -> Result<()> {
    let results = hashformer_glue::merge_results(&args.results)?;
    hashformer_glue::write_glue_results(&args.out, &results)?;
    print!("{}", hashformer_glue::markdown(&results));
    println!("results: {}", args.out.join("results.json").display());
    Ok(())
}
