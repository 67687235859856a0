//! Loading a checkpoint directory for `classify` and `embed`, with errors that say what is
//! wrong with the directory and what to do about it.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::prelude::Device;
use clap::Args;
use hashformer_model::{HashformerConfig, HashformerForSequenceClassification, HfConfig};
use hashformer_train::TextEncoder;

use crate::backend::Backend;
use crate::data::bpe_for;

/// A checkpoint ready for inference.
pub struct LoadedModel {
    /// The model (a pre-trained encoder gets an untrained head, which `classify` refuses).
    pub model: HashformerForSequenceClassification,
    /// Its configuration.
    pub config: HashformerConfig,
    /// The text encoder for its variant.
    pub encoder: TextEncoder,
    /// Whether the checkpoint holds a trained classification head.
    pub is_classifier: bool,
}

/// Loads `dir` (config.json + model.safetensors) onto `device`, with the encoder for
/// `max_length`. The BPE baseline and LSH models read roberta-base from `roberta` or
/// `$HASHFORMER_DATA/roberta-base`.
///
/// # Errors
/// A missing directory or file, a config or weights that do not load, a missing BPE.
pub fn load(
    dir: &Path,
    roberta: Option<&Path>,
    max_length: usize,
    device: &Device,
) -> Result<LoadedModel> {
    if !dir.is_dir() {
        bail!(
            "no model directory at {}: give a checkpoint directory, e.g. runs/NAME/model from \
             `hashformer pretrain` or OUT/<task>/seed-0/best from `hashformer glue`",
            dir.display()
        );
    }
    for file in ["config.json", "model.safetensors"] {
        if !dir.join(file).is_file() {
            bail!(
                "{} has no {file}: not a hashformers checkpoint (expected config.json and \
                 model.safetensors)",
                dir.display()
            );
        }
    }
    let config_path = dir.join("config.json");
    let text = std::fs::read_to_string(&config_path)
        .with_context(|| format!("reading {}", config_path.display()))?;
    let hf = HfConfig::parse(&text, &config_path)?;
    let is_classifier = hf
        .architectures
        .iter()
        .any(|a| a == HashformerForSequenceClassification::ARCHITECTURE);
    let (model, config) = HashformerForSequenceClassification::from_pretrained(dir, None, device)
        .with_context(|| format!("loading the model in {}", dir.display()))?;
    let bpe = bpe_for(&config, roberta)?;
    let encoder = TextEncoder::new(&config, max_length, bpe)?;
    Ok(LoadedModel {
        model,
        config,
        encoder,
        is_classifier,
    })
}

/// Texts from the arguments, or else one per line of stdin (empty lines skipped).
///
/// # Errors
/// Reading stdin.
pub fn texts(args: &[String]) -> Result<Vec<String>> {
    if !args.is_empty() {
        return Ok(args.to_vec());
    }
    let mut out = Vec::new();
    for line in std::io::stdin().lines() {
        let line = line.context("reading stdin")?;
        if !line.trim().is_empty() {
            out.push(line);
        }
    }
    Ok(out)
}

/// A text, or a pair when `pairs` and the text holds a tab (`A<TAB>B`).
pub fn example(text: &str, pairs: bool) -> hashformer_train::Example {
    let (a, b) = match text.split_once('\t') {
        Some((a, b)) if pairs => (a.to_owned(), Some(b.to_owned())),
        _ => (text.to_owned(), None),
    };
    hashformer_train::Example {
        text_a: a,
        text_b: b,
        target: None,
    }
}

/// The model, texts and run options shared by `classify` and `embed`.
#[derive(Debug, Args)]
pub struct InferenceArgs {
    /// A checkpoint directory (`classify`: a fine-tuned one, e.g. OUT/SST-2/seed-0/best from
    /// `hashformer glue`).
    #[arg(long)]
    pub model: PathBuf,
    /// Texts; without any, one text per line of stdin.
    pub texts: Vec<String>,
    /// Read `A<TAB>B` as a sentence pair (MRPC, RTE, STS-B, … models).
    #[arg(long)]
    pub pairs: bool,
    /// Texts per batch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Sequence length (words beyond it are cut).
    #[arg(long, default_value_t = 128)]
    pub max_length: usize,
    /// Backend.
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: Backend,
    /// roberta-base directory for LSH and BPE models [default: $HASHFORMER_DATA/roberta-base].
    #[arg(long)]
    pub roberta: Option<PathBuf>,
}

impl InferenceArgs {
    /// The device, the loaded model, the texts and their examples.
    ///
    /// # Errors
    /// As [`load`] and [`texts`]; an unavailable backend.
    pub fn prepare(
        &self,
    ) -> Result<(
        Device,
        LoadedModel,
        Vec<String>,
        Vec<hashformer_train::Example>,
    )> {
        let device = self.backend.device()?;
        let loaded = load(
            &self.model,
            self.roberta.as_deref(),
            self.max_length,
            &device,
        )?;
        let texts = texts(&self.texts)?;
        let examples = texts.iter().map(|t| example(t, self.pairs)).collect();
        Ok((device, loaded, texts, examples))
    }
}
