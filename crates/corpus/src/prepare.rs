//! `prepare`: corpus files → a prepared corpus directory, written atomically.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::pack::{Chunk, Packer};
use crate::prepared::{
    CorpusMeta, InputFile, PreparedCorpus, Split, SplitStats, FORMAT_VERSION, META_FILE,
};
use crate::read::{corpus_files, CorpusFormat, CorpusReader};

/// Words per chunk for the reference's `max_length` of 128 (`<s>` and `</s>` take two).
pub const DEFAULT_MAX_WORDS: usize = 126;
/// Progress is reported after every this many documents (and once at the end).
pub const PROGRESS_EVERY_DOCUMENTS: u64 = 4096;
const WRITE_BUFFER: usize = 1 << 20;

/// How [`prepare`] reads, packs and splits a corpus. Stored in `meta.json` (without
/// `overwrite`); a prepared directory is reused only for an equal config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrepareConfig {
    /// Most words per chunk: the model's `max_length` − 2.
    pub max_words: usize,
    /// Chunks with fewer words are dropped.
    pub min_words: usize,
    /// Every `valid_every`-th document (the 1st, the `valid_every + 1`-th, …) goes to the
    /// validation split while it has room.
    pub valid_every: u64,
    /// Size of the validation split in chunks; the document that fills it is cut there, and
    /// its remaining chunks are dropped (never given to training).
    pub max_valid_chunks: u64,
    /// Stop reading once the training split has this many chunks.
    pub max_train_chunks: Option<u64>,
    /// How the input files lay out documents.
    pub format: CorpusFormat,
    /// Replace an existing prepared corpus made from other inputs or another config.
    #[serde(skip)]
    pub overwrite: bool,
}

impl Default for PrepareConfig {
    fn default() -> Self {
        Self {
            max_words: DEFAULT_MAX_WORDS,
            min_words: 2,
            valid_every: 100,
            max_valid_chunks: 2000,
            max_train_chunks: None,
            format: CorpusFormat::Auto,
            overwrite: false,
        }
    }
}

impl PrepareConfig {
    /// Checks the fields and builds the packer.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field: see [`Packer::new`]; `valid_every` is 0.
    pub fn packer(&self) -> Result<Packer> {
        if self.valid_every == 0 {
            return Err(Error::InvalidConfig {
                field: "valid_every",
                reason: "must be at least 1 (use max_valid_chunks = 0 for no validation)".into(),
            });
        }
        Packer::new(self.max_words, self.min_words)
    }

    /// The config as stored in `meta.json`.
    pub(crate) fn recorded(&self) -> Self {
        Self {
            overwrite: false,
            ..self.clone()
        }
    }
}

/// Progress of [`prepare_with_progress`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrepareProgress {
    /// Bytes read from the input files as stored (compressed bytes for gzip).
    pub bytes_read: u64,
    /// Total size of the input files as stored.
    pub bytes_total: u64,
    /// Documents read.
    pub documents: u64,
    /// Training chunks written.
    pub train_chunks: u64,
    /// Validation chunks written.
    pub valid_chunks: u64,
}

/// [`prepare_with_progress`] without progress reports.
///
/// # Errors
/// As [`prepare_with_progress`].
pub fn prepare(
    inputs: &[PathBuf],
    out_dir: &Path,
    config: &PrepareConfig,
) -> Result<PreparedCorpus> {
    prepare_with_progress(inputs, out_dir, config, &mut |_| {})
}

/// Reads the corpus `inputs` (files, or directories: see [`corpus_files`]), packs every
/// document into chunks, holds out whole documents for validation, and writes the prepared
/// corpus to `out_dir`; `on_progress` is called every [`PROGRESS_EVERY_DOCUMENTS`] documents
/// and once at the end.
///
/// If `out_dir` already holds a prepared corpus of the same inputs (canonical paths, sizes
/// and sha256 of their bytes) and config, it is opened and returned without parsing the
/// inputs (they are only hashed). The corpus is
/// written into `<out_dir>.tmp-<pid>` and renamed to `out_dir` when complete, so `out_dir`
/// never holds a partial corpus; leftover `<out_dir>.tmp-*` directories of earlier runs are
/// removed first. One process at a time prepares a given `out_dir` (an OS lock on
/// `.<name>.lock` beside it); another is refused with [`Error::InUse`] naming the holder.
///
/// # Errors
/// - [`Error::InvalidConfig`] for a bad config; [`Error::NoCorpusFiles`] if `inputs` hold none;
/// - [`Error::OutputExists`] if `out_dir` holds a different prepared corpus and
///   `config.overwrite` is off, or holds anything else that is not empty (never replaced);
/// - [`Error::Corpus`], [`Error::ReadAt`] for bad input (file and line); [`Error::Io`].
pub fn prepare_with_progress(
    inputs: &[PathBuf],
    out_dir: &Path,
    config: &PrepareConfig,
    on_progress: &mut dyn FnMut(&PrepareProgress),
) -> Result<PreparedCorpus> {
    let packer = config.packer()?;
    let job = Job::of(inputs, InputMatch::Path)?;
    prepare_into(job, out_dir, config, &packer, Locking::Refuse, on_progress)
}

/// What [`prepare_into`] does while another process holds its output directory's lock.
pub(crate) enum Locking<'a> {
    /// Refuse with [`Error::InUse`]: the directory was named by the caller.
    Refuse,
    /// Tell the callback who holds it, then wait: that process is preparing (or checking)
    /// the same shared cache entry, which this one then opens.
    Wait(&'a mut dyn FnMut(&str)),
}

/// How the inputs recorded in an existing prepared corpus are compared with this run's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputMatch {
    /// The same canonical paths, sizes and sha256.
    Path,
    /// The same file names, sizes and sha256, wherever the files are (the shared cache).
    Content,
}

/// The input files of one preparation, described.
pub(crate) struct Job {
    pub(crate) files: Vec<PathBuf>,
    pub(crate) described: Vec<InputFile>,
    pub(crate) matching: InputMatch,
}

impl Job {
    /// The corpus files of `inputs`, described (each one hashed), to be matched by `matching`.
    pub(crate) fn of(inputs: &[PathBuf], matching: InputMatch) -> Result<Self> {
        let files = input_files(inputs)?;
        let described = describe_inputs(&files)?;
        Ok(Self {
            files,
            described,
            matching,
        })
    }
}

/// The corpus files of `inputs` ([`corpus_files`]), at least one.
fn input_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let files = corpus_files(inputs)?;
    if files.is_empty() {
        return Err(Error::NoCorpusFiles {
            inputs: inputs.to_vec(),
        });
    }
    Ok(files)
}

/// Prepares `job` into `out_dir` under its lock, or opens the same corpus already there.
pub(crate) fn prepare_into(
    job: Job,
    out_dir: &Path,
    config: &PrepareConfig,
    packer: &Packer,
    locking: Locking<'_>,
    on_progress: &mut dyn FnMut(&PrepareProgress),
) -> Result<PreparedCorpus> {
    // One process at a time prepares (or checks) `out_dir`; the lock is released on return.
    let _lock = lock(out_dir, locking)?;
    let replace = match existing(out_dir, &job.described, job.matching, config)? {
        Existing::Missing => false,
        Existing::Same => return PreparedCorpus::open(out_dir),
        Existing::Replaceable => true,
    };
    let tmp = temp_dir(out_dir)?;
    let written = write_corpus(&tmp, job.files, job.described, config, packer, on_progress)
        .and_then(|()| {
            if replace {
                fs::remove_dir_all(out_dir).map_err(io_at(out_dir))?;
            }
            fs::rename(&tmp, out_dir).map_err(io_at(out_dir))
        });
    if let Err(e) = written {
        // Best effort: the error that stopped the run matters more than a leftover.
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    PreparedCorpus::open(out_dir)
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

fn describe_inputs(files: &[PathBuf]) -> Result<Vec<InputFile>> {
    files
        .iter()
        .map(|file| {
            let path = fs::canonicalize(file).map_err(io_at(file))?;
            let (size, sha256) = content_hash(&path)?;
            Ok(InputFile { path, size, sha256 })
        })
        .collect()
}

/// The size and sha256 (lowercase hex) of the file at `path`.
fn content_hash(path: &Path) -> Result<(u64, String)> {
    let mut file = fs::File::open(path).map_err(io_at(path))?;
    let mut sink = hashformer_files::HashSink::default();
    std::io::copy(&mut file, &mut sink).map_err(io_at(path))?;
    Ok(sink.finish())
}

enum Existing {
    /// Nothing at `out_dir`.
    Missing,
    /// A prepared corpus of the same inputs and config.
    Same,
    /// An empty directory, or a different prepared corpus with `overwrite` on.
    Replaceable,
}

fn existing(
    out_dir: &Path,
    inputs: &[InputFile],
    matching: InputMatch,
    config: &PrepareConfig,
) -> Result<Existing> {
    if fs::symlink_metadata(out_dir).is_err() {
        return Ok(Existing::Missing);
    }
    let refuse = |reason: String| Error::OutputExists {
        dir: out_dir.to_owned(),
        reason,
    };
    if !out_dir.join(META_FILE).exists() {
        let mut entries = fs::read_dir(out_dir).map_err(io_at(out_dir))?;
        return match entries.next() {
            None => Ok(Existing::Replaceable),
            Some(_) => Err(refuse(format!(
                "exists and is not a prepared corpus (no {META_FILE}); not replacing it"
            ))),
        };
    }
    let difference = match CorpusMeta::read(out_dir) {
        Err(e) => {
            let cause =
                std::error::Error::source(&e).map_or_else(String::new, |c| format!(": {c}"));
            format!("its {META_FILE} is unreadable ({e}{cause})")
        }
        Ok(meta) if meta.format_version != FORMAT_VERSION => format!(
            "it has format version {}, not {FORMAT_VERSION}",
            meta.format_version
        ),
        Ok(meta) if !same_inputs(&meta.inputs, inputs, matching) => {
            "it was prepared from other input files".into()
        }
        Ok(meta) if meta.config != config.recorded() => format!(
            "it was prepared with another config ({})",
            serde_json::to_string(&meta.config).unwrap_or_default()
        ),
        Ok(_) => return Ok(Existing::Same),
    };
    if config.overwrite {
        Ok(Existing::Replaceable)
    } else {
        Err(refuse(format!(
            "holds a different prepared corpus: {difference}; set overwrite to replace it"
        )))
    }
}

/// Whether the `recorded` inputs of a prepared corpus are this run's `inputs`.
fn same_inputs(recorded: &[InputFile], inputs: &[InputFile], matching: InputMatch) -> bool {
    match matching {
        InputMatch::Path => recorded == inputs,
        InputMatch::Content => {
            let content = |f: &InputFile| {
                (
                    f.path.file_name().map(ToOwned::to_owned),
                    f.size,
                    f.sha256.clone(),
                )
            };
            recorded.len() == inputs.len()
                && recorded.iter().map(content).eq(inputs.iter().map(content))
        }
    }
}

/// Locks `out_dir` for this process, through `.<name>.lock` beside it (the directory itself
/// is replaced by a rename), refusing or waiting while another holds it.
fn lock(out_dir: &Path, locking: Locking<'_>) -> Result<hashformer_files::DirLock> {
    let (parent, name) = parent_and_name(out_dir)?;
    let file = parent.join(format!(".{name}.lock"));
    Ok(match locking {
        Locking::Refuse => hashformer_files::DirLock::acquire(&file, out_dir)?,
        Locking::Wait(on_wait) => hashformer_files::DirLock::acquire_waiting(&file, on_wait)?,
    })
}

/// The folder `out_dir` is in (`.` for a bare name) and its final name.
fn parent_and_name(out_dir: &Path) -> Result<(PathBuf, String)> {
    let name = out_dir
        .file_name()
        .ok_or_else(|| Error::Io {
            path: out_dir.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the output directory needs a final name",
            ),
        })?
        .to_string_lossy()
        .into_owned();
    let parent = match out_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

/// Creates `<out_dir>.tmp-<pid>` after removing any `<out_dir>.tmp-*` left by earlier runs
/// (killed ones: the caller holds the lock, so no live process is writing one).
fn temp_dir(out_dir: &Path) -> Result<PathBuf> {
    let (parent, name) = parent_and_name(out_dir)?;
    fs::create_dir_all(&parent).map_err(io_at(&parent))?;
    let prefix = format!("{name}.tmp-");
    for entry in fs::read_dir(&parent).map_err(io_at(&parent))? {
        let entry = entry.map_err(io_at(&parent))?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let stale = entry.path();
            fs::remove_dir_all(&stale).map_err(io_at(&stale))?;
        }
    }
    let tmp = parent.join(format!("{prefix}{}", std::process::id()));
    fs::create_dir(&tmp).map_err(io_at(&tmp))?;
    Ok(tmp)
}

/// Reads, packs and writes everything into `dir` (the temporary directory).
fn write_corpus(
    dir: &Path,
    files: Vec<PathBuf>,
    inputs: Vec<InputFile>,
    config: &PrepareConfig,
    packer: &Packer,
    on_progress: &mut dyn FnMut(&PrepareProgress),
) -> Result<()> {
    let mut reader = CorpusReader::new(files, config.format);
    let mut train = SplitWriter::create(dir, Split::Train)?;
    let mut valid = SplitWriter::create(dir, Split::Valid)?;
    let mut progress = PrepareProgress {
        bytes_total: inputs.iter().map(|f| f.size).sum(),
        ..PrepareProgress::default()
    };
    let mut reached_max_train_chunks = false;
    loop {
        if config
            .max_train_chunks
            .is_some_and(|max| train.stats.chunks >= max)
        {
            reached_max_train_chunks = true;
            break;
        }
        let Some(document) = reader.next().transpose()? else {
            break;
        };
        let index = progress.documents;
        progress.documents += 1;
        let chunks = packer.pack(&document.paragraphs);
        if valid.stats.chunks < config.max_valid_chunks && index.is_multiple_of(config.valid_every)
        {
            valid.write_document(&chunks, config.max_valid_chunks)?;
        } else {
            train.write_document(&chunks, config.max_train_chunks.unwrap_or(u64::MAX))?;
        }
        if progress.documents.is_multiple_of(PROGRESS_EVERY_DOCUMENTS) {
            progress.bytes_read = reader.bytes_read();
            progress.train_chunks = train.stats.chunks;
            progress.valid_chunks = valid.stats.chunks;
            on_progress(&progress);
        }
    }
    progress.bytes_read = reader.bytes_read();
    progress.train_chunks = train.stats.chunks;
    progress.valid_chunks = valid.stats.chunks;
    on_progress(&progress);
    let meta = CorpusMeta {
        format_version: FORMAT_VERSION,
        inputs,
        config: config.recorded(),
        documents_read: progress.documents,
        reached_max_train_chunks,
        train: train.finish()?,
        valid: valid.finish()?,
    };
    let path = dir.join(META_FILE);
    let mut json = serde_json::to_vec_pretty(&meta).map_err(|source| Error::Json {
        path: path.clone(),
        source,
    })?;
    json.push(b'\n');
    write_synced(&path, &json)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = File::create(path).map_err(io_at(path))?;
    file.write_all(bytes).map_err(io_at(path))?;
    file.sync_all().map_err(io_at(path))
}

/// Appends chunks to one split's text and index files.
struct SplitWriter {
    text_path: PathBuf,
    index_path: PathBuf,
    text: BufWriter<File>,
    index: BufWriter<File>,
    stats: SplitStats,
}

impl SplitWriter {
    fn create(dir: &Path, split: Split) -> Result<Self> {
        let text_path = split.text_path(dir);
        let index_path = split.index_path(dir);
        let text = File::create(&text_path).map_err(io_at(&text_path))?;
        let index = File::create(&index_path).map_err(io_at(&index_path))?;
        Ok(Self {
            text: BufWriter::with_capacity(WRITE_BUFFER, text),
            index: BufWriter::with_capacity(WRITE_BUFFER, index),
            text_path,
            index_path,
            stats: SplitStats::default(),
        })
    }

    /// Writes a document's chunks, as many as fit under `max_chunks` in the split.
    fn write_document(&mut self, chunks: &[Chunk], max_chunks: u64) -> Result<()> {
        let room = max_chunks.saturating_sub(self.stats.chunks);
        let take = usize::try_from(room).map_or(chunks.len(), |room| room.min(chunks.len()));
        if take == 0 {
            return Ok(());
        }
        self.stats.documents += 1;
        for chunk in &chunks[..take] {
            self.index
                .write_all(&self.stats.bytes.to_le_bytes())
                .map_err(io_at(&self.index_path))?;
            self.text
                .write_all(chunk.text.as_bytes())
                .and_then(|()| self.text.write_all(b"\n"))
                .map_err(io_at(&self.text_path))?;
            self.stats.bytes += chunk.text.len() as u64 + 1;
            self.stats.chunks += 1;
            self.stats.words += chunk.words as u64;
        }
        Ok(())
    }

    /// Writes the final offset, flushes and syncs both files.
    fn finish(mut self) -> Result<SplitStats> {
        self.index
            .write_all(&self.stats.bytes.to_le_bytes())
            .map_err(io_at(&self.index_path))?;
        for (writer, path) in [(self.text, &self.text_path), (self.index, &self.index_path)] {
            let file = writer.into_inner().map_err(|e| Error::Io {
                path: path.clone(),
                source: e.into_error(),
            })?;
            file.sync_all().map_err(io_at(path))?;
        }
        Ok(self.stats)
    }
}
