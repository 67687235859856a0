//! The pre-training corpus (spec §7.2): streaming documents from corpus files, packing them
//! into chunks that fit the model, the prepared on-disk corpus, and seeded epoch orders.
//!
//! The data path has three steps:
//! 1. [`CorpusReader`] streams [`Document`]s from plain or gzip files (gzip is recognised by
//!    its magic bytes), in WikiExtractor `<doc>` blocks or blank-line separated plain text
//!    ([`CorpusFormat`]), one line at a time. Malformed input (invalid UTF-8, an unclosed or
//!    nested `<doc>`) is an error naming the file and line, never skipped.
//! 2. [`Packer`] turns a document's paragraphs into [`Chunk`]s of at most `max_words` words
//!    (`max_length − 2`, room for `<s>` and `</s>`), counted exactly as the hash tokeniser
//!    counts them ([`count_words`]). Paragraphs are joined by **one space**, so every chunk is
//!    one line; a chunk never spans two documents.
//! 3. [`prepare`] writes `train.txt`/`train.idx`, `valid.txt`/`valid.idx` and `meta.json`
//!    ([`CorpusMeta`]) atomically, holding out whole documents for validation;
//!    [`PreparedCorpus`] opens the result for random access ([`ChunkFile::get`]), and
//!    [`EpochOrder`] gives each epoch's seeded permutation and the batches along it
//!    ([`DataPosition`] is the resume state).
//!
//! # Differences from the reference (`preprocess_md5.py`)
//! - The reference sentence-splits each Wikipedia article with spaCy, packs sentences while
//!   under 512 *whitespace* words, and keeps **only the first chunk of each article**. Here
//!   paragraphs (lines) are packed, a too-long paragraph is cut at the word boundary where the
//!   limit falls (no sentence splitter), words are the tokeniser's words, and **every chunk is
//!   kept**. So no chunk is truncated by the tokeniser, and the corpus is several times larger
//!   per article.
//! - The reference drops the article title; so does the WikiExtractor reader (the first
//!   non-blank line of a `<doc>` block). It also cuts Wikipedia text at "See also",
//!   "References" or "Category"; WikiExtractor output has no such sections to cut.
//! - The reference shuffles 1% slices with seed 1234; here the prepared corpus keeps the
//!   input order and [`EpochOrder`] shuffles the whole split each epoch.

mod order;
mod pack;
mod parse;
mod prepare;
mod prepared;
mod read;

pub use crate::error::CorpusProblem;
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
