#![doc = include_str!("../README.md")]

mod collator;
mod error;
mod finetune;
mod loss_scale;
mod mlm;
mod optim;
mod pretrain;
mod schedule;
mod seed;
mod steps;
pub mod timing;

pub use collator::{
    hash_special_mask, Labels, RandomContent, ShuffleRandom, IGNORE_LABEL, ORIGINAL, RANDOM,
    SHUFFLED,
};
pub use error::{Error, Result};
pub use finetune::{
    finetune, predict, Example, FinetuneConfig, FinetuneObserver, FinetuneSummary, FinetuneTask,
    Init, Target,
};
pub use loss_scale::LossScale;
pub use mlm::MaskedLm;
pub use optim::{decays, AdamW, AdamWConfig, StepStats};
pub use pretrain::{
    compare_runs, held_out_evaluations, latest_checkpoint, pretrain, recorded_corpus, ClassCounts,
    ClassRecall, ComparedRun, EvalReport, HeldOut, Objective, Observer, Phases, PretrainConfig,
    PretrainModel, RunComparison, RunOptions, RunSummary, StepReport,
};
pub use schedule::{Decay, LrSchedule};
