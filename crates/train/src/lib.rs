#![doc = include_str!("../README.md")]

pub mod bench;
mod collator;
mod error;
mod finetune;
mod mlm;
mod optim;
mod pretrain;
mod schedule;
mod seed;

pub use collator::{
    hash_special_mask, Labels, RandomContent, ShuffleRandom, IGNORE_LABEL, ORIGINAL, RANDOM,
    SHUFFLED,
};
pub use error::{Error, Result};
pub use finetune::{
    finetune, predict, Example, FinetuneConfig, FinetuneObserver, FinetuneSummary, Init, Target,
};
pub use mlm::MaskedLm;
pub use optim::{decays, AdamW, AdamWConfig, StepStats};
pub use pretrain::{
    latest_checkpoint, pretrain, time_train_steps, ClassCounts, EvalReport, Objective, Observer,
    Phases, PretrainConfig, PretrainModel, RunOptions, RunSummary, StepReport, StepTiming,
};
pub use schedule::{Decay, LrSchedule};
