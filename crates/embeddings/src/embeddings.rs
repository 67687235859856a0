//! The full input layer of a HashFormer: token part (table, or hash part plus the special
//! table) + position + token type, then LayerNorm and dropout (method §5; reference
//! `RobertaEmbeddings`, `RobertaConjEmbeddings`, `RobertaProjEmbeddingsDE`/`PCC`).

use burn::module::Param;
use burn::prelude::*;
use hashformer_kernels::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig};

use crate::add::{AddEmbedding, AddEmbeddingConfig};
use crate::bucket::{BucketEmbedding, BucketEmbeddingConfig, PAD_ID};
use crate::frozen::lookup_frozen_row;
use crate::init::trunc_normal;
use crate::kind::EmbeddingKind;
use crate::pool::{PoolEmbedding, PoolEmbeddingConfig};
use crate::proj::{ProjEmbedding, ProjEmbeddingConfig};

/// Rows of the special-token table of Pool/Add/Proj: `<s> <pad> </s> <unk> <mask>` and
/// row 5, the vector every ordinary token gets.
pub const SPECIAL_TABLE_ROWS: usize = 6;

/// Configuration of [`HashformerEmbeddings`]; field names follow HF `config.json`.
#[derive(Config, Debug)]
pub struct HashformerEmbeddingsConfig {
    /// How tokens become vectors.
    pub embedding_type: EmbeddingKind,
    /// Width of every embedding.
    pub hidden_size: usize,
    /// Rows of the id table (Emb: 5 + buckets; Vocab: the BPE vocabulary). Unused by
    /// Pool/Add/Proj.
    #[config(default = 50265)]
    pub vocab_size: usize,
    /// Rows of the position table (RoBERTa: 514, so 512 tokens after the padding offset).
    #[config(default = 514)]
    pub max_position_embeddings: usize,
    /// Rows of the token-type table (RoBERTa: 1; HashFormers use no segment ids).
    #[config(default = 1)]
    pub type_vocab_size: usize,
    /// LayerNorm epsilon (RoBERTa: 1e-5).
    #[config(default = 1e-5)]
    pub layer_norm_eps: f64,
    /// Dropout after the LayerNorm.
    #[config(default = 0.1)]
    pub hidden_dropout_prob: f64,
    /// Std of the truncated-normal initialisation.
    #[config(default = 0.02)]
    pub initializer_range: f64,
    /// Pool only: dropout on each component embedding.
    #[config(default = 0.1)]
    pub component_dropout: f64,
    /// Add only: DropConnect on `W1`/`W2`.
    #[config(default = 0.1)]
    pub drop_connect: f64,
}

/// The variant-specific token part.
#[derive(Module, Debug)]
pub enum TokenEmbedding {
    /// HashFormer-Emb or the BPE baseline.
    Bucket(BucketEmbedding),
    /// HashFormer-Pool.
    Pool(PoolEmbedding),
    /// HashFormer-Add.
    Add(AddEmbedding),
    /// HashFormer-Proj.
    Proj(ProjEmbedding),
}

/// The token input of one batch, matching the model's [`EmbeddingKind`].
#[derive(Debug, Clone)]
pub enum TokenInput {
    /// Emb / BPE: `[batch, seq_len]` ids.
    Ids(Tensor<2, Int>),
    /// Add / Proj: the special row and the bits.
    Bits {
        /// `[batch, seq_len]`, 0..=4 for special tokens, 5 for ordinary ones.
        spec_ids: Tensor<2, Int>,
        /// `[batch, seq_len, 128]`, 0.0/1.0, all 0 for special tokens.
        hash_bits: Tensor<3>,
    },
    /// Pool: the special row and the 13 chunk indices.
    Chunks {
        /// `[batch, seq_len]`, 0..=4 for special tokens, 5 for ordinary ones.
        spec_ids: Tensor<2, Int>,
        /// `[batch, seq_len, 13]`, all 0 for special tokens.
        pool_ids: Tensor<3, Int>,
    },
}

/// A batch for [`HashformerEmbeddings::forward`].
#[derive(Debug, Clone)]
pub struct EmbeddingInput {
    /// The tokens.
    pub tokens: TokenInput,
    /// `[batch, seq_len]`, 1 = real token, 0 = padding.
    pub attention_mask: Tensor<2, Int>,
}

/// The input layer: `LayerNorm(token part + position + type)`, then dropout.
#[derive(Module, Debug)]
pub struct HashformerEmbeddings {
    /// The variant's token part.
    pub token: TokenEmbedding,
    /// Pool/Add/Proj: `[6, hidden_size]`; row 1 (`<pad>`) frozen.
    pub special_token_embeddings: Option<Param<Tensor<2>>>,
    /// `[max_position_embeddings, hidden_size]`; row 1 (padding) frozen.
    pub position_embeddings: Param<Tensor<2>>,
    /// `[type_vocab_size, hidden_size]`; only row 0 is used.
    pub token_type_embeddings: Param<Tensor<2>>,
    /// LayerNorm over the sum.
    pub layer_norm: LayerNorm,
    /// Dropout after the LayerNorm.
    pub dropout: Dropout,
}

impl HashformerEmbeddingsConfig {
    /// Builds the layer with the reference initialisation (truncated normal everywhere,
    /// padding rows random, LayerNorm γ = 1, β = 0).
    pub fn init(&self, device: &Device) -> HashformerEmbeddings {
        let h = self.hidden_size;
        let std = self.initializer_range;
        let token = match self.embedding_type {
            EmbeddingKind::Emb | EmbeddingKind::Bpe => TokenEmbedding::Bucket(
                BucketEmbeddingConfig::new(self.vocab_size, h)
                    .with_initializer_range(std)
                    .init(device),
            ),
            EmbeddingKind::Pool => TokenEmbedding::Pool(
                PoolEmbeddingConfig::new(h)
                    .with_component_dropout(self.component_dropout)
                    .with_initializer_range(std)
                    .init(device),
            ),
            EmbeddingKind::Add => TokenEmbedding::Add(
                AddEmbeddingConfig::new(h)
                    .with_drop_connect(self.drop_connect)
                    .with_initializer_range(std)
                    .init(device),
            ),
            EmbeddingKind::Proj => TokenEmbedding::Proj(
                ProjEmbeddingConfig::new(h)
                    .with_initializer_range(std)
                    .init(device),
            ),
        };
        let special_token_embeddings = (!self.embedding_type.takes_ids())
            .then(|| Param::from_tensor(trunc_normal([SPECIAL_TABLE_ROWS, h], std, device)));
        HashformerEmbeddings {
            token,
            special_token_embeddings,
            position_embeddings: Param::from_tensor(trunc_normal(
                [self.max_position_embeddings, h],
                std,
                device,
            )),
            token_type_embeddings: Param::from_tensor(trunc_normal(
                [self.type_vocab_size, h],
                std,
                device,
            )),
            layer_norm: LayerNormConfig::new(h)
                .with_epsilon(self.layer_norm_eps)
                .init(device),
            dropout: DropoutConfig::new(self.hidden_dropout_prob).init(),
        }
    }
}

/// RoBERTa position ids from the attention mask: `cumsum(mask) · mask + 1` (real tokens
/// 2, 3, …; padding 1).
///
/// # Shapes
/// - `attention_mask`: `[batch, seq_len]`
/// - output: `[batch, seq_len]`
pub fn position_ids(attention_mask: Tensor<2, Int>) -> Tensor<2, Int> {
    (attention_mask.clone().cumsum(1) * attention_mask).add_scalar(PAD_ID)
}

impl HashformerEmbeddings {
    /// Embeds a batch.
    ///
    /// # Shapes
    /// - input: see [`EmbeddingInput`]
    /// - output: `[batch, seq_len, hidden_size]`
    ///
    /// # Panics
    /// If the input kind does not match the model's variant (ids for Emb/BPE, bits for
    /// Add/Proj, chunk indices for Pool): batches are built from the same config, so this
    /// is a programming error.
    pub fn forward(&self, input: EmbeddingInput) -> Tensor<3> {
        let tokens = match (&self.token, input.tokens) {
            (TokenEmbedding::Bucket(m), TokenInput::Ids(ids)) => m.forward(ids),
            (
                TokenEmbedding::Add(m),
                TokenInput::Bits {
                    spec_ids,
                    hash_bits,
                },
            ) => self.special(spec_ids) + m.forward(hash_bits),
            (
                TokenEmbedding::Proj(m),
                TokenInput::Bits {
                    spec_ids,
                    hash_bits,
                },
            ) => self.special(spec_ids) + m.forward(hash_bits),
            (TokenEmbedding::Pool(m), TokenInput::Chunks { spec_ids, pool_ids }) => {
                self.special(spec_ids) + m.forward(pool_ids)
            }
            (module, tokens) => panic!(
                "embedding input does not match the model: {} module, {} input",
                module.name(),
                input_name(&tokens)
            ),
        };
        let positions = lookup_frozen_row(
            self.position_embeddings.val(),
            position_ids(input.attention_mask),
            PAD_ID,
        );
        let hidden = tokens.dims()[2];
        let token_type = self
            .token_type_embeddings
            .val()
            .slice([0..1, 0..hidden])
            .reshape([1, 1, hidden]);
        let sum = tokens + positions + token_type;
        self.dropout.forward(self.layer_norm.forward(sum))
    }

    fn special(&self, spec_ids: Tensor<2, Int>) -> Tensor<3> {
        let table = self
            .special_token_embeddings
            .as_ref()
            .expect("hash variants are built with a special-token table");
        lookup_frozen_row(table.val(), spec_ids, PAD_ID)
    }
}

impl TokenEmbedding {
    /// The module's name: `Emb/BPE`, `Pool`, `Add` or `Proj`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Bucket(_) => "Emb/BPE",
            Self::Pool(_) => "Pool",
            Self::Add(_) => "Add",
            Self::Proj(_) => "Proj",
        }
    }

    /// Whether this module reads the input of `kind` (a bucket table reads the ids of Emb and
    /// of the BPE baseline alike).
    pub fn reads(&self, kind: EmbeddingKind) -> bool {
        match self {
            Self::Bucket(_) => kind.takes_ids(),
            Self::Pool(_) => kind == EmbeddingKind::Pool,
            Self::Add(_) => kind == EmbeddingKind::Add,
            Self::Proj(_) => kind == EmbeddingKind::Proj,
        }
    }
}

fn input_name(t: &TokenInput) -> &'static str {
    match t {
        TokenInput::Ids(_) => "ids",
        TokenInput::Bits { .. } => "hash bits",
        TokenInput::Chunks { .. } => "Pool chunk",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints<const D: usize>(v: Vec<i64>, shape: [usize; D], device: &Device) -> Tensor<D, Int> {
        Tensor::from_data(TensorData::new(v, shape), device)
    }

    #[test]
    fn position_ids_follow_roberta() {
        let device = Device::flex();
        let mask = ints(vec![1, 1, 1, 0, 0, 1, 1, 1, 1, 1], [2, 5], &device);
        let pos: Vec<i64> = position_ids(mask).into_data().iter().collect();
        assert_eq!(pos, [2, 3, 4, 1, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn every_variant_embeds_its_input() {
        let device = Device::flex();
        let mask = ints(vec![1, 1, 1, 0], [1, 4], &device);
        let spec = ints(vec![0, 5, 2, 1], [1, 4], &device);
        for kind in [
            EmbeddingKind::Emb,
            EmbeddingKind::Bpe,
            EmbeddingKind::Pool,
            EmbeddingKind::Add,
            EmbeddingKind::Proj,
        ] {
            let emb = HashformerEmbeddingsConfig::new(kind, 8)
                .with_vocab_size(20)
                .init(&device);
            let tokens = match kind {
                EmbeddingKind::Emb | EmbeddingKind::Bpe => {
                    TokenInput::Ids(ints(vec![0, 7, 2, 1], [1, 4], &device))
                }
                EmbeddingKind::Pool => TokenInput::Chunks {
                    spec_ids: spec.clone(),
                    pool_ids: Tensor::<3, Int>::ones([1, 4, 13], &device),
                },
                EmbeddingKind::Add | EmbeddingKind::Proj => TokenInput::Bits {
                    spec_ids: spec.clone(),
                    hash_bits: Tensor::ones([1, 4, 128], &device),
                },
            };
            let out = emb.forward(EmbeddingInput {
                tokens,
                attention_mask: mask.clone(),
            });
            assert_eq!(out.dims(), [1, 4, 8], "{kind:?}");
        }
    }
}
