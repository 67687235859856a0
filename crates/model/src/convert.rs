//! Checkpoint conversion between our directories and the official code's (`hashformer
//! convert`). Both hold `config.json` + `model.safetensors` with the reference's tensor names
//! and PyTorch layouts, so the weights are checked (shapes, finite values, every tensor of
//! the model present) and copied byte for byte; the configs differ:
//!
//! * the reference's `config.json` is a plain `RobertaConfig` as `save_pretrained` writes it:
//!   `vocab_size` carries the variant code (0 Pool, 1 Add, 2 Proj, a table size for Emb and
//!   the BPE baseline), `architectures` may be `null`, and nothing records the hashing scheme
//!   or the HMAC key (always `"en"` there);
//! * ours adds `embedding_type`, `hash_type`, `num_buckets`, `hash_key` and `num_hash_bits`.
//!
//! Pickled `pytorch_model.bin` weights are refused ([`Error::PickledWeights`]): unpickling can
//! run code. `tools/convert/bin_to_safetensors.py` converts them with
//! `torch.load(weights_only=True)`, and `tools/convert/safetensors_to_bin.py` writes the
//! `pytorch_model.bin` that the official code's transformers 3.x needs.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use burn::prelude::*;
use hashformer_embeddings::{EmbeddingKind, Variant};
use hashformer_hashing::HashKind;

use crate::checkpoint::{apply_weights, read_weights, write_atomic, CONFIG_FILE, WEIGHTS_FILE};
use crate::config::HashformerConfig;
use crate::error::{Error, Result};
use crate::hf::HfConfig;
use crate::model::{
    HashformerForMaskedLm, HashformerForPretraining, HashformerForSequenceClassification,
};

/// The pickled weights file of a PyTorch checkpoint (refused, see the module docs).
pub const PICKLE_FILE: &str = "pytorch_model.bin";

/// The HMAC key the reference hashes with (hard-coded there).
const REFERENCE_KEY: &str = "en";

/// Our `config.json` fields the reference's does not have.
const OUR_FIELDS: [&str; 5] = [
    "embedding_type",
    "hash_type",
    "num_buckets",
    "hash_key",
    "num_hash_bits",
];

/// How a reference checkpoint's inputs are made, which its `config.json` does not record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceScheme {
    /// HMAC-MD5 (`hashformer-md-*`).
    Md5,
    /// Locality-sensitive hashing (`hashformer-lsh-*`).
    Lsh,
    /// No hashing: the BPE RoBERTa baseline (a `vocab_size` table of roberta-base ids).
    Bpe,
}

impl std::fmt::Display for ReferenceScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Md5 => "md5",
            Self::Lsh => "lsh",
            Self::Bpe => "bpe",
        })
    }
}

/// What a conversion wrote.
#[derive(Debug, Clone)]
pub struct Converted {
    /// The checkpoint's configuration.
    pub config: HashformerConfig,
    /// The model classes recorded in the written `config.json`.
    pub architectures: Vec<String>,
    /// Things the user should know (e.g. what the official code needs beyond the files).
    pub notes: Vec<String>,
}

/// Converts the official code's checkpoint in `input` to ours in `out`. `scheme` is needed
/// unless `input/config.json` already records it (one of ours); when both are given they must
/// agree.
///
/// # Errors
/// [`Error::PickledWeights`] for a `pytorch_model.bin`, [`Error::SchemeNeeded`] without a
/// scheme, [`Error::Convert`] when `out` already holds a checkpoint, and the errors of
/// reading and checking a checkpoint ([`Error::Config`], [`Error::Tensor`], …).
pub fn from_reference(
    input: &Path,
    out: &Path,
    scheme: Option<ReferenceScheme>,
) -> Result<Converted> {
    check_dirs(input, out)?;
    let config_path = input.join(CONFIG_FILE);
    let mut hf = read_hf(&config_path)?;
    apply_scheme(&mut hf, scheme, &config_path)?;
    let config = hf.to_config()?;
    let (architectures, bytes) = checked_weights(input, &config, &hf.architectures)?;
    let mut ours = HfConfig::from_config(&config, "");
    ours.architectures.clone_from(&architectures);
    let json = to_json(&ours, &out.join(CONFIG_FILE))?;
    write_checkpoint(out, &bytes, &json)?;
    Ok(Converted {
        config,
        architectures,
        notes: Vec::new(),
    })
}

/// Converts our checkpoint in `input` to a directory the official code loads (`out`):
/// the reference's `config.json` (no hashing fields) and the same `model.safetensors`.
///
/// # Errors
/// [`Error::Config`] for a model the reference cannot express (an HMAC key other than
/// `"en"`), [`Error::Convert`] when `out` already holds a checkpoint, and the errors of
/// reading and checking a checkpoint.
pub fn to_reference(input: &Path, out: &Path) -> Result<Converted> {
    check_dirs(input, out)?;
    let config_path = input.join(CONFIG_FILE);
    let hf = read_hf(&config_path)?;
    let config = hf.to_config()?;
    if config.hash_key != REFERENCE_KEY && config.variant.scheme().is_some() {
        return Err(Error::Config {
            field: "hash_key".into(),
            reason: format!(
                "the reference hashes with the key {REFERENCE_KEY:?} only, this model with {:?}",
                config.hash_key
            ),
        });
    }
    let (architectures, bytes) = checked_weights(input, &config, &hf.architectures)?;
    let json = reference_config_json(&config, &architectures, &out.join(CONFIG_FILE))?;
    write_checkpoint(out, &bytes, &json)?;
    Ok(Converted {
        notes: reference_notes(&config, out),
        config,
        architectures,
    })
}

/// The `config.json` the official code's `save_pretrained` writes for `config`: the
/// `RobertaConfig` fields with sorted keys, the variant coded in `vocab_size`, no hashing
/// fields.
///
/// # Errors
/// [`Error::ConfigJson`] (naming `path`) if serialisation fails.
pub fn reference_config_json(
    config: &HashformerConfig,
    architectures: &[String],
    path: &Path,
) -> Result<String> {
    let mut hf = HfConfig::from_config(config, "");
    hf.architectures = architectures.to_vec();
    let json_error = |e: serde_json::Error| Error::ConfigJson {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let value = serde_json::to_value(&hf).map_err(json_error)?;
    let mut fields: BTreeMap<String, serde_json::Value> = match value {
        serde_json::Value::Object(map) => map.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    for field in OUR_FIELDS {
        fields.remove(field);
    }
    if architectures.is_empty() {
        fields.insert("architectures".into(), serde_json::Value::Null);
    }
    let mut json = serde_json::to_string_pretty(&fields).map_err(json_error)?;
    json.push('\n');
    Ok(json)
}

/// What the official code needs beyond the files written.
fn reference_notes(config: &HashformerConfig, out: &Path) -> Vec<String> {
    let mut notes = vec![format!(
        "the official code (transformers 3.x) reads {PICKLE_FILE}, not {WEIGHTS_FILE}: \
         python tools/convert/safetensors_to_bin.py {}",
        out.display()
    )];
    if let Variant::Emb(_) = config.variant {
        let reference_buckets = 50_260;
        if config.num_buckets != reference_buckets {
            notes.push(format!(
                "this Emb model has {} buckets; the reference's preprocessing hashes into \
                 {reference_buckets}",
                config.num_buckets
            ));
        }
    }
    let scheme = match config.variant.scheme() {
        Some(HashKind::Md5) => ReferenceScheme::Md5,
        Some(HashKind::Lsh) => ReferenceScheme::Lsh,
        None => ReferenceScheme::Bpe,
    };
    notes.push(format!(
        "the reference's config.json does not record the scheme: convert back with scheme \
         {scheme}"
    ));
    notes
}

/// Sets the variant of a reference config from `scheme`, or checks it against the one the
/// file records.
fn apply_scheme(hf: &mut HfConfig, scheme: Option<ReferenceScheme>, path: &Path) -> Result<()> {
    let recorded = match (hf.embedding_type, hf.hash_type) {
        (Some(EmbeddingKind::Bpe), _) => Some(ReferenceScheme::Bpe),
        (_, Some(HashKind::Md5)) => Some(ReferenceScheme::Md5),
        (_, Some(HashKind::Lsh)) => Some(ReferenceScheme::Lsh),
        _ => None,
    };
    match (recorded, scheme) {
        (Some(recorded), Some(given)) if recorded != given => Err(Error::Config {
            field: "hash_type".into(),
            reason: format!("{} records {recorded}, not {given}", path.display()),
        }),
        (Some(_), _) => Ok(()),
        (None, None) => Err(Error::SchemeNeeded {
            path: path.to_owned(),
        }),
        (None, Some(ReferenceScheme::Bpe)) => {
            hf.embedding_type = Some(EmbeddingKind::Bpe);
            Ok(())
        }
        (None, Some(hashed)) => {
            hf.hash_type = Some(if hashed == ReferenceScheme::Md5 {
                HashKind::Md5
            } else {
                HashKind::Lsh
            });
            Ok(())
        }
    }
}

/// Refuses an `out` that already holds a checkpoint or is `input` itself, and an `input`
/// whose weights are pickled or missing.
fn check_dirs(input: &Path, out: &Path) -> Result<()> {
    let weights = input.join(WEIGHTS_FILE);
    let pickle = input.join(PICKLE_FILE);
    if !weights.is_file() && pickle.is_file() {
        return Err(Error::PickledWeights { path: pickle });
    }
    if !input.join(CONFIG_FILE).is_file() {
        return Err(Error::Convert {
            path: input.to_owned(),
            reason: format!("no {CONFIG_FILE}: not a checkpoint directory"),
        });
    }
    if !weights.is_file() {
        return Err(Error::Convert {
            path: input.to_owned(),
            reason: format!("no {WEIGHTS_FILE} (nor {PICKLE_FILE})"),
        });
    }
    if [CONFIG_FILE, WEIGHTS_FILE, PICKLE_FILE]
        .iter()
        .any(|f| out.join(f).exists())
    {
        return Err(Error::Convert {
            path: out.to_owned(),
            reason: "already holds a checkpoint; give a new or empty directory".into(),
        });
    }
    Ok(())
}

/// Reads and parses a `config.json`.
fn read_hf(path: &Path) -> Result<HfConfig> {
    let text = fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    HfConfig::parse(&text, path)
}

/// Reads `input/model.safetensors` and checks it against `config` (declared shapes, finite
/// values, and a load into a model with every head the file has); returns the model classes
/// to record (`architectures`, else the heads found) and the file's bytes.
fn checked_weights(
    input: &Path,
    config: &HashformerConfig,
    architectures: &[String],
) -> Result<(Vec<String>, Vec<u8>)> {
    let (path, bytes) = read_weights(input, Some(config))?;
    let names: Vec<String> = crate::weights_check::parse(&bytes, &path)?
        .names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let has = |prefix: &str| names.iter().any(|n| n.starts_with(prefix));
    let device = Device::flex();
    let mut model = config.init_pretraining(&device);
    let optional: &[&str] = if has("dense.") { &[] } else { &["dense."] };
    apply_weights(&mut model, bytes.clone(), &path, optional)?;
    if has("classifier.") {
        let mut classifier = config.init_classification(&device);
        apply_weights(&mut classifier, bytes.clone(), &path, &[])?;
    }
    if !architectures.is_empty() {
        return Ok((architectures.to_vec(), bytes));
    }
    let heads = [
        ("dense.", HashformerForPretraining::ARCHITECTURE),
        (
            "classifier.",
            HashformerForSequenceClassification::ARCHITECTURE,
        ),
        ("lm_head.", HashformerForMaskedLm::ARCHITECTURE),
    ];
    let found = heads
        .iter()
        .filter(|(prefix, _)| has(prefix))
        .map(|(_, class)| (*class).to_owned())
        .collect();
    Ok((found, bytes))
}

/// Serialises our `config.json`.
fn to_json(hf: &HfConfig, path: &Path) -> Result<String> {
    serde_json::to_string_pretty(hf).map_err(|e| Error::ConfigJson {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Writes `out/model.safetensors` and then `out/config.json` (each atomically).
fn write_checkpoint(out: &Path, weights: &[u8], config_json: &str) -> Result<()> {
    fs::create_dir_all(out).map_err(|source| Error::Io {
        path: out.to_owned(),
        source,
    })?;
    write_atomic(&out.join(WEIGHTS_FILE), weights)?;
    write_atomic(&out.join(CONFIG_FILE), config_json.as_bytes())
}
