//! A checkpoint directory (`config.json` + `model.safetensors`) opened for inference, with
//! errors that say what is wrong with the directory and what to do about it.

use std::path::{Path, PathBuf};

use burn::prelude::Device;
use hashformer_model::{
    HashformerConfig, HashformerForSequenceClassification, HfConfig, TextEncoder, CONFIG_FILE,
    WEIGHTS_FILE,
};

use crate::error::{Error, Result};
use crate::options::InferenceOptions;

/// A checked checkpoint directory: both files are there and `config.json` is a valid
/// HashFormer configuration.
#[derive(Debug, Clone)]
pub struct ModelDir {
    dir: PathBuf,
    config: HashformerConfig,
    is_classifier: bool,
}

impl ModelDir {
    /// Opens `dir`.
    ///
    /// # Errors
    /// [`Error::NoModelDir`], [`Error::MissingFile`], or [`Error::Model`] when `config.json`
    /// cannot be read, parsed or validated.
    pub fn open(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(Error::NoModelDir { dir: dir.into() });
        }
        for file in [CONFIG_FILE, WEIGHTS_FILE] {
            if !dir.join(file).is_file() {
                return Err(Error::MissingFile {
                    dir: dir.into(),
                    file,
                });
            }
        }
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| {
            loading(
                dir,
                hashformer_model::Error::Io {
                    path: path.clone(),
                    source,
                },
            )
        })?;
        let hf = HfConfig::parse(&text, &path).map_err(|e| loading(dir, e))?;
        let config = hf.to_config().map_err(|e| loading(dir, e))?;
        let is_classifier = hf
            .architectures
            .iter()
            .any(|a| a == HashformerForSequenceClassification::ARCHITECTURE);
        Ok(Self {
            dir: dir.into(),
            config,
            is_classifier,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The checkpoint's configuration (which says, e.g., whether its text needs the BPE).
    pub fn config(&self) -> &HashformerConfig {
        &self.config
    }

    /// Whether the checkpoint holds a trained classification head (it was saved by
    /// fine-tuning), rather than a pre-trained encoder alone.
    pub fn is_classifier(&self) -> bool {
        self.is_classifier
    }

    /// Loads the model with its classification head (a pre-trained encoder gets an untrained
    /// one, usable for its encoder only) and the text encoder its config asks for.
    ///
    /// # Errors
    /// [`Error::Model`] when the config or the weights do not load, or the BPE an LSH or BPE
    /// model needs is missing from `options`.
    pub(crate) fn load(&self, options: &InferenceOptions, device: &Device) -> Result<Loaded> {
        options
            .precision
            .check_device(device)
            .map_err(|e| loading(&self.dir, e))?;
        let (mut model, config) =
            HashformerForSequenceClassification::from_pretrained(&self.dir, None, device)
                .map_err(|e| loading(&self.dir, e))?;
        model.roberta.precision = options.precision;
        let encoder = TextEncoder::new(&config, options.max_length, options.bpe.clone())
            .map_err(|e| loading(&self.dir, e))?;
        Ok(Loaded {
            model,
            config,
            encoder,
        })
    }
}

/// A loaded checkpoint and its text encoder.
pub(crate) struct Loaded {
    pub(crate) model: HashformerForSequenceClassification,
    pub(crate) config: HashformerConfig,
    pub(crate) encoder: TextEncoder,
}

/// A model-crate error while loading `dir`.
fn loading(dir: &Path, source: hashformer_model::Error) -> Error {
    Error::Model {
        dir: Some(dir.into()),
        source,
    }
}
