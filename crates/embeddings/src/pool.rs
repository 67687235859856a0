//! HashFormer-Pool: 13 chunk embeddings of the signature, pooled with per-dimension softmax
//! weights (method §5.5; reference `RobertaConjEmbeddings`, code name `conj`).

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::activation::softmax;
use hashformer_hashing::{POOL_CHUNKS, POOL_TABLE_ROWS};
use hashformer_kernels::{Dropout, DropoutConfig};

use crate::frozen::lookup_frozen_row;
use crate::init::trunc_normal;

/// Configuration of [`PoolEmbedding`].
#[derive(Config, Debug)]
pub struct PoolEmbeddingConfig {
    /// Output width.
    pub hidden_size: usize,
    /// Dropout on each component embedding before pooling (reference: 0.1).
    #[config(default = 0.1)]
    pub component_dropout: f64,
    /// Std of the truncated-normal initialisation.
    #[config(default = 0.02)]
    pub initializer_range: f64,
}

/// The HashFormer-Pool hash part: `Σ_k dropout(C[index_k]) ⊙ softmax(A)[k]`.
#[derive(Module, Debug)]
#[doc(alias = "HashFormer-Pool")]
pub struct PoolEmbedding {
    /// Component table `C`, `[1025, hidden_size]`, shared by the 13 chunks; row 0 (special
    /// tokens) is frozen at its random initial value.
    pub component_embeddings: Param<Tensor<2>>,
    /// Adaptive weights `A`, `[13, hidden_size]`; softmax over the 13 rows per dimension.
    pub adaptive_weights: Param<Tensor<2>>,
    /// Dropout on the looked-up components.
    pub dropout: Dropout,
}

impl PoolEmbeddingConfig {
    /// Builds the module with the reference initialisation (both tables truncated normal).
    pub fn init(&self, device: &Device) -> PoolEmbedding {
        PoolEmbedding {
            component_embeddings: Param::from_tensor(trunc_normal(
                [POOL_TABLE_ROWS, self.hidden_size],
                self.initializer_range,
                device,
            )),
            adaptive_weights: Param::from_tensor(trunc_normal(
                [POOL_CHUNKS, self.hidden_size],
                self.initializer_range,
                device,
            )),
            dropout: DropoutConfig::new(self.component_dropout).init(),
        }
    }
}

impl PoolEmbedding {
    /// Pools the 13 chunk embeddings of every token.
    ///
    /// # Shapes
    /// - `pool_ids`: `[batch, seq_len, 13]`, values in `0..1025` (all 0 for special tokens)
    /// - output: `[batch, seq_len, hidden_size]`
    pub fn forward(&self, pool_ids: Tensor<3, Int>) -> Tensor<3> {
        let [batch, seq_len, chunks] = pool_ids.dims();
        let flat = pool_ids.reshape([batch, seq_len * chunks]);
        let components = lookup_frozen_row(self.component_embeddings.val(), flat, 0);
        let hidden = components.dims()[2];
        let latent = self
            .dropout
            .forward(components.reshape([batch, seq_len, chunks, hidden]));
        let alpha = softmax(self.adaptive_weights.val(), 0).reshape([1, 1, chunks, hidden]);
        (latent * alpha)
            .sum_dim(2)
            .reshape([batch, seq_len, hidden])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_chunks_pool_to_their_row() {
        let device = Device::flex();
        let pool = PoolEmbeddingConfig::new(8).init(&device);
        // All 13 chunks point at row 5: the softmax weights sum to 1 per dimension.
        let ids = Tensor::<3, Int>::full([1, 1, 13], 5, &device);
        let out = pool.forward(ids).reshape([8]);
        let row = pool
            .component_embeddings
            .val()
            .slice([5..6, 0..8])
            .reshape([8]);
        out.into_data()
            .assert_approx_eq::<f32>(&row.into_data(), burn::tensor::Tolerance::absolute(1e-6));
    }
}
