//! Streaming corpus reader: documents from plain-text or gzip files, in WikiExtractor
//! `<doc>` blocks or blank-line separated plain text, read one line at a time.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};

use crate::error::{CorpusProblem, Error, Result};
use crate::parse::Parser;

/// The first two bytes of every gzip member.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Read-buffer size of the line reader.
const READ_BUFFER: usize = 1 << 18;
/// The UTF-8 byte-order mark, dropped from the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";
/// Names (before the first `.`, any case) of files that a directory input skips: the
/// documentation that travels with a corpus, such as `SOURCES.txt` or `README.md`.
const SKIPPED_STEMS: [&str; 4] = ["readme", "sources", "license", "checksums"];

/// How a corpus file lays out its documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorpusFormat {
    /// Per file: WikiExtractor when its first non-blank line starts with `<doc`, else plain text.
    #[default]
    Auto,
    /// WikiExtractor output: `<doc …>` … `</doc>` blocks whose first non-blank line (the
    /// title) is dropped; every other non-blank line is a paragraph.
    WikiExtractor,
    /// Documents separated by blank lines; every non-blank line is a paragraph.
    PlainText,
}

/// Where a document starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocSource {
    /// Index of the file in the reader's file list ([`CorpusReader::files`]).
    pub file: usize,
    /// 1-based line of the `<doc …>` line, or of the first paragraph in plain text.
    pub line: u64,
}

/// One document: its paragraphs, in order, each trimmed of surrounding whitespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The non-blank lines of the document (the title excluded), trimmed.
    pub paragraphs: Vec<String>,
    /// Where the document starts.
    pub source: DocSource,
}

/// Expands corpus inputs into the files to read: a file is taken as it is; a directory gives
/// its regular files sorted by name, without descending, skipping hidden files (`.x`) and
/// documentation (`README*`, `SOURCES*`, `LICENSE*`, `CHECKSUMS*`, any case).
///
/// # Errors
/// [`Error::Io`] if an input cannot be inspected or a directory listed.
pub fn corpus_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    let mut files = Vec::new();
    for input in inputs {
        if !std::fs::metadata(input).map_err(io(input))?.is_dir() {
            files.push(input.clone());
            continue;
        }
        let mut listed = Vec::new();
        for entry in std::fs::read_dir(input).map_err(io(input))? {
            let entry = entry.map_err(io(input))?;
            let path = entry.path();
            if is_corpus_name(&entry.file_name().to_string_lossy())
                && std::fs::metadata(&path).map_err(io(&path))?.is_file()
            {
                listed.push(path);
            }
        }
        listed.sort();
        files.extend(listed);
    }
    Ok(files)
}

fn is_corpus_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default();
    !name.starts_with('.') && !SKIPPED_STEMS.iter().any(|s| stem.eq_ignore_ascii_case(s))
}

/// Reads the documents of corpus files in order, one line at a time, never holding more
/// than one document in memory. Gzip files (one or more members) are recognised by their
/// magic bytes, whatever their name.
///
/// The iterator yields `Err` once, for the first malformed line or failed read, then ends.
#[derive(Debug)]
pub struct CorpusReader {
    files: Vec<PathBuf>,
    format: CorpusFormat,
    next_file: usize,
    open: Option<OpenFile>,
    compressed_read: Arc<AtomicU64>,
    failed: bool,
}

impl CorpusReader {
    /// A reader of `files` (see [`corpus_files`] to expand directories) in `format`. Files
    /// are opened lazily, as the iteration reaches them.
    pub fn new(files: Vec<PathBuf>, format: CorpusFormat) -> Self {
        Self {
            files,
            format,
            next_file: 0,
            open: None,
            compressed_read: Arc::new(AtomicU64::new(0)),
            failed: false,
        }
    }

    /// The files, in reading order ([`DocSource::file`] indexes this list).
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Bytes read so far from the files as stored (compressed bytes for gzip), for progress.
    pub fn bytes_read(&self) -> u64 {
        self.compressed_read.load(Ordering::Relaxed)
    }

    fn next_document(&mut self) -> Result<Option<Document>> {
        loop {
            if self.open.is_none() {
                let Some(path) = self.files.get(self.next_file) else {
                    return Ok(None);
                };
                let reader = open_text(path, &self.compressed_read)?;
                self.open = Some(OpenFile::new(self.next_file, reader, self.format));
                self.next_file += 1;
            }
            let Some(file) = self.open.as_mut() else {
                continue;
            };
            let path = &self.files[file.index];
            match file.next_document(path)? {
                Some(doc) => return Ok(Some(doc)),
                None => self.open = None,
            }
        }
    }
}

impl Iterator for CorpusReader {
    type Item = Result<Document>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let next = self.next_document();
        self.failed = next.is_err();
        next.transpose()
    }
}

/// Opens a corpus file for line reading, decompressing it when it starts with the gzip magic.
fn open_text(path: &Path, counter: &Arc<AtomicU64>) -> Result<Box<dyn BufRead + Send>> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut file, &mut magic).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let counted = CountingRead {
        inner: file,
        count: Arc::clone(counter),
    };
    Ok(if n == magic.len() && magic == GZIP_MAGIC {
        Box::new(BufReader::with_capacity(
            READ_BUFFER,
            MultiGzDecoder::new(counted),
        ))
    } else {
        Box::new(BufReader::with_capacity(READ_BUFFER, counted))
    })
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Counts the bytes read through it into a shared counter.
struct CountingRead<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The file being read: its lines and the parser state.
struct OpenFile {
    index: usize,
    lines: LineReader,
    parser: Parser,
}

impl std::fmt::Debug for OpenFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenFile")
            .field("index", &self.index)
            .field("line", &self.lines.line)
            .finish_non_exhaustive()
    }
}

impl OpenFile {
    fn new(index: usize, reader: Box<dyn BufRead + Send>, format: CorpusFormat) -> Self {
        Self {
            index,
            lines: LineReader {
                reader,
                buf: Vec::new(),
                line: 0,
            },
            parser: Parser::new(index, format),
        }
    }

    /// The next document of this file, or `None` at its end.
    fn next_document(&mut self, path: &Path) -> Result<Option<Document>> {
        let at = |line, problem| Error::Corpus {
            path: path.to_owned(),
            line,
            problem,
        };
        while let Some((line, text)) = self.lines.next_line(path)? {
            if let Some(doc) = self.parser.feed(text, line).map_err(|p| at(line, p))? {
                return Ok(Some(doc));
            }
        }
        let eof_line = self.lines.line;
        self.parser
            .finish(eof_line)
            .map_err(|(line, p)| at(line, p))
    }
}

struct LineReader {
    reader: Box<dyn BufRead + Send>,
    buf: Vec<u8>,
    /// 1-based number of the last line read (0 before the first).
    line: u64,
}

impl LineReader {
    /// The next line and its number, without its `\n` / `\r\n` (and, on line 1, without a
    /// BOM).
    fn next_line(&mut self, path: &Path) -> Result<Option<(u64, &str)>> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| Error::ReadAt {
                path: path.to_owned(),
                line: self.line + 1,
                source,
            })?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut bytes = self.buf.as_slice();
        bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if self.line == 1 {
            bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        }
        let line = self.line;
        std::str::from_utf8(bytes)
            .map(|text| Some((line, text)))
            .map_err(|e| Error::Corpus {
                path: path.to_owned(),
                line: self.line,
                problem: CorpusProblem::InvalidUtf8 {
                    byte: e.valid_up_to(),
                },
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_directory_names() {
        for (name, kept) in [
            ("AA.txt.gz", true),
            ("wiki_00", true),
            ("SOURCES.txt", false),
            ("readme.md", false),
            ("LICENSE", false),
            (".hidden.txt", false),
            ("sources_of_x.txt", true),
        ] {
            assert_eq!(is_corpus_name(name), kept, "{name}");
        }
    }
}
