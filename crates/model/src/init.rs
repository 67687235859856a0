//! Reference initialisation of linear layers (method §5.6): truncated-normal weights, zero bias.

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use hashformer_embeddings::trunc_normal;

/// A linear layer with weights ~ truncated N(0, std²) in [−2·std, 2·std] and zero bias.
pub fn linear(config: LinearConfig, std: f64, device: &Device) -> Linear {
    let weight = trunc_normal([config.d_input, config.d_output], std, device);
    let bias = config
        .bias
        .then(|| Param::from_tensor(Tensor::zeros([config.d_output], device)));
    Linear {
        weight: Param::from_tensor(weight),
        bias,
    }
}
