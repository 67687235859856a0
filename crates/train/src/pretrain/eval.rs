//! Held-out evaluation: the fixed held-out batches, and the counts behind accuracy, recall
//! per class, the majority rate and the class-prior loss.

use burn::prelude::*;
use hashformer_corpus::ChunkFile;
use hashformer_hashing::TextInput;
use hashformer_model::{EncodedBatch, TextEncoder};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::collator::Labels;
use crate::error::Result;
use crate::pretrain::config::{Objective, PretrainConfig};
use crate::pretrain::counts::ClassCounts;
use crate::pretrain::objective::{
    loss_and_predictions, read_predictions, targets, Collator, PretrainModel,
};
use crate::pretrain::report::EvalReport;
use crate::seed::{derived_seed, SEED_EVAL};

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
