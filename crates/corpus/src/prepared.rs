//! The prepared corpus on disk: `meta.json` and, per split, `<split>.txt` (one chunk per line)
//! with `<split>.idx` (little-endian `u64` byte offsets of every line start, then the end).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{CorpusProblem, Error, Result};
use crate::prepare::PrepareConfig;

/// Version of the on-disk layout, stored in `meta.json`. 2: inputs carry their sha256.
pub const FORMAT_VERSION: u32 = 2;
/// The metadata file of a prepared corpus.
pub const META_FILE: &str = "meta.json";
/// Bytes per entry of a `.idx` file.
const IDX_ENTRY: u64 = 8;

/// A split of a prepared corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// The training chunks.
    Train,
    /// The held-out chunks (whole documents never seen in training).
    Valid,
}

impl Split {
    /// Both splits.
    pub const ALL: [Split; 2] = [Split::Train, Split::Valid];

    /// `"train"` or `"valid"`: the stem of the split's files.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Valid => "valid",
        }
    }

    /// The split's text file in `dir`.
    pub fn text_path(self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.txt", self.name()))
    }

    /// The split's index file in `dir`.
    pub fn index_path(self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.idx", self.name()))
    }
}

/// An input file as it was when the corpus was prepared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// Canonical path.
    pub path: PathBuf,
    /// Size in bytes, as stored (compressed for gzip).
    pub size: u64,
    /// sha256 of the bytes as stored, lowercase hex: a file edited in place, even to the same
    /// size, is another input.
    pub sha256: String,
}

/// Counts of one split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitStats {
    /// Documents that gave at least one chunk to this split.
    pub documents: u64,
    /// Chunks (lines).
    pub chunks: u64,
    /// Words over all chunks.
    pub words: u64,
    /// Size of the text file in bytes.
    pub bytes: u64,
}

/// The contents of `meta.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpusMeta {
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// The files read, in order.
    pub inputs: Vec<InputFile>,
    /// The configuration used (without `overwrite`).
    pub config: PrepareConfig,
    /// Documents read from the inputs (with at least one paragraph).
    pub documents_read: u64,
    /// Whether reading stopped at `max_train_chunks` before the end of the inputs.
    pub reached_max_train_chunks: bool,
    /// The training split.
    pub train: SplitStats,
    /// The validation split.
    pub valid: SplitStats,
}

impl CorpusMeta {
    /// The counts of `split`.
    pub fn stats(&self, split: Split) -> &SplitStats {
        match split {
            Split::Train => &self.train,
            Split::Valid => &self.valid,
        }
    }

    /// Reads `dir/meta.json`.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read, [`Error::Json`] if it does not parse.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(META_FILE);
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| Error::Json { path, source })
    }
}

/// A prepared corpus directory, validated by [`PreparedCorpus::open`].
#[derive(Debug, Clone)]
pub struct PreparedCorpus {
    dir: PathBuf,
    meta: CorpusMeta,
}

impl PreparedCorpus {
    /// Opens a prepared corpus: reads `meta.json` and checks that both splits' files have the
    /// sizes it records and that their indexes start at 0 and end at the text's size.
    ///
    /// # Errors
    /// [`Error::Io`] / [`Error::Json`] for unreadable files, [`Error::PreparedCorrupt`] for
    /// another format version or sizes that do not match.
    pub fn open(dir: &Path) -> Result<Self> {
        let meta = CorpusMeta::read(dir)?;
        if meta.format_version != FORMAT_VERSION {
            return Err(Error::PreparedCorrupt {
                path: dir.join(META_FILE),
                reason: format!(
                    "format version {}, this build reads {FORMAT_VERSION}; prepare it again",
                    meta.format_version
                ),
            });
        }
        let corpus = Self {
            dir: dir.to_owned(),
            meta,
        };
        for split in Split::ALL {
            corpus.split(split)?;
        }
        Ok(corpus)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The metadata.
    pub fn meta(&self) -> &CorpusMeta {
        &self.meta
    }

    /// Opens one split for random access.
    ///
    /// # Errors
    /// As [`PreparedCorpus::open`], for this split's files.
    pub fn split(&self, split: Split) -> Result<ChunkFile> {
        ChunkFile::open(&self.dir, split, self.meta.stats(split))
    }
}

/// Random access to the chunks of one split: each read seeks to the chunk's byte range.
#[derive(Debug)]
pub struct ChunkFile {
    text_path: PathBuf,
    index_path: PathBuf,
    text: File,
    index: File,
    len: u64,
    bytes: u64,
}

impl ChunkFile {
    fn open(dir: &Path, split: Split, stats: &SplitStats) -> Result<Self> {
        let text_path = split.text_path(dir);
        let index_path = split.index_path(dir);
        let (text, text_size) = open_sized(&text_path)?;
        let (index, index_size) = open_sized(&index_path)?;
        let corrupt = |path: &Path, reason: String| Error::PreparedCorrupt {
            path: path.to_owned(),
            reason,
        };
        if text_size != stats.bytes {
            return Err(corrupt(
                &text_path,
                format!("{text_size} bytes, meta.json says {}", stats.bytes),
            ));
        }
        let expected = stats
            .chunks
            .checked_add(1)
            .and_then(|n| n.checked_mul(IDX_ENTRY));
        if Some(index_size) != expected {
            return Err(corrupt(
                &index_path,
                format!(
                    "{index_size} bytes, expected 8 × ({} chunks + 1)",
                    stats.chunks
                ),
            ));
        }
        let mut file = Self {
            text_path,
            index_path,
            text,
            index,
            len: stats.chunks,
            bytes: stats.bytes,
        };
        let first = file.offset(0)?;
        let last = file.offset(file.len)?;
        if first != 0 || last != file.bytes {
            return Err(corrupt(
                &file.index_path,
                format!("offsets run {first}..{last}, expected 0..{}", file.bytes),
            ));
        }
        Ok(file)
    }

    /// The number of chunks.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the split has no chunk.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The path of the split's text file.
    pub fn path(&self) -> &Path {
        &self.text_path
    }

    /// Chunk `index` (0-based; line `index + 1` of the text file), without its newline.
    ///
    /// # Errors
    /// [`Error::ChunkOutOfRange`] past the end; [`Error::PreparedCorrupt`] for offsets that
    /// are out of order or a line without its newline; [`Error::Corpus`] for invalid UTF-8;
    /// [`Error::Io`] if a read fails.
    pub fn get(&mut self, index: u64) -> Result<String> {
        if index >= self.len {
            return Err(Error::ChunkOutOfRange {
                path: self.text_path.clone(),
                index,
                len: self.len,
            });
        }
        let start = self.offset(index)?;
        let end = self.offset(index + 1)?;
        if start >= end || end > self.bytes {
            return Err(Error::PreparedCorrupt {
                path: self.index_path.clone(),
                reason: format!("chunk {index} has the byte range {start}..{end}"),
            });
        }
        let io = |source| Error::Io {
            path: self.text_path.clone(),
            source,
        };
        // `end - start <= self.bytes`, the size of a file that was opened, so it fits memory
        // only if the file does; a failed conversion means it cannot be held anyway.
        let len = usize::try_from(end - start).map_err(|_| Error::PreparedCorrupt {
            path: self.index_path.clone(),
            reason: format!("chunk {index} is too long for this platform"),
        })?;
        let mut buf = vec![0; len];
        self.text.seek(SeekFrom::Start(start)).map_err(io)?;
        self.text.read_exact(&mut buf).map_err(io)?;
        if buf.pop() != Some(b'\n') {
            return Err(Error::PreparedCorrupt {
                path: self.text_path.clone(),
                reason: format!("chunk {index} does not end with a newline"),
            });
        }
        String::from_utf8(buf).map_err(|e| Error::Corpus {
            path: self.text_path.clone(),
            line: index + 1,
            problem: CorpusProblem::InvalidUtf8 {
                byte: e.utf8_error().valid_up_to(),
            },
        })
    }

    /// The chunks at `indices`, in that order.
    ///
    /// # Errors
    /// As [`ChunkFile::get`].
    pub fn get_many(&mut self, indices: &[u64]) -> Result<Vec<String>> {
        indices.iter().map(|&i| self.get(i)).collect()
    }

    /// Entry `entry` of the index file (`entry <= len`).
    fn offset(&mut self, entry: u64) -> Result<u64> {
        let io = |source| Error::Io {
            path: self.index_path.clone(),
            source,
        };
        let mut buf = [0; IDX_ENTRY as usize];
        self.index
            .seek(SeekFrom::Start(entry * IDX_ENTRY))
            .map_err(io)?;
        self.index.read_exact(&mut buf).map_err(io)?;
        Ok(u64::from_le_bytes(buf))
    }
}

fn open_sized(path: &Path) -> Result<(File, u64)> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    Ok((file, size))
}
