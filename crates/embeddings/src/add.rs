//! HashFormer-Add: one learned vector per (bit position, bit value), summed (method §5.4;
//! reference `RobertaProjEmbeddingsDE`, code name `de`).

use burn::nn::Linear;
use burn::prelude::*;
use hashformer_hashing::NUM_HASH_BITS;
use hashformer_kernels::{Dropout, DropoutConfig};

use crate::init::trunc_normal;

/// `sqrt(128)`, the reference's scale (it writes the literal 11.313708498984761).
const SCALE: f64 = 11.313_708_498_984_761;

/// Configuration of [`AddEmbedding`].
#[derive(Config, Debug)]
pub struct AddEmbeddingConfig {
    /// Output width.
    pub hidden_size: usize,
    /// DropConnect probability on `W1` and `W2` during training (reference: 0.1).
    #[config(default = 0.1)]
    pub drop_connect: f64,
    /// Std of the truncated-normal initialisation.
    #[config(default = 0.02)]
    pub initializer_range: f64,
}

/// The HashFormer-Add hash part: `(W1·b + W2·(1 − b)) / √128`.
#[derive(Module, Debug)]
#[doc(alias = "HashFormer-Add")]
pub struct AddEmbedding {
    /// `W1` (vectors of set bits), Burn layout `[128, hidden_size]`, no bias.
    pub proj_mat_1: Linear,
    /// `W2` (vectors of clear bits), Burn layout `[128, hidden_size]`, no bias.
    pub proj_mat_2: Linear,
    /// DropConnect: dropout applied to the weight matrices themselves.
    pub drop_connect: Dropout,
}

fn bias_free_linear(hidden: usize, std: f64, device: &Device) -> Linear {
    Linear {
        weight: burn::module::Param::from_tensor(trunc_normal(
            [NUM_HASH_BITS, hidden],
            std,
            device,
        )),
        bias: None,
    }
}

impl AddEmbeddingConfig {
    /// Builds the module with the reference initialisation.
    pub fn init(&self, device: &Device) -> AddEmbedding {
        AddEmbedding {
            proj_mat_1: bias_free_linear(self.hidden_size, self.initializer_range, device),
            proj_mat_2: bias_free_linear(self.hidden_size, self.initializer_range, device),
            drop_connect: DropoutConfig::new(self.drop_connect).init(),
        }
    }
}

impl AddEmbedding {
    /// Sums the per-bit vectors.
    ///
    /// # Shapes
    /// - `hash_bits`: `[batch, seq_len, 128]`, values 0.0/1.0 (all 0 for special tokens)
    /// - output: `[batch, seq_len, hidden_size]`
    pub fn forward(&self, hash_bits: Tensor<3>) -> Tensor<3> {
        let [batch, seq_len, bits] = hash_bits.dims();
        let b = hash_bits.reshape([batch * seq_len, bits]);
        let w1 = self.drop_connect.forward(self.proj_mat_1.weight.val());
        let w2 = self.drop_connect.forward(self.proj_mat_2.weight.val());
        let hidden = w1.dims()[1];
        let ones = b.clone().neg().add_scalar(1.0);
        let out = (b.matmul(w1) + ones.matmul(w2)).div_scalar(SCALE);
        out.reshape([batch, seq_len, hidden])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_tokens_get_the_scaled_sum_of_w2() {
        let device = Device::flex();
        let add = AddEmbeddingConfig::new(6).init(&device);
        let out = add
            .forward(Tensor::zeros([1, 1, 128], &device))
            .reshape([6]);
        let expected = add
            .proj_mat_2
            .weight
            .val()
            .sum_dim(0)
            .reshape([6])
            .div_scalar(SCALE);
        out.into_data().assert_approx_eq::<f32>(
            &expected.into_data(),
            burn::tensor::Tolerance::absolute(1e-6),
        );
    }
}
