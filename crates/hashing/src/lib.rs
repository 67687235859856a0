#![doc = include_str!("../README.md")]

mod bpe;
mod bpe_encoder;
mod cache;
mod encode;
mod error;
mod hasher;
mod load;
mod lsh;
mod md5;
mod md5_lanes;
mod mt19937;
mod pretokenize;
mod rotator;
mod signature;
mod special;

pub use bpe::{BpePiece, RobertaBpe};
pub use bpe_encoder::BpeEncoder;
pub use cache::{CachedHasher, WordMemo, DEFAULT_CACHE_CAPACITY};
pub use encode::{
    layout_pair, layout_single, pair_truncation, position_ids, HashSequence, IdSequence, Layout,
    SequenceEncoder, Slot, TextInput, MIN_MAX_LENGTH,
};
pub use error::{Error, Result};
pub use hasher::{HashKind, TokenHasher};
pub use lsh::{
    features, variant_string, Feature, LshConfig, LshHasher, MAX_EXACT_WORD_CHARS, ROTATOR_SEED,
};
pub use md5::Md5Hasher;
pub use mt19937::LegacyRandomState;
pub use pretokenize::{is_py_space, is_py_word, pre_tokenize, py_lower, split_words, Words};
pub use signature::Signature;
pub use special::{
    SpecialToken, DEFAULT_MD5_KEY, DEFAULT_NUM_BUCKETS, HASH_ID_OFFSET, NUM_HASH_BITS,
    NUM_SPECIAL_TOKENS, ORDINARY_TOKEN_SPEC, POOL_CHUNKS, POOL_TABLE_ROWS,
};
