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

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use hashformer_hashing::TextInput;
use hashformer_model::{
    EncodedBatch, HashformerConfig, HashformerForSequenceClassification, TextEncoder,
};
use hashformer_report::MetricsLog;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::optim::{AdamW, AdamWConfig};
use crate::schedule::{Decay, LrSchedule};
use crate::seed::{derived_seed, SEED_DROPOUT};

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

/// Encodes examples, one sequence each (padded to `max_length`).
fn encode_all(encoder: &TextEncoder, examples: &[Example]) -> Result<EncodedBatch> {
    let inputs: Vec<TextInput<'_>> = examples
        .iter()
        .map(|e| TextInput {
            text: &e.text_a,
            text_b: e.text_b.as_deref(),
        })
        .collect();
    Ok(encoder.encode(&inputs)?)
}

/// The batches of one epoch: a seeded order, pools of 50 batches sorted by length, batches
/// shuffled.
fn epoch_batches(lengths: &[usize], batch_size: usize, seed: u64, epoch: u64) -> Vec<Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch + 1);
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.shuffle(&mut rng);
    let mut batches = Vec::new();
    for pool in order.chunks(batch_size * 50) {
        let mut pool = pool.to_vec();
        pool.sort_by_key(|&i| lengths[i]);
        batches.extend(pool.chunks(batch_size).map(<[usize]>::to_vec));
    }
    batches.shuffle(&mut rng);
    batches
}

/// Loss of a batch: mean cross-entropy over classes, or mean squared error with one label.
fn batch_loss(logits: Tensor<2>, targets: &[Target], device: &Device) -> Result<Tensor<1>> {
    let n = targets.len();
    let [_, labels] = logits.dims();
    if labels == 1 {
        let scores: Vec<f32> = targets
            .iter()
            .map(|t| match t {
                Target::Score(s) => Ok(*s),
                Target::Class(c) => Ok(*c as f32),
            })
            .collect::<Result<_>>()?;
        let gold = Tensor::<1>::from_data(TensorData::new(scores, [n]), device);
        let diff = logits.reshape([n]) - gold;
        return Ok(diff.square().mean());
    }
    let classes: Vec<i64> = targets
        .iter()
        .map(|t| match t {
            Target::Class(c) if *c < labels => Ok(*c as i64),
            other => Err(Error::Setup(format!(
                "a {labels}-class head cannot train on the target {other:?}"
            ))),
        })
        .collect::<Result<_>>()?;
    let gold = Tensor::<1, Int>::from_data(TensorData::new(classes, [n]), device);
    Ok(log_softmax(logits, 1)
        .gather(1, gold.reshape([n, 1]))
        .mean()
        .neg())
}

fn outputs(logits: Tensor<2>) -> Vec<Target> {
    let [n, labels] = logits.dims();
    if labels == 1 {
        let v: Vec<f32> = logits
            .reshape([n])
            .into_data()
            .convert::<f32>()
            .try_into_vec()
            .unwrap_or_default();
        v.into_iter().map(Target::Score).collect()
    } else {
        let v: Vec<i64> = logits
            .argmax(1)
            .reshape([n])
            .into_data()
            .convert::<i64>()
            .try_into_vec()
            .unwrap_or_default();
        v.into_iter()
            .map(|c| Target::Class(usize::try_from(c).unwrap_or(0)))
            .collect()
    }
}

/// Outputs (and mean loss, when every example has a target) of `model` on `examples`.
///
/// # Errors
/// Hashing errors, or targets that do not fit the head.
pub fn predict(
    model: &HashformerForSequenceClassification,
    encoder: &TextEncoder,
    examples: &[Example],
    batch_size: usize,
    device: &Device,
) -> Result<(Vec<Target>, Option<f64>)> {
    let encoded = encode_all(encoder, examples)?;
    predict_encoded(model, &encoded, examples, batch_size, device)
}

/// Dev outputs in dev order, from length-sorted batches (fast, and padding-invariant).
fn predict_encoded(
    model: &HashformerForSequenceClassification,
    encoded: &EncodedBatch,
    examples: &[Example],
    batch_size: usize,
    device: &Device,
) -> Result<(Vec<Target>, Option<f64>)> {
    model.roberta.check_input(encoded)?;
    let mut out = vec![Target::Class(0); examples.len()];
    let mut loss_sum = 0.0;
    let labelled = examples.iter().all(|e| e.target.is_some());
    for batch in encoded.length_sorted_chunks(batch_size) {
        let logits = model.forward(encoded.select(&batch).to_input(device));
        if labelled {
            let targets: Vec<Target> = batch.iter().filter_map(|&i| examples[i].target).collect();
            let loss = batch_loss(logits.clone(), &targets, device)?;
            loss_sum += f64::from(loss.into_scalar::<f32>()) * batch.len() as f64;
        }
        for (&i, o) in batch.iter().zip(outputs(logits)) {
            out[i] = o;
        }
    }
    let loss = labelled.then(|| loss_sum / examples.len().max(1) as f64);
    Ok((out, loss))
}

/// Fine-tunes from `init` on `train`, evaluating on `dev` with `score` (higher is better; e.g.
/// the task's reported metric). With `out_dir`, writes `metrics.jsonl`, `metrics.png` and the
/// best-on-dev model in `out_dir/best`.
///
/// # Errors
/// [`Error::Setup`] for empty data or targets that do not fit the head; checkpoint, hashing
/// and I/O errors; [`Error::NonFinite`] if the loss diverges.
#[allow(clippy::too_many_arguments)]
pub fn finetune(
    init: &Init,
    num_labels: usize,
    config: &FinetuneConfig,
    encoder: &TextEncoder,
    train: &[Example],
    dev: &[Example],
    score: &dyn Fn(&[Target]) -> f64,
    out_dir: Option<&Path>,
    device: &Device,
    observer: &mut dyn FinetuneObserver,
) -> Result<FinetuneSummary> {
    let started = Instant::now();
    if train.is_empty() || dev.is_empty() {
        return Err(Error::Setup(
            "fine-tuning needs training and dev examples".into(),
        ));
    }
    if train.iter().any(|e| e.target.is_none()) || dev.iter().any(|e| e.target.is_none()) {
        return Err(Error::Setup(
            "every training and dev example needs a label".into(),
        ));
    }
    if config.batch_size == 0 || config.epochs == 0 || config.evals_per_epoch == 0 {
        return Err(Error::Setup(
            "batch_size, epochs and evals_per_epoch must be at least 1".into(),
        ));
    }
    let train_device = device.clone().autodiff();
    // The reference seeds before building the head (method §8).
    // The head is initialised on the CPU and moved, so that a seed gives the same weights on
    // every backend.
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
            return Err(Error::Setup(format!(
                "{n} label names for a {num_labels}-label head"
            )))
        }
    };
    let mut model = model.fork(&train_device);
    if encoder.kind() != model_config.embedding_type {
        return Err(Error::Setup(format!(
            "the encoder is for {:?} but the model is {:?}",
            encoder.kind(),
            model_config.embedding_type
        )));
    }
    let train_enc = encode_all(encoder, train)?;
    let train_lengths = train_enc.lengths();
    let dev_enc = encode_all(encoder, dev)?;
    let per_epoch = train.len().div_ceil(config.batch_size) as u64;
    let total = per_epoch * config.epochs as u64;
    let schedule = LrSchedule {
        peak: config.lr,
        warmup_steps: (config.warmup_ratio * total as f64) as u64,
        total_steps: total,
        decay: config.decay,
    };
    let mut optimizer = AdamW::new(config.optimizer);
    let mut log = match out_dir {
        Some(dir) => Some(MetricsLog::create(&dir.join("metrics.jsonl"))?),
        None => None,
    };
    let eval_points: Vec<u64> = (1..=config.evals_per_epoch as u64)
        .map(|k| (k * per_epoch).div_ceil(config.evals_per_epoch as u64))
        .collect();
    observer.on_start(total);
    let mut step = 0u64;
    let mut best: Option<(f64, u64, Vec<Target>)> = None;
    let mut final_score = f64::NAN;
    let (mut window_loss, mut window_steps, mut window_examples) = (0.0, 0u64, 0usize);
    let mut window_start = Instant::now();
    for epoch in 0..config.epochs {
        let batches = epoch_batches(&train_lengths, config.batch_size, config.seed, epoch as u64);
        for (i, batch) in batches.iter().enumerate() {
            let lr = schedule.lr(step);
            train_device.seed(derived_seed(config.seed, SEED_DROPOUT, step, 0));
            let sub = train_enc.select(batch);
            let targets: Vec<Target> = batch.iter().filter_map(|&j| train[j].target).collect();
            let logits = model.forward(sub.to_input(&train_device));
            let loss = batch_loss(logits, &targets, &train_device)?;
            let value = f64::from(loss.clone().detach().into_scalar::<f32>());
            if !value.is_finite() {
                return Err(Error::NonFinite {
                    step: step + 1,
                    what: "loss".into(),
                    value,
                });
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let (updated, stats) = optimizer.step(lr, model, grads);
            model = updated;
            if !stats.grad_norm.is_finite() {
                return Err(Error::NonFinite {
                    step: step + 1,
                    what: "gradient norm".into(),
                    value: stats.grad_norm,
                });
            }
            step += 1;
            observer.on_step(step, value);
            window_loss += value;
            window_steps += 1;
            window_examples += batch.len();
            if step.is_multiple_of(config.log_every) {
                if let Some(log) = log.as_mut() {
                    log.log(&TrainRecord {
                        split: "train",
                        step,
                        epoch,
                        loss: window_loss / window_steps as f64,
                        lr,
                        grad_norm: stats.grad_norm,
                        examples_per_s: window_examples as f64
                            / window_start.elapsed().as_secs_f64(),
                    })?;
                }
                (window_loss, window_steps, window_examples) = (0.0, 0, 0);
                window_start = Instant::now();
            }
            if eval_points.contains(&(i as u64 + 1)) {
                let valid = model.valid();
                let (outs, loss) =
                    predict_encoded(&valid, &dev_enc, dev, config.batch_size, device)?;
                let s = score(&outs);
                final_score = s;
                if let Some(log) = log.as_mut() {
                    log.log(&DevRecord {
                        split: "dev",
                        step,
                        epoch,
                        loss: loss.unwrap_or(f64::NAN),
                        score: s,
                    })?;
                }
                let improved = best.as_ref().is_none_or(|(b, _, _)| s > *b);
                if improved {
                    if let Some(dir) = out_dir {
                        valid.save_pretrained(&model_config, &dir.join("best"))?;
                    }
                    best = Some((s, step, outs));
                }
                observer.on_eval(step, s, best.as_ref().map_or(s, |b| b.0));
            }
        }
    }
    if let Some(dir) = out_dir {
        let _ = hashformer_report::plot_metrics(
            &dir.join("metrics.jsonl"),
            &dir.join("metrics.png"),
            &hashformer_report::PlotOptions::new(dir.display().to_string()),
        );
    }
    let (best_score, best_step, best_outputs) = best.unwrap_or((f64::NAN, 0, Vec::new()));
    Ok(FinetuneSummary {
        best_score,
        best_step,
        best_outputs,
        final_score,
        steps: step,
        seconds: started.elapsed().as_secs_f64(),
        model_config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_batches_cover_every_example_once_and_group_lengths() {
        let lengths: Vec<usize> = (0..1000).map(|i| (i * 37) % 120 + 3).collect();
        let batches = epoch_batches(&lengths, 8, 3, 0);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
        // Sorted pools: within a batch, lengths are close (far closer than random).
        let spread: usize = batches
            .iter()
            .map(|b| {
                let l: Vec<usize> = b.iter().map(|&i| lengths[i]).collect();
                l.iter().max().unwrap() - l.iter().min().unwrap()
            })
            .sum();
        assert!(
            spread / batches.len() < 10,
            "mean spread {}",
            spread / batches.len()
        );
        assert_eq!(batches, epoch_batches(&lengths, 8, 3, 0), "seeded");
        assert_ne!(batches, epoch_batches(&lengths, 8, 3, 1), "per epoch");
    }

    #[test]
    fn losses_match_their_definitions() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_data(
            TensorData::new(vec![2.0f32, 0.0, 0.0, 1.0], [2, 2]),
            &device,
        );
        let ce = batch_loss(logits, &[Target::Class(0), Target::Class(1)], &device).unwrap();
        let expected = ((1.0 + (-2.0f64).exp()).ln() + (1.0 + (-1.0f64).exp()).ln()) / 2.0;
        assert!((f64::from(ce.into_scalar::<f32>()) - expected).abs() < 1e-6);
        let reg = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 3.0], [2, 1]), &device);
        let mse = batch_loss(reg, &[Target::Score(2.0), Target::Score(2.0)], &device).unwrap();
        assert!((f64::from(mse.into_scalar::<f32>()) - 1.0).abs() < 1e-6);
        let bad = Tensor::<2>::zeros([1, 2], &device);
        assert!(batch_loss(bad, &[Target::Class(5)], &device).is_err());
    }
}
