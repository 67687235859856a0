//! `config.json` in the HF RoBERTa layout plus the hashing fields, and its conversion to
//! [`HashformerConfig`]. Burn's `Config` derive cannot read HF files (no serde attributes),
//! so this plain serde struct is the boundary.

use std::collections::BTreeMap;
use std::path::Path;

use hashformer_embeddings::{EmbeddingKind, Variant};
use hashformer_hashing::{HashKind, HASH_ID_OFFSET, NUM_HASH_BITS};
use serde::{Deserialize, Serialize};

use crate::config::HashformerConfig;
use crate::error::{Error, Result};

/// The reference picks the embedding class from `vocab_size`: 0 = Pool (`conj`), 1 = Add
/// (`de`), 2 = Proj (`pcc`), anything larger = a table (`ori`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferenceVocabCode(pub usize);

impl TryFrom<ReferenceVocabCode> for EmbeddingKind {
    type Error = Error;

    fn try_from(code: ReferenceVocabCode) -> Result<Self> {
        Ok(match code.0 {
            0 => EmbeddingKind::Pool,
            1 => EmbeddingKind::Add,
            2 => EmbeddingKind::Proj,
            _ => EmbeddingKind::Emb,
        })
    }
}

fn reference_vocab_code(config: &HashformerConfig) -> usize {
    match config.variant.kind() {
        EmbeddingKind::Pool => 0,
        EmbeddingKind::Add => 1,
        EmbeddingKind::Proj => 2,
        EmbeddingKind::Emb | EmbeddingKind::Bpe => config.vocab_size(),
    }
}

/// [`Error::Config`] for `field` of `config.json`.
fn config_error(field: &str, reason: String) -> Error {
    Error::Config {
        field: field.to_owned(),
        reason,
    }
}

fn default_act() -> String {
    "gelu".into()
}
fn default_model_type() -> String {
    "roberta".into()
}
fn default_key() -> String {
    "en".into()
}
/// `architectures` as HF writes it: a list, or `null` when no model class was recorded.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(deserializer)?.unwrap_or_default())
}
const fn one() -> usize {
    1
}
const fn two() -> usize {
    2
}

/// The on-disk `config.json`: HF RoBERTa fields verbatim, plus `embedding_type`,
/// `hash_type`, `num_buckets`, `hash_key` and `num_hash_bits`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HfConfig {
    /// HF model classes (informational; `null` in `to_dict()` output reads as none).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub architectures: Vec<String>,
    /// Always `"roberta"`.
    #[serde(default = "default_model_type")]
    pub model_type: String,
    /// Model width.
    pub hidden_size: usize,
    /// Encoder layers.
    pub num_hidden_layers: usize,
    /// Attention heads.
    pub num_attention_heads: usize,
    /// Feed-forward width.
    pub intermediate_size: usize,
    /// Must be `"gelu"` (erf GELU).
    #[serde(default = "default_act")]
    pub hidden_act: String,
    /// Hidden dropout.
    pub hidden_dropout_prob: f64,
    /// Attention dropout.
    pub attention_probs_dropout_prob: f64,
    /// Position rows.
    pub max_position_embeddings: usize,
    /// Token-type rows.
    #[serde(default = "one")]
    pub type_vocab_size: usize,
    /// Initialisation std.
    #[serde(default)]
    pub initializer_range: Option<f64>,
    /// LayerNorm epsilon.
    pub layer_norm_eps: f64,
    /// `<pad>` id (1).
    #[serde(default = "one")]
    pub pad_token_id: usize,
    /// `<s>` id (0).
    #[serde(default)]
    pub bos_token_id: usize,
    /// `</s>` id (2).
    #[serde(default = "two")]
    pub eos_token_id: usize,
    /// Table rows, or the reference's variant code (0 Pool, 1 Add, 2 Proj).
    pub vocab_size: usize,
    /// Labels of the classification head.
    #[serde(default)]
    pub num_labels: Option<usize>,
    /// Label names by index, keys `"0"`, `"1"`, … (HF; omitted when unknown).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub id2label: BTreeMap<String, String>,
    /// The inverse of `id2label` (HF; written for HF tools, not read).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub label2id: BTreeMap<String, usize>,
    /// Our variant name (absent in the reference's files: then `vocab_size` decides).
    #[serde(default)]
    pub embedding_type: Option<EmbeddingKind>,
    /// Hashing scheme.
    #[serde(default)]
    pub hash_type: Option<HashKind>,
    /// Emb buckets.
    #[serde(default)]
    pub num_buckets: Option<usize>,
    /// HMAC key.
    #[serde(default = "default_key")]
    pub hash_key: String,
    /// Signature width (128).
    #[serde(default)]
    pub num_hash_bits: Option<usize>,
}

impl HfConfig {
    /// The on-disk form of `config`.
    pub fn from_config(config: &HashformerConfig, architecture: &str) -> Self {
        Self {
            architectures: vec![architecture.to_owned()],
            model_type: default_model_type(),
            hidden_size: config.hidden_size,
            num_hidden_layers: config.num_hidden_layers,
            num_attention_heads: config.num_attention_heads,
            intermediate_size: config.intermediate_size,
            hidden_act: default_act(),
            hidden_dropout_prob: config.hidden_dropout_prob,
            attention_probs_dropout_prob: config.attention_probs_dropout_prob,
            max_position_embeddings: config.max_position_embeddings,
            type_vocab_size: config.type_vocab_size,
            initializer_range: Some(config.initializer_range),
            layer_norm_eps: config.layer_norm_eps,
            pad_token_id: 1,
            bos_token_id: 0,
            eos_token_id: 2,
            vocab_size: reference_vocab_code(config),
            num_labels: Some(config.num_labels),
            id2label: config
                .id2label
                .iter()
                .enumerate()
                .map(|(i, name)| (i.to_string(), name.clone()))
                .collect(),
            label2id: config
                .id2label
                .iter()
                .enumerate()
                .map(|(i, name)| (name.clone(), i))
                .collect(),
            embedding_type: Some(config.variant.kind()),
            hash_type: config.variant.scheme(),
            num_buckets: matches!(config.variant, Variant::Emb(_)).then_some(config.num_buckets),
            hash_key: config.hash_key.clone(),
            num_hash_bits: config.variant.scheme().map(|_| NUM_HASH_BITS),
        }
    }

    /// Converts to a validated [`HashformerConfig`].
    ///
    /// # Errors
    /// [`Error::Config`] naming the first inconsistent field.
    pub fn to_config(&self) -> Result<HashformerConfig> {
        let kind = self.embedding_kind()?;
        let variant = self.variant(kind)?;
        self.check_supported()?;
        let num_buckets = self.bucket_count(kind)?;
        let mut config = HashformerConfig::new(
            variant,
            self.hidden_size,
            self.num_hidden_layers,
            self.num_attention_heads,
            self.intermediate_size,
        )
        .with_num_buckets(num_buckets)
        .with_hash_key(self.hash_key.clone())
        .with_hidden_dropout_prob(self.hidden_dropout_prob)
        .with_attention_probs_dropout_prob(self.attention_probs_dropout_prob)
        .with_max_position_embeddings(self.max_position_embeddings)
        .with_type_vocab_size(self.type_vocab_size)
        .with_layer_norm_eps(self.layer_norm_eps)
        .with_num_labels(self.label_count());
        if kind == EmbeddingKind::Bpe {
            config = config.with_bpe_vocab_size(self.vocab_size);
        }
        if let Some(std) = self.initializer_range {
            config = config.with_initializer_range(std);
        }
        if let Some(names) = self.label_names()? {
            config = config.with_id2label(names);
        }
        config.validate()?;
        Ok(config)
    }

    /// The variant: `embedding_type` when given, else the reference's code in `vocab_size`;
    /// an error when both are given and disagree.
    fn embedding_kind(&self) -> Result<EmbeddingKind> {
        let from_code = EmbeddingKind::try_from(ReferenceVocabCode(self.vocab_size))?;
        let kind = self.embedding_type.unwrap_or(from_code);
        let code_agrees = match kind {
            EmbeddingKind::Emb | EmbeddingKind::Bpe => from_code == EmbeddingKind::Emb,
            k => k == from_code,
        };
        if !code_agrees {
            return Err(config_error(
                "vocab_size",
                format!(
                    "{} is the reference's code for {from_code:?}, but embedding_type is {kind:?}",
                    self.vocab_size
                ),
            ));
        }
        Ok(kind)
    }

    /// The variant of `kind` with `hash_type`: the BPE baseline takes none, a hash embedding
    /// needs one.
    fn variant(&self, kind: EmbeddingKind) -> Result<Variant> {
        Variant::new(kind, self.hash_type).ok_or_else(|| match self.hash_type {
            Some(h) => config_error(
                "hash_type",
                format!("the BPE baseline hashes nothing, got {h:?}"),
            ),
            None => config_error(
                "hash_type",
                "hash variants need \"md5\" or \"lsh\" (the reference's config files do not \
                 record it; its checkpoint names do: hashformer-md-* is \"md5\", \
                 hashformer-lsh-* is \"lsh\")"
                    .into(),
            ),
        })
    }

    /// Checks the HF fields we only support one value of: `hidden_act`, the special token
    /// ids and `num_hash_bits`.
    fn check_supported(&self) -> Result<()> {
        if self.hidden_act != "gelu" {
            return Err(config_error(
                "hidden_act",
                format!(
                    "only \"gelu\" (erf) is supported, got {:?}",
                    self.hidden_act
                ),
            ));
        }
        if (self.pad_token_id, self.bos_token_id, self.eos_token_id) != (1, 0, 2) {
            return Err(config_error(
                "pad_token_id",
                "special ids must be RoBERTa's (<s> 0, <pad> 1, </s> 2)".into(),
            ));
        }
        if let Some(bits) = self.num_hash_bits.filter(|&b| b != NUM_HASH_BITS) {
            return Err(config_error(
                "num_hash_bits",
                format!("only {NUM_HASH_BITS} is supported, got {bits}"),
            ));
        }
        Ok(())
    }

    /// The bucket count: for Emb, the table rows past the special ids (and `num_buckets`, when
    /// given, must agree with them); for the other variants, the default.
    fn bucket_count(&self, kind: EmbeddingKind) -> Result<usize> {
        let offset = HASH_ID_OFFSET as usize;
        match (kind, self.num_buckets) {
            (EmbeddingKind::Emb, Some(n)) if n + offset != self.vocab_size => Err(config_error(
                "num_buckets",
                format!(
                    "{n} buckets need vocab_size {}, got {}",
                    n + offset,
                    self.vocab_size
                ),
            )),
            (EmbeddingKind::Emb, None) if self.vocab_size <= offset => Err(config_error(
                "vocab_size",
                format!("an Emb table needs more than {offset} rows"),
            )),
            (EmbeddingKind::Emb, _) => Ok(self.vocab_size - offset),
            _ => Ok(crate::config::DEFAULT_BUCKETS),
        }
    }

    /// `num_labels`, else the number of `id2label` names, else 2 (HF's default).
    fn label_count(&self) -> usize {
        self.num_labels.unwrap_or(match self.id2label.len() {
            0 => 2,
            n => n,
        })
    }

    /// The `id2label` names in index order (`None` when there are none); an error unless the
    /// keys are exactly `"0"` to `"n-1"`.
    fn label_names(&self) -> Result<Option<Vec<String>>> {
        if self.id2label.is_empty() {
            return Ok(None);
        }
        let names: Option<Vec<String>> = (0..self.id2label.len())
            .map(|i| self.id2label.get(&i.to_string()).cloned())
            .collect();
        let names = names.ok_or_else(|| {
            config_error(
                "id2label",
                format!(
                    "keys must be \"0\" to \"{}\", got {:?}",
                    self.id2label.len() - 1,
                    self.id2label.keys().collect::<Vec<_>>()
                ),
            )
        })?;
        Ok(Some(names))
    }

    /// Parses `config.json` text; `path` names the file in errors.
    ///
    /// # Errors
    /// [`Error::ConfigJson`] with the parser's line and column.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| Error::ConfigJson {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_codes_decode() {
        for (code, kind) in [
            (0, EmbeddingKind::Pool),
            (1, EmbeddingKind::Add),
            (2, EmbeddingKind::Proj),
            (50265, EmbeddingKind::Emb),
        ] {
            assert_eq!(
                EmbeddingKind::try_from(ReferenceVocabCode(code)).unwrap(),
                kind
            );
        }
    }

    #[test]
    fn round_trip_every_variant() {
        for variant in [
            Variant::Emb(HashKind::Lsh),
            Variant::Pool(HashKind::Md5),
            Variant::Add(HashKind::Md5),
            Variant::Proj(HashKind::Lsh),
            Variant::Bpe,
        ] {
            let config = HashformerConfig::small(variant)
                .with_num_labels(3)
                .with_id2label(vec!["entailment".into(), "neutral".into(), "x y".into()]);
            let json = serde_json::to_string(&HfConfig::from_config(&config, "X")).unwrap();
            let back = HfConfig::parse(&json, Path::new("config.json"))
                .unwrap()
                .to_config()
                .unwrap();
            assert_eq!(back, config, "{variant}");
        }
    }

    #[test]
    fn a_scheme_must_fit_the_variant() {
        let json = |fields: &str| {
            format!(
                r#"{{"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                "intermediate_size": 64, "hidden_dropout_prob": 0.1,
                "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 514,
                "layer_norm_eps": 1e-5, {fields}}}"#
            )
        };
        for fields in [
            r#""vocab_size": 2, "embedding_type": "proj""#,
            r#""vocab_size": 50265, "embedding_type": "vocab", "hash_type": "md5""#,
        ] {
            let err = HfConfig::parse(&json(fields), Path::new("c.json"))
                .unwrap()
                .to_config()
                .unwrap_err();
            assert!(
                matches!(err, Error::Config { ref field, .. } if field == "hash_type"),
                "{fields}: {err}"
            );
        }
    }

    #[test]
    fn a_reference_style_file_without_our_fields_decodes_by_code() {
        let json = r#"{"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
            "intermediate_size": 64, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": 514, "layer_norm_eps": 1e-5, "vocab_size": 2, "hash_type": "md5"}"#;
        let config = HfConfig::parse(json, Path::new("c.json"))
            .unwrap()
            .to_config()
            .unwrap();
        assert_eq!(config.variant, Variant::Proj(HashKind::Md5));
    }

    #[test]
    fn inconsistent_files_name_the_field() {
        let json = r#"{"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
            "intermediate_size": 64, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": 514, "layer_norm_eps": 1e-5, "vocab_size": 1,
            "embedding_type": "proj", "hash_type": "md5"}"#;
        let err = HfConfig::parse(json, Path::new("c.json"))
            .unwrap()
            .to_config()
            .unwrap_err();
        assert!(err.to_string().contains("\"vocab_size\""), "{err}");
        let err = HfConfig::parse("{\"hidden_size\": }", Path::new("dir/config.json")).unwrap_err();
        assert!(err.to_string().starts_with("dir/config.json: "), "{err}");
    }

    #[test]
    fn label_names_follow_hf_and_must_fit_the_head() {
        let base = r#"{"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
            "intermediate_size": 64, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": 514, "layer_norm_eps": 1e-5, "vocab_size": 2, "hash_type": "md5""#;
        let parse = |extra: &str| {
            HfConfig::parse(&format!("{base}, {extra}}}"), Path::new("c.json"))
                .unwrap()
                .to_config()
        };
        // HF files may give only id2label: it decides the number of labels.
        let c = parse(r#""id2label": {"0": "a", "2": "c", "1": "b"}"#).unwrap();
        assert_eq!(
            (c.num_labels, c.id2label.clone()),
            (3, vec!["a".into(), "b".into(), "c".into()])
        );
        let err =
            parse(r#""num_labels": 2, "id2label": {"0": "a", "1": "b", "2": "c"}"#).unwrap_err();
        assert!(err.to_string().contains("id2label"), "{err}");
        let err = parse(r#""id2label": {"0": "a", "5": "b"}"#).unwrap_err();
        assert!(err.to_string().contains("id2label"), "{err}");
        let json = serde_json::to_value(HfConfig::from_config(&c, "X")).unwrap();
        assert_eq!(json["label2id"]["b"], 1);
    }
}
