//! Held-out evaluation: the fixed held-out batches, and the counts behind accuracy, recall
//! per class, the majority rate and the class-prior loss.

use burn::prelude::*;
use hashformer_corpus::ChunkFile;
use hashformer_hashing::TextInput;
use hashformer_model::{EncodedBatch, TextEncoder};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::collator::Labels;
use crate::error::Result;
use crate::pretrain::config::{Objective, PretrainConfig};
use crate::pretrain::objective::{
    loss_and_predictions, read_predictions, targets, Collator, PretrainModel,
};
use crate::pretrain::report::EvalReport;
use crate::seed::{derived_seed, SEED_EVAL};

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
    pub(crate) fn add(&mut self, labels: &[i64], predictions: &[i64], per_class: bool) {
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

/// The held-out batches: the first `eval_batches` batches of the validation split in file
/// order, collated once with a fixed seed, so every evaluation sees the same inputs.
pub(crate) fn eval_batches(
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

/// Loss, accuracy and recall per class of `model` on the held-out `batches`.
pub(crate) fn evaluate(
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
