//! Reading the PyTorch parity fixtures (`tests/fixtures/parity/*/io.safetensors`): inputs
//! as model batches, outputs as tensors. Shared by the CPU parity test here and the backend
//! parity test of `hashformer-cli` (which includes this file by path).

use std::path::Path;

use burn::prelude::*;
use hashformer_embeddings::{EmbeddingInput, EmbeddingKind, TokenInput};

/// The fixture directories: all 8 HashFormer variants and the BPE baseline.
pub const FIXTURES: [&str; 9] = [
    "emb-md5", "emb-lsh", "pool-md5", "pool-lsh", "add-md5", "add-lsh", "proj-md5", "proj-lsh",
    "vocab",
];

/// The tensors of one fixture's `io.safetensors`.
pub struct Io {
    bytes: Vec<u8>,
}

impl Io {
    pub fn read(dir: &Path) -> Self {
        Self {
            bytes: std::fs::read(dir.join("io.safetensors")).expect("io.safetensors"),
        }
    }

    pub fn tensor(&self, name: &str) -> Option<(Vec<usize>, TensorData)> {
        let st = safetensors::SafeTensors::deserialize(&self.bytes).expect("valid io.safetensors");
        let view = st.tensor(name).ok()?;
        let shape = view.shape().to_vec();
        let data = match view.dtype() {
            safetensors::Dtype::F32 => TensorData::new(
                view.data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect::<Vec<_>>(),
                shape.clone(),
            ),
            safetensors::Dtype::I64 => TensorData::new(
                view.data()
                    .chunks_exact(8)
                    .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
                    .collect::<Vec<_>>(),
                shape.clone(),
            ),
            other => panic!("{name}: unexpected dtype {other:?}"),
        };
        Some((shape, data))
    }

    pub fn ints<const D: usize>(&self, name: &str, device: &Device) -> Tensor<D, Int> {
        Tensor::from_data(
            self.tensor(name)
                .unwrap_or_else(|| panic!("missing {name}"))
                .1,
            device,
        )
    }

    pub fn floats<const D: usize>(&self, name: &str, device: &Device) -> Tensor<D> {
        Tensor::from_data(
            self.tensor(name)
                .unwrap_or_else(|| panic!("missing {name}"))
                .1,
            device,
        )
    }

    pub fn input(&self, kind: EmbeddingKind, device: &Device) -> EmbeddingInput {
        let tokens = match kind {
            EmbeddingKind::Emb | EmbeddingKind::Bpe => {
                TokenInput::Ids(self.ints("input_ids", device))
            }
            EmbeddingKind::Pool => TokenInput::Chunks {
                spec_ids: self.ints("spec_ids", device),
                pool_ids: self.ints("pool_ids", device),
            },
            EmbeddingKind::Add | EmbeddingKind::Proj => TokenInput::Bits {
                spec_ids: self.ints("spec_ids", device),
                hash_bits: self.floats("hash_bits", device),
            },
        };
        EmbeddingInput {
            tokens,
            attention_mask: self.ints("attention_mask", device),
        }
    }
}
