//! Text → the model's input: the one place that turns texts into what a HashFormer reads
//! (method §4). A [`TextEncoder`] is built from a [`HashformerConfig`], so the hashing scheme
//! (MD5, LSH) or the BPE vocabulary, the bucket count and the input form (ids for Emb and the
//! BPE baseline, hash signatures for Pool, Add and Proj) all come from the configuration the
//! model was built from. The [`EncodedBatch`] it returns carries its variant with it, and
//! [`EncodedBatch::to_input`] builds the tensors: no caller passes the variant beside a batch.

use burn::prelude::*;
use hashformer_embeddings::{EmbeddingInput, EmbeddingKind, TokenInput};
use hashformer_hashing::{
    BpeEncoder, HashKind, HashSequence, IdSequence, LshConfig, LshHasher, Md5Hasher, RobertaBpe,
    SequenceEncoder, TextInput, NUM_HASH_BITS, POOL_CHUNKS,
};

use crate::config::HashformerConfig;
use crate::error::{Error, Result};

/// Encodes texts for one model configuration.
#[derive(Debug)]
pub struct TextEncoder {
    kind: EmbeddingKind,
    scheme: Scheme,
}

/// The hashing scheme or vocabulary behind a [`TextEncoder`].
#[derive(Debug)]
enum Scheme {
    Md5(SequenceEncoder<Md5Hasher>),
    Lsh(SequenceEncoder<LshHasher>),
    Bpe(BpeEncoder),
}

impl TextEncoder {
    /// The encoder `config` needs, padding to `max_length`. `bpe` (roberta-base) is required by
    /// the LSH scheme and the BPE baseline, and ignored otherwise.
    ///
    /// # Errors
    /// [`Error::MissingBpe`] if the BPE is needed but absent; [`Error::Config`] if the
    /// config's bucket count or BPE vocabulary size does not fit, or `max_length` is longer
    /// than its position table allows; [`Error::Hashing`] for an invalid `max_length`.
    pub fn new(
        config: &HashformerConfig,
        max_length: usize,
        bpe: Option<RobertaBpe>,
    ) -> Result<Self> {
        let kind = config.variant.kind();
        // Position ids run from 2 (RoBERTa's padding offset) to max_length + 1.
        if max_length + 2 > config.max_position_embeddings {
            return Err(Error::Config {
                field: "max_length".into(),
                reason: format!(
                    "{max_length} tokens need {} position rows, and the model has {}: at most {}",
                    max_length + 2,
                    config.max_position_embeddings,
                    config.max_position_embeddings.saturating_sub(2)
                ),
            });
        }
        let need_bpe = |what: &'static str| bpe.clone().ok_or(Error::MissingBpe { what });
        let buckets = u32::try_from(config.num_buckets).map_err(|_| Error::Config {
            field: "num_buckets".into(),
            reason: format!("{} is too large", config.num_buckets),
        })?;
        let scheme = match (kind, config.variant.scheme()) {
            (EmbeddingKind::Bpe, _) => {
                let bpe = need_bpe("the BPE baseline")?;
                if bpe.vocab_size() != config.bpe_vocab_size {
                    return Err(Error::Config {
                        field: "bpe_vocab_size".into(),
                        reason: format!(
                            "the model has {} rows but the BPE has {} ids",
                            config.bpe_vocab_size,
                            bpe.vocab_size()
                        ),
                    });
                }
                Scheme::Bpe(BpeEncoder::new(bpe, max_length)?)
            }
            (_, Some(HashKind::Lsh)) => {
                let lsh = LshConfig {
                    num_buckets: buckets,
                    ..LshConfig::default()
                };
                let hasher = LshHasher::with_config(need_bpe("LSH hashing")?, lsh)?;
                Scheme::Lsh(SequenceEncoder::new(hasher, max_length)?)
            }
            (_, Some(HashKind::Md5) | None) => Scheme::Md5(SequenceEncoder::new(
                Md5Hasher::new(config.hash_key.as_bytes(), buckets)?,
                max_length,
            )?),
        };
        Ok(Self { kind, scheme })
    }

    /// The variant this encoder feeds.
    pub fn kind(&self) -> EmbeddingKind {
        self.kind
    }

    /// Encodes a batch (in parallel, in order), each sequence padded to `max_length`.
    ///
    /// # Errors
    /// [`Error::Hashing`] if hashing fails (LSH: the BPE).
    pub fn encode(&self, inputs: &[TextInput<'_>]) -> Result<EncodedBatch> {
        let sequences = match (&self.scheme, self.kind.takes_ids()) {
            (Scheme::Bpe(e), _) => Sequences::Ids(e.encode_ids_batch(inputs)?),
            (Scheme::Md5(e), true) => Sequences::Ids(e.encode_ids_batch(inputs)?),
            (Scheme::Md5(e), false) => Sequences::Hashes(e.encode_hashes_batch(inputs)?),
            (Scheme::Lsh(e), true) => Sequences::Ids(e.encode_ids_batch(inputs)?),
            (Scheme::Lsh(e), false) => Sequences::Hashes(e.encode_hashes_batch(inputs)?),
        };
        Ok(EncodedBatch {
            kind: self.kind,
            sequences,
        })
    }
}

/// Encoded sequences of one batch, in the form their variant reads.
#[derive(Debug, Clone, PartialEq)]
enum Sequences {
    Ids(Vec<IdSequence>),
    Hashes(Vec<HashSequence>),
}

/// A batch of encoded texts for one variant: ids (Emb, the BPE baseline) or hash signatures
/// (Pool, Add, Proj). Built by [`TextEncoder::encode`] (or [`EncodedBatch::from_ids`] /
/// [`EncodedBatch::from_hashes`], which check the form against the variant), so its form
/// always matches its [`kind`](Self::kind).
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedBatch {
    kind: EmbeddingKind,
    sequences: Sequences,
}

impl EncodedBatch {
    /// A batch of id sequences for `kind`.
    ///
    /// # Errors
    /// [`Error::InputForm`] if `kind` reads hash signatures.
    pub fn from_ids(kind: EmbeddingKind, sequences: Vec<IdSequence>) -> Result<Self> {
        Self::checked(kind, Sequences::Ids(sequences))
    }

    /// A batch of hash sequences for `kind`.
    ///
    /// # Errors
    /// [`Error::InputForm`] if `kind` reads ids.
    pub fn from_hashes(kind: EmbeddingKind, sequences: Vec<HashSequence>) -> Result<Self> {
        Self::checked(kind, Sequences::Hashes(sequences))
    }

    fn checked(kind: EmbeddingKind, sequences: Sequences) -> Result<Self> {
        let ids = matches!(sequences, Sequences::Ids(_));
        if ids != kind.takes_ids() {
            return Err(Error::InputForm {
                kind,
                given: if ids { "id" } else { "hash" },
            });
        }
        Ok(Self { kind, sequences })
    }

    /// The variant the batch was encoded for.
    pub fn kind(&self) -> EmbeddingKind {
        self.kind
    }

    /// The id sequences (Emb, the BPE baseline), or `None` for a hash batch.
    pub fn ids(&self) -> Option<&[IdSequence]> {
        match &self.sequences {
            Sequences::Ids(s) => Some(s),
            Sequences::Hashes(_) => None,
        }
    }

    /// The id sequences, mutable (the pre-training collators rewrite tokens in place).
    pub fn ids_mut(&mut self) -> Option<&mut [IdSequence]> {
        match &mut self.sequences {
            Sequences::Ids(s) => Some(s),
            Sequences::Hashes(_) => None,
        }
    }

    /// The hash sequences (Pool, Add, Proj), or `None` for an id batch.
    pub fn hashes(&self) -> Option<&[HashSequence]> {
        match &self.sequences {
            Sequences::Hashes(s) => Some(s),
            Sequences::Ids(_) => None,
        }
    }

    /// The hash sequences, mutable (the pre-training collators rewrite tokens in place).
    pub fn hashes_mut(&mut self) -> Option<&mut [HashSequence]> {
        match &mut self.sequences {
            Sequences::Hashes(s) => Some(s),
            Sequences::Ids(_) => None,
        }
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        match &self.sequences {
            Sequences::Ids(s) => s.len(),
            Sequences::Hashes(s) => s.len(),
        }
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The attention mask of sequence `i` (1 = real token, 0 = padding).
    ///
    /// # Panics
    /// If `i` is out of range.
    pub fn mask(&self, i: usize) -> &[u8] {
        match &self.sequences {
            Sequences::Ids(s) => &s[i].attention_mask,
            Sequences::Hashes(s) => &s[i].attention_mask,
        }
    }

    /// Real (attended) tokens per sequence, specials included.
    pub fn lengths(&self) -> Vec<usize> {
        (0..self.len())
            .map(|i| self.mask(i).iter().filter(|&&m| m == 1).count())
            .collect()
    }

    /// Real (attended) tokens of the whole batch, specials included.
    pub fn real_tokens(&self) -> usize {
        self.lengths().iter().sum()
    }

    /// The positions [`to_input`](Self::to_input) keeps: up to the last real token of the
    /// longest sequence, at least 1 (padding beyond it changes nothing but cost).
    pub fn cut_length(&self) -> usize {
        (0..self.len())
            .map(|i| {
                self.mask(i)
                    .iter()
                    .rposition(|&m| m == 1)
                    .map_or(0, |p| p + 1)
            })
            .max()
            .unwrap_or(0)
            .max(1)
    }

    /// The batch's indices sorted by real length and cut into chunks of `batch_size` (at
    /// least 1): running each chunk on its own pads it only to its longest text, which is how
    /// evaluation and inference batch (results do not depend on it).
    pub fn length_sorted_chunks(&self, batch_size: usize) -> Vec<Vec<usize>> {
        let lengths = self.lengths();
        let mut order: Vec<usize> = (0..lengths.len()).collect();
        order.sort_by_key(|&i| lengths[i]);
        order
            .chunks(batch_size.max(1))
            .map(<[usize]>::to_vec)
            .collect()
    }

    /// The sequences at `indices`, in that order, as a batch of the same variant.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn select(&self, indices: &[usize]) -> Self {
        let sequences = match &self.sequences {
            Sequences::Ids(s) => Sequences::Ids(indices.iter().map(|&i| s[i].clone()).collect()),
            Sequences::Hashes(s) => {
                Sequences::Hashes(indices.iter().map(|&i| s[i].clone()).collect())
            }
        };
        Self {
            kind: self.kind,
            sequences,
        }
    }

    /// The model's input tensors on `device`, cut to [`cut_length`](Self::cut_length).
    ///
    /// # Panics
    /// If the batch is empty or its sequences have different lengths (an encoder pads every
    /// sequence of a batch to one `max_length`).
    pub fn to_input(&self, device: &Device) -> EmbeddingInput {
        let batch = self.len();
        assert!(batch > 0, "an empty batch");
        let full = self.mask(0).len();
        assert!(
            (0..batch).all(|i| self.mask(i).len() == full),
            "sequences of one batch must have one length"
        );
        let seq_len = self.cut_length();
        let ints2 = |f: &dyn Fn(usize) -> Vec<i64>| -> Tensor<2, Int> {
            let data: Vec<i64> = (0..batch)
                .flat_map(|i| f(i).into_iter().take(seq_len))
                .collect();
            Tensor::from_data(TensorData::new(data, [batch, seq_len]), device)
        };
        let attention_mask = ints2(&|i| self.mask(i).iter().map(|&m| i64::from(m)).collect());
        let tokens = match &self.sequences {
            Sequences::Ids(s) => TokenInput::Ids(ints2(&|i| {
                s[i].input_ids.iter().map(|&x| i64::from(x)).collect()
            })),
            Sequences::Hashes(s) => {
                let spec_ids = ints2(&|i| s[i].spec_ids.iter().map(|&x| i64::from(x)).collect());
                hash_tokens(self.kind, s, spec_ids, seq_len, device)
            }
        };
        EmbeddingInput {
            tokens,
            attention_mask,
        }
    }
}

/// Pool reads the 13 chunk indices of each signature, Add and Proj its 128 bits.
fn hash_tokens(
    kind: EmbeddingKind,
    sequences: &[HashSequence],
    spec_ids: Tensor<2, Int>,
    seq_len: usize,
    device: &Device,
) -> TokenInput {
    let batch = sequences.len();
    if kind == EmbeddingKind::Pool {
        let chunks: Vec<i64> = sequences
            .iter()
            .flat_map(|seq| {
                seq.pool_indices()
                    .into_iter()
                    .take(seq_len)
                    .flat_map(|row| row.map(i64::from))
            })
            .collect();
        let pool_ids = TensorData::new(chunks, [batch, seq_len, POOL_CHUNKS]);
        return TokenInput::Chunks {
            spec_ids,
            pool_ids: Tensor::from_data(pool_ids, device),
        };
    }
    let bits: Vec<f32> = sequences
        .iter()
        .flat_map(|seq| {
            seq.signatures[..seq_len]
                .iter()
                .flat_map(|sig| sig.bits_f32())
        })
        .collect();
    let hash_bits = TensorData::new(bits, [batch, seq_len, NUM_HASH_BITS]);
    TokenInput::Bits {
        spec_ids,
        hash_bits: Tensor::from_data(hash_bits, device),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hashformer_embeddings::Variant;

    const VARIANTS: [Variant; 4] = [
        Variant::Emb(HashKind::Md5),
        Variant::Pool(HashKind::Md5),
        Variant::Add(HashKind::Md5),
        Variant::Proj(HashKind::Md5),
    ];

    #[test]
    fn picks_the_input_form_from_the_variant() {
        for variant in VARIANTS {
            let (kind, config) = (variant.kind(), HashformerConfig::tiny(variant));
            let encoder = TextEncoder::new(&config, 8, None).unwrap();
            let batch = encoder
                .encode(&[TextInput::single("hello world!")])
                .unwrap();
            assert_eq!(batch.kind(), kind);
            assert_eq!(batch.ids().is_some(), kind.takes_ids(), "{kind:?}");
            assert_eq!(batch.hashes().is_some(), !kind.takes_ids(), "{kind:?}");
            assert_eq!(batch.real_tokens(), 5);
            assert_eq!(batch.lengths(), [5]);
            let three = encoder
                .encode(&[
                    TextInput::single("a b c d"),
                    TextInput::single("a"),
                    TextInput::single("a b"),
                ])
                .unwrap();
            assert_eq!(three.length_sorted_chunks(2), [vec![1, 2], vec![0]]);
            assert_eq!(three.length_sorted_chunks(0), [vec![1], vec![2], vec![0]]);
        }
    }

    #[test]
    fn sequences_longer_than_the_position_table_are_refused() {
        let config = HashformerConfig::tiny(Variant::Proj(HashKind::Md5));
        assert!(TextEncoder::new(&config, 512, None).is_ok());
        let err = TextEncoder::new(&config, 513, None).unwrap_err();
        assert!(
            matches!(&err, Error::Config { field, .. } if field == "max_length"),
            "{err}"
        );
        assert!(err.to_string().contains("at most 512"), "{err}");
    }

    #[test]
    fn lsh_and_the_bpe_baseline_need_the_bpe() {
        let lsh = HashformerConfig::tiny(Variant::Proj(HashKind::Lsh));
        assert!(matches!(
            TextEncoder::new(&lsh, 8, None),
            Err(Error::MissingBpe {
                what: "LSH hashing"
            })
        ));
        let vocab = HashformerConfig::tiny(Variant::Bpe);
        assert!(matches!(
            TextEncoder::new(&vocab, 8, None),
            Err(Error::MissingBpe { .. })
        ));
    }

    #[test]
    fn a_batch_of_the_wrong_form_is_an_error() {
        let config = HashformerConfig::tiny(Variant::Emb(HashKind::Md5));
        let ids = TextEncoder::new(&config, 8, None)
            .unwrap()
            .encode(&[TextInput::single("a b")])
            .unwrap();
        let ids = ids.ids().unwrap().to_vec();
        assert!(matches!(
            EncodedBatch::from_ids(EmbeddingKind::Proj, ids.clone()),
            Err(Error::InputForm {
                kind: EmbeddingKind::Proj,
                given: "id"
            })
        ));
        assert!(EncodedBatch::from_ids(EmbeddingKind::Bpe, ids).is_ok());
        assert!(matches!(
            EncodedBatch::from_hashes(EmbeddingKind::Emb, Vec::new()),
            Err(Error::InputForm { .. })
        ));
    }

    #[test]
    fn batches_cut_to_the_longest_and_keep_outputs() {
        let device = Device::flex();
        let texts = [
            TextInput::single("Hello world!"),
            TextInput::pair("A premise here.", "A hypothesis."),
        ];
        for variant in VARIANTS {
            let (kind, config) = (variant.kind(), HashformerConfig::tiny(variant));
            let model = config.init_model(&device);
            let batch = TextEncoder::new(&config, 32, None)
                .unwrap()
                .encode(&texts)
                .unwrap();
            let input = batch.to_input(&device);
            // "A premise here." "A hypothesis." → <s> a premise here . </s></s> a hypothesis . </s> = 11.
            assert_eq!(input.attention_mask.dims(), [2, 11], "{kind:?}");
            assert_eq!(batch.cut_length(), 11);
            let cut = model.forward(input);
            // The first text alone gives the same outputs at its real positions.
            let alone = model.forward(batch.select(&[0]).to_input(&device));
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
