//! HashFormer-Emb and the BPE baseline: one id → one row of a table (method §5.1;
//! reference `RobertaEmbeddings.word_embeddings`).

use burn::module::Param;
use burn::prelude::*;

use crate::frozen::lookup_frozen_row;
use crate::init::trunc_normal;

/// The id whose row is frozen (`<pad>`, the reference's `padding_idx`).
pub const PAD_ID: i64 = 1;

/// Configuration of [`BucketEmbedding`]; field names follow HF `config.json`.
#[derive(Config, Debug)]
pub struct BucketEmbeddingConfig {
    /// Rows of the table: 5 specials + the buckets (HashFormer-Emb: 50265), or the BPE
    /// vocabulary size (baseline: 50265).
    pub vocab_size: usize,
    /// Width of each row.
    pub hidden_size: usize,
    /// Std of the truncated-normal initialisation.
    #[config(default = 0.02)]
    pub initializer_range: f64,
}

/// An id-indexed embedding table. HashFormer-Emb looks up MD5 or LSH buckets in it; the
/// BPE baseline ([`BpeEmbedding`]) looks up roberta-base BPE ids.
#[derive(Module, Debug)]
#[doc(alias = "HashFormer-Emb")]
pub struct BucketEmbedding {
    /// `[vocab_size, hidden_size]`, truncated normal (std 0.02, ±0.04); row 1 (`<pad>`)
    /// is frozen.
    pub weight: Param<Tensor<2>>,
}

/// The BPE baseline's token embedding: the same module over BPE ids.
#[doc(alias = "RoBERTa")]
pub type BpeEmbedding = BucketEmbedding;

impl BucketEmbeddingConfig {
    /// Builds the table with the reference initialisation.
    pub fn init(&self, device: &Device) -> BucketEmbedding {
        let weight = trunc_normal(
            [self.vocab_size, self.hidden_size],
            self.initializer_range,
            device,
        );
        BucketEmbedding {
            weight: Param::from_tensor(weight),
        }
    }
}

impl BucketEmbedding {
    /// Looks up the ids.
    ///
    /// # Shapes
    /// - `input_ids`: `[batch, seq_len]`, values in `0..vocab_size`
    /// - output: `[batch, seq_len, hidden_size]`
    pub fn forward(&self, input_ids: Tensor<2, Int>) -> Tensor<3> {
        lookup_frozen_row(self.weight.val(), input_ids, PAD_ID)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_rows() {
        let device = Device::flex();
        let emb = BucketEmbeddingConfig::new(10, 4).init(&device);
        let ids = Tensor::<2, Int>::from_data(TensorData::new(vec![3i64, 7], [1, 2]), &device);
        let out = emb.forward(ids);
        assert_eq!(out.dims(), [1, 2, 4]);
        let row7 = emb.weight.val().slice([7..8, 0..4]).reshape([4]);
        out.slice([0..1, 1..2, 0..4])
            .reshape([4])
            .into_data()
            .assert_eq(&row7.into_data(), true);
    }
}
