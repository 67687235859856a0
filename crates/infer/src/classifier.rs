//! [`Classifier`]: a fine-tuned checkpoint that labels texts (or scores them, for a
//! regression head such as STS-B's).

use std::path::Path;

use burn::prelude::*;
use burn::tensor::activation::softmax;
use hashformer_embeddings::EmbeddingInput;
use hashformer_hashing::TextInput;
use hashformer_model::{HashformerConfig, HashformerForSequenceClassification, TextEncoder};

use crate::error::{Error, Result};
use crate::model_dir::ModelDir;
use crate::options::InferenceOptions;
use crate::run::{per_text, PerText};

/// The label of one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The most probable label's name (`id2label`, or `LABEL_<i>` when the checkpoint has no
    /// names), or the head's one name for a regression model (STS-B's is `score`).
    pub label: String,
    /// The label's probability, or the predicted value of a regression model.
    pub score: f32,
    /// Every label's probability in label order (one value for a regression model).
    pub scores: Vec<f32>,
}

/// A fine-tuned sequence classifier (or regressor) with the text encoder of its variant.
///
/// Texts are encoded as in fine-tuning; a text pair is a [`TextInput::pair`].
#[derive(Debug)]
pub struct Classifier {
    model: HashformerForSequenceClassification,
    config: HashformerConfig,
    encoder: TextEncoder,
    labels: Vec<String>,
    options: InferenceOptions,
    device: Device,
}

impl Classifier {
    /// Loads the fine-tuned checkpoint in `dir` onto `device`, with default
    /// [`InferenceOptions`] (an MD5 model needs nothing else).
    ///
    /// # Errors
    /// As [`Classifier::from_pretrained_with`].
    pub fn from_pretrained(dir: &Path, device: &Device) -> Result<Self> {
        Self::from_pretrained_with(dir, InferenceOptions::default(), device)
    }

    /// Loads the fine-tuned checkpoint in `dir` onto `device`.
    ///
    /// # Errors
    /// [`Error::NoModelDir`] or [`Error::MissingFile`] for a directory that is not a
    /// checkpoint; [`Error::NotAClassifier`] for a pre-trained encoder without a trained head;
    /// [`Error::Model`] when the config or weights do not load (label names that do not fit
    /// the head included) or the BPE an LSH or BPE model needs is missing.
    pub fn from_pretrained_with(
        dir: &Path,
        options: InferenceOptions,
        device: &Device,
    ) -> Result<Self> {
        let checkpoint = ModelDir::open(dir)?;
        if !checkpoint.is_classifier() {
            return Err(Error::NotAClassifier { dir: dir.into() });
        }
        let loaded = checkpoint.load(&options, device)?;
        Ok(Self {
            labels: label_names(&loaded.config),
            model: loaded.model,
            config: loaded.config,
            encoder: loaded.encoder,
            options,
            device: device.clone(),
        })
    }

    /// The label names by index (`LABEL_<i>` where the checkpoint names none).
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Whether the head predicts one value (regression) rather than classes.
    pub fn is_regression(&self) -> bool {
        self.config.num_labels == 1
    }

    /// The model's configuration.
    pub fn config(&self) -> &HashformerConfig {
        &self.config
    }

    /// Labels single texts.
    ///
    /// # Errors
    /// [`Error::Model`] if a text cannot be encoded (LSH: the BPE fails on it).
    pub fn classify<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Prediction>> {
        let inputs: Vec<TextInput<'_>> = texts
            .iter()
            .map(|t| TextInput::single(t.as_ref()))
            .collect();
        self.classify_inputs(&inputs)
    }

    /// Labels texts and text pairs.
    ///
    /// # Errors
    /// As [`Classifier::classify`].
    pub fn classify_inputs(&self, inputs: &[TextInput<'_>]) -> Result<Vec<Prediction>> {
        Ok(self
            .scores(inputs)?
            .into_iter()
            .map(|scores| self.prediction(scores))
            .collect())
    }

    /// Per text, the softmax probabilities of the labels, or the one regression value.
    ///
    /// # Errors
    /// As [`Classifier::classify`].
    pub fn scores(&self, inputs: &[TextInput<'_>]) -> Result<Vec<Vec<f32>>> {
        let task = Probabilities(&self.model);
        let batch = self.options.batch_size;
        per_text(
            &self.model.roberta,
            &self.encoder,
            inputs,
            batch,
            &self.device,
            &task,
        )
    }

    fn prediction(&self, scores: Vec<f32>) -> Prediction {
        let best = if self.is_regression() {
            0
        } else {
            scores
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i)
        };
        Prediction {
            label: self.labels[best].clone(),
            score: scores[best],
            scores,
        }
    }
}

/// `id2label`, or `LABEL_<i>` where the checkpoint names none (a loaded config has as many
/// names as labels, or none: `HashformerConfig::validate`).
fn label_names(config: &HashformerConfig) -> Vec<String> {
    if config.id2label.len() == config.num_labels {
        config.id2label.clone()
    } else {
        (0..config.num_labels)
            .map(|i| format!("LABEL_{i}"))
            .collect()
    }
}

struct Probabilities<'a>(&'a HashformerForSequenceClassification);

impl PerText<2> for Probabilities<'_> {
    fn forward(&self, input: EmbeddingInput) -> Tensor<2> {
        let logits = self.0.forward(input);
        match logits.dims()[1] {
            1 => logits,
            _ => softmax(logits, 1),
        }
    }

    fn read(&self, values: &[f32], [_, labels]: [usize; 2], row: usize, _len: usize) -> Vec<f32> {
        values[row * labels..(row + 1) * labels].to_vec()
    }
}
