#![doc = include_str!("../README.md")]

pub mod bench;
mod collator;
pub mod corpus;
mod encoder;
mod error;
mod finetune;
mod infer;
pub mod log;
mod mlm;
mod optim;
pub mod plot;
mod pretrain;
mod schedule;

pub use collator::{
    hash_special_mask, Labels, RandomContent, ShuffleRandom, IGNORE_LABEL, ORIGINAL, RANDOM,
    SHUFFLED,
};
pub use encoder::{EncodedBatch, TextEncoder};
pub use error::{Error, Result};
pub use finetune::{
    finetune, predict, Example, FinetuneConfig, FinetuneObserver, FinetuneSummary, Init, Output,
    Target,
};
pub use infer::{embed, predict_scores, Pooling};
pub use mlm::MaskedLm;
pub use optim::{decays, AdamW, AdamWConfig, StepStats};
pub use pretrain::{
    latest_checkpoint, pretrain, time_train_steps, ClassCounts, EvalReport, Objective, Observer,
    Phases, PretrainConfig, PretrainModel, RunOptions, RunSummary, StepReport, StepTiming,
};
pub use schedule::{Decay, LrSchedule};
