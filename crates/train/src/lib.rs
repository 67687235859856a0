#![doc = include_str!("../README.md")]

mod collator;

pub use collator::{
    hash_special_mask, Labels, RandomContent, ShuffleRandom, IGNORE_LABEL, ORIGINAL, RANDOM,
    SHUFFLED,
};
