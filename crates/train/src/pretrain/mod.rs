//! The pre-training loop: Shuffle+Random (or masked LM for the id variants) on a prepared
//! corpus, with AdamW, a warm-up schedule, gradient accumulation, periodic evaluation on the
//! held-out split, atomic checkpoints and exact resume.
//!
//! # Determinism and exact resume
//! Everything random is a pure function of `(seed, step)`: the data order (a seeded permutation
//! per epoch, see [`EpochOrder`]), the collator's draws and the dropout masks (the device is
//! re-seeded before every micro-batch). A checkpoint therefore only needs the weights, the
//! optimizer moments, the step and the data position, and a run stopped at step `N` and resumed
//! computes bit for bit what an uninterrupted run computes (tested on the CPU backend).
//! Burn's CPU backend keeps one random stream per process, so this holds for one training per
//! process at a time (two concurrent runs in one process would interleave their dropout draws).
//!
//! # Run directory
//! ```text
//! run.json                      the PretrainConfig and the corpus it reads
//! metrics.jsonl, metrics.png    one JSON object per logged step / evaluation, and its plot
//! checkpoints/step-000100/      config.json, model.safetensors (loadable by from_pretrained),
//!                               optimizer.safetensors, state.json; the last K are kept
//! model/                        the final model (config.json + model.safetensors)
//! ```

mod compare;
mod config;
mod counts;
mod eval;
mod objective;
mod producer;
mod report;
mod run_dir;
mod step;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use burn::prelude::*;
use hashformer_corpus::{ChunkFile, DataPosition, PreparedCorpus, Split};
use hashformer_files::DirLock;
use hashformer_model::{EncodedBatch, TextEncoder};
use hashformer_report::{plot_metrics, MetricsLog, PlotOptions};

pub use compare::{compare_runs, held_out_evaluations, ComparedRun, HeldOut, RunComparison};
pub use config::{Objective, PretrainConfig};
pub use counts::{ClassCounts, ClassRecall};
pub use objective::PretrainModel;
pub use report::{EvalReport, Observer, RunOptions, RunSummary, StepReport};
pub use run_dir::{latest_checkpoint, recorded_corpus};
pub use step::Phases;

pub(crate) use step::{train_step, Trainer, Work};

use crate::collator::Labels;
use crate::error::{Error, Result};
use crate::optim::AdamW;
use crate::steps::{self, Due, Training};
use eval::{eval_batches, evaluate};
use objective::Collator;
use producer::Producer;
use report::Window;
use run_dir::{
    check_run_file, clear_for_fresh_run, lock_run_dir, refuse_non_finite, remove_stale_temporaries,
    save_checkpoint, start_state, ResumeState, RunFile, CHECKPOINTS_DIR, METRICS_FILE,
    METRICS_PLOT, MODEL_DIR,
};

/// Pre-trains (or resumes) a model in `run_dir` from the prepared corpus in `corpus_dir`, on
/// `devices` (usually one; several for data parallelism, see `train_step`: micro-batch `i` of
/// each step runs on device `i mod n`, so `grad_accum` should be a multiple of their number).
///
/// # Errors
/// [`Error::Config`] for a bad config, [`Error::RunExists`] or [`Error::OtherRun`] for a run
/// directory that belongs to another run, [`Error::NonFinite`] if the loss diverges (the
/// last checkpoint is kept), and I/O, corpus, hashing or checkpoint errors naming their file.
pub fn pretrain(
    config: &PretrainConfig,
    corpus_dir: &Path,
    encoder: TextEncoder,
    run_dir: &Path,
    devices: &[Device],
    options: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<RunSummary> {
    let device = config.check_run(devices)?;
    if encoder.kind() != config.model.variant.kind() {
        return Err(Error::EncoderMismatch {
            encoder: encoder.kind(),
            model: config.model.variant.kind(),
        });
    }
    let started = Instant::now();
    let Opened {
        corpus,
        train,
        model,
        optimizer,
        state,
        metrics,
        lock,
    } = open_run(config, corpus_dir, run_dir, options, device)?;
    let encoder = Arc::new(encoder);
    let collator = Collator::for_config(config);
    let eval_set = eval_batches(
        &mut corpus.split(Split::Valid)?,
        &encoder,
        &collator,
        config,
    )?;
    let producer = Producer::spawn(
        train,
        Arc::clone(&encoder),
        collator,
        config,
        state.step,
        state.data,
    );
    let train_devices: Vec<Device> = devices.iter().map(|d| d.clone().autodiff()).collect();
    let mut run = PretrainRun {
        trainer: Trainer {
            optimizer,
            loss_scale: state.loss_scale,
            config,
            devices: &train_devices,
        },
        model: Some(model),
        producer,
        eval_set,
        metrics,
        checkpoints: run_dir.join(CHECKPOINTS_DIR),
        options,
        observer,
        device,
        started,
        resumed_s: state.elapsed_s,
        data: state.data,
        window: Window::new(),
        last_eval: None,
        _lock: lock,
    };
    run.observer.on_start(state.step, config.steps);
    let progress = if state.step >= config.steps {
        // Nothing left to train (a resume at the last step): report the held-out metrics of
        // the checkpoint, without logging a second record for its step.
        run.report_eval(state.step)?;
        steps::Progress {
            done: state.step,
            finished: true,
        }
    } else {
        steps::run(&mut run, &config.schedule, state.step, config.steps)?
    };
    run.finish(run_dir, progress)
}

/// What a run starts from.
struct Opened {
    corpus: PreparedCorpus,
    /// The training split, opened to check its length and then read by the data thread.
    train: ChunkFile,
    model: PretrainModel,
    optimizer: AdamW,
    state: ResumeState,
    metrics: MetricsLog,
    /// The run directory's lock, held until the run ends.
    lock: DirLock,
}

/// Locks the run directory (deleting checkpoint temporaries of killed runs), checks that a
/// resumed run is the same run or that a fresh one replaces nothing unasked, and opens the
/// prepared corpus, the newest checkpoint when resuming (else a fresh model) and the metrics
/// log.
fn open_run(
    config: &PretrainConfig,
    corpus_dir: &Path,
    run_dir: &Path,
    options: &RunOptions,
    device: &Device,
) -> Result<Opened> {
    let lock = lock_run_dir(run_dir)?;
    let checkpoints = run_dir.join(CHECKPOINTS_DIR);
    remove_stale_temporaries(&checkpoints)?;
    let resume_from = if options.resume {
        let latest = latest_checkpoint(&checkpoints)?;
        Some(latest.ok_or_else(|| Error::NothingToResume {
            run_dir: run_dir.to_owned(),
        })?)
    } else {
        clear_for_fresh_run(run_dir, options.overwrite)?;
        None
    };
    let run_file = RunFile {
        config: config.clone(),
        corpus: corpus_dir.to_owned(),
    };
    check_run_file(run_dir, &run_file, resume_from.is_some())?;
    let corpus = PreparedCorpus::open(corpus_dir)?;
    let train = corpus.split(Split::Train)?;
    let sequences = train.len();
    if sequences < config.batch_size as u64 {
        return Err(Error::TooFewSequences {
            corpus: corpus_dir.to_owned(),
            sequences,
            batch_size: config.batch_size,
        });
    }
    let (model, optimizer, state) = start_state(resume_from.as_deref(), config, device)?;
    let metrics_path = run_dir.join(METRICS_FILE);
    let metrics = match resume_from {
        Some(_) => MetricsLog::resume(&metrics_path, state.step)?,
        None => MetricsLog::create(&metrics_path)?,
    };
    Ok(Opened {
        corpus,
        train,
        model,
        optimizer,
        state,
        metrics,
        lock,
    })
}

/// A pre-training run in progress, driven by [`steps::run`].
struct PretrainRun<'a> {
    trainer: Trainer<'a>,
    /// Taken by each step (the optimizer consumes and returns it); always `Some` between steps.
    model: Option<PretrainModel>,
    producer: Producer,
    eval_set: Vec<(EncodedBatch, Labels)>,
    metrics: MetricsLog,
    checkpoints: PathBuf,
    options: &'a RunOptions,
    observer: &'a mut dyn Observer,
    /// The first device (plain, for evaluation).
    device: &'a Device,
    started: Instant,
    /// Seconds of training before this process (a resumed run).
    resumed_s: f64,
    /// Data position after the last step.
    data: DataPosition,
    window: Window,
    last_eval: Option<EvalReport>,
    /// The run directory's lock: released when the run ends.
    _lock: DirLock,
}

impl PretrainRun<'_> {
    fn model(&self) -> &PretrainModel {
        self.model
            .as_ref()
            .expect("the model is back after every step")
    }

    fn elapsed_s(&self) -> f64 {
        self.resumed_s + self.started.elapsed().as_secs_f64()
    }

    fn report_eval(&mut self, done: u64) -> Result<EvalReport> {
        let config = self.trainer.config;
        let report = evaluate(self.model(), &self.eval_set, config, self.device, done)?;
        self.observer.on_eval(&report);
        self.last_eval = Some(report.clone());
        Ok(report)
    }

    /// Saves the final model and the metrics plot; the summary of the run.
    fn finish(self, run_dir: &Path, progress: steps::Progress) -> Result<RunSummary> {
        drop(self.producer);
        let model_dir = run_dir.join(MODEL_DIR);
        let model = self.model.expect("the model is back after every step");
        refuse_non_finite(&model, progress.done)?;
        model.save(&self.trainer.config.model, &model_dir)?;
        let title = run_dir.file_name().map_or_else(
            || "pre-training".to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let _ = plot_metrics(
            self.metrics.path(),
            &run_dir.join(METRICS_PLOT),
            &PlotOptions::new(title),
        );
        Ok(RunSummary {
            step: progress.done,
            finished: progress.finished,
            last_eval_loss: self.last_eval.as_ref().map(|r| r.loss),
            last_eval_accuracy: self.last_eval.as_ref().map(|r| r.accuracy),
            model_dir,
            seconds: self.started.elapsed().as_secs_f64(),
        })
    }
}

impl Training for PretrainRun<'_> {
    fn step(&mut self, done: u64, lr: f64) -> Result<f64> {
        let config = self.trainer.config;
        let mut micro = Vec::with_capacity(config.grad_accum);
        for _ in 0..config.grad_accum {
            let prepared = self.producer.next()?;
            self.data = prepared.next;
            self.window.tokens += prepared.encoded.real_tokens() as u64;
            let cut = prepared.encoded.cut_length();
            self.window.positions += (prepared.encoded.len() * cut) as u64;
            micro.push((prepared.encoded, prepared.labels));
        }
        let model = self
            .model
            .take()
            .expect("the model is back after every step");
        let work = Work {
            micro: &micro,
            step: done,
            lr,
        };
        let (model, loss, stats) = train_step(
            model,
            &mut self.trainer,
            &work,
            &mut self.window.counts,
            None,
        )?;
        self.model = Some(model);
        self.window.loss_scale = self.trainer.loss_scale.map(|s| s.scale);
        self.window.loss_sum += loss;
        self.window.steps += 1;
        if stats.grad_norm.is_finite() {
            // A step an f16 overflow skipped has none.
            self.window.grad_norm = stats.grad_norm;
        }
        Ok(loss)
    }

    fn due(&self, done: u64, last: bool) -> Due {
        let config = self.trainer.config;
        let every = |n: u64| n > 0 && done.is_multiple_of(n);
        Due {
            log: every(config.log_every) || last,
            evaluate: every(config.eval_every) || last,
            checkpoint: every(config.checkpoint_every) || last,
        }
    }

    fn log(&mut self, done: u64, lr: f64) -> Result<()> {
        let per_class = matches!(
            self.trainer.config.objective,
            Objective::ShuffleRandom { .. }
        );
        let elapsed = self.elapsed_s();
        let report = self
            .window
            .report(done, self.data.epoch, lr, elapsed, per_class);
        self.metrics.log(&report)?;
        self.observer.on_report(&report);
        self.window = Window::new();
        Ok(())
    }

    fn evaluate(&mut self, done: u64) -> Result<()> {
        let report = self.report_eval(done)?;
        self.metrics.log(&report)?;
        Ok(())
    }

    fn checkpoint(&mut self, done: u64) -> Result<()> {
        let state = ResumeState {
            step: done,
            data: self.data,
            elapsed_s: self.elapsed_s(),
            loss_scale: self.trainer.loss_scale,
        };
        let model = self.model();
        let dir = save_checkpoint(
            &self.checkpoints,
            model,
            &self.trainer.optimizer,
            &state,
            self.trainer.config,
        )?;
        self.observer.on_checkpoint(done, &dir);
        Ok(())
    }

    fn should_stop(&self, done: u64) -> bool {
        let limit = self.options.time_limit;
        limit.is_some_and(|limit| self.started.elapsed() >= limit)
            || self.options.stop_after.is_some_and(|stop| done >= stop)
            || self
                .options
                .stop
                .as_ref()
                .is_some_and(|stop| stop.load(Ordering::SeqCst))
    }

    fn on_step(&mut self, done: u64, loss: f64) {
        self.observer.on_step(done, loss);
    }
}
