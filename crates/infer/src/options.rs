//! How texts are encoded and batched at inference.

use hashformer_hashing::RobertaBpe;
use hashformer_model::Precision;

/// Settings shared by [`Classifier`](crate::Classifier) and [`Embedder`](crate::Embedder).
#[derive(Debug, Clone)]
pub struct InferenceOptions {
    /// Padded length in words, `<s>` and `</s>` included (words beyond it are cut); the
    /// reference fine-tunes at 128.
    pub max_length: usize,
    /// Texts per forward pass. In `f32` results do not depend on it.
    pub batch_size: usize,
    /// The encoder's compute precision (`f32`, or `bf16` / `f16` activations over the `f32`
    /// weights: faster on GPUs with half-precision units, within the tolerances of
    /// `docs/backends.md`).
    pub precision: Precision,
    /// roberta-base's BPE, which LSH models and the BPE baseline need; MD5 models ignore it.
    pub bpe: Option<RobertaBpe>,
}

impl Default for InferenceOptions {
    fn default() -> Self {
        Self {
            max_length: 128,
            batch_size: 32,
            bpe: None,
            precision: Precision::F32,
        }
    }
}
