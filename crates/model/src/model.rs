//! The HashFormer encoder and its heads (method §6–§8; reference `RobertaModel`,
//! `RobertaForShuffleRandomThreeWayClassification`, `RobertaForSequenceClassification`).
//! Field names mirror the reference's module names, so checkpoint keys map one to one
//! (`hf_keys.rs`).

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::DType;
use hashformer_embeddings::{EmbeddingInput, HashformerEmbeddings, TokenEmbedding};
use hashformer_kernels::{
    cast_to, forward_linear, gelu, linear as linear_op, Dropout, DropoutConfig, LayerNorm,
    LayerNormConfig,
};

use crate::config::HashformerConfig;
use crate::error::Error;
use crate::init::linear;
use crate::input::EncodedBatch;
use crate::layer::Encoder;
use crate::precision::Precision;

/// Classes of the Shuffle+Random pre-training objective: original, shuffled, random.
pub const PRETRAIN_CLASSES: usize = 3;

/// Embeddings + encoder: the last hidden states of every token.
#[derive(Module, Debug)]
pub struct HashformerModel {
    /// Input layer (variant-specific).
    pub embeddings: HashformerEmbeddings,
    /// Post-LN transformer encoder.
    pub encoder: Encoder,
    /// The dtype the encoder layers compute in (`f32` unless set; not saved: a checkpoint's
    /// weights are `f32` whatever it was trained in). See [`Precision`].
    #[module(skip)]
    pub precision: Precision,
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

/// The masked-LM head over the id table (Emb buckets or BPE ids): dense → GELU → LayerNorm,
/// then scores against the (tied) input table plus a bias (reference `RobertaLMHead`).
#[derive(Module, Debug)]
pub struct LmHead {
    /// `Linear(hidden, hidden)`.
    pub dense: Linear,
    /// LayerNorm after the activation.
    pub layer_norm: LayerNorm,
    /// `[vocab_size]` output bias (the decoder weight is the input table, tied).
    pub bias: Param<Tensor<1>>,
}

/// Masked-LM pre-training over bucket or vocabulary ids: an option for HashFormer-Emb and
/// the BPE baseline (the paper pre-trains with Shuffle+Random).
#[derive(Module, Debug)]
pub struct HashformerForMaskedLm {
    /// The encoder (checkpoint prefix `roberta.`).
    pub roberta: HashformerModel,
    /// The head (checkpoint prefix `lm_head.`).
    pub lm_head: LmHead,
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
            precision: Precision::F32,
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

impl HashformerConfig {
    /// Builds the masked-LM model (Emb and the BPE baseline only: the hash variants have no
    /// id table to predict).
    ///
    /// # Errors
    /// [`crate::Error::Config`] for Pool, Add and Proj.
    ///
    /// # Panics
    /// If the config does not pass [`HashformerConfig::validate`].
    pub fn init_masked_lm(&self, device: &Device) -> crate::Result<HashformerForMaskedLm> {
        if !self.variant.takes_ids() {
            return Err(crate::Error::Config {
                field: "embedding_type".into(),
                reason: format!(
                    "masked LM needs an id table (emb or vocab), got {:?}",
                    self.variant.kind()
                ),
            });
        }
        let h = self.hidden_size;
        Ok(HashformerForMaskedLm {
            roberta: self.init_model(device),
            lm_head: LmHead {
                dense: linear(LinearConfig::new(h, h), self.initializer_range, device),
                layer_norm: LayerNormConfig::new(h)
                    .with_epsilon(self.layer_norm_eps)
                    .init(device),
                bias: Param::from_tensor(Tensor::zeros([self.vocab_size()], device)),
            },
        })
    }
}

impl HashformerForMaskedLm {
    /// Scores of every table row at every position.
    ///
    /// # Shapes
    /// - output: `[batch, seq_len, vocab_size]`
    pub fn forward(&self, input: EmbeddingInput) -> Tensor<3> {
        let hidden = self.roberta.forward(input);
        let [batch, seq_len, width] = hidden.dims();
        let scores = self.scores(hidden.reshape([batch * seq_len, width]));
        let vocab = scores.dims()[1];
        scores.reshape([batch, seq_len, vocab])
    }

    /// Scores at the chosen positions only (the masked ones), which saves the head's
    /// `[batch · seq_len, vocab_size]` product over positions without a label.
    ///
    /// # Shapes
    /// - `rows`: `[n]` indices into the flattened `[batch · seq_len]` positions
    /// - output: `[n, vocab_size]`
    pub fn forward_rows(&self, input: EmbeddingInput, rows: Tensor<1, Int>) -> Tensor<2> {
        let hidden = self.roberta.forward(input);
        let [batch, seq_len, width] = hidden.dims();
        self.scores(hidden.reshape([batch * seq_len, width]).select(0, rows))
    }

    /// `[n, hidden]` hidden states → `[n, vocab_size]` scores (weights tied to the table).
    fn scores(&self, hidden: Tensor<2>) -> Tensor<2> {
        let x = self
            .lm_head
            .layer_norm
            .forward(gelu(forward_linear(&self.lm_head.dense, hidden)));
        let table = match &self.roberta.embeddings.token {
            TokenEmbedding::Bucket(table) => table.weight.val(),
            // `init_masked_lm` only builds this model over an id table.
            _ => unreachable!("HashformerForMaskedLm is only built over an id table"),
        };
        linear_op(x, table.transpose(), Some(self.lm_head.bias.val()))
    }
}

impl HashformerModel {
    /// Checks that `batch` was encoded for this model's variant, before
    /// [`EncodedBatch::to_input`] and [`forward`](Self::forward) (whose embedding layer panics
    /// on a mismatch).
    ///
    /// # Errors
    /// [`Error::InputMismatch`] naming both sides.
    pub fn check_input(&self, batch: &EncodedBatch) -> crate::Result<()> {
        let token = &self.embeddings.token;
        if token.reads(batch.kind()) {
            Ok(())
        } else {
            Err(Error::InputMismatch {
                model: token.name(),
                batch: batch.kind(),
            })
        }
    }

    /// # Shapes
    /// - input: [`EmbeddingInput`] of `[batch, seq_len]` tokens
    /// - output: `[batch, seq_len, hidden_size]`
    ///
    /// The embeddings are computed in `f32`, the encoder in [`precision`](Self::precision);
    /// the output is `f32` either way.
    pub fn forward(&self, input: EmbeddingInput) -> Tensor<3> {
        let mask = input.attention_mask.clone();
        let embedded = self.precision.cast(self.embeddings.forward(input));
        cast_to(self.encoder.forward(embedded, mask), DType::F32)
    }
}

impl HashformerForPretraining {
    /// Per-token logits of original / shuffled / random.
    ///
    /// # Shapes
    /// - output: `[batch, seq_len, 3]`
    pub fn forward(&self, input: EmbeddingInput) -> Tensor<3> {
        forward_linear(
            &self.dense,
            self.dropout.forward(self.roberta.forward(input)),
        )
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
        let x = forward_linear(&self.dense, self.dropout.forward(first)).tanh();
        forward_linear(&self.out_proj, self.dropout.forward(x))
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
