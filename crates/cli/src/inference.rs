//! The arguments `classify` and `embed` share, turned into the inference library's options:
//! the checkpoint directory, the texts (arguments or stdin), pairs, batch size, length,
//! backend and where roberta-base's BPE is.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::prelude::Device;
use clap::Args;
use hashformer_infer::{InferenceOptions, ModelDir};

use crate::backend::{Backend, PrecisionArg};
use crate::data::bpe_for;

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
    #[arg(long, default_value_t = 32, value_parser = crate::args::count)]
    pub batch_size: usize,
    /// Sequence length (words beyond it are cut).
    #[arg(long, default_value_t = 128, value_parser = crate::args::max_length)]
    pub max_length: usize,
    /// Backend.
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: Backend,
    /// The encoder's compute precision (half types pay off on GPUs; see docs/backends.md).
    #[arg(long, value_enum, default_value = "f32")]
    pub precision: PrecisionArg,
    /// roberta-base directory for LSH and BPE models [default: roberta-base in the data directory: $HASHFORMER_DATA, else the per-user one].
    #[arg(long)]
    pub roberta: Option<PathBuf>,
}

/// What `classify` and `embed` run on.
pub struct Prepared {
    /// The backend's device.
    pub device: Device,
    /// The checked checkpoint directory.
    pub model: ModelDir,
    /// Options for the library, with the BPE when the model needs it.
    pub options: InferenceOptions,
    /// The texts, one per output line.
    pub texts: Vec<String>,
}

impl InferenceArgs {
    /// The device, the checked model directory, the options and the texts.
    ///
    /// # Errors
    /// A directory that is not a checkpoint, a config that does not load, a missing BPE, an
    /// unavailable backend, stdin that cannot be read.
    pub fn prepare(&self) -> Result<Prepared> {
        let model = ModelDir::open(&self.model)?;
        let options = InferenceOptions {
            max_length: self.max_length,
            batch_size: self.batch_size,
            bpe: bpe_for(model.config(), self.roberta.as_deref())?,
            precision: self.precision.into(),
        };
        Ok(Prepared {
            device: self.backend.device()?,
            model,
            options,
            texts: texts(&self.texts)?,
        })
    }
}

impl Prepared {
    /// Each text as the library's input: a pair when `pairs` and the text holds a tab
    /// (`A<TAB>B`), else the whole line.
    pub fn inputs(&self, pairs: bool) -> Vec<hashformer_infer::TextInput<'_>> {
        self.texts
            .iter()
            .map(|text| match text.split_once('\t') {
                Some((a, b)) if pairs => hashformer_infer::TextInput::pair(a, b),
                _ => hashformer_infer::TextInput::single(text),
            })
            .collect()
    }
}
