//! The model configuration: encoder size, embedding variant and hashing fields, with the
//! `tiny`, `small` and `base` presets. HF `config.json` reading and writing is in `hf.rs`.

use burn::prelude::*;
use hashformer_embeddings::{HashformerEmbeddingsConfig, Variant};
use hashformer_hashing::{HashKind, DEFAULT_NUM_BUCKETS, HASH_ID_OFFSET};

use crate::error::Error;
use crate::layer::EncoderConfig;

/// Everything needed to build a HashFormer; field names follow HF `config.json`.
#[derive(Config, Debug, PartialEq)]
pub struct HashformerConfig {
    /// How words become vectors: Emb, Pool, Add or Proj with their hashing scheme, or the BPE
    /// baseline (`config.json`: `embedding_type` and `hash_type`).
    pub variant: Variant,
    /// Model width.
    pub hidden_size: usize,
    /// Encoder layers.
    pub num_hidden_layers: usize,
    /// Attention heads.
    pub num_attention_heads: usize,
    /// Feed-forward width.
    pub intermediate_size: usize,
    /// Emb buckets (ids `5..5 + num_buckets`); the table has `num_buckets + 5` rows.
    #[config(default = 50260)]
    pub num_buckets: usize,
    /// Vocabulary size of the BPE baseline (roberta-base: 50265).
    #[config(default = 50265)]
    pub bpe_vocab_size: usize,
    /// HMAC key of the MD5 scheme.
    #[config(default = "String::from(\"en\")")]
    pub hash_key: String,
    /// Dropout after embeddings, attention and feed-forward outputs.
    #[config(default = 0.1)]
    pub hidden_dropout_prob: f64,
    /// Dropout on attention probabilities.
    #[config(default = 0.1)]
    pub attention_probs_dropout_prob: f64,
    /// Position table rows (RoBERTa: 514).
    #[config(default = 514)]
    pub max_position_embeddings: usize,
    /// Token-type table rows (1).
    #[config(default = 1)]
    pub type_vocab_size: usize,
    /// LayerNorm epsilon.
    #[config(default = 1e-5)]
    pub layer_norm_eps: f64,
    /// Std of the truncated-normal initialisation.
    #[config(default = 0.02)]
    pub initializer_range: f64,
    /// Labels of the sequence-classification head (1 = regression).
    #[config(default = 2)]
    pub num_labels: usize,
    /// Names of the head's labels by index (HF `id2label`), e.g. `negative`, `positive`;
    /// empty when unknown. Set by fine-tuning and shown by `hashformer classify`.
    #[config(default = "Vec::new()")]
    pub id2label: Vec<String>,
}

impl HashformerConfig {
    /// 2 layers, width 32, 2 heads, feed-forward 64: unit tests (runs in milliseconds).
    pub fn tiny(variant: Variant) -> Self {
        Self::new(variant, 32, 2, 2, 64)
    }

    /// 4 layers, width 256, 4 heads, feed-forward 1024: CPU pre-training runs.
    pub fn small(variant: Variant) -> Self {
        Self::new(variant, 256, 4, 4, 1024)
    }

    /// RoBERTa-base: 12 layers, width 768, 12 heads, feed-forward 3072.
    pub fn base(variant: Variant) -> Self {
        Self::new(variant, 768, 12, 12, 3072)
    }

    /// Rows of the id table: buckets + 5 specials (Emb) or the BPE vocabulary (baseline).
    pub fn vocab_size(&self) -> usize {
        match self.variant {
            Variant::Bpe => self.bpe_vocab_size,
            _ => self.num_buckets + HASH_ID_OFFSET as usize,
        }
    }

    /// Whether text for this model is encoded with roberta-base's BPE: the BPE baseline reads
    /// its ids, and LSH hashes a word through its BPE pieces.
    pub fn needs_bpe(&self) -> bool {
        matches!(self.variant.scheme(), None | Some(HashKind::Lsh))
    }

    /// Checks what `init` assumes.
    ///
    /// # Errors
    /// [`Error::Config`] naming the field that is out of range or inconsistent.
    pub fn validate(&self) -> crate::error::Result<()> {
        let bad = |field: &str, reason: String| {
            Err(Error::Config {
                field: field.to_owned(),
                reason,
            })
        };
        if self.hidden_size == 0 {
            return bad("hidden_size", "must be positive".into());
        }
        self.check_limits()?;
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return bad(
                "num_attention_heads",
                format!(
                    "must divide hidden_size {}, got {}",
                    self.hidden_size, self.num_attention_heads
                ),
            );
        }
        if self.max_position_embeddings < 3 {
            return bad(
                "max_position_embeddings",
                "needs at least 3 rows (padding offset 2)".into(),
            );
        }
        if self.type_vocab_size == 0 {
            return bad("type_vocab_size", "must be at least 1".into());
        }
        if self.num_labels == 0 {
            return bad("num_labels", "must be at least 1".into());
        }
        if !self.id2label.is_empty() && self.id2label.len() != self.num_labels {
            return bad(
                "id2label",
                format!(
                    "{} names for {} labels",
                    self.id2label.len(),
                    self.num_labels
                ),
            );
        }
        for (field, p) in [
            ("hidden_dropout_prob", self.hidden_dropout_prob),
            (
                "attention_probs_dropout_prob",
                self.attention_probs_dropout_prob,
            ),
        ] {
            if !(0.0..1.0).contains(&p) {
                return bad(field, format!("must be in [0, 1), got {p}"));
            }
        }
        match self.variant {
            Variant::Emb(_) if self.num_buckets == 0 => {
                bad("num_buckets", "must be positive".into())
            }
            _ => Ok(()),
        }
    }

    /// The sizes a config may ask for, far above any model here (`base` is 768 wide with 12
    /// layers), and positive finite numbers where the maths needs them: a mistyped or hostile
    /// `config.json` cannot ask for terabytes or divide by a negative variance.
    fn check_limits(&self) -> crate::error::Result<()> {
        let bad = |field: &str, reason: String| Error::Config {
            field: field.to_owned(),
            reason,
        };
        for (field, value, max) in [
            ("hidden_size", self.hidden_size, 65_536),
            ("intermediate_size", self.intermediate_size, 262_144),
            ("num_hidden_layers", self.num_hidden_layers, 1_000),
            (
                "max_position_embeddings",
                self.max_position_embeddings,
                65_536,
            ),
            ("type_vocab_size", self.type_vocab_size, 1_024),
            ("num_labels", self.num_labels, 100_000),
            ("num_buckets", self.num_buckets, 1 << 24),
            ("bpe_vocab_size", self.bpe_vocab_size, 1 << 24),
        ] {
            if value > max {
                return Err(bad(field, format!("{value} is above the limit of {max}")));
            }
        }
        for (field, value) in [
            ("layer_norm_eps", self.layer_norm_eps),
            ("initializer_range", self.initializer_range),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(bad(
                    field,
                    format!("must be a positive number, got {value}"),
                ));
            }
        }
        Ok(())
    }

    /// The input-layer configuration.
    pub fn embeddings(&self) -> HashformerEmbeddingsConfig {
        HashformerEmbeddingsConfig::new(self.variant.kind(), self.hidden_size)
            .with_vocab_size(self.vocab_size())
            .with_max_position_embeddings(self.max_position_embeddings)
            .with_type_vocab_size(self.type_vocab_size)
            .with_layer_norm_eps(self.layer_norm_eps)
            .with_hidden_dropout_prob(self.hidden_dropout_prob)
            .with_initializer_range(self.initializer_range)
    }

    /// The encoder configuration.
    pub fn encoder(&self) -> EncoderConfig {
        EncoderConfig::new(
            self.hidden_size,
            self.num_hidden_layers,
            self.num_attention_heads,
            self.intermediate_size,
        )
        .with_hidden_dropout_prob(self.hidden_dropout_prob)
        .with_attention_probs_dropout_prob(self.attention_probs_dropout_prob)
        .with_layer_norm_eps(self.layer_norm_eps)
        .with_initializer_range(self.initializer_range)
    }
}

/// The default number of Emb buckets, as `usize`.
pub const DEFAULT_BUCKETS: usize = DEFAULT_NUM_BUCKETS as usize;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_validate_and_bad_fields_are_named() {
        for variant in [
            Variant::Emb(HashKind::Md5),
            Variant::Pool(HashKind::Md5),
            Variant::Add(HashKind::Lsh),
            Variant::Proj(HashKind::Md5),
            Variant::Bpe,
        ] {
            HashformerConfig::base(variant).validate().unwrap();
        }
        let mut odd = HashformerConfig::tiny(Variant::Proj(HashKind::Md5));
        odd.num_attention_heads = 3;
        let err = odd.validate().unwrap_err();
        assert!(err.to_string().contains("num_attention_heads"), "{err}");
        let no_buckets = HashformerConfig::tiny(Variant::Emb(HashKind::Md5)).with_num_buckets(0);
        let err = no_buckets.validate().unwrap_err();
        assert!(
            matches!(err, Error::Config { ref field, .. } if field == "num_buckets"),
            "{err}"
        );
        let tiny = HashformerConfig::tiny(Variant::Proj(HashKind::Md5));
        for (config, field) in [
            (
                HashformerConfig {
                    layer_norm_eps: -1.0,
                    ..tiny.clone()
                },
                "layer_norm_eps",
            ),
            (
                HashformerConfig {
                    hidden_size: 1 << 20,
                    num_attention_heads: 1,
                    ..tiny.clone()
                },
                "hidden_size",
            ),
            (
                HashformerConfig {
                    num_hidden_layers: 100_000,
                    ..tiny.clone()
                },
                "num_hidden_layers",
            ),
        ] {
            let err = config.validate().unwrap_err();
            assert!(
                matches!(&err, Error::Config { field: f, .. } if f == field),
                "{field}: {err}"
            );
        }
        assert_eq!(
            HashformerConfig::base(Variant::Emb(HashKind::Lsh)).vocab_size(),
            50265
        );
        assert!(HashformerConfig::tiny(Variant::Bpe).needs_bpe());
        assert!(HashformerConfig::tiny(Variant::Pool(HashKind::Lsh)).needs_bpe());
        assert!(!HashformerConfig::tiny(Variant::Pool(HashKind::Md5)).needs_bpe());
    }
}
