#![doc = include_str!("../README.md")]

mod adamw;
pub mod attention;
mod backend;
mod dropout;
pub mod gemm;
mod linear;
pub mod math;
mod ops;
pub mod reference;
pub mod rows;

pub use adamw::{adamw_slices, adamw_update, AdamWScalars};
pub use backend::KernelBackend;
pub use dropout::{draw, dropout_mask, Dropout, DropoutConfig};
pub use linear::column_sums;
pub use ops::{
    attention_context, attention_scores, attention_softmax, cast_to, forward_linear, gelu,
    layer_norm, linear, LayerNorm, LayerNormConfig,
};

use burn::prelude::Device;

/// Whether `device` (or the device under its autodiff layer) is Burn's Flex CPU backend,
/// where this crate's kernels run; other backends take Burn's own operations.
pub fn is_flex(device: &Device) -> bool {
    device.clone().without_autodiff() == Device::flex()
}
