#![doc = include_str!("../README.md")]

mod cache;
mod error;
mod order;
mod pack;
mod parse;
mod prepare;
mod prepared;
mod read;

pub use cache::{prepare_cached, CORPORA_DIR};
pub use error::{CorpusProblem, Error, Result};
pub use order::{DataPosition, EpochOrder};
pub use pack::{count_words, Chunk, Packer};
pub use prepare::{
    prepare, prepare_with_progress, PrepareConfig, PrepareProgress, DEFAULT_MAX_WORDS,
    PROGRESS_EVERY_DOCUMENTS,
};
pub use prepared::{
    ChunkFile, CorpusMeta, InputFile, PreparedCorpus, Split, SplitStats, FORMAT_VERSION, META_FILE,
};
pub use read::{corpus_files, CorpusFormat, CorpusReader, DocSource, Document};
