#![doc = include_str!("../README.md")]

mod add;
mod bucket;
mod embeddings;
mod frozen;
mod init;
mod kind;
mod params;
mod pool;
mod proj;
mod variant;

pub use add::{AddEmbedding, AddEmbeddingConfig};
pub use bucket::{BpeEmbedding, BucketEmbedding, BucketEmbeddingConfig, PAD_ID};
pub use embeddings::{
    position_ids, EmbeddingInput, HashformerEmbeddings, HashformerEmbeddingsConfig, TokenEmbedding,
    TokenInput, SPECIAL_TABLE_ROWS,
};
pub use frozen::lookup_frozen_row;
pub use init::trunc_normal;
pub use kind::EmbeddingKind;
pub use params::EmbeddingParameters;
pub use pool::{PoolEmbedding, PoolEmbeddingConfig};
pub use proj::{ProjEmbedding, ProjEmbeddingConfig};
pub use variant::Variant;
