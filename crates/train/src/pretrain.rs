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

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use hashformer_corpus::{ChunkFile, DataPosition, EpochOrder, PreparedCorpus, Split};
use hashformer_embeddings::EmbeddingKind;
use hashformer_files::write_atomic;
use hashformer_hashing::TextInput;
use hashformer_model::{
    EncodedBatch, HashformerConfig, HashformerForMaskedLm, HashformerForPretraining, TextEncoder,
};
use hashformer_report::{plot_metrics, MetricsLog, PlotOptions};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::collator::{Labels, RandomContent, ShuffleRandom, IGNORE_LABEL};
use crate::error::{Error, Result};
use crate::mlm::MaskedLm;
use crate::optim::{AdamW, AdamWConfig};
use crate::schedule::LrSchedule;
use crate::seed::{derived_seed, SEED_COLLATE, SEED_DROPOUT, SEED_EVAL, SEED_INIT};

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
}

impl PretrainConfig {
    /// Checks the values that would otherwise fail deep in the loop.
    ///
    /// # Errors
    /// [`Error::Setup`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, reason: &str| Err(Error::Setup(format!("{field}: {reason}")));
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
                if !self.model.embedding_type.takes_ids() =>
            {
                bad(
                    "objective",
                    "masked LM needs an id table (Emb or the BPE baseline); Pool/Add/Proj use Shuffle+Random",
                )
            }
            _ => Ok(()),
        }
    }

    fn collator(&self) -> Collator {
        let rows = self.model.vocab_size();
        match self.objective {
            Objective::ShuffleRandom { manipulate_prob } => {
                let random = match self.model.embedding_type {
                    EmbeddingKind::Emb | EmbeddingKind::Vocab => {
                        RandomContent::Ids(0..u32::try_from(rows).unwrap_or(u32::MAX))
                    }
                    EmbeddingKind::Pool => RandomContent::UniformSignature,
                    EmbeddingKind::Add | EmbeddingKind::Proj => RandomContent::BiasedBits,
                };
                Collator::ShuffleRandom(ShuffleRandom::new(manipulate_prob, random))
            }
            Objective::MaskedLm { mask_prob } => Collator::MaskedLm(MaskedLm::new(
                mask_prob,
                u32::try_from(rows).unwrap_or(u32::MAX),
            )),
        }
    }
}

#[derive(Debug, Clone)]
enum Collator {
    ShuffleRandom(ShuffleRandom),
    MaskedLm(MaskedLm),
}

impl Collator {
    fn apply(&self, batch: &mut EncodedBatch, rng: &mut ChaCha8Rng) -> Labels {
        if let Some(s) = batch.ids_mut() {
            return match self {
                Self::ShuffleRandom(c) => c.apply_ids(s, rng),
                Self::MaskedLm(c) => c.apply_ids(s, rng),
            };
        }
        let s = batch.hashes_mut().expect("a batch holds ids or hashes");
        match self {
            Self::ShuffleRandom(c) => c.apply_hashes(s, rng),
            // `PretrainConfig::validate` rejects masked LM for hash variants.
            Self::MaskedLm(_) => {
                unreachable!("masked LM over hash inputs is rejected by validate()")
            }
        }
    }
}

/// The model being pre-trained.
#[derive(Module, Debug)]
pub enum PretrainModel {
    /// Shuffle+Random head.
    ShuffleRandom(HashformerForPretraining),
    /// Masked-LM head.
    MaskedLm(HashformerForMaskedLm),
}

impl PretrainModel {
    fn init(config: &PretrainConfig, device: &Device) -> Result<Self> {
        Ok(match config.objective {
            Objective::ShuffleRandom { .. } => {
                Self::ShuffleRandom(config.model.init_pretraining(device))
            }
            Objective::MaskedLm { .. } => Self::MaskedLm(config.model.init_masked_lm(device)?),
        })
    }

    fn load(config: &PretrainConfig, dir: &Path, device: &Device) -> Result<Self> {
        let mut model = Self::init(config, device)?;
        match &mut model {
            Self::ShuffleRandom(m) => hashformer_model::load_weights(m, dir, &[])?,
            Self::MaskedLm(m) => hashformer_model::load_weights(m, dir, &[])?,
        }
        Ok(model)
    }

    fn save(&self, config: &HashformerConfig, dir: &Path) -> Result<()> {
        match self {
            Self::ShuffleRandom(m) => m.save_pretrained(config, dir)?,
            Self::MaskedLm(m) => m.save_pretrained(config, dir)?,
        }
        Ok(())
    }

    /// Logits at the labelled positions: `[n, classes]` for `rows` (indices into the
    /// flattened `[batch · seq_len]` positions).
    fn logits(&self, batch: &EncodedBatch, rows: Tensor<1, Int>, device: &Device) -> Tensor<2> {
        let input = batch.to_input(device);
        match self {
            Self::ShuffleRandom(m) => {
                let logits = m.forward(input);
                let [b, l, c] = logits.dims();
                logits.reshape([b * l, c]).select(0, rows)
            }
            Self::MaskedLm(m) => m.forward_rows(input, rows),
        }
    }
}

/// One collated micro-batch.
#[derive(Debug)]
struct Prepared {
    encoded: EncodedBatch,
    labels: Labels,
    /// Data position after this micro-batch.
    next: DataPosition,
}

/// Labelled positions of a micro-batch cut to the length `EncodedBatch::to_input` uses.
struct Targets {
    rows: Vec<i64>,
    labels: Vec<i64>,
}

fn targets(batch: &EncodedBatch, labels: &Labels) -> Targets {
    // The same cut as the model input: the longest real sequence, at least 1.
    let seq_len = batch.cut_length();
    let mut out = Targets {
        rows: Vec::new(),
        labels: Vec::new(),
    };
    for (b, row) in labels.iter().enumerate() {
        for (i, &label) in row.iter().take(seq_len).enumerate() {
            if label != IGNORE_LABEL {
                out.rows.push((b * seq_len + i) as i64);
                out.labels.push(label);
            }
        }
    }
    out
}

/// Counts of a loss evaluation: per-class totals and hits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClassCounts {
    /// Labelled positions per class (Shuffle+Random: original, shuffled, random).
    pub total: [u64; 3],
    /// Correct predictions per class.
    pub correct: [u64; 3],
    /// All labelled positions (masked LM: the masked tokens).
    pub all: u64,
    /// All correct predictions.
    pub all_correct: u64,
}

impl ClassCounts {
    fn add(&mut self, labels: &[i64], predictions: &[i64], per_class: bool) {
        for (&l, &p) in labels.iter().zip(predictions) {
            self.all += 1;
            self.all_correct += u64::from(l == p);
            if per_class {
                if let Ok(c) = usize::try_from(l) {
                    if c < 3 {
                        self.total[c] += 1;
                        self.correct[c] += u64::from(l == p);
                    }
                }
            }
        }
    }

    /// Accuracy over all labelled positions.
    pub fn accuracy(&self) -> f64 {
        ratio(self.all_correct, self.all)
    }

    /// Recall of class `c` (NaN if it never occurs).
    pub fn class_accuracy(&self, c: usize) -> f64 {
        ratio(self.correct[c], self.total[c])
    }

    /// Recall of each Shuffle+Random class.
    pub fn recall(&self) -> ClassRecall {
        ClassRecall {
            acc_original: self.class_accuracy(0),
            acc_shuffled: self.class_accuracy(1),
            acc_random: self.class_accuracy(2),
        }
    }

    /// Share of the most frequent class: the accuracy of always predicting it.
    pub fn majority_rate(&self) -> f64 {
        ratio(*self.total.iter().max().unwrap_or(&0), self.all)
    }

    /// Entropy (nats) of the class frequencies: the cross-entropy of predicting them.
    pub fn prior_entropy(&self) -> f64 {
        self.total
            .iter()
            .map(|&n| ratio(n, self.all))
            .filter(|&p| p > 0.0)
            .map(|p| -p * p.ln())
            .sum()
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

/// Recall of each Shuffle+Random class (its JSON keys are the metrics log's).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassRecall {
    /// Recall of original tokens.
    pub acc_original: f64,
    /// Recall of shuffled tokens.
    pub acc_shuffled: f64,
    /// Recall of random tokens.
    pub acc_random: f64,
}

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
    /// Continue from the newest checkpoint of the run directory when there is one.
    pub resume: bool,
    /// Stop (with a checkpoint) after this step, e.g. to split a run into sessions.
    pub stop_after: Option<u64>,
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

/// What `state.json` of a checkpoint holds besides weights and optimizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ResumeState {
    step: u64,
    data: DataPosition,
    elapsed_s: f64,
}

const RUN_FILE: &str = "run.json";
const STATE_FILE: &str = "state.json";
const OPTIMIZER_FILE: &str = "optimizer.safetensors";
const METRICS_FILE: &str = "metrics.jsonl";

/// The run description stored as `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RunFile {
    config: PretrainConfig,
    corpus: PathBuf,
}

/// `map_err` adapter naming the file of an I/O error.
fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Io { path, source }
}

/// Background producer of collated micro-batches, in step order.
struct Producer {
    rx: Receiver<Result<Prepared>>,
    handle: Option<JoinHandle<()>>,
}

impl Producer {
    fn spawn(
        mut file: ChunkFile,
        encoder: Arc<TextEncoder>,
        collator: Collator,
        config: &PretrainConfig,
        start_step: u64,
        start: DataPosition,
    ) -> Self {
        let (tx, rx) = sync_channel(4);
        let (seed, batch_size, accum) = (config.seed, config.batch_size, config.grad_accum);
        let handle = std::thread::spawn(move || {
            let mut order = EpochOrder::new(seed);
            let mut position = start;
            let len = file.len();
            for step in start_step.. {
                for micro in 0..accum {
                    let result = (|| -> Result<Prepared> {
                        let (indices, next) = order.batch_indices(position, batch_size, len)?;
                        let texts = file.get_many(&indices)?;
                        let inputs: Vec<TextInput<'_>> =
                            texts.iter().map(|t| TextInput::single(t)).collect();
                        let mut encoded = encoder.encode(&inputs)?;
                        let mut rng = ChaCha8Rng::seed_from_u64(derived_seed(
                            seed,
                            SEED_COLLATE,
                            step,
                            micro as u64,
                        ));
                        let labels = collator.apply(&mut encoded, &mut rng);
                        Ok(Prepared {
                            encoded,
                            labels,
                            next,
                        })
                    })();
                    let failed = result.is_err();
                    if let Ok(p) = &result {
                        position = p.next;
                    }
                    if tx.send(result).is_err() || failed {
                        return;
                    }
                }
            }
        });
        Self {
            rx,
            handle: Some(handle),
        }
    }

    fn next(&self) -> Result<Prepared> {
        self.rx
            .recv()
            .map_err(|_| Error::Setup("the data thread stopped unexpectedly".into()))?
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        // Unblock the thread (its next send fails) and wait for it.
        let (_, dummy) = sync_channel(0);
        self.rx = dummy;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Mean cross-entropy over the rows of `logits` with `labels`, and the arg-max predictions
/// (still on the device: read them with [`read_predictions`] once all work is queued).
fn loss_and_predictions(
    logits: Tensor<2>,
    labels: &[i64],
    device: &Device,
) -> (Tensor<1>, Tensor<1, Int>) {
    let n = labels.len();
    let label_tensor = Tensor::<1, Int>::from_data(TensorData::new(labels.to_vec(), [n]), device);
    let predictions = logits.clone().detach().argmax(1).reshape([n]);
    let picked = log_softmax(logits, 1).gather(1, label_tensor.reshape([n, 1]));
    (picked.mean().neg(), predictions)
}

fn read_predictions(predictions: Tensor<1, Int>) -> Vec<i64> {
    predictions
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .unwrap_or_default()
}

/// Pre-trains (or resumes) a model in `run_dir` from the prepared corpus in `corpus_dir`, on
/// `devices` (usually one; several for data parallelism, see `train_step`: micro-batch `i` of
/// each step runs on device `i mod n`, so `grad_accum` should be a multiple of their number).
///
/// # Errors
/// [`Error::Setup`] for a bad config or a run directory that belongs to another run,
/// [`Error::NonFinite`] if the loss diverges (the last checkpoint is kept), and I/O, corpus,
/// hashing or checkpoint errors naming their file.
pub fn pretrain(
    config: &PretrainConfig,
    corpus_dir: &Path,
    encoder: TextEncoder,
    run_dir: &Path,
    devices: &[Device],
    options: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<RunSummary> {
    config.validate()?;
    let Some(device) = devices.first() else {
        return Err(Error::Setup("no device to train on".into()));
    };
    let train_devices: Vec<Device> = devices.iter().map(|d| d.clone().autodiff()).collect();
    if encoder.kind() != config.model.embedding_type {
        return Err(Error::Setup(format!(
            "the encoder is for {:?} but the model is {:?}",
            encoder.kind(),
            config.model.embedding_type
        )));
    }
    let started = Instant::now();
    std::fs::create_dir_all(run_dir).map_err(io_error(run_dir))?;
    let checkpoints = run_dir.join("checkpoints");
    let run_file = RunFile {
        config: config.clone(),
        corpus: corpus_dir.to_owned(),
    };
    let resume_from = if options.resume {
        latest_checkpoint(&checkpoints)?
    } else {
        None
    };
    check_run_file(run_dir, &run_file, resume_from.is_some())?;

    let corpus = PreparedCorpus::open(corpus_dir)?;
    let train_file = corpus.split(Split::Train)?;
    if train_file.len() < config.batch_size as u64 {
        return Err(Error::Setup(format!(
            "the training split of {} has {} sequences, fewer than one batch of {}",
            corpus_dir.display(),
            train_file.len(),
            config.batch_size
        )));
    }
    let mut valid_file = corpus.split(Split::Valid)?;

    let train_device = device.clone().autodiff();
    let (mut model, mut optimizer, state) = match &resume_from {
        Some(dir) => {
            let model = PretrainModel::load(config, dir, &train_device)?;
            let path = dir.join(OPTIMIZER_FILE);
            let bytes = std::fs::read(&path).map_err(io_error(&path))?;
            let optimizer = AdamW::from_safetensors(&bytes, &path, &device.clone().inner())?;
            let path = dir.join(STATE_FILE);
            let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
            let state: ResumeState = serde_json::from_str(&text)
                .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?;
            if optimizer.steps() != state.step {
                return Err(Error::Checkpoint(format!(
                    "{}: the optimizer has {} steps but the state says {}",
                    dir.display(),
                    optimizer.steps(),
                    state.step
                )));
            }
            (model, optimizer, state)
        }
        None => {
            // Initialise on the CPU and move to the training device, so that a seed gives the
            // same initial weights on every backend (their random streams differ).
            let cpu = Device::flex().autodiff();
            cpu.seed(derived_seed(config.seed, SEED_INIT, 0, 0));
            let model = PretrainModel::init(config, &cpu)?.fork(&train_device);
            let state = ResumeState {
                step: 0,
                data: DataPosition::default(),
                elapsed_s: 0.0,
            };
            (model, AdamW::new(config.optimizer), state)
        }
    };
    let metrics_path = run_dir.join(METRICS_FILE);
    let mut metrics = if resume_from.is_some() {
        MetricsLog::resume(&metrics_path, state.step)?
    } else {
        MetricsLog::create(&metrics_path)?
    };

    let encoder = Arc::new(encoder);
    let collator = config.collator();
    let eval_set = eval_batches(&mut valid_file, &encoder, &collator, config)?;
    let producer = Producer::spawn(
        train_file,
        Arc::clone(&encoder),
        collator,
        config,
        state.step,
        state.data,
    );

    observer.on_start(state.step, config.steps);
    let per_class = matches!(config.objective, Objective::ShuffleRandom { .. });
    let mut step = state.step;
    let mut data = state.data;
    let mut window = Window::new();
    let mut last_eval: Option<EvalReport> = None;
    let mut finished = step >= config.steps;
    if finished {
        // Nothing left to train (a resume at the last step): report the held-out metrics of
        // the checkpoint, without logging a second record for its step.
        let report = evaluate(&model, &eval_set, config, device, step)?;
        observer.on_eval(&report);
        last_eval = Some(report);
    }
    while !finished {
        let lr = config.schedule.lr(step);
        let mut micro = Vec::with_capacity(config.grad_accum);
        for _ in 0..config.grad_accum {
            let prepared = producer.next()?;
            data = prepared.next;
            window.tokens += prepared.encoded.real_tokens() as u64;
            micro.push((prepared.encoded, prepared.labels));
        }
        let (updated, step_loss, stats) = train_step(
            model,
            &mut optimizer,
            config,
            &micro,
            step,
            lr,
            &train_devices,
            &mut window.counts,
            None,
        )?;
        model = updated;
        step += 1;
        window.loss_sum += step_loss;
        window.steps += 1;
        observer.on_step(step, step_loss);
        let elapsed = state.elapsed_s + started.elapsed().as_secs_f64();
        let out_of_time = options
            .time_limit
            .is_some_and(|limit| started.elapsed() >= limit)
            || options.stop_after.is_some_and(|stop| step >= stop);
        finished = step >= config.steps;
        let last = finished || out_of_time;

        if step % config.log_every == 0 || last {
            let report = window.report(step, data.epoch, lr, stats.grad_norm, elapsed, per_class);
            metrics.log(&report)?;
            observer.on_report(&report);
            window = Window::new();
        }
        if (config.eval_every > 0 && step % config.eval_every == 0) || last {
            let report = evaluate(&model, &eval_set, config, device, step)?;
            metrics.log(&report)?;
            observer.on_eval(&report);
            last_eval = Some(report);
        }
        if (config.checkpoint_every > 0 && step % config.checkpoint_every == 0) || last {
            let state = ResumeState {
                step,
                data,
                elapsed_s: elapsed,
            };
            let dir = save_checkpoint(&checkpoints, &model, &optimizer, &state, config)?;
            observer.on_checkpoint(step, &dir);
        }
        if out_of_time {
            break;
        }
    }
    drop(producer);
    let model_dir = run_dir.join("model");
    model.save(&config.model, &model_dir)?;
    let _ = plot_metrics(
        &metrics_path,
        &run_dir.join("metrics.png"),
        &PlotOptions::new(run_dir.file_name().map_or_else(
            || "pre-training".to_string(),
            |n| n.to_string_lossy().into_owned(),
        )),
    );
    Ok(RunSummary {
        step,
        finished,
        last_eval_loss: last_eval.as_ref().map(|r| r.loss),
        last_eval_accuracy: last_eval.as_ref().map(|r| r.accuracy),
        model_dir,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// One optimizer step over the micro-batches of `step`: forward, loss at the labelled
/// positions, backward (gradients accumulated, each micro-batch's loss divided by their
/// number, as HF does), then AdamW. Returns the model, the mean loss and the optimizer's stats;
/// predictions are counted into `counts`.
///
/// With several `devices` (data parallelism), micro-batch `i` runs on a replica of the model
/// on device `i mod n` (Burn's `Module::fork`, same parameter ids), its gradients are moved to
/// the first device (`GradientsParams::to_device`) and summed there, and the optimizer updates
/// the model on the first device. All work is queued before any value is read back, so GPU
/// devices compute their micro-batches concurrently. Each micro-batch uses the same dropout
/// seed on whichever device runs it, so on backends with one random stream per device the
/// result does not depend on the number of devices.
#[allow(clippy::too_many_arguments)]
fn train_step(
    model: PretrainModel,
    optimizer: &mut AdamW,
    config: &PretrainConfig,
    micro: &[(EncodedBatch, Labels)],
    step: u64,
    lr: f64,
    devices: &[Device],
    counts: &mut ClassCounts,
    mut phases: Option<&mut Phases>,
) -> Result<(PretrainModel, f64, crate::optim::StepStats)> {
    let mut clock = PhaseClock::start(phases.is_some(), devices);
    let per_class = matches!(config.objective, Objective::ShuffleRandom { .. });
    let main = &devices[0];
    let replicas: Vec<PretrainModel> = devices[1..]
        .iter()
        .take(micro.len().saturating_sub(1))
        .map(|d| model.clone().fork(d))
        .collect();
    let mut accumulator = GradientsAccumulator::<PretrainModel>::new();
    let parts = micro.len() as f64;
    let mut pending = Vec::with_capacity(micro.len());
    for (i, (encoded, labels)) in micro.iter().enumerate() {
        let t = targets(encoded, labels);
        if t.rows.is_empty() {
            continue;
        }
        let slot = i % devices.len();
        let (replica, device) = match slot {
            0 => (&model, main),
            _ => (&replicas[slot - 1], &devices[slot]),
        };
        device.seed(derived_seed(config.seed, SEED_DROPOUT, step, i as u64));
        let rows = Tensor::<1, Int>::from_data(TensorData::new(t.rows, [t.labels.len()]), device);
        let logits = replica.logits(encoded, rows, device);
        let (loss, predictions) = loss_and_predictions(logits, &t.labels, device);
        clock.lap(&mut phases, |p| &mut p.forward);
        let grads = GradientsParams::from_grads(loss.clone().div_scalar(parts).backward(), replica);
        clock.lap(&mut phases, |p| &mut p.backward);
        let grads = if slot == 0 {
            grads
        } else {
            grads.to_device(main, replica)
        };
        accumulator.accumulate(&model, grads);
        pending.push((loss.detach(), predictions, t.labels));
    }
    let mut step_loss = 0.0;
    for (loss, predictions, labels) in pending {
        let loss_value = f64::from(loss.into_scalar::<f32>());
        if !loss_value.is_finite() {
            return Err(Error::NonFinite {
                step: step + 1,
                what: "loss".into(),
                value: loss_value,
            });
        }
        step_loss += loss_value / parts;
        counts.add(&labels, &read_predictions(predictions), per_class);
    }
    clock.lap(&mut phases, |p| &mut p.read_back);
    let (model, stats) = optimizer.step(lr, model, accumulator.grads());
    clock.lap(&mut phases, |p| &mut p.optimizer);
    if !stats.grad_norm.is_finite() {
        return Err(Error::NonFinite {
            step: step + 1,
            what: "gradient norm".into(),
            value: stats.grad_norm,
        });
    }
    Ok((model, step_loss, stats))
}

/// Seconds spent per phase of the timed steps (device synchronised at each boundary).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Phases {
    /// Forward pass and loss.
    pub forward: f64,
    /// Backward pass (and moving gradients to the first device).
    pub backward: f64,
    /// Reading losses and predictions back.
    pub read_back: f64,
    /// Gradient norm, clipping and the AdamW update.
    pub optimizer: f64,
}

/// Phase timer: a no-op unless asked for, since synchronising costs GPU overlap.
struct PhaseClock<'a> {
    devices: &'a [Device],
    last: Option<Instant>,
}

impl<'a> PhaseClock<'a> {
    fn start(enabled: bool, devices: &'a [Device]) -> Self {
        Self {
            devices,
            last: enabled.then(Instant::now),
        }
    }

    fn lap(&mut self, phases: &mut Option<&mut Phases>, field: fn(&mut Phases) -> &mut f64) {
        if let (Some(last), Some(p)) = (self.last, phases.as_deref_mut()) {
            for d in self.devices {
                let _ = d.sync();
            }
            let now = Instant::now();
            *field(p) += (now - last).as_secs_f64();
            self.last = Some(now);
        }
    }
}

/// Wall time of training steps on synthetic full-length batches (every sequence
/// `max_length` real tokens), for speed comparisons with other implementations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepTiming {
    /// Seconds of each timed step (the device synchronised at the end of each).
    pub seconds: Vec<f64>,
    /// Tokens per optimizer step (`grad_accum · batch_size · max_length`).
    pub tokens_per_step: usize,
    /// Mean seconds per phase over the timed steps.
    pub phases: Phases,
}

impl StepTiming {
    /// Median seconds per step.
    pub fn median(&self) -> f64 {
        let mut s = self.seconds.clone();
        s.sort_by(f64::total_cmp);
        s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
    }

    /// Tokens per second at the median step time.
    pub fn tokens_per_s(&self) -> f64 {
        self.tokens_per_step as f64 / self.median()
    }
}

/// Times `steps` pre-training steps (after `warmup` untimed ones) of `config`'s model on
/// `devices` (see [`pretrain`]), on random full-length inputs with random Shuffle+Random labels: the same work per
/// step as [`pretrain`] minus data loading, which runs on its own thread there.
///
/// # Errors
/// [`Error::Setup`] for an invalid config; [`Error::NonFinite`] if the loss diverges.
pub fn time_train_steps(
    config: &PretrainConfig,
    devices: &[Device],
    warmup: usize,
    steps: usize,
) -> Result<StepTiming> {
    use rand::Rng;
    config.validate()?;
    let devices: Vec<Device> = devices.iter().map(|d| d.clone().autodiff()).collect();
    let Some(device) = devices.first().cloned() else {
        return Err(Error::Setup("no device to time".into()));
    };
    device.seed(config.seed);
    let mut model = PretrainModel::init(config, &device)?;
    let mut optimizer = AdamW::new(config.optimizer);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let len = config.max_length;
    let rows = u32::try_from(config.model.vocab_size()).unwrap_or(u32::MAX);
    let mut micro = Vec::new();
    for _ in 0..config.grad_accum {
        let encoded =
            crate::bench::synthetic_batch(&config.model, config.batch_size, len, &mut rng);
        let classes: i64 = match config.objective {
            Objective::ShuffleRandom { .. } => 3,
            Objective::MaskedLm { .. } => i64::from(rows),
        };
        let labels: Labels = (0..config.batch_size)
            .map(|_| {
                (0..len)
                    .map(|i| {
                        if i == 0 || i == len - 1 {
                            IGNORE_LABEL
                        } else {
                            rng.random_range(0..classes)
                        }
                    })
                    .collect()
            })
            .collect();
        micro.push((encoded, labels));
    }
    let mut seconds = Vec::with_capacity(steps);
    let mut counts = ClassCounts::default();
    let mut phases = Phases::default();
    for step in 0..(warmup + steps) {
        let start = Instant::now();
        let mut step_phases = Phases::default();
        let (updated, _, _) = train_step(
            model,
            &mut optimizer,
            config,
            &micro,
            step as u64,
            1e-4,
            &devices,
            &mut counts,
            Some(&mut step_phases),
        )?;
        model = updated;
        for device in &devices {
            device
                .sync()
                .map_err(|e| Error::Setup(format!("device sync failed: {e:?}")))?;
        }
        if step >= warmup {
            seconds.push(start.elapsed().as_secs_f64());
            phases.forward += step_phases.forward / steps as f64;
            phases.backward += step_phases.backward / steps as f64;
            phases.read_back += step_phases.read_back / steps as f64;
            phases.optimizer += step_phases.optimizer / steps as f64;
        }
    }
    Ok(StepTiming {
        seconds,
        tokens_per_step: config.grad_accum * config.batch_size * len,
        phases,
    })
}

#[derive(Debug)]
struct Window {
    loss_sum: f64,
    steps: u64,
    tokens: u64,
    counts: ClassCounts,
    started: Option<Instant>,
}

impl Window {
    fn new() -> Self {
        Self {
            loss_sum: 0.0,
            steps: 0,
            tokens: 0,
            counts: ClassCounts::default(),
            started: Some(Instant::now()),
        }
    }

    fn report(
        &mut self,
        step: u64,
        epoch: u64,
        lr: f64,
        grad_norm: f64,
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
            grad_norm,
            tokens_per_s: self.tokens as f64 / seconds,
            elapsed_s,
        }
    }
}

/// The held-out batches: the first `eval_batches` batches of the validation split in file
/// order, collated once with a fixed seed, so every evaluation sees the same inputs.
fn eval_batches(
    file: &mut ChunkFile,
    encoder: &TextEncoder,
    collator: &Collator,
    config: &PretrainConfig,
) -> Result<Vec<(EncodedBatch, Labels)>> {
    let n = (config.eval_batches * config.batch_size) as u64;
    let n = n.min(file.len());
    let mut batches = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(derived_seed(config.seed, SEED_EVAL, 0, 0));
    let indices: Vec<u64> = (0..n).collect();
    for chunk in indices.chunks(config.batch_size) {
        let texts = file.get_many(chunk)?;
        let inputs: Vec<TextInput<'_>> = texts.iter().map(|t| TextInput::single(t)).collect();
        let mut encoded = encoder.encode(&inputs)?;
        let labels = collator.apply(&mut encoded, &mut rng);
        batches.push((encoded, labels));
    }
    Ok(batches)
}

fn evaluate(
    model: &PretrainModel,
    batches: &[(EncodedBatch, Labels)],
    config: &PretrainConfig,
    device: &Device,
    step: u64,
) -> Result<EvalReport> {
    let model = model.valid();
    let device = device.clone().inner();
    let per_class = matches!(config.objective, Objective::ShuffleRandom { .. });
    let mut counts = ClassCounts::default();
    let mut loss_sum = 0.0;
    for (encoded, labels) in batches {
        let t = targets(encoded, labels);
        if t.rows.is_empty() {
            continue;
        }
        let rows = Tensor::<1, Int>::from_data(TensorData::new(t.rows, [t.labels.len()]), &device);
        let logits = model.logits(encoded, rows, &device);
        let (loss, predictions) = loss_and_predictions(logits, &t.labels, &device);
        loss_sum += f64::from(loss.into_scalar::<f32>()) * t.labels.len() as f64;
        counts.add(&t.labels, &read_predictions(predictions), per_class);
    }
    Ok(EvalReport {
        split: "valid",
        step,
        loss: loss_sum / counts.all.max(1) as f64,
        accuracy: counts.accuracy(),
        recall: per_class.then(|| counts.recall()),
        majority_rate: if per_class {
            counts.majority_rate()
        } else {
            f64::NAN
        },
        prior_loss: if per_class {
            counts.prior_entropy()
        } else {
            f64::NAN
        },
        positions: counts.all,
    })
}

fn checkpoint_name(step: u64) -> String {
    format!("step-{step:08}")
}

/// Writes a checkpoint directory atomically (a temporary directory renamed into place) and
/// removes all but the newest `keep_checkpoints`.
fn save_checkpoint(
    checkpoints: &Path,
    model: &PretrainModel,
    optimizer: &AdamW,
    state: &ResumeState,
    config: &PretrainConfig,
) -> Result<PathBuf> {
    std::fs::create_dir_all(checkpoints).map_err(io_error(checkpoints))?;
    let name = checkpoint_name(state.step);
    let dir = checkpoints.join(&name);
    let tmp = checkpoints.join(format!(".{name}.tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io_error(&tmp))?;
    }
    model.save(&config.model, &tmp)?;
    let path = tmp.join(OPTIMIZER_FILE);
    write_atomic(&path, &optimizer.to_safetensors()?).map_err(io_error(&path))?;
    let json = serde_json::to_string_pretty(state)
        .map_err(|e| Error::Checkpoint(format!("state.json: {e}")))?;
    let path = tmp.join(STATE_FILE);
    write_atomic(&path, json.as_bytes()).map_err(io_error(&path))?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(io_error(&dir))?;
    }
    std::fs::rename(&tmp, &dir).map_err(io_error(&dir))?;
    hashformer_files::sync_dir(checkpoints).map_err(io_error(checkpoints))?;
    let mut all = list_checkpoints(checkpoints)?;
    let keep = config.keep_checkpoints.max(1);
    if all.len() > keep {
        all.sort();
        for (_, old) in &all[..all.len() - keep] {
            std::fs::remove_dir_all(old).map_err(io_error(old))?;
        }
    }
    Ok(dir)
}

/// Complete checkpoints (`step-N` directories; temporary ones start with a dot).
fn list_checkpoints(checkpoints: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let entries = match std::fs::read_dir(checkpoints) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::Io {
                path: checkpoints.to_owned(),
                source,
            })
        }
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(step) = name
            .strip_prefix("step-")
            .and_then(|s| s.parse::<u64>().ok())
        {
            if entry.path().join(STATE_FILE).exists() {
                out.push((step, entry.path()));
            }
        }
    }
    Ok(out)
}

/// The newest complete checkpoint of a run, if any.
///
/// # Errors
/// [`Error::Io`] if the directory cannot be listed.
pub fn latest_checkpoint(checkpoints: &Path) -> Result<Option<PathBuf>> {
    Ok(list_checkpoints(checkpoints)?
        .into_iter()
        .max_by_key(|(step, _)| *step)
        .map(|(_, dir)| dir))
}

/// Writes `run.json`, or checks that a resumed run is the same run. Only `steps` (and the
/// schedule's `total_steps` and `warmup_steps` with it) may change on resume.
fn check_run_file(run_dir: &Path, run: &RunFile, resuming: bool) -> Result<()> {
    let path = run_dir.join(RUN_FILE);
    if resuming {
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let old: RunFile = serde_json::from_str(&text)
            .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?;
        // Growing (or shrinking) the number of steps is allowed, and with it the warm-up
        // length (commonly a share of the steps): it reshapes the schedule from here on.
        // Everything else must match.
        let same_except_length = |a: &RunFile, b: &RunFile| {
            let norm = |r: &RunFile| {
                let mut r = r.clone();
                r.config.steps = 0;
                r.config.schedule.total_steps = 0;
                r.config.schedule.warmup_steps = 0;
                r
            };
            norm(a) == norm(b)
        };
        if !same_except_length(&old, run) {
            return Err(Error::Setup(format!(
                "{} describes a different run (config or corpus differ); resume with the same \
                 settings, or start a new run directory",
                path.display()
            )));
        }
        if old != *run {
            // Record the new length so that the next resume compares against it.
            let json = serde_json::to_string_pretty(run)
                .map_err(|e| Error::Setup(format!("run.json: {e}")))?;
            write_atomic(&path, json.as_bytes()).map_err(io_error(&path))?;
        }
        return Ok(());
    }
    if latest_checkpoint(&run_dir.join("checkpoints"))?.is_some() {
        return Err(Error::Setup(format!(
            "{} already holds checkpoints: pass --resume to continue it, or choose another directory",
            run_dir.display()
        )));
    }
    let json =
        serde_json::to_string_pretty(run).map_err(|e| Error::Setup(format!("run.json: {e}")))?;
    write_atomic(&path, json.as_bytes()).map_err(io_error(&path))?;
    Ok(())
}
