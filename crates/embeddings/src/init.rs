//! The reference initialisation (method §5.6; `RobertaPreTrainedModel._init_weights`):
//! weights from a normal distribution with std `initializer_range` (0.02), truncated at
//! ±2 std, like `torch.nn.init.trunc_normal_(w, 0, 0.02, a=-0.04, b=0.04)`.

use burn::prelude::*;
use burn::tensor::Distribution;

/// Most rounds of re-drawing out-of-range values; after `k` rounds a value is still out of
/// range with probability 0.0455^k, so 16 rounds leave none in practice (the last round
/// clamps whatever remains, so the bounds always hold).
const MAX_REDRAWS: usize = 16;

/// A tensor of `shape` drawn from N(0, std²) truncated to [−2·std, 2·std], with the
/// device's RNG (seed it with `device.seed(..)`).
pub fn trunc_normal<const D: usize>(shape: [usize; D], std: f64, device: &Device) -> Tensor<D> {
    let bound = 2.0 * std;
    let normal = Distribution::Normal(0.0, std);
    let mut values = Tensor::<D>::random(shape, normal, device);
    for _ in 0..MAX_REDRAWS {
        let outside = values.clone().abs().greater_elem(bound);
        if !outside.clone().any().into_scalar::<bool>() {
            return values;
        }
        values = values.mask_where(outside, Tensor::random(shape, normal, device));
    }
    values.clamp(-bound, bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_truncated_and_spread() {
        let device = Device::flex();
        device.seed(7);
        let t = trunc_normal([256, 64], 0.02, &device);
        let v: Vec<f32> = t.to_data().iter().collect();
        assert!(v.iter().all(|x| x.abs() <= 0.04));
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / v.len() as f32;
        assert!(mean.abs() < 1e-3, "mean {mean}");
        // Truncation at ±2σ shrinks the std to about 0.88σ.
        assert!((var.sqrt() - 0.0176).abs() < 1e-3, "std {}", var.sqrt());
    }
}
