//! From encoded sequences (`hashformer-hashing`) to the model's input tensors: the one place
//! that picks the input form from the variant (spec §4).

use burn::prelude::*;
use hashformer_embeddings::{EmbeddingInput, EmbeddingKind, TokenInput};
use hashformer_hashing::{HashSequence, IdSequence, NUM_HASH_BITS, POOL_CHUNKS};

/// Sequences of one batch, as the hashing crate encodes them for the variant.
#[derive(Debug, Clone, Copy)]
pub enum Sequences<'a> {
    /// Emb and the BPE baseline: ids.
    Ids(&'a [IdSequence]),
    /// Pool, Add and Proj: special row and signatures.
    Hashes(&'a [HashSequence]),
}

impl Sequences<'_> {
    fn len(&self) -> usize {
        match self {
            Self::Ids(s) => s.len(),
            Self::Hashes(s) => s.len(),
        }
    }

    fn mask(&self, i: usize) -> &[u8] {
        match self {
            Self::Ids(s) => &s[i].attention_mask,
            Self::Hashes(s) => &s[i].attention_mask,
        }
    }
}

/// Builds the batch tensors for `kind`, cut to the longest real sequence of the batch (padding
/// beyond it changes nothing but cost; see the padding-invariance tests).
///
/// # Panics
/// If the batch is empty, its sequences have different lengths, or the sequence form does not
/// match `kind` (ids for Emb/Vocab, hashes for Pool/Add/Proj): all programming errors, since
/// batches come from an encoder built for the same variant.
pub fn embedding_input(
    kind: EmbeddingKind,
    sequences: Sequences<'_>,
    device: &Device,
) -> EmbeddingInput {
    let batch = sequences.len();
    assert!(batch > 0, "an empty batch");
    let full = sequences.mask(0).len();
    let seq_len = (0..batch)
        .map(|i| {
            let mask = sequences.mask(i);
            assert_eq!(
                mask.len(),
                full,
                "sequences of one batch must have one length"
            );
            mask.iter().rposition(|&m| m == 1).map_or(0, |p| p + 1)
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let ints2 = |f: &dyn Fn(usize) -> Vec<i64>| -> Tensor<2, Int> {
        let data: Vec<i64> = (0..batch)
            .flat_map(|i| f(i).into_iter().take(seq_len))
            .collect();
        Tensor::from_data(TensorData::new(data, [batch, seq_len]), device)
    };
    let attention_mask = ints2(&|i| sequences.mask(i).iter().map(|&m| i64::from(m)).collect());
    let tokens = match (kind, sequences) {
        (EmbeddingKind::Emb | EmbeddingKind::Vocab, Sequences::Ids(s)) => {
            TokenInput::Ids(ints2(&|i| {
                s[i].input_ids.iter().map(|&x| i64::from(x)).collect()
            }))
        }
        (EmbeddingKind::Add | EmbeddingKind::Proj, Sequences::Hashes(s)) => {
            let bits: Vec<f32> = s
                .iter()
                .flat_map(|seq| {
                    seq.signatures[..seq_len]
                        .iter()
                        .flat_map(|sig| sig.bits_f32())
                })
                .collect();
            TokenInput::Bits {
                spec_ids: ints2(&|i| s[i].spec_ids.iter().map(|&x| i64::from(x)).collect()),
                hash_bits: Tensor::from_data(
                    TensorData::new(bits, [batch, seq_len, NUM_HASH_BITS]),
                    device,
                ),
            }
        }
        (EmbeddingKind::Pool, Sequences::Hashes(s)) => {
            let chunks: Vec<i64> = s
                .iter()
                .flat_map(|seq| {
                    seq.pool_indices()
                        .into_iter()
                        .take(seq_len)
                        .flat_map(|row| row.map(i64::from))
                })
                .collect();
            TokenInput::Chunks {
                spec_ids: ints2(&|i| s[i].spec_ids.iter().map(|&x| i64::from(x)).collect()),
                pool_ids: Tensor::from_data(
                    TensorData::new(chunks, [batch, seq_len, POOL_CHUNKS]),
                    device,
                ),
            }
        }
        (kind, _) => panic!(
            "{kind:?} models take {} sequences",
            if kind.takes_ids() { "id" } else { "hash" }
        ),
    };
    EmbeddingInput {
        tokens,
        attention_mask,
    }
}

#[cfg(test)]
mod tests {
    use hashformer_hashing::{HashKind, Md5Hasher, SequenceEncoder, TextInput};

    use super::*;
    use crate::config::HashformerConfig;

    #[test]
    fn batches_cut_to_the_longest_and_keep_outputs() {
        let device = Device::flex();
        let encoder = SequenceEncoder::new(Md5Hasher::default(), 32).unwrap();
        let texts = [
            TextInput::single("Hello world!"),
            TextInput::pair("A premise here.", "A hypothesis."),
        ];
        for kind in [
            EmbeddingKind::Emb,
            EmbeddingKind::Pool,
            EmbeddingKind::Add,
            EmbeddingKind::Proj,
        ] {
            let config = HashformerConfig::tiny(kind, Some(HashKind::Md5));
            let model = config.init_model(&device);
            let (ids, hashes);
            let seqs = if kind.takes_ids() {
                ids = encoder.encode_ids_batch(&texts).unwrap();
                Sequences::Ids(&ids)
            } else {
                hashes = encoder.encode_hashes_batch(&texts).unwrap();
                Sequences::Hashes(&hashes)
            };
            let input = embedding_input(kind, seqs, &device);
            // "A premise here." "A hypothesis." → <s> a premise here . </s></s> a hypothesis . </s> = 11.
            assert_eq!(input.attention_mask.dims(), [2, 11], "{kind:?}");
            let cut = model.forward(input);
            // The same batch at the full 32 positions gives the same outputs at real positions.
            let one = |i: usize| match seqs {
                Sequences::Ids(s) => embedding_input(kind, Sequences::Ids(&s[i..=i]), &device),
                Sequences::Hashes(s) => {
                    embedding_input(kind, Sequences::Hashes(&s[i..=i]), &device)
                }
            };
            let alone = model.forward(one(0));
            let width = cut.dims()[2];
            let n = alone.dims()[1];
            let diff: f32 = (cut.slice([0..1, 0..n, 0..width]) - alone)
                .abs()
                .max()
                .into_scalar();
            assert!(diff < 1e-5, "{kind:?}: {diff}");
        }
    }
}
