//! Inference for users: class probabilities (or the regression value) of a fine-tuned
//! classifier, and sentence vectors from any checkpoint's encoder. Texts are encoded like the
//! training data and run in length-sorted batches padded only to their longest text; results
//! come back in input order and do not depend on the batch size.

use burn::prelude::*;
use burn::tensor::activation::softmax;
use hashformer_embeddings::EmbeddingKind;
use hashformer_model::{embedding_input, HashformerForSequenceClassification, HashformerModel};

use crate::encoder::TextEncoder;
use crate::error::Result;
use crate::finetune::{encode_all, sorted_batches, subset, Example};

/// How a sentence vector is read off the encoder's last hidden states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pooling {
    /// The mean over the text's tokens, `<s>` and `</s>` included (padding left out).
    #[default]
    Mean,
    /// The hidden state of `<s>`, which the classification head reads.
    First,
}

/// Encodes `examples`, runs `forward` on each length-sorted batch (built on `device`) and
/// gives `rows` the batch's output values, its example indices and the examples' real lengths
/// to turn into one vector per example; returns the vectors in input order.
fn per_example<const D: usize>(
    encoder: &TextEncoder,
    kind: EmbeddingKind,
    examples: &[Example],
    batch_size: usize,
    device: &Device,
    forward: impl Fn(hashformer_embeddings::EmbeddingInput) -> Tensor<D>,
    rows: impl Fn(&[f32], [usize; D], usize, usize) -> Vec<f32>,
) -> Result<Vec<Vec<f32>>> {
    if examples.is_empty() {
        return Ok(Vec::new());
    }
    let encoded = encode_all(encoder, examples)?;
    let mut out = vec![Vec::new(); examples.len()];
    for batch in sorted_batches(&encoded.lengths, batch_size.max(1)) {
        let sub = subset(&encoded.batch, &batch);
        let output = forward(embedding_input(kind, sub.as_sequences(), device));
        let dims = output.dims();
        let values = to_vec(output);
        for (row, &i) in batch.iter().enumerate() {
            out[i] = rows(&values, dims, row, encoded.lengths[i]);
        }
    }
    Ok(out)
}

/// Per example, the softmax probabilities of the classifier's labels, or the one regression
/// value of a one-label head. Targets of `examples` are ignored.
///
/// # Errors
/// Hashing errors from the encoder.
pub fn predict_scores(
    model: &HashformerForSequenceClassification,
    kind: EmbeddingKind,
    encoder: &TextEncoder,
    examples: &[Example],
    batch_size: usize,
    device: &Device,
) -> Result<Vec<Vec<f32>>> {
    let forward = |input| {
        let logits = model.forward(input);
        match logits.dims()[1] {
            1 => logits,
            _ => softmax(logits, 1),
        }
    };
    let rows = |values: &[f32], [_, labels]: [usize; 2], row: usize, _len: usize| {
        values[row * labels..(row + 1) * labels].to_vec()
    };
    per_example(encoder, kind, examples, batch_size, device, forward, rows)
}

/// One vector of `hidden_size` floats per example (a pair is encoded as the model saw pairs
/// in fine-tuning), pooled from the encoder's last layer.
///
/// # Errors
/// Hashing errors from the encoder.
pub fn embed(
    model: &HashformerModel,
    kind: EmbeddingKind,
    encoder: &TextEncoder,
    examples: &[Example],
    pooling: Pooling,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<Vec<f32>>> {
    let rows = |values: &[f32], [_, seq_len, width]: [usize; 3], row: usize, len: usize| {
        let tokens = match pooling {
            Pooling::First => 1,
            Pooling::Mean => len.clamp(1, seq_len),
        };
        let start = row * seq_len * width;
        let mut v = vec![0.0f32; width];
        for t in 0..tokens {
            for (acc, x) in v.iter_mut().zip(&values[start + t * width..][..width]) {
                *acc += x;
            }
        }
        v.iter_mut().for_each(|x| *x /= tokens as f32);
        v
    };
    let forward = |input| model.forward(input);
    per_example(encoder, kind, examples, batch_size, device, forward, rows)
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hashformer_hashing::HashKind;
    use hashformer_model::HashformerConfig;

    fn examples() -> Vec<Example> {
        [
            "a fine day",
            "no",
            "the cat sat on the mat , twice over",
            "ok then",
        ]
        .iter()
        .map(|t| Example {
            text_a: (*t).to_owned(),
            text_b: None,
            target: None,
        })
        .collect()
    }

    #[test]
    fn scores_and_vectors_do_not_depend_on_batching() {
        let device = Device::flex();
        device.seed(3);
        let config = HashformerConfig::tiny(EmbeddingKind::Proj, Some(HashKind::Md5))
            .with_num_labels(3)
            .with_hidden_dropout_prob(0.0)
            .with_attention_probs_dropout_prob(0.0);
        let model = config.init_classification(&device);
        let encoder = TextEncoder::new(&config, 32, None).unwrap();
        let ex = examples();
        let one = predict_scores(&model, EmbeddingKind::Proj, &encoder, &ex, 1, &device).unwrap();
        let all = predict_scores(&model, EmbeddingKind::Proj, &encoder, &ex, 4, &device).unwrap();
        assert_eq!(one.len(), 4);
        for (a, b) in one.iter().zip(&all) {
            assert_eq!(a.len(), 3);
            assert!((a.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{a:?}");
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
            }
        }
        for pooling in [Pooling::Mean, Pooling::First] {
            let e1 = embed(
                &model.roberta,
                EmbeddingKind::Proj,
                &encoder,
                &ex,
                pooling,
                1,
                &device,
            )
            .unwrap();
            let e4 = embed(
                &model.roberta,
                EmbeddingKind::Proj,
                &encoder,
                &ex,
                pooling,
                3,
                &device,
            )
            .unwrap();
            assert_eq!(e1[2].len(), 32);
            for (a, b) in e1.iter().zip(&e4) {
                for (x, y) in a.iter().zip(b) {
                    assert!((x - y).abs() < 1e-4, "{pooling:?}");
                }
            }
        }
        // Mean and first differ (the mean reads more than `<s>`).
        let mean = embed(
            &model.roberta,
            EmbeddingKind::Proj,
            &encoder,
            &ex,
            Pooling::Mean,
            4,
            &device,
        )
        .unwrap();
        let first = embed(
            &model.roberta,
            EmbeddingKind::Proj,
            &encoder,
            &ex,
            Pooling::First,
            4,
            &device,
        )
        .unwrap();
        assert_ne!(mean[2], first[2]);
        assert!(
            predict_scores(&model, EmbeddingKind::Proj, &encoder, &[], 4, &device)
                .unwrap()
                .is_empty()
        );
    }
}
