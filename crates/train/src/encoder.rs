//! Text → model inputs for any variant: the one place that picks the hashing scheme (MD5, LSH)
//! or the BPE vocabulary from a model config, so that pre-training and fine-tuning encode the
//! same way.

use hashformer_embeddings::EmbeddingKind;
use hashformer_hashing::{
    HashKind, HashSequence, IdSequence, LshConfig, LshHasher, Md5Hasher, RobertaBpe,
    SequenceEncoder, TextInput, VocabEncoder,
};
use hashformer_model::{HashformerConfig, Sequences};

use crate::error::{Error, Result};

/// A batch of encoded sequences in the form the variant needs.
#[derive(Debug, Clone, PartialEq)]
pub enum EncodedBatch {
    /// Emb and the BPE baseline.
    Ids(Vec<IdSequence>),
    /// Pool, Add and Proj.
    Hashes(Vec<HashSequence>),
}

impl EncodedBatch {
    /// The model crate's view of the batch.
    pub fn as_sequences(&self) -> Sequences<'_> {
        match self {
            Self::Ids(s) => Sequences::Ids(s),
            Self::Hashes(s) => Sequences::Hashes(s),
        }
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        match self {
            Self::Ids(s) => s.len(),
            Self::Hashes(s) => s.len(),
        }
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Real (attended) tokens of the batch, specials included.
    pub fn real_tokens(&self) -> usize {
        let count = |mask: &[u8]| mask.iter().filter(|&&m| m == 1).count();
        match self {
            Self::Ids(s) => s.iter().map(|x| count(&x.attention_mask)).sum(),
            Self::Hashes(s) => s.iter().map(|x| count(&x.attention_mask)).sum(),
        }
    }
}

/// Encodes texts for one model configuration.
#[derive(Debug)]
pub struct TextEncoder {
    kind: EmbeddingKind,
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Md5(SequenceEncoder<Md5Hasher>),
    Lsh(SequenceEncoder<LshHasher>),
    Vocab(VocabEncoder),
}

impl TextEncoder {
    /// The encoder `config` needs, padding to `max_length`. `bpe` (roberta-base) is required by
    /// the LSH scheme and the BPE baseline.
    ///
    /// # Errors
    /// [`Error::Setup`] if the BPE is missing or the config's table does not match it;
    /// [`Error::Hashing`] for an invalid bucket count or `max_length`.
    pub fn new(
        config: &HashformerConfig,
        max_length: usize,
        bpe: Option<RobertaBpe>,
    ) -> Result<Self> {
        let kind = config.embedding_type;
        let need_bpe = |what: &str| {
            bpe.clone().ok_or_else(|| {
                Error::Setup(format!(
                    "{what} needs the roberta-base BPE (vocab.json + merges.txt or tokenizer.json)"
                ))
            })
        };
        let buckets = u32::try_from(config.num_buckets).map_err(|_| {
            Error::Setup(format!("num_buckets {} is too large", config.num_buckets))
        })?;
        let inner = match (kind, config.hash_type) {
            (EmbeddingKind::Vocab, _) => {
                let bpe = need_bpe("the BPE baseline")?;
                if bpe.vocab_size() != config.bpe_vocab_size {
                    return Err(Error::Setup(format!(
                        "the model's bpe_vocab_size is {} but the BPE has {} ids",
                        config.bpe_vocab_size,
                        bpe.vocab_size()
                    )));
                }
                Inner::Vocab(VocabEncoder::new(bpe, max_length)?)
            }
            (_, Some(HashKind::Lsh)) => {
                let hasher = LshHasher::with_config(
                    need_bpe("LSH hashing")?,
                    LshConfig {
                        num_buckets: buckets,
                        ..LshConfig::default()
                    },
                )?;
                Inner::Lsh(SequenceEncoder::new(hasher, max_length)?)
            }
            (_, Some(HashKind::Md5) | None) => Inner::Md5(SequenceEncoder::new(
                Md5Hasher::new(config.hash_key.as_bytes(), buckets)?,
                max_length,
            )?),
        };
        Ok(Self { kind, inner })
    }

    /// The variant this encoder feeds.
    pub fn kind(&self) -> EmbeddingKind {
        self.kind
    }

    /// Encodes a batch (in parallel, in order).
    ///
    /// # Errors
    /// [`Error::Hashing`] if hashing fails (LSH: the BPE).
    pub fn encode(&self, inputs: &[TextInput<'_>]) -> Result<EncodedBatch> {
        let ids = matches!(self.kind, EmbeddingKind::Emb | EmbeddingKind::Vocab);
        Ok(match (&self.inner, ids) {
            (Inner::Vocab(e), _) => EncodedBatch::Ids(e.encode_ids_batch(inputs)?),
            (Inner::Md5(e), true) => EncodedBatch::Ids(e.encode_ids_batch(inputs)?),
            (Inner::Md5(e), false) => EncodedBatch::Hashes(e.encode_hashes_batch(inputs)?),
            (Inner::Lsh(e), true) => EncodedBatch::Ids(e.encode_ids_batch(inputs)?),
            (Inner::Lsh(e), false) => EncodedBatch::Hashes(e.encode_hashes_batch(inputs)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_input_form_from_the_variant() {
        for (kind, ids) in [
            (EmbeddingKind::Emb, true),
            (EmbeddingKind::Pool, false),
            (EmbeddingKind::Add, false),
            (EmbeddingKind::Proj, false),
        ] {
            let config = HashformerConfig::tiny(kind, Some(HashKind::Md5));
            let encoder = TextEncoder::new(&config, 8, None).unwrap();
            let batch = encoder
                .encode(&[TextInput::single("hello world!")])
                .unwrap();
            assert_eq!(matches!(batch, EncodedBatch::Ids(_)), ids, "{kind:?}");
            assert_eq!(batch.real_tokens(), 5);
        }
    }

    #[test]
    fn lsh_and_vocab_need_the_bpe() {
        let lsh = HashformerConfig::tiny(EmbeddingKind::Proj, Some(HashKind::Lsh));
        assert!(matches!(
            TextEncoder::new(&lsh, 8, None),
            Err(Error::Setup(_))
        ));
        let vocab = HashformerConfig::tiny(EmbeddingKind::Vocab, None);
        assert!(matches!(
            TextEncoder::new(&vocab, 8, None),
            Err(Error::Setup(_))
        ));
    }
}
