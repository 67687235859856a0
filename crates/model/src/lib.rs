#![doc = include_str!("../README.md")]

mod attention;
mod checkpoint;
mod config;
mod convert;
mod error;
mod hf;
mod hf_keys;
mod init;
mod input;
mod layer;
mod model;
mod params;
mod precision;
mod weights_check;

pub use attention::{SelfAttention, SelfAttentionConfig, MASKED_SCORE};
pub use checkpoint::{load_config, load_weights, save, CONFIG_FILE, WEIGHTS_FILE};
pub use config::{HashformerConfig, DEFAULT_BUCKETS};
pub use convert::{
    from_reference, reference_config_json, to_reference, Converted, ReferenceScheme, PICKLE_FILE,
};
pub use error::{Error, Result};
pub use hf::{HfConfig, ReferenceVocabCode};
pub use input::{EncodedBatch, TextEncoder};
pub use layer::{attention_bias, Encoder, EncoderConfig, EncoderLayer};
pub use model::{
    ClassificationHead, HashformerForMaskedLm, HashformerForPretraining,
    HashformerForSequenceClassification, HashformerModel, LmHead, PRETRAIN_CLASSES,
};
pub use params::ModelParameters;
pub use precision::{Precision, UnknownPrecision};
pub use weights_check::parameters_are_finite;
