#![doc = include_str!("../README.md")]

mod dropout;

pub use dropout::{draw, dropout_mask, Dropout, DropoutConfig};

use burn::prelude::Device;

/// Whether `device` (or the device under its autodiff layer) is Burn's Flex CPU backend,
/// where this crate's kernels run; other backends take Burn's own operations.
pub fn is_flex(device: &Device) -> bool {
    device.clone().without_autodiff() == Device::flex()
}
