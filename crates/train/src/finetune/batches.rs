//! Batches of fine-tuning and what a batch gives: the seeded, length-bucketed training
//! batches of an epoch, the loss (cross-entropy, or MSE for one label), and the outputs and
//! mean loss of a model on labelled or unlabelled examples.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use hashformer_hashing::TextInput;
use hashformer_model::{EncodedBatch, HashformerForSequenceClassification, TextEncoder};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::finetune::example::{Example, Target};

/// Encodes examples, one sequence each (padded to `max_length`).
pub(crate) fn encode_all(encoder: &TextEncoder, examples: &[Example]) -> Result<EncodedBatch> {
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
pub(crate) fn epoch_batches(
    lengths: &[usize],
    batch_size: usize,
    seed: u64,
    epoch: u64,
) -> Vec<Vec<usize>> {
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
pub(crate) fn batch_loss(
    logits: Tensor<2>,
    targets: &[Target],
    device: &Device,
) -> Result<Tensor<1>> {
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
            other => Err(Error::Examples(format!(
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
pub(crate) fn predict_encoded(
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
