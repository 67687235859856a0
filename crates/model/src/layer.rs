//! One post-LN RoBERTa layer and the layer stack (method §6; reference `RobertaLayer`,
//! `RobertaEncoder`).

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use hashformer_kernels::{
    forward_linear, gelu, Dropout, DropoutConfig, LayerNorm, LayerNormConfig,
};

use crate::attention::{SelfAttention, SelfAttentionConfig, MASKED_SCORE};
use crate::init::linear;

/// Configuration of [`Encoder`]; field names follow HF `config.json`.
#[derive(Config, Debug)]
pub struct EncoderConfig {
    /// Model width.
    pub hidden_size: usize,
    /// Layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer.
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Dropout after the attention and feed-forward outputs.
    #[config(default = 0.1)]
    pub hidden_dropout_prob: f64,
    /// Dropout on attention probabilities.
    #[config(default = 0.1)]
    pub attention_probs_dropout_prob: f64,
    /// LayerNorm epsilon.
    #[config(default = 1e-5)]
    pub layer_norm_eps: f64,
    /// Std of the truncated-normal initialisation.
    #[config(default = 0.02)]
    pub initializer_range: f64,
}

/// `LayerNorm(x + dropout(attention(x)))`, then `LayerNorm(h + dropout(W2·gelu(W1·h)))`.
#[derive(Module, Debug)]
pub struct EncoderLayer {
    /// Self-attention with its output projection.
    pub attention: SelfAttention,
    /// LayerNorm after the attention residual (`attention.output.LayerNorm`).
    pub attention_norm: LayerNorm,
    /// Feed-forward input projection (`intermediate.dense`).
    pub intermediate: Linear,
    /// Feed-forward output projection (`output.dense`).
    pub output: Linear,
    /// LayerNorm after the feed-forward residual (`output.LayerNorm`).
    pub output_norm: LayerNorm,
    /// Dropout on both residual branches.
    pub dropout: Dropout,
}

/// The encoder: a stack of [`EncoderLayer`]s.
#[derive(Module, Debug)]
pub struct Encoder {
    /// The layers, bottom first.
    pub layers: Vec<EncoderLayer>,
}

impl EncoderConfig {
    /// Builds the stack with the reference initialisation.
    pub fn init(&self, device: &Device) -> Encoder {
        let (h, std) = (self.hidden_size, self.initializer_range);
        let layer = || EncoderLayer {
            attention: SelfAttentionConfig::new(h, self.num_attention_heads)
                .with_attention_probs_dropout_prob(self.attention_probs_dropout_prob)
                .with_initializer_range(std)
                .init(device),
            attention_norm: LayerNormConfig::new(h)
                .with_epsilon(self.layer_norm_eps)
                .init(device),
            intermediate: linear(LinearConfig::new(h, self.intermediate_size), std, device),
            output: linear(LinearConfig::new(self.intermediate_size, h), std, device),
            output_norm: LayerNormConfig::new(h)
                .with_epsilon(self.layer_norm_eps)
                .init(device),
            dropout: DropoutConfig::new(self.hidden_dropout_prob).init(),
        };
        Encoder {
            layers: (0..self.num_hidden_layers).map(|_| layer()).collect(),
        }
    }
}

/// The additive attention bias `(1 − mask) · (−10000)`.
///
/// # Shapes
/// - `attention_mask`: `[batch, seq_len]`, 1 = real token
/// - output: `[batch, 1, 1, seq_len]`
pub fn attention_bias(attention_mask: Tensor<2, Int>) -> Tensor<4> {
    let [batch, seq_len] = attention_mask.dims();
    attention_mask
        .float()
        .neg()
        .add_scalar(1.0)
        .mul_scalar(MASKED_SCORE)
        .reshape([batch, 1, 1, seq_len])
}

impl EncoderLayer {
    /// # Shapes
    /// - `hidden`: `[batch, seq_len, hidden]`; `mask_bias`: `[batch, 1, 1, seq_len]`
    /// - output: `[batch, seq_len, hidden]`
    pub fn forward(&self, hidden: Tensor<3>, mask_bias: Tensor<4>) -> Tensor<3> {
        let [batch, seq_len, width] = hidden.dims();
        self.forward_rows(hidden.reshape([batch * seq_len, width]), mask_bias)
            .reshape([batch, seq_len, width])
    }

    /// [`forward`](Self::forward) on the token rows of a batch, so that every linear layer
    /// is one 2-D product (see [`SelfAttention::forward_rows`]).
    ///
    /// # Shapes
    /// - `rows`: `[batch · seq_len, hidden]`; `mask_bias`: `[batch, 1, 1, seq_len]`
    /// - output: `[batch · seq_len, hidden]`
    pub fn forward_rows(&self, rows: Tensor<2>, mask_bias: Tensor<4>) -> Tensor<2> {
        let attended = self.attention.forward_rows(rows.clone(), mask_bias);
        let h = self
            .attention_norm
            .forward(self.dropout.forward(attended) + rows);
        let ff = forward_linear(
            &self.output,
            gelu(forward_linear(&self.intermediate, h.clone())),
        );
        self.output_norm.forward(self.dropout.forward(ff) + h)
    }
}

impl Encoder {
    /// Runs every layer.
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq_len, hidden]`; `attention_mask`: `[batch, seq_len]`
    /// - output: `[batch, seq_len, hidden]`
    pub fn forward(&self, hidden: Tensor<3>, attention_mask: Tensor<2, Int>) -> Tensor<3> {
        let [batch, seq_len, width] = hidden.dims();
        let bias = attention_bias(attention_mask);
        self.layers
            .iter()
            .fold(hidden.reshape([batch * seq_len, width]), |h, layer| {
                layer.forward_rows(h, bias.clone())
            })
            .reshape([batch, seq_len, width])
    }
}
