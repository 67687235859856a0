//! Fine-tuning a sequence classifier (or regressor) the way the reference fine-tunes on GLUE
//! (method §8): the `<s>` head, cross-entropy (MSE with one label), AdamW with the no-decay
//! group, warm-up of 6 % then cosine with 5 hard restarts (or linear), evaluation on the dev
//! set during training, and the best-on-dev checkpoint kept.
//!
//! Batches are **length-bucketed**: each epoch's seeded order is cut into pools of 50 batches,
//! each pool is sorted by length and cut into batches, and the batches are shuffled. A batch is
//! padded only to its longest sequence, which makes CPU fine-tuning practical; the padding
//! invariance tests of the model crate show that results do not depend on padding.
//! As in pre-training, every random draw (order, head initialisation, dropout) is a function of
//! the seed (and the step).

mod batches;
mod config;
mod example;

use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use hashformer_model::{
    EncodedBatch, HashformerConfig, HashformerForSequenceClassification, TextEncoder,
};
use hashformer_report::MetricsLog;
use serde::Serialize;

pub use batches::predict;
pub use config::{FinetuneConfig, FinetuneObserver, FinetuneSummary, Init};
pub use example::{Example, Target};

use crate::error::{Error, Result};
use crate::loss_scale::{optimizer_step, LossScale};
use crate::optim::AdamW;
use crate::schedule::LrSchedule;
use crate::seed::{derived_seed, SEED_DROPOUT};
use crate::steps::{self, Due, Training};
use batches::{batch_loss, encode_all, epoch_batches, predict_encoded};

/// What to fine-tune on: the text encoder of the model's variant, the labelled training and
/// dev examples, the head's size, and how dev outputs are scored (higher is better, e.g. the
/// task's reported metric).
pub struct FinetuneTask<'a> {
    /// The text encoder for the model's variant.
    pub encoder: &'a TextEncoder,
    /// Training examples (every one labelled).
    pub train: &'a [Example],
    /// Dev examples (every one labelled).
    pub dev: &'a [Example],
    /// Outputs of the head (1: regression).
    pub num_labels: usize,
    /// The dev score of a model's dev outputs, in dev order.
    pub score: &'a dyn Fn(&[Target]) -> f64,
}

/// Fine-tunes from `init` on `task`, evaluating on its dev examples. With `out_dir`, writes
/// `metrics.jsonl`, `metrics.png` and the best-on-dev model in `out_dir/best`.
///
/// # Errors
/// [`Error::Examples`] for missing or unlabelled examples or targets that do not fit the
/// head, [`Error::Config`] for a bad setting, [`Error::EncoderMismatch`]; checkpoint, hashing
/// and I/O errors; [`Error::NonFinite`] if the loss diverges.
pub fn finetune(
    init: &Init,
    task: &FinetuneTask<'_>,
    config: &FinetuneConfig,
    out_dir: Option<&Path>,
    device: &Device,
    observer: &mut dyn FinetuneObserver,
) -> Result<FinetuneSummary> {
    let started = Instant::now();
    check(task, config)?;
    config.precision.check_device(device)?;
    let train_device = device.clone().autodiff();
    let (mut model, model_config) = init_model(init, task.num_labels, config)?;
    model.roberta.precision = config.precision;
    if task.encoder.kind() != model_config.variant.kind() {
        return Err(Error::EncoderMismatch {
            encoder: task.encoder.kind(),
            model: model_config.variant.kind(),
        });
    }
    let train_enc = encode_all(task.encoder, task.train)?;
    let per_epoch = task.train.len().div_ceil(config.batch_size) as u64;
    let total = per_epoch * config.epochs as u64;
    let schedule = LrSchedule {
        peak: config.lr,
        warmup_steps: (config.warmup_ratio * total as f64) as u64,
        total_steps: total,
        decay: config.decay,
    };
    let log = match out_dir {
        Some(dir) => Some(MetricsLog::create(&dir.join("metrics.jsonl"))?),
        None => None,
    };
    let eval_points = (1..=config.evals_per_epoch as u64)
        .map(|k| (k * per_epoch).div_ceil(config.evals_per_epoch as u64))
        .collect();
    let lengths = train_enc.lengths();
    let mut run = FinetuneRun {
        model: Some(model.fork(&train_device)),
        model_config,
        optimizer: AdamW::new(config.optimizer),
        loss_scale: LossScale::for_precision(config.precision),
        batches: epoch_batches(&lengths, config.batch_size, config.seed, 0),
        lengths,
        train_enc,
        dev_enc: encode_all(task.encoder, task.dev)?,
        task,
        config,
        epoch: 0,
        position: 0,
        eval_points,
        window: TrainWindow::new(),
        log,
        out_dir,
        train_device,
        device,
        observer,
        best: None,
        final_score: f64::NAN,
    };
    run.observer.on_start(total);
    let progress = steps::run(&mut run, &schedule, 0, total)?;
    if let Some(dir) = out_dir {
        let _ = hashformer_report::plot_metrics(
            &dir.join("metrics.jsonl"),
            &dir.join("metrics.png"),
            &hashformer_report::PlotOptions::new(dir.display().to_string()),
        );
    }
    let (best_score, best_step, best_outputs) = run.best.unwrap_or((f64::NAN, 0, Vec::new()));
    Ok(FinetuneSummary {
        best_score,
        best_step,
        best_outputs,
        final_score: run.final_score,
        steps: progress.done,
        seconds: started.elapsed().as_secs_f64(),
        model_config: run.model_config,
    })
}

/// Refuses what fine-tuning cannot run on.
fn check(task: &FinetuneTask<'_>, config: &FinetuneConfig) -> Result<()> {
    if task.train.is_empty() || task.dev.is_empty() {
        return Err(Error::Examples(
            "fine-tuning needs training and dev examples".into(),
        ));
    }
    let unlabelled = |e: &[Example]| e.iter().any(|e| e.target.is_none());
    if unlabelled(task.train) || unlabelled(task.dev) {
        return Err(Error::Examples(
            "every training and dev example needs a label".into(),
        ));
    }
    for (field, value) in [
        ("batch_size", config.batch_size),
        ("epochs", config.epochs),
        ("evals_per_epoch", config.evals_per_epoch),
    ] {
        if value == 0 {
            return Err(Error::Config {
                field,
                reason: "must be at least 1".into(),
            });
        }
    }
    Ok(())
}

/// The classifier to start from, built on the CPU (so that a seed gives the same head on
/// every backend), with the label names of `config`.
fn init_model(
    init: &Init,
    num_labels: usize,
    config: &FinetuneConfig,
) -> Result<(HashformerForSequenceClassification, HashformerConfig)> {
    // The reference seeds before building the head (method §8).
    let cpu = Device::flex().autodiff();
    cpu.seed(config.seed);
    let (model, model_config) = match init {
        Init::Pretrained(dir) => {
            HashformerForSequenceClassification::from_pretrained(dir, Some(num_labels), &cpu)?
        }
        Init::Scratch(c) => {
            let c = c.clone().with_num_labels(num_labels);
            c.validate()?;
            (c.init_classification(&cpu), c)
        }
    };
    let model_config = match config.label_names.len() {
        0 => model_config,
        n if n == num_labels => model_config.with_id2label(config.label_names.clone()),
        n => {
            return Err(Error::Config {
                field: "label_names",
                reason: format!("{n} label names for a {num_labels}-label head"),
            })
        }
    };
    Ok((model, model_config))
}

#[derive(Debug, Serialize)]
struct TrainRecord {
    split: &'static str,
    step: u64,
    epoch: usize,
    loss: f64,
    lr: f64,
    grad_norm: f64,
    examples_per_s: f64,
}

#[derive(Debug, Serialize)]
struct DevRecord {
    split: &'static str,
    step: u64,
    epoch: usize,
    loss: f64,
    score: f64,
}

/// Training loss and throughput since the last log.
struct TrainWindow {
    loss: f64,
    steps: u64,
    examples: usize,
    started: Instant,
    grad_norm: f64,
}

impl TrainWindow {
    fn new() -> Self {
        Self {
            loss: 0.0,
            steps: 0,
            examples: 0,
            started: Instant::now(),
            grad_norm: f64::NAN,
        }
    }
}

/// A fine-tuning run in progress, driven by [`steps::run`].
struct FinetuneRun<'a> {
    /// Taken by each step (the optimizer consumes and returns it); always `Some` between steps.
    model: Option<HashformerForSequenceClassification>,
    model_config: HashformerConfig,
    optimizer: AdamW,
    /// The loss scale of `f16` training (`None` in `f32` and `bf16`).
    loss_scale: Option<LossScale>,
    task: &'a FinetuneTask<'a>,
    config: &'a FinetuneConfig,
    train_enc: EncodedBatch,
    dev_enc: EncodedBatch,
    lengths: Vec<usize>,
    /// The current epoch and its batches; `position` batches of it are done.
    epoch: usize,
    batches: Vec<Vec<usize>>,
    position: usize,
    /// Dev evaluations after these batches of each epoch (1-based).
    eval_points: Vec<u64>,
    window: TrainWindow,
    log: Option<MetricsLog>,
    out_dir: Option<&'a Path>,
    train_device: Device,
    device: &'a Device,
    observer: &'a mut dyn FinetuneObserver,
    /// The best dev score, its step and its dev outputs.
    best: Option<(f64, u64, Vec<Target>)>,
    final_score: f64,
}

impl Training for FinetuneRun<'_> {
    fn step(&mut self, done: u64, lr: f64) -> Result<f64> {
        if self.position == self.batches.len() {
            self.epoch += 1;
            self.position = 0;
            let (size, seed) = (self.config.batch_size, self.config.seed);
            self.batches = epoch_batches(&self.lengths, size, seed, self.epoch as u64);
        }
        let batch = &self.batches[self.position];
        self.position += 1;
        self.train_device
            .seed(derived_seed(self.config.seed, SEED_DROPOUT, done, 0));
        let model = self
            .model
            .take()
            .expect("the model is back after every step");
        let targets: Vec<Target> = batch
            .iter()
            .filter_map(|&j| self.task.train[j].target)
            .collect();
        let logits = model.forward(self.train_enc.select(batch).to_input(&self.train_device));
        let loss = batch_loss(logits, &targets, &self.train_device)?;
        let factor = LossScale::factor(self.loss_scale.as_ref());
        let grads = GradientsParams::from_grads(loss.clone().mul_scalar(factor).backward(), &model);
        // The update is queued before the loss is read back: no wait between the passes.
        let stepped = optimizer_step(
            &mut self.optimizer,
            self.loss_scale.as_mut(),
            lr,
            model,
            grads,
            done,
        );
        let value = f64::from(loss.detach().into_scalar::<f32>());
        if !value.is_finite() {
            return Err(Error::NonFinite {
                step: done + 1,
                what: "loss".into(),
                value,
            });
        }
        let stepped = stepped?;
        self.model = Some(stepped.model);
        self.window.loss += value;
        self.window.steps += 1;
        self.window.examples += batch.len();
        if stepped.stats.grad_norm.is_finite() {
            self.window.grad_norm = stepped.stats.grad_norm;
        }
        Ok(value)
    }

    fn due(&self, done: u64, _last: bool) -> Due {
        Due {
            log: done.is_multiple_of(self.config.log_every),
            evaluate: self.eval_points.contains(&(self.position as u64)),
            checkpoint: false,
        }
    }

    fn log(&mut self, done: u64, lr: f64) -> Result<()> {
        let w = &self.window;
        if let Some(log) = self.log.as_mut() {
            log.log(&TrainRecord {
                split: "train",
                step: done,
                epoch: self.epoch,
                loss: w.loss / w.steps as f64,
                lr,
                grad_norm: w.grad_norm,
                examples_per_s: w.examples as f64 / w.started.elapsed().as_secs_f64(),
            })?;
        }
        self.window = TrainWindow::new();
        Ok(())
    }

    fn evaluate(&mut self, done: u64) -> Result<()> {
        let valid = self
            .model
            .as_ref()
            .expect("the model is back after every step")
            .valid();
        let (dev, size) = (self.task.dev, self.config.batch_size);
        let (outs, loss) = predict_encoded(&valid, &self.dev_enc, dev, size, self.device)?;
        let score = (self.task.score)(&outs);
        self.final_score = score;
        if let Some(log) = self.log.as_mut() {
            log.log(&DevRecord {
                split: "dev",
                step: done,
                epoch: self.epoch,
                loss: loss.unwrap_or(f64::NAN),
                score,
            })?;
        }
        if self.best.as_ref().is_none_or(|(b, _, _)| score > *b) {
            if let Some(dir) = self.out_dir {
                valid.save_pretrained(&self.model_config, &dir.join("best"))?;
            }
            self.best = Some((score, done, outs));
        }
        let best = self.best.as_ref().map_or(score, |b| b.0);
        self.observer.on_eval(done, score, best);
        Ok(())
    }

    fn checkpoint(&mut self, _done: u64) -> Result<()> {
        Ok(())
    }

    fn on_step(&mut self, done: u64, loss: f64) {
        self.observer.on_step(done, loss);
    }
}
