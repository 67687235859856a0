//! `hashformer pretrain`: prepare the corpus (once) and pre-train a HashFormer or the BPE
//! baseline with Shuffle+Random (or masked LM), with a progress bar, JSONL metrics and
//! resumable checkpoints in the run directory.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use hashformer_corpus::{
    prepare_cached, prepare_with_progress, PrepareConfig, PrepareProgress, Split,
};
use hashformer_hashing::RobertaBpe;
use hashformer_model::{HashformerConfig, TextEncoder};
use hashformer_train::{
    pretrain, AdamWConfig, Decay, EvalReport, LrSchedule, Objective, Observer, PretrainConfig,
    RunOptions, RunSummary, StepReport,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::backend::{Backend, PrecisionArg};
use crate::data::{self, bpe_for};
use crate::variant::{SchemeArg, VariantArg};

/// Model size preset.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Size {
    /// 2 layers, width 32 (smoke tests).
    Tiny,
    /// 4 layers, width 256 (CPU experiments).
    Small,
    /// 12 layers, width 768 (the paper's; needs a GPU).
    Base,
}

/// Pre-training objective.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ObjectiveArg {
    /// Shuffle+Random token classification (the reference's).
    ShuffleRandom,
    /// Masked LM (Emb and BPE only).
    Mlm,
}

/// Which model to build: `--variant`, `--scheme`, `--config` (shared by the commands that
/// build a model from a preset).
#[derive(Debug, Clone, Copy, Args)]
pub struct ModelArgs {
    /// Embedding variant.
    #[arg(long, value_enum, default_value = "proj")]
    pub variant: VariantArg,
    /// Hashing scheme (ignored by the BPE baseline).
    #[arg(long, value_enum, default_value = "md5")]
    pub scheme: SchemeArg,
    /// Model size preset.
    #[arg(long, value_enum, default_value = "small")]
    pub config: Size,
}

impl ModelArgs {
    /// The preset configuration these arguments name.
    pub fn model_config(&self) -> HashformerConfig {
        model_config_for(self.variant, self.scheme, self.config)
    }
}

/// Arguments of `hashformer pretrain`.
#[derive(Debug, Args)]
pub struct PretrainArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Optimizer steps.
    #[arg(long, default_value_t = 1000, value_parser = crate::args::count_u64)]
    steps: u64,
    /// Backend to train on.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
    /// The encoder's compute precision (f32 master weights; f16 with dynamic loss scaling).
    #[arg(long, value_enum, default_value = "f32")]
    precision: PrecisionArg,
    /// Data parallelism over this many devices of the backend (GPUs 0..N); micro-batch i of
    /// each step runs on device i mod N, so set --grad-accum to a multiple of N.
    #[arg(long, default_value_t = 1)]
    devices: usize,
    /// Run directory (created; holds metrics, checkpoints and the final model).
    #[arg(long)]
    out: PathBuf,
    /// Corpus files or directories (plain text or gzip, WikiExtractor or blank-line separated
    /// documents) [default: corpus/enwiki-2014-wikiextractor in the data directory: $HASHFORMER_DATA, else the per-user one].
    #[arg(long, num_args = 1..)]
    corpus: Vec<PathBuf>,
    /// Where the prepared corpus is written, or reused if it matches [default: shared by all
    /// runs of the same corpus and --max-length, in corpora/ of the cache directory:
    /// $HASHFORMER_CACHE, else the per-user one, ~/.cache/hashformers on Linux].
    #[arg(long)]
    prepared: Option<PathBuf>,
    /// Replace the prepared corpus at --prepared when it was made from other input files
    /// (or moved ones) or another config, instead of refusing.
    #[arg(long)]
    replace_prepared: bool,
    /// Stop preparing after this many training sequences (default: the whole corpus).
    #[arg(long)]
    max_train_sequences: Option<u64>,
    /// The roberta-base directory (vocab.json, merges.txt), needed by LSH and BPE
    /// [default: roberta-base in the data directory: $HASHFORMER_DATA, else the per-user one].
    #[arg(long)]
    roberta: Option<PathBuf>,
    /// Objective.
    #[arg(long, value_enum, default_value = "shuffle-random")]
    objective: ObjectiveArg,
    /// Shuffle+Random manipulation probability.
    #[arg(long, default_value_t = 0.10)]
    manipulate_prob: f64,
    /// Masked-LM probability.
    #[arg(long, default_value_t = 0.15, value_parser = crate::args::probability)]
    mask_prob: f64,
    /// Sequence length, `<s>` and `</s>` included.
    #[arg(long, default_value_t = 128, value_parser = crate::args::max_length)]
    max_length: usize,
    /// Sequences per micro-batch.
    #[arg(long, default_value_t = 16, value_parser = crate::args::count)]
    batch_size: usize,
    /// Micro-batches per optimizer step.
    #[arg(long, default_value_t = 1, value_parser = crate::args::count)]
    grad_accum: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 5e-4, value_parser = crate::args::learning_rate)]
    lr: f64,
    /// Warm-up steps [default: 6% of the steps].
    #[arg(long)]
    warmup: Option<u64>,
    /// Decay after warm-up.
    #[arg(long, value_enum, default_value = "linear")]
    schedule: ScheduleArg,
    /// AdamW weight decay (not applied to biases and LayerNorm).
    #[arg(long, default_value_t = 0.01)]
    weight_decay: f64,
    /// Global gradient-norm clip (0 turns it off).
    #[arg(long, default_value_t = 1.0)]
    max_grad_norm: f64,
    /// Seed of initialisation, data order, manipulation and dropout.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Log metrics every N steps.
    #[arg(long, default_value_t = 10)]
    log_every: u64,
    /// Evaluate on held-out text every N steps (0: at the end only).
    #[arg(long, default_value_t = 100)]
    eval_every: u64,
    /// Held-out batches per evaluation.
    #[arg(long, default_value_t = 16)]
    eval_batches: usize,
    /// Write a checkpoint every N steps (0: at the end only).
    #[arg(long, default_value_t = 200)]
    checkpoint_every: u64,
    /// Checkpoints to keep.
    #[arg(long, default_value_t = 2)]
    keep_checkpoints: usize,
    /// Continue the run in OUT from its newest checkpoint (refused when it has none).
    #[arg(long, conflicts_with = "overwrite")]
    resume: bool,
    /// Delete the run already in OUT (its checkpoints, metrics, run.json and model; a prepared
    /// corpus stays) and start afresh. Without it, a fresh run into a used OUT is refused.
    #[arg(long)]
    overwrite: bool,
    /// Stop after this step (with a checkpoint; `--resume` continues).
    #[arg(long)]
    stop_after: Option<u64>,
    /// Stop after this many minutes (with a checkpoint; `--resume` continues).
    #[arg(long, value_parser = crate::args::minutes)]
    minutes: Option<f64>,
    /// No progress bar (logs one line per report instead).
    #[arg(long)]
    quiet: bool,
}

/// Decay after warm-up.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScheduleArg {
    /// Linear to zero.
    Linear,
    /// Constant.
    Constant,
}

/// The preset `size` for `variant` hashed with `scheme`.
pub fn model_config_for(variant: VariantArg, scheme: SchemeArg, size: Size) -> HashformerConfig {
    let variant = variant.with_scheme(scheme);
    match size {
        Size::Tiny => HashformerConfig::tiny(variant),
        Size::Small => HashformerConfig::small(variant),
        Size::Base => HashformerConfig::base(variant),
    }
}

/// Runs `hashformer pretrain`.
///
/// # Errors
/// Bad arguments, missing data, and any training error, with context.
pub fn run(args: &PretrainArgs) -> Result<()> {
    let devices = args.backend.devices(args.devices)?;
    let (model, bpe) = model_and_bpe(args)?;
    let config = pretrain_config(args, model);
    config.validate().context("invalid pre-training settings")?;

    let corpus = prepared_corpus(args)?;
    let encoder = TextEncoder::new(&config.model, config.max_length, bpe)
        .context("building the text encoder")?;
    let stop = crate::interrupt::stop_on_signal()?;
    let options = RunOptions {
        time_limit: args.minutes.map(|m| Duration::from_secs_f64(m * 60.0)),
        resume: args.resume,
        overwrite: args.overwrite,
        stop_after: args.stop_after,
        stop: Some(Arc::clone(&stop)),
    };
    let mut progress = Progress::new(args.quiet);
    let summary = pretrain(
        &config,
        &corpus,
        encoder,
        &args.out,
        &devices,
        &options,
        &mut progress,
    )
    .with_context(|| format!("pre-training into {}", args.out.display()))?;
    progress.finish();
    let interrupted = stop.load(Ordering::SeqCst);
    print_summary(&summary, config.steps, args.stop_after, interrupted);
    Ok(())
}

/// The model preset and the BPE it needs (LSH and the baseline); the baseline's vocabulary
/// size is the BPE's.
fn model_and_bpe(args: &PretrainArgs) -> Result<(HashformerConfig, Option<RobertaBpe>)> {
    let mut model = args.model.model_config();
    let bpe = bpe_for(&model, args.roberta.as_deref())?;
    if let (VariantArg::Bpe, Some(bpe)) = (args.model.variant, &bpe) {
        model = model.with_bpe_vocab_size(bpe.vocab_size());
    }
    Ok((model, bpe))
}

/// The training settings of `args` for `model` (not yet validated).
fn pretrain_config(args: &PretrainArgs, model: HashformerConfig) -> PretrainConfig {
    let objective = match args.objective {
        ObjectiveArg::ShuffleRandom => Objective::ShuffleRandom {
            manipulate_prob: args.manipulate_prob,
        },
        ObjectiveArg::Mlm => Objective::MaskedLm {
            mask_prob: args.mask_prob,
        },
    };
    let warmup = args
        .warmup
        .unwrap_or_else(|| (args.steps as f64 * 0.06).round() as u64);
    PretrainConfig {
        model,
        objective,
        max_length: args.max_length,
        batch_size: args.batch_size,
        grad_accum: args.grad_accum,
        steps: args.steps,
        schedule: LrSchedule {
            peak: args.lr,
            warmup_steps: warmup,
            total_steps: args.steps,
            decay: match args.schedule {
                ScheduleArg::Linear => Decay::Linear,
                ScheduleArg::Constant => Decay::Constant,
            },
        },
        optimizer: AdamWConfig {
            weight_decay: args.weight_decay,
            max_grad_norm: (args.max_grad_norm > 0.0).then_some(args.max_grad_norm),
            ..AdamWConfig::default()
        },
        seed: args.seed,
        log_every: args.log_every,
        eval_every: args.eval_every,
        eval_batches: args.eval_batches,
        checkpoint_every: args.checkpoint_every,
        keep_checkpoints: args.keep_checkpoints,
        precision: args.precision.into(),
    }
}

/// The closing line: how the run ended, at which of `steps`, and where the model is.
fn print_summary(summary: &RunSummary, steps: u64, stop_after: Option<u64>, interrupted: bool) {
    let how = match (summary.finished, stop_after) {
        (true, _) => "finished",
        (false, Some(at)) if summary.step >= at => "stopped (--stop-after)",
        (false, _) if interrupted => "stopped (interrupted; --resume continues)",
        (false, _) => "stopped (time limit)",
    };
    println!(
        "{how} at step {}/{} in {:.0} s; held-out loss {}, accuracy {}; model in {}",
        summary.step,
        steps,
        summary.seconds,
        summary
            .last_eval_loss
            .map_or("-".into(), |l| format!("{l:.4}")),
        summary
            .last_eval_accuracy
            .map_or("-".into(), |a| format!("{a:.4}")),
        summary.model_dir.display()
    );
}

/// Where the corpus is prepared: `--prepared`; or, resuming a run that prepared its own corpus
/// (`OUT/corpus`, before the shared cache), that one; else the shared cache.
enum Destination {
    Dir(PathBuf),
    Cache(PathBuf),
}

impl Destination {
    fn of(args: &PretrainArgs) -> Result<Self> {
        if let Some(dir) = &args.prepared {
            return Ok(Self::Dir(dir.clone()));
        }
        let cache = hashformer_files::cache_root()
            .context("choosing where to prepare the corpus (or give --prepared DIR)")?;
        if args.resume {
            let recorded = hashformer_train::recorded_corpus(&args.out)?;
            let corpora = cache.join(hashformer_corpus::CORPORA_DIR);
            if let Some(dir) = recorded.filter(|d| !d.starts_with(&corpora)) {
                return Ok(Self::Dir(dir));
            }
        }
        Ok(Self::Cache(cache))
    }
}

/// Prepares the corpus (see [`Destination`]) or reuses it; the prepared directory.
fn prepared_corpus(args: &PretrainArgs) -> Result<PathBuf> {
    let inputs = if args.corpus.is_empty() {
        vec![data::resolve(None, data::CORPUS)?]
    } else {
        args.corpus.clone()
    };
    let config = PrepareConfig {
        max_words: args.max_length.saturating_sub(2),
        max_train_chunks: args.max_train_sequences,
        overwrite: args.replace_prepared,
        ..PrepareConfig::default()
    };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "preparing corpus {bar:30} {bytes}/{total_bytes} [{elapsed} < {eta}] {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut on_progress = |p: &PrepareProgress| {
        bar.set_length(p.bytes_total);
        bar.set_position(p.bytes_read);
        bar.set_message(format!(
            "{} documents, {} + {} sequences",
            p.documents, p.train_chunks, p.valid_chunks
        ));
    };
    let (prepared, place) = match Destination::of(args)? {
        Destination::Dir(out) => (
            prepare_with_progress(&inputs, &out, &config, &mut on_progress),
            out,
        ),
        Destination::Cache(cache) => (
            prepare_cached(&inputs, &cache, &config, &mut on_progress, &mut |holder| {
                bar.suspend(|| {
                    eprintln!("waiting for another run to prepare or check the corpus ({holder})")
                })
            }),
            cache.join(hashformer_corpus::CORPORA_DIR),
        ),
    };
    let prepared = prepared.map_err(|e| {
        // Only a refused, different prepared corpus is what the flag is for.
        let hint = match e {
            hashformer_corpus::Error::OutputExists { .. } => {
                " (--replace-prepared replaces a corpus prepared from other inputs or with \
                 another config)"
            }
            _ => "",
        };
        anyhow::Error::new(e).context(format!(
            "preparing the corpus into {}{hint}",
            place.display()
        ))
    })?;
    bar.finish_and_clear();
    let meta = prepared.meta();
    eprintln!(
        "corpus {}: {} training and {} held-out sequences",
        prepared.dir().display(),
        meta.stats(Split::Train).chunks,
        meta.stats(Split::Valid).chunks
    );
    Ok(prepared.dir().to_owned())
}

/// Progress bar with ETA and tokens/s, plus one line per held-out evaluation.
struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        Self {
            bar: (!quiet).then(|| ProgressBar::new(0)),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }

    fn println(&self, line: String) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }
}

impl Observer for Progress {
    fn on_start(&mut self, start_step: u64, total_steps: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total_steps);
            bar.set_position(start_step);
            bar.reset_eta();
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} steps [{elapsed} < {eta}] {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
        }
    }

    fn on_step(&mut self, step: u64, _loss: f64) {
        if let Some(bar) = &self.bar {
            bar.set_position(step);
        }
    }

    fn on_report(&mut self, r: &StepReport) {
        let msg = format!(
            "loss {:.4} acc {:.3} lr {:.2e} {:.0} tok/s",
            r.loss, r.accuracy, r.lr, r.tokens_per_s
        );
        match &self.bar {
            Some(bar) => bar.set_message(msg),
            None => eprintln!("step {}: {msg}", r.step),
        }
    }

    fn on_eval(&mut self, r: &EvalReport) {
        let per_class = match r.recall {
            Some(c) => format!(
                " (original {:.3}, shuffled {:.3}, random {:.3}; majority {:.3}, \
                 prior loss {:.4})",
                c.acc_original, c.acc_shuffled, c.acc_random, r.majority_rate, r.prior_loss
            ),
            None => String::new(),
        };
        self.println(format!(
            "step {}: held-out loss {:.4}, accuracy {:.4}{per_class}",
            r.step, r.loss, r.accuracy
        ));
    }

    fn on_checkpoint(&mut self, step: u64, dir: &Path) {
        if self.bar.is_none() {
            eprintln!("step {step}: checkpoint {}", dir.display());
        }
    }
}
