//! [`Embedder`]: sentence vectors from any checkpoint's encoder (pre-trained or fine-tuned).

use std::path::Path;

use burn::prelude::*;
use hashformer_embeddings::EmbeddingInput;
use hashformer_hashing::TextInput;
use hashformer_model::{HashformerConfig, HashformerModel, TextEncoder};

use crate::error::Result;
use crate::model_dir::ModelDir;
use crate::options::InferenceOptions;
use crate::run::{per_text, PerText};

/// How a sentence vector is read off the encoder's last hidden states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pooling {
    /// The mean over the text's tokens, `<s>` and `</s>` included (padding left out).
    #[default]
    Mean,
    /// The hidden state of `<s>`, which the classification head reads.
    First,
}

/// A checkpoint's encoder with the text encoder of its variant: one vector of
/// `hidden_size` floats per text.
#[derive(Debug)]
pub struct Embedder {
    model: HashformerModel,
    config: HashformerConfig,
    encoder: TextEncoder,
    options: InferenceOptions,
    pooling: Pooling,
    normalize: bool,
    device: Device,
}

impl Embedder {
    /// Loads the checkpoint in `dir` onto `device` with default [`InferenceOptions`], mean
    /// pooling and no normalisation.
    ///
    /// # Errors
    /// As [`Embedder::from_pretrained_with`].
    pub fn from_pretrained(dir: &Path, device: &Device) -> Result<Self> {
        Self::from_pretrained_with(dir, InferenceOptions::default(), device)
    }

    /// Loads the checkpoint in `dir` (pre-trained or fine-tuned) onto `device`.
    ///
    /// # Errors
    /// [`Error::NoModelDir`](crate::Error::NoModelDir) or
    /// [`Error::MissingFile`](crate::Error::MissingFile) for a directory that is not a
    /// checkpoint; [`Error::Model`](crate::Error::Model) when the weights do not load or the
    /// BPE an LSH or BPE model needs is missing.
    pub fn from_pretrained_with(
        dir: &Path,
        options: InferenceOptions,
        device: &Device,
    ) -> Result<Self> {
        let loaded = ModelDir::open(dir)?.load(&options, device)?;
        Ok(Self {
            model: loaded.model.roberta,
            config: loaded.config,
            encoder: loaded.encoder,
            options,
            pooling: Pooling::default(),
            normalize: false,
            device: device.clone(),
        })
    }

    /// Reads vectors with `pooling`.
    #[must_use]
    pub fn with_pooling(mut self, pooling: Pooling) -> Self {
        self.pooling = pooling;
        self
    }

    /// Scales each vector to unit length (cosine similarity becomes a dot product).
    #[must_use]
    pub fn with_normalize(mut self, normalize: bool) -> Self {
        self.normalize = normalize;
        self
    }

    /// The model's configuration.
    pub fn config(&self) -> &HashformerConfig {
        &self.config
    }

    /// One vector per single text.
    ///
    /// # Errors
    /// [`Error::Model`](crate::Error::Model) if a text cannot be encoded.
    pub fn embed<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>> {
        let inputs: Vec<TextInput<'_>> = texts
            .iter()
            .map(|t| TextInput::single(t.as_ref()))
            .collect();
        self.embed_inputs(&inputs)
    }

    /// One vector per text or text pair (a pair is encoded as fine-tuning encodes pairs).
    ///
    /// # Errors
    /// As [`Embedder::embed`].
    pub fn embed_inputs(&self, inputs: &[TextInput<'_>]) -> Result<Vec<Vec<f32>>> {
        let task = Pooled {
            model: &self.model,
            pooling: self.pooling,
        };
        let batch = self.options.batch_size;
        let mut vectors = per_text(
            &self.model,
            &self.encoder,
            inputs,
            batch,
            &self.device,
            &task,
        )?;
        if self.normalize {
            for v in &mut vectors {
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                if norm > 0.0 {
                    v.iter_mut().for_each(|x| *x /= norm);
                }
            }
        }
        Ok(vectors)
    }
}

struct Pooled<'a> {
    model: &'a HashformerModel,
    pooling: Pooling,
}

impl PerText<3> for Pooled<'_> {
    fn forward(&self, input: EmbeddingInput) -> Tensor<3> {
        self.model.forward(input)
    }

    fn read(&self, values: &[f32], dims: [usize; 3], row: usize, len: usize) -> Vec<f32> {
        let [_, seq_len, width] = dims;
        let tokens = match self.pooling {
            Pooling::First => 1,
            Pooling::Mean => len.clamp(1, seq_len),
        };
        let start = row * seq_len * width;
        let mut v = vec![0.0f32; width];
        for t in 0..tokens {
            for (acc, x) in v.iter_mut().zip(&values[start + t * width..][..width]) {
                *acc += x;
            }
        }
        v.iter_mut().for_each(|x| *x /= tokens as f32);
        v
    }
}
