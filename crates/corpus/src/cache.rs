//! The shared cache of prepared corpora: one prepared corpus per input content and packing
//! config, in `CACHE/corpora/KEY`, so that every run of the same corpus and `max_length`
//! reuses one copy (227 MB for the Wikipedia corpus at 128) instead of preparing its own.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Result;
use crate::prepare::{prepare_into, InputMatch, Job, Locking};
use crate::prepared::{InputFile, FORMAT_VERSION};
use crate::{PrepareConfig, PrepareProgress, PreparedCorpus};

/// The folder of the cache directory that holds prepared corpora.
pub const CORPORA_DIR: &str = "corpora";

/// Hex digits of the key in a cached corpus's folder name (80 bits).
const KEY_DIGITS: usize = 20;

/// What a cached corpus's key is computed from: everything its bytes depend on.
#[derive(Serialize)]
struct KeyMaterial<'a> {
    format_version: u32,
    config: PrepareConfig,
    /// File name, size and sha256 of each input, in reading order; not the directory, so
    /// two copies of one corpus share an entry.
    inputs: Vec<(String, u64, &'a str)>,
}

/// The folder under `cache_root` for a corpus of the `described` inputs with `config`.
fn cached_dir(cache_root: &Path, described: &[InputFile], config: &PrepareConfig) -> PathBuf {
    let material = KeyMaterial {
        format_version: FORMAT_VERSION,
        config: config.recorded(),
        inputs: described
            .iter()
            .map(|f| {
                let name = f.path.file_name().unwrap_or_default();
                (
                    name.to_string_lossy().into_owned(),
                    f.size,
                    f.sha256.as_str(),
                )
            })
            .collect(),
    };
    let mut sink = hashformer_files::HashSink::default();
    // Serialising plain data into memory cannot fail.
    serde_json::to_writer(&mut sink, &material).unwrap_or_default();
    let (_, digest) = sink.finish();
    cache_root
        .join(CORPORA_DIR)
        .join(&digest[..KEY_DIGITS.min(digest.len())])
}

/// Prepares the corpus `inputs` with `config` into the shared cache under `cache_root`
/// (`cache_root/corpora/KEY`, KEY from the inputs' names, sizes and sha256 and the config),
/// or opens the one already there: runs of the same corpus and packing share one prepared
/// corpus, wherever their input files lie. [`PreparedCorpus::dir`] says where it is.
///
/// Preparation is as in [`crate::prepare_with_progress`] (a temporary directory renamed into
/// place, one process at a time per entry), except that where another process holds the
/// entry (two runs of one corpus started together), `on_wait` is told who
/// (`PID 123: hashformer pretrain …`) and this one waits for it, then opens what it prepared.
///
/// # Errors
/// As [`crate::prepare_with_progress`] but never [`crate::Error::InUse`];
/// [`crate::Error::Io`] if the cache cannot be created.
pub fn prepare_cached(
    inputs: &[PathBuf],
    cache_root: &Path,
    config: &PrepareConfig,
    on_progress: &mut dyn FnMut(&PrepareProgress),
    on_wait: &mut dyn FnMut(&str),
) -> Result<PreparedCorpus> {
    let packer = config.packer()?;
    let job = Job::of(inputs, InputMatch::Content)?;
    let out_dir = cached_dir(cache_root, &job.described, config);
    let parent = cache_root.join(CORPORA_DIR);
    std::fs::create_dir_all(&parent).map_err(|source| crate::Error::Io {
        path: parent,
        source,
    })?;
    prepare_into(
        job,
        &out_dir,
        config,
        &packer,
        Locking::Wait(on_wait),
        on_progress,
    )
}
