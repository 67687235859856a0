//! The HashFormer encoder and its heads (spec §6–§8; reference `RobertaModel`,
//! `RobertaForShuffleRandomThreeWayClassification`, `RobertaForSequenceClassification`).
//! Field names mirror the reference's module names, so checkpoint keys map one to one
//! (`hf_keys.rs`).

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use hashformer_embeddings::{EmbeddingInput, HashformerEmbeddings};

use crate::config::HashformerConfig;
use crate::init::linear;
use crate::layer::Encoder;

/// Classes of the Shuffle+Random pre-training objective: original, shuffled, random.
pub const PRETRAIN_CLASSES: usize = 3;

/// Embeddings + encoder: the last hidden states of every token.
#[derive(Module, Debug)]
pub struct HashformerModel {
    /// Input layer (variant-specific).
    pub embeddings: HashformerEmbeddings,
    /// Post-LN transformer encoder.
    pub encoder: Encoder,
}

/// The Shuffle+Random pre-training model: a 3-way classifier on every token.
#[derive(Module, Debug)]
pub struct HashformerForPretraining {
    /// The encoder (checkpoint prefix `roberta.`).
    pub roberta: HashformerModel,
    /// Dropout before the head.
    pub dropout: Dropout,
    /// `Linear(hidden, 3)` on every token (reference key `dense`).
    pub dense: Linear,
}

/// The sequence-level head on `<s>`: dropout → dense → tanh → dropout → out_proj.
#[derive(Module, Debug)]
pub struct ClassificationHead {
    /// `Linear(hidden, hidden)`.
    pub dense: Linear,
    /// `Linear(hidden, num_labels)`.
    pub out_proj: Linear,
    /// Dropout before each linear layer.
    pub dropout: Dropout,
}

/// Sequence classification (regression with one label), as GLUE fine-tuning uses it.
#[derive(Module, Debug)]
pub struct HashformerForSequenceClassification {
    /// The encoder (checkpoint prefix `roberta.`).
    pub roberta: HashformerModel,
    /// The head (checkpoint prefix `classifier.`).
    pub classifier: ClassificationHead,
}

fn assert_valid(config: &HashformerConfig) {
    if let Err(e) = config.validate() {
        panic!("invalid HashformerConfig (validate configs from users before init): {e}");
    }
}

impl HashformerConfig {
    /// Builds the encoder with the reference initialisation.
    ///
    /// # Panics
    /// If the config does not pass [`HashformerConfig::validate`].
    pub fn init_model(&self, device: &Device) -> HashformerModel {
        assert_valid(self);
        HashformerModel {
            embeddings: self.embeddings().init(device),
            encoder: self.encoder().init(device),
        }
    }

    /// Builds the pre-training model.
    ///
    /// # Panics
    /// If the config does not pass [`HashformerConfig::validate`].
    pub fn init_pretraining(&self, device: &Device) -> HashformerForPretraining {
        HashformerForPretraining {
            roberta: self.init_model(device),
            dropout: DropoutConfig::new(self.hidden_dropout_prob).init(),
            dense: linear(
                LinearConfig::new(self.hidden_size, PRETRAIN_CLASSES),
                self.initializer_range,
                device,
            ),
        }
    }

    /// Builds the sequence-classification model.
    ///
    /// # Panics
    /// If the config does not pass [`HashformerConfig::validate`].
    pub fn init_classification(&self, device: &Device) -> HashformerForSequenceClassification {
        let (h, std) = (self.hidden_size, self.initializer_range);
        HashformerForSequenceClassification {
            roberta: self.init_model(device),
            classifier: ClassificationHead {
                dense: linear(LinearConfig::new(h, h), std, device),
                out_proj: linear(LinearConfig::new(h, self.num_labels), std, device),
                dropout: DropoutConfig::new(self.hidden_dropout_prob).init(),
            },
        }
    }
}

impl HashformerModel {
    /// # Shapes
    /// - input: [`EmbeddingInput`] of `[batch, seq_len]` tokens
    /// - output: `[batch, seq_len, hidden_size]`
    pub fn forward(&self, input: EmbeddingInput) -> Tensor<3> {
        let mask = input.attention_mask.clone();
        self.encoder.forward(self.embeddings.forward(input), mask)
    }
}

impl HashformerForPretraining {
    /// Per-token logits of original / shuffled / random.
    ///
    /// # Shapes
    /// - output: `[batch, seq_len, 3]`
    pub fn forward(&self, input: EmbeddingInput) -> Tensor<3> {
        self.dense
            .forward(self.dropout.forward(self.roberta.forward(input)))
    }
}

impl ClassificationHead {
    /// # Shapes
    /// - `hidden`: `[batch, seq_len, hidden]` (only position 0, `<s>`, is read)
    /// - output: `[batch, num_labels]`
    pub fn forward(&self, hidden: Tensor<3>) -> Tensor<2> {
        let [batch, _, width] = hidden.dims();
        let first = hidden
            .slice([0..batch, 0..1, 0..width])
            .reshape([batch, width]);
        let x = self.dense.forward(self.dropout.forward(first)).tanh();
        self.out_proj.forward(self.dropout.forward(x))
    }
}

impl HashformerForSequenceClassification {
    /// Sequence logits (or the regression value with one label).
    ///
    /// # Shapes
    /// - output: `[batch, num_labels]`
    pub fn forward(&self, input: EmbeddingInput) -> Tensor<2> {
        self.classifier.forward(self.roberta.forward(input))
    }
}
