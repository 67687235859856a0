//! HF-style checkpoint directories: `config.json` + `model.safetensors` with the reference's
//! tensor names and PyTorch layouts, so the published PyTorch HashFormer checkpoints (after
//! conversion to safetensors) load here, and PyTorch users can load ours. Files are written
//! atomically (temp file + rename in the same directory).

use std::fs;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::store::{
    ApplyError, BurnToPyTorchAdapter, KeyRemapper, ModuleSnapshot, PyTorchToBurnAdapter,
    SafetensorsStore,
};

use crate::config::HashformerConfig;
use crate::error::{Error, Result};
use crate::hf::HfConfig;
use crate::hf_keys::{reference_name, FROM_REFERENCE, TO_REFERENCE};
use crate::model::{
    HashformerForMaskedLm, HashformerForPretraining, HashformerForSequenceClassification,
};
use crate::weights_check;

/// Name of the configuration file of a checkpoint directory.
pub const CONFIG_FILE: &str = "config.json";
/// Name of the weights file of a checkpoint directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// Writes `bytes` to `path` atomically (`hashformer_files::write_atomic`).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    hashformer_files::write_atomic(path, bytes).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

fn remapper(table: &[(&str, &str)]) -> KeyRemapper {
    // The tables are constants checked by the round-trip tests, so they always compile.
    KeyRemapper::from_patterns(table.to_vec()).expect("hf_keys patterns are valid regexes")
}

/// Saves `model` and its config into `dir` (created if missing).
///
/// # Errors
/// [`Error::Io`] for the directory or files, [`Error::Tensor`] if serialisation fails.
pub fn save<M: Module>(
    model: &M,
    config: &HashformerConfig,
    architecture: &str,
    dir: &Path,
) -> Result<()> {
    fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })?;
    let weights = dir.join(WEIGHTS_FILE);
    let mut store = SafetensorsStore::from_bytes(None)
        .with_to_adapter(BurnToPyTorchAdapter)
        .remap(remapper(TO_REFERENCE))
        .skip_enum_variants(true)
        .metadata("format", "pt");
    model.save_into(&mut store).map_err(|e| Error::Tensor {
        path: weights.clone(),
        message: e.to_string(),
    })?;
    let bytes = store.get_bytes().map_err(|e| Error::Tensor {
        path: weights.clone(),
        message: e.to_string(),
    })?;
    write_atomic(&weights, &bytes)?;
    let json = serde_json::to_string_pretty(&HfConfig::from_config(config, architecture)).map_err(
        |e| Error::ConfigJson {
            path: dir.join(CONFIG_FILE),
            message: e.to_string(),
        },
    )?;
    write_atomic(&dir.join(CONFIG_FILE), json.as_bytes())
}

/// Reads and validates `dir/config.json`.
///
/// # Errors
/// [`Error::Io`], [`Error::ConfigJson`] or [`Error::Config`], naming the file or field.
pub fn load_config(dir: &Path) -> Result<HashformerConfig> {
    let path = dir.join(CONFIG_FILE);
    let text = fs::read_to_string(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    HfConfig::parse(&text, &path)?.to_config()
}

/// Loads the tensors of `dir/model.safetensors` into `model`. Every tensor of the model must
/// be in the file with the same shape, except those whose path starts with one of
/// `optional` (e.g. a head being fine-tuned from scratch); extra heads in the file (a
/// pooler, another head) are ignored, but an embedding or encoder tensor the model does not
/// have (a config with fewer layers than its weights) is an error, as is a NaN or infinite
/// value.
///
/// # Errors
/// [`Error::Safetensors`] for an unreadable or truncated file, [`Error::Tensor`] naming a
/// missing or unused tensor, a shape mismatch or a non-finite value.
pub fn load_weights<M: Module>(model: &mut M, dir: &Path, optional: &[&str]) -> Result<()> {
    let (path, bytes) = read_weights(dir, None)?;
    apply_weights(model, bytes, &path, optional)
}

/// Reads `dir/model.safetensors`, checking that every value is finite and, with a `config`,
/// that the widths and layer count its header declares are the config's (before any model
/// of that config is built).
pub(crate) fn read_weights(
    dir: &Path,
    config: Option<&HashformerConfig>,
) -> Result<(PathBuf, Vec<u8>)> {
    let path = dir.join(WEIGHTS_FILE);
    let bytes = fs::read(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let file = weights_check::parse(&bytes, &path)?;
    if let Some(config) = config {
        weights_check::check_shapes(&file, &path, config)?;
    }
    weights_check::check_finite(&file, &path)?;
    Ok((path, bytes))
}

/// Loads the checked `bytes` of the weights file `path` into `model` (see [`load_weights`]).
pub(crate) fn apply_weights<M: Module>(
    model: &mut M,
    bytes: Vec<u8>,
    path: &Path,
    optional: &[&str],
) -> Result<()> {
    let path = path.to_owned();
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .with_from_adapter(PyTorchToBurnAdapter)
        .remap(remapper(FROM_REFERENCE))
        .skip_enum_variants(true)
        .allow_partial(true)
        .validate(false);
    let result = model
        .load_from(&mut store)
        .map_err(|e| Error::Safetensors {
            path: path.clone(),
            message: e.to_string(),
        })?;
    if let Some(e) = result.errors.first() {
        let message = match e {
            ApplyError::ShapeMismatch { path: p, expected, found } => format!(
                "tensor {} (our path {p}): the config needs shape {:?}, the file has {:?} (Burn layout)",
                reference_name(p),
                &expected[..],
                &found[..]
            ),
            ApplyError::DTypeMismatch { path: p, expected, found } => {
                format!("tensor {} (our path {p}): expected {expected:?}, found {found:?}", reference_name(p))
            }
            other => other.to_string(),
        };
        return Err(Error::Tensor { path, message });
    }
    let missing: Vec<String> = result
        .missing
        .iter()
        .map(|(burn_path, _)| burn_path.as_str())
        .filter(|p| !optional.iter().any(|prefix| p.starts_with(prefix)))
        .map(reference_name)
        .collect();
    if !missing.is_empty() {
        return Err(Error::Tensor {
            path,
            message: format!("missing tensors: {}", missing.join(", ")),
        });
    }
    // Heads the model does not have may be in the file; its own parts may not.
    let unused: Vec<String> = result
        .unused
        .iter()
        .filter(|p| p.contains("embeddings.") || p.contains("encoder."))
        .filter(|p| !p.ends_with("position_ids"))
        .map(|p| reference_name(p))
        .collect();
    if !unused.is_empty() {
        return Err(Error::Tensor {
            path,
            message: format!(
                "tensors the config has no place for: {} (does config.json belong to these \
                 weights?)",
                unused.join(", ")
            ),
        });
    }
    Ok(())
}

impl HashformerForPretraining {
    /// HF architecture name written to `config.json`.
    pub const ARCHITECTURE: &'static str = "RobertaForShuffleRandomThreeWayClassification";

    /// Saves the model as an HF-style checkpoint directory.
    ///
    /// # Errors
    /// See [`save`].
    pub fn save_pretrained(&self, config: &HashformerConfig, dir: &Path) -> Result<()> {
        save(self, config, Self::ARCHITECTURE, dir)
    }

    /// Loads a checkpoint directory onto `device`.
    ///
    /// # Errors
    /// See [`load_config`] and [`load_weights`].
    pub fn from_pretrained(dir: &Path, device: &Device) -> Result<(Self, HashformerConfig)> {
        let config = load_config(dir)?;
        let (path, bytes) = read_weights(dir, Some(&config))?;
        let mut model = config.init_pretraining(device);
        apply_weights(&mut model, bytes, &path, &[])?;
        Ok((model, config))
    }
}

impl HashformerForMaskedLm {
    /// HF architecture name written to `config.json`.
    pub const ARCHITECTURE: &'static str = "RobertaForMaskedLM";

    /// Saves the model as an HF-style checkpoint directory.
    ///
    /// # Errors
    /// See [`save`].
    pub fn save_pretrained(&self, config: &HashformerConfig, dir: &Path) -> Result<()> {
        save(self, config, Self::ARCHITECTURE, dir)
    }

    /// Loads a checkpoint directory onto `device`; an encoder without an LM head gets a
    /// fresh one.
    ///
    /// # Errors
    /// See [`load_config`] and [`load_weights`]; [`Error::Config`] for hash variants.
    pub fn from_pretrained(dir: &Path, device: &Device) -> Result<(Self, HashformerConfig)> {
        let config = load_config(dir)?;
        let (path, bytes) = read_weights(dir, Some(&config))?;
        let mut model = config.init_masked_lm(device)?;
        apply_weights(&mut model, bytes, &path, &["lm_head."])?;
        Ok((model, config))
    }
}

impl HashformerForSequenceClassification {
    /// HF architecture name written to `config.json`.
    pub const ARCHITECTURE: &'static str = "RobertaForSequenceClassification";

    /// Saves the model as an HF-style checkpoint directory.
    ///
    /// # Errors
    /// See [`save`].
    pub fn save_pretrained(&self, config: &HashformerConfig, dir: &Path) -> Result<()> {
        save(self, config, Self::ARCHITECTURE, dir)
    }

    /// Loads a checkpoint directory onto `device`. A checkpoint without a classifier (a
    /// pre-trained encoder) gets a freshly initialised head with `num_labels` outputs
    /// (`None` keeps the config's).
    ///
    /// # Errors
    /// See [`load_config`] and [`load_weights`].
    pub fn from_pretrained(
        dir: &Path,
        num_labels: Option<usize>,
        device: &Device,
    ) -> Result<(Self, HashformerConfig)> {
        let mut config = load_config(dir)?;
        if let Some(n) = num_labels {
            if config.id2label.len() != n {
                config.id2label.clear();
            }
            config = config.with_num_labels(n);
            config.validate()?;
        }
        let (path, bytes) = read_weights(dir, Some(&config))?;
        let mut model = config.init_classification(device);
        apply_weights(&mut model, bytes, &path, &["classifier."])?;
        Ok((model, config))
    }
}
