//! Multi-head self-attention of the RoBERTa encoder, HF transformers 3.x semantics (method §6;
//! reference `RobertaSelfAttention` + the dense of `RobertaSelfOutput`).

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use hashformer_kernels::{
    attention_context, attention_scores, attention_softmax, forward_linear, Dropout, DropoutConfig,
};

use crate::init::linear;

/// Added to the scores of padded keys: `(1 − mask) · (−10000)`, as the reference.
pub const MASKED_SCORE: f64 = -10_000.0;

/// Configuration of [`SelfAttention`].
#[derive(Config, Debug)]
pub struct SelfAttentionConfig {
    /// Model width.
    pub hidden_size: usize,
    /// Heads; must divide `hidden_size`.
    pub num_attention_heads: usize,
    /// Dropout on the attention probabilities.
    #[config(default = 0.1)]
    pub attention_probs_dropout_prob: f64,
    /// Std of the truncated-normal initialisation.
    #[config(default = 0.02)]
    pub initializer_range: f64,
}

/// Self-attention with query/key/value projections and the output projection.
#[derive(Module, Debug)]
pub struct SelfAttention {
    /// Query projection, `[hidden, hidden]` with bias.
    pub query: Linear,
    /// Key projection.
    pub key: Linear,
    /// Value projection.
    pub value: Linear,
    /// Output projection (the reference's `attention.output.dense`).
    pub output: Linear,
    /// Dropout on the attention probabilities.
    pub dropout: Dropout,
    /// Number of heads.
    pub num_heads: usize,
}

impl SelfAttentionConfig {
    /// Builds the layer with the reference initialisation.
    ///
    /// # Panics
    /// If the heads do not divide the width (configs are validated before this).
    pub fn init(&self, device: &Device) -> SelfAttention {
        let h = self.hidden_size;
        assert!(
            self.num_attention_heads > 0 && h.is_multiple_of(self.num_attention_heads),
            "hidden_size {h} is not a multiple of num_attention_heads {}",
            self.num_attention_heads
        );
        let std = self.initializer_range;
        SelfAttention {
            query: linear(LinearConfig::new(h, h), std, device),
            key: linear(LinearConfig::new(h, h), std, device),
            value: linear(LinearConfig::new(h, h), std, device),
            output: linear(LinearConfig::new(h, h), std, device),
            dropout: DropoutConfig::new(self.attention_probs_dropout_prob).init(),
            num_heads: self.num_attention_heads,
        }
    }
}

impl SelfAttention {
    /// Attends over all unmasked keys.
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq_len, hidden]`
    /// - `mask_bias`: `[batch, 1, 1, seq_len]`, 0 for real keys and −10000 for padding
    /// - output: `[batch, seq_len, hidden]` (before dropout, residual and LayerNorm)
    pub fn forward(&self, hidden: Tensor<3>, mask_bias: Tensor<4>) -> Tensor<3> {
        let [batch, seq_len, width] = hidden.dims();
        self.forward_rows(hidden.reshape([batch * seq_len, width]), mask_bias)
            .reshape([batch, seq_len, width])
    }

    /// [`forward`](Self::forward) on the token rows of a batch: the projections run as one
    /// `[batch · seq_len, hidden]` product each (a batched `[batch, seq_len, hidden]` product
    /// runs one small product per sequence and packs the weight each time).
    ///
    /// # Shapes
    /// - `rows`: `[batch · seq_len, hidden]`, sequence by sequence
    /// - `mask_bias`: `[batch, 1, 1, seq_len]`
    /// - output: `[batch · seq_len, hidden]`
    pub fn forward_rows(&self, rows: Tensor<2>, mask_bias: Tensor<4>) -> Tensor<2> {
        let [batch, _, _, seq_len] = mask_bias.dims();
        let width = rows.dims()[1];
        let head_dim = width / self.num_heads;
        let project = |layer: &Linear, x: Tensor<2>| {
            forward_linear(layer, x).reshape([batch, seq_len, width])
        };
        let q = project(&self.query, rows.clone());
        let k = project(&self.key, rows.clone());
        let v = project(&self.value, rows);
        let scores = attention_scores(q, k, self.num_heads);
        let probs = attention_softmax(scores, mask_bias, (head_dim as f64).sqrt());
        let probs = self.dropout.forward(probs);
        let context = attention_context(probs, v).reshape([batch * seq_len, width]);
        forward_linear(&self.output, context)
    }
}
