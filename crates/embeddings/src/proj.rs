//! HashFormer-Proj: the Pearson-correlation projection of the 128 bits (method §5.3;
//! reference `RobertaProjEmbeddingsPCC` with `DropoutLinearCosNorm`, code name `pcc`).

use burn::nn::Linear;
use burn::prelude::*;
use hashformer_hashing::NUM_HASH_BITS;

use crate::init::trunc_normal;

/// Norm floor of the reference (`torch.clamp(norm, min=1e-8)`).
const NORM_FLOOR: f64 = 1e-8;

/// Configuration of [`ProjEmbedding`].
#[derive(Config, Debug)]
pub struct ProjEmbeddingConfig {
    /// Output width.
    pub hidden_size: usize,
    /// Std of the truncated-normal initialisation.
    #[config(default = 0.02)]
    pub initializer_range: f64,
}

/// The HashFormer-Proj hash part: output `j` is the Pearson correlation of the bit vector
/// with the weights of output `j`, so it lies in [−1, 1]; special tokens (all-zero bits)
/// get exactly 0.
#[derive(Module, Debug)]
#[doc(alias = "HashFormer-Proj")]
pub struct ProjEmbedding {
    /// `W`, Burn layout `[128, hidden_size]`, no bias (98,304 parameters at H = 768).
    pub proj_mat: Linear,
}

impl ProjEmbeddingConfig {
    /// Builds the module with the reference initialisation.
    pub fn init(&self, device: &Device) -> ProjEmbedding {
        let weight = trunc_normal(
            [NUM_HASH_BITS, self.hidden_size],
            self.initializer_range,
            device,
        );
        ProjEmbedding {
            proj_mat: Linear {
                weight: burn::module::Param::from_tensor(weight),
                bias: None,
            },
        }
    }
}

impl ProjEmbedding {
    /// Projects mean-centred, L2-normalised bits onto mean-centred, L2-normalised weights.
    ///
    /// # Shapes
    /// - `hash_bits`: `[batch, seq_len, 128]`, values 0.0/1.0 (all 0 for special tokens)
    /// - output: `[batch, seq_len, hidden_size]`
    pub fn forward(&self, hash_bits: Tensor<3>) -> Tensor<3> {
        let [batch, seq_len, bits] = hash_bits.dims();
        let b = hash_bits.reshape([batch * seq_len, bits]);
        let bc = b.clone() - b.mean_dim(1);
        let bn = bc.clone() / l2_norm(bc, 1);
        let w = self.proj_mat.weight.val();
        let hidden = w.dims()[1];
        // Burn stores W as [in, out]: the reference's per-output-row statistics run over dim 0.
        let wc = w.clone() - w.mean_dim(0);
        let wn = wc.clone() / l2_norm(wc, 0);
        bn.matmul(wn).reshape([batch, seq_len, hidden])
    }
}

/// `max(‖x‖₂, 1e-8)` along `dim`, kept as a size-1 dimension.
fn l2_norm(x: Tensor<2>, dim: usize) -> Tensor<2> {
    x.powi_scalar(2).sum_dim(dim).sqrt().clamp_min(NORM_FLOOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_are_correlations_and_zero_for_specials() {
        let device = Device::flex();
        device.seed(3);
        let proj = ProjEmbeddingConfig::new(16).init(&device);
        let bits = Tensor::<3>::random(
            [2, 3, 128],
            burn::tensor::Distribution::Bernoulli(0.5),
            &device,
        );
        let out: Vec<f32> = proj.forward(bits).into_data().iter().collect();
        assert!(out.iter().all(|x| x.abs() <= 1.0 + 1e-6));
        let zeros: Vec<f32> = proj
            .forward(Tensor::zeros([1, 2, 128], &device))
            .into_data()
            .iter()
            .collect();
        assert!(zeros.iter().all(|&x| x == 0.0));
    }
}
