//! The tensor-level entry points and the LayerNorm module. Each call takes the fused kernel
//! when its tensors are `f32` on Flex, and Burn's own operations otherwise (WGPU, CUDA, other
//! dtypes), which compute the same function.
//!
//! Half-precision inputs (`bf16`, `f16`: mixed precision) keep their dtype through every
//! call: the products run in it (a linear layer casts its `f32` weights to the input's dtype,
//! in the autodiff graph, so gradients reach the `f32` weights), while LayerNorm, the
//! attention softmax and GELU compute in `f32` and cast their result back.

use burn::backend::Dispatch;
use burn::module::{Content, DisplaySettings, Module, ModuleDisplay, Param};
use burn::prelude::*;
use burn::tensor::activation;
use burn::tensor::DType;

use crate::backend::KernelBackend;

/// Whether `x` takes the fused kernels.
fn fused<const D: usize>(x: &Tensor<D>) -> bool {
    x.dtype() == DType::F32 && crate::is_flex(&x.device())
}

/// `x` as `dtype`; no graph node when it already is.
pub fn cast_to<const D: usize>(x: Tensor<D>, dtype: DType) -> Tensor<D> {
    if x.dtype() == dtype {
        x
    } else {
        x.cast(dtype)
    }
}

/// `f(x)` computed in `f32` and returned in `x`'s dtype: how the half-precision calls run
/// the functions whose sums and exponentials need `f32`'s precision and range.
fn in_f32<const D: usize, const E: usize>(
    x: Tensor<D>,
    f: impl FnOnce(Tensor<D>) -> Tensor<E>,
) -> Tensor<E> {
    let dtype = x.dtype();
    cast_to(f(cast_to(x, DType::F32)), dtype)
}

/// LayerNorm over the last dimension: `(x − mean) / sqrt(var + epsilon) · gamma + beta`
/// with the biased variance.
///
/// # Shapes
/// - `x`: `[..., width]`; `gamma`, `beta`: `[width]`; output: as `x`
pub fn layer_norm<const D: usize>(
    x: Tensor<D>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
) -> Tensor<D> {
    if x.dtype() != DType::F32 {
        return in_f32(x, |x| layer_norm(x, gamma, beta, epsilon));
    }
    if !fused(&x) {
        return burn::tensor::module::layer_norm(x, gamma, Some(beta), epsilon);
    }
    Tensor::from_dispatch(<Dispatch as KernelBackend>::fused_layer_norm(
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        epsilon,
    ))
}

/// The attention probabilities `softmax(scores / divisor + bias)` over the keys. `bias` is
/// the additive key mask: a constant, it gets no gradient.
///
/// # Shapes
/// - `scores`: `[batch, heads, queries, keys]`; `bias`: `[batch, 1, 1, keys]`
/// - output: as `scores`
pub fn attention_softmax(scores: Tensor<4>, bias: Tensor<4>, divisor: f64) -> Tensor<4> {
    if scores.dtype() != DType::F32 {
        return in_f32(scores, |s| {
            attention_softmax(s, cast_to(bias, DType::F32), divisor)
        });
    }
    if !fused(&scores) {
        return activation::softmax(scores.div_scalar(divisor) + bias, 3);
    }
    let [batch, _, _, keys] = bias.dims();
    Tensor::from_dispatch(<Dispatch as KernelBackend>::fused_attention_softmax(
        scores.into_dispatch(),
        bias.reshape([batch, keys]).into_dispatch(),
        divisor,
    ))
}

/// `[batch, seq_len, heads · head_dim]` rows as `[batch, heads, seq_len, head_dim]` heads (a
/// view), for Burn's own products.
fn split_heads(rows: Tensor<3>, heads: usize) -> Tensor<4> {
    let [batch, seq_len, width] = rows.dims();
    rows.reshape([batch, seq_len, heads, width / heads])
        .swap_dims(1, 2)
}

/// The attention scores `Q_h · K_hᵀ` of every sequence and head, unscaled: on Flex straight
/// from the rows (each head a strided column block), elsewhere Burn's batched product of the
/// split heads.
///
/// # Shapes
/// - `q`, `k`: `[batch, seq_len, heads · head_dim]`
/// - output: `[batch, heads, seq_len, seq_len]`
pub fn attention_scores(q: Tensor<3>, k: Tensor<3>, heads: usize) -> Tensor<4> {
    if !(fused(&q) && fused(&k)) {
        return split_heads(q, heads).matmul(split_heads(k, heads).swap_dims(2, 3));
    }
    Tensor::from_dispatch(<Dispatch as KernelBackend>::fused_attention_scores(
        q.into_dispatch(),
        k.into_dispatch(),
        heads,
    ))
}

/// The attention context `P_h · V_h`, the heads side by side in each token row.
///
/// # Shapes
/// - `probs`: `[batch, heads, seq_len, seq_len]`; `v`: `[batch, seq_len, heads · head_dim]`
/// - output: as `v`
pub fn attention_context(probs: Tensor<4>, v: Tensor<3>) -> Tensor<3> {
    if !(fused(&probs) && fused(&v)) {
        let dims = v.dims();
        let heads = probs.dims()[1];
        return probs
            .matmul(split_heads(v, heads))
            .swap_dims(1, 2)
            .reshape(dims);
    }
    Tensor::from_dispatch(<Dispatch as KernelBackend>::fused_attention_context(
        probs.into_dispatch(),
        v.into_dispatch(),
    ))
}

/// erf-GELU, `x · Φ(x)`, element by element.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if x.dtype() != DType::F32 {
        return in_f32(x, gelu);
    }
    if !fused(&x) {
        return activation::gelu(x);
    }
    Tensor::from_dispatch(<Dispatch as KernelBackend>::fused_gelu(x.into_dispatch()))
}

/// The linear layer `x · weight + bias`: on Flex one `gemm` pass onto the bias rows (and a
/// backward node of three products and a column sum), elsewhere Burn's `linear`. Weight and
/// bias are cast to `x`'s dtype when it differs (mixed precision).
///
/// # Shapes
/// - `x`: `[..., d_input]`; `weight`: `[d_input, d_output]`; `bias`: `[d_output]`
/// - output: `[..., d_output]`
pub fn linear<const D: usize>(
    x: Tensor<D>,
    weight: Tensor<2>,
    bias: Option<Tensor<1>>,
) -> Tensor<D> {
    let dtype = x.dtype();
    let (weight, bias) = (cast_to(weight, dtype), bias.map(|b| cast_to(b, dtype)));
    match bias {
        Some(bias) if fused(&x) && weight.dtype() == DType::F32 && bias.dtype() == DType::F32 => {
            Tensor::from_dispatch(<Dispatch as KernelBackend>::fused_linear(
                x.into_dispatch(),
                weight.into_dispatch(),
                bias.into_dispatch(),
            ))
        }
        bias => burn::tensor::module::linear(x, weight, bias),
    }
}

/// `layer.forward(x)` through [`linear`]: the same parameters and record paths as Burn's
/// `Linear`, with the fused kernel on Flex.
pub fn forward_linear<const D: usize>(layer: &burn::nn::Linear, x: Tensor<D>) -> Tensor<D> {
    linear(x, layer.weight.val(), layer.bias.as_ref().map(Param::val))
}

/// Configuration of [`LayerNorm`].
#[derive(Config, Debug)]
pub struct LayerNormConfig {
    /// Width of the normalised (last) dimension.
    pub d_model: usize,
    /// Added to the variance before the square root.
    #[config(default = 1e-5)]
    pub epsilon: f64,
}

/// LayerNorm with scale `gamma` (ones at init) and shift `beta` (zeros), over the last
/// dimension. Field names match `burn::nn::LayerNorm`, so record paths (`….gamma`,
/// `….beta`) are the same.
#[derive(Module, Debug)]
#[module(custom_display)]
pub struct LayerNorm {
    /// Scale, `[d_model]`.
    pub gamma: Param<Tensor<1>>,
    /// Shift, `[d_model]`.
    pub beta: Param<Tensor<1>>,
    /// Added to the variance before the square root.
    pub epsilon: f64,
}

impl LayerNormConfig {
    /// Builds the layer.
    pub fn init(&self, device: &Device) -> LayerNorm {
        LayerNorm {
            gamma: Param::from_tensor(Tensor::ones([self.d_model], device)),
            beta: Param::from_tensor(Tensor::zeros([self.d_model], device)),
            epsilon: self.epsilon,
        }
    }
}

impl LayerNorm {
    /// # Shapes
    /// - input and output: `[..., d_model]`
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        layer_norm(x, self.gamma.val(), self.beta.val(), self.epsilon)
    }
}

impl ModuleDisplay for LayerNorm {
    fn custom_settings(&self) -> Option<DisplaySettings> {
        DisplaySettings::new()
            .with_new_line_after_attribute(false)
            .optional()
    }

    fn custom_content(&self, content: Content) -> Option<Content> {
        content
            .add("d_model", &self.gamma.shape()[0])
            .add("epsilon", &self.epsilon)
            .optional()
    }
}
