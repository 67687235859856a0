//! Metrics as JSON lines: one compact JSON object per line, each with a numeric `"step"`, in a
//! run directory (method §7, the training loop's log; the reference logs through HF `Trainer`'s
//! `log_history`). Append-only while training, each line flushed as it is written; on resume
//! the lines past the checkpoint's step are cut, so no step is logged twice.
//!
//! The log is generic: any `Serialize` value that becomes a JSON object with a non-negative
//! integer `"step"` is a record. Non-finite floats become `null` (`serde_json`'s rule).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::error::LogError;
use hashformer_files::write_atomic;

/// One record of a metrics log: a JSON object such as
/// `{"split":"train","step":120,"loss":0.61,…}`.
pub type Record = serde_json::Map<String, Value>;

/// An open metrics log, appending one JSON line per [`MetricsLog::log`] call.
#[derive(Debug)]
pub struct MetricsLog {
    path: PathBuf,
    file: File,
    /// Bytes in the file, all complete lines (a failed write is cut back to this).
    len: u64,
    /// Records in the file, for the line numbers of errors.
    lines: usize,
}

impl MetricsLog {
    /// Starts a new, empty log at `path`, creating its parent directories and truncating any
    /// previous file (a run that starts from scratch owns its log).
    ///
    /// # Errors
    /// [`LogError::Io`] if the directory or file cannot be created.
    pub fn create(path: &Path) -> Result<Self, LogError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io_error(dir))?;
        }
        let file = File::create(path).map_err(io_error(path))?;
        Ok(Self {
            path: path.to_owned(),
            file,
            len: 0,
            lines: 0,
        })
    }

    /// Reopens the log of a run resumed from the checkpoint of `last_step`: keeps the lines
    /// whose `"step"` is at most `last_step` (dropping a line cut short by a crash), rewrites
    /// the file atomically if that changed it, and appends from there. A missing file is
    /// treated as empty (the run stopped before its first line).
    ///
    /// # Errors
    /// [`LogError::Io`] if the file cannot be read or rewritten; [`LogError::Json`] or
    /// [`LogError::Record`] for a malformed line other than a truncated last one.
    pub fn resume(path: &Path, last_step: u64) -> Result<Self, LogError> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_error(path)(e)),
        };
        let mut kept = Vec::with_capacity(bytes.len());
        let mut lines = 0;
        for line in parse_lines(path, &bytes)? {
            if line.step <= last_step {
                kept.extend_from_slice(line.raw);
                kept.push(b'\n');
                lines += 1;
            }
        }
        if kept != bytes {
            write_atomic(path, &kept).map_err(io_error(path))?;
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_error(path))?;
        let len = file.seek(SeekFrom::End(0)).map_err(io_error(path))?;
        Ok(Self {
            path: path.to_owned(),
            file,
            len,
            lines,
        })
    }

    /// Appends `record` as one compact JSON line and flushes it to the OS, so a crash loses at
    /// most this line. If the write fails, the file is cut back to its last complete line.
    ///
    /// # Errors
    /// [`LogError::Json`] if `record` fails to serialise, [`LogError::Record`] if it is not an
    /// object with a non-negative integer `"step"`, [`LogError::Io`] if the write fails.
    pub fn log<T: Serialize + ?Sized>(&mut self, record: &T) -> Result<(), LogError> {
        let line = self.lines + 1;
        let json_error = |e: serde_json::Error| LogError::Json {
            path: self.path.clone(),
            line,
            column: 0,
            message: e.to_string(),
        };
        let value = serde_json::to_value(record).map_err(json_error)?;
        into_record(value).map_err(|reason| LogError::Record {
            path: self.path.clone(),
            line,
            reason,
        })?;
        // Serialise the value itself (not `value`) to keep the struct's field order.
        let mut bytes = serde_json::to_vec(record).map_err(json_error)?;
        bytes.push(b'\n');
        if let Err(e) = self.file.write_all(&bytes).and_then(|()| self.file.flush()) {
            // Best effort: a partial line would make every later line unreadable.
            let _ = self.file.set_len(self.len);
            let _ = self.file.seek(SeekFrom::Start(self.len));
            return Err(io_error(&self.path)(e));
        }
        self.len += bytes.len() as u64;
        self.lines = line;
        Ok(())
    }

    /// Forces the written lines to disk (`fsync`). Call it when a checkpoint is saved, so the
    /// log survives a power loss as far as the checkpoint does.
    ///
    /// # Errors
    /// [`LogError::Io`] if the sync fails.
    pub fn sync(&self) -> Result<(), LogError> {
        self.file.sync_data().map_err(io_error(&self.path))
    }

    /// The file this log writes.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads every record of the metrics log at `path`, in file order. Blank lines are skipped,
/// and a malformed last line without its `'\n'` (a crash mid-write) is ignored.
///
/// # Errors
/// [`LogError::Io`] if the file cannot be read; [`LogError::Json`] or [`LogError::Record`]
/// with the line number of any other malformed line.
pub fn read_metrics(path: &Path) -> Result<Vec<Record>, LogError> {
    let bytes = fs::read(path).map_err(io_error(path))?;
    Ok(parse_lines(path, &bytes)?
        .into_iter()
        .map(|line| line.record)
        .collect())
}

/// One parsed line: its bytes (without `'\n'`), its record and its step.
struct Line<'a> {
    raw: &'a [u8],
    record: Record,
    step: u64,
}

fn parse_lines<'a>(path: &Path, bytes: &'a [u8]) -> Result<Vec<Line<'a>>, LogError> {
    let pieces: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let last = pieces.len() - 1; // `split` yields at least one piece
    let mut lines = Vec::new();
    for (index, raw) in pieces.into_iter().enumerate() {
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line = index + 1;
        let value: Value = match serde_json::from_slice(raw) {
            Ok(value) => value,
            // The last piece has no '\n': a write cut short by a crash.
            Err(_) if index == last => break,
            Err(e) => {
                return Err(LogError::Json {
                    path: path.to_owned(),
                    line,
                    column: e.column(),
                    message: parser_message(&e),
                })
            }
        };
        let (record, step) = into_record(value).map_err(|reason| LogError::Record {
            path: path.to_owned(),
            line,
            reason,
        })?;
        lines.push(Line { raw, record, step });
    }
    Ok(lines)
}

/// The record and its `"step"`, or why `value` is not a record.
fn into_record(value: Value) -> Result<(Record, u64), &'static str> {
    let Value::Object(record) = value else {
        return Err("not a JSON object");
    };
    let step = match record.get("step") {
        None => return Err("no \"step\" key"),
        Some(step) => step
            .as_u64()
            .ok_or("\"step\" is not a non-negative integer")?,
    };
    Ok((record, step))
}

/// `serde_json`'s message without its " at line 1 column N" suffix (we report our own line).
fn parser_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_owned()
}

fn io_error(path: &Path) -> impl Fn(io::Error) -> LogError + '_ {
    move |source| LogError::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> Result<Vec<u64>, LogError> {
        let lines = parse_lines(Path::new("m.jsonl"), text)?;
        Ok(lines.iter().map(|l| l.step).collect())
    }

    #[test]
    fn parses_complete_blank_and_truncated_lines() {
        let table: &[(&[u8], &[u64])] = &[
            (b"", &[]),
            (b"\n\n", &[]),
            (b"{\"step\":1}\n", &[1]),
            (b"{\"step\":1}", &[1]), // complete, only the '\n' lost
            (b"{\"step\":1}\r\n{\"step\":2}\n", &[1, 2]),
            (b"{\"step\":1}\n\n{\"step\":3}\n", &[1, 3]),
            (b"{\"step\":1}\n{\"step\":2,\"lo", &[1]),
            (b"{\"step\":1}\n{\"step\":2,\"loss\":0.5", &[1]),
        ];
        for (text, steps) in table {
            assert_eq!(
                parse(text).unwrap(),
                *steps,
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn reports_the_line_of_a_bad_record() {
        let table: &[(&[u8], usize, &str)] = &[
            (b"{\"step\":1}\n{\"step\":2,\n{\"step\":3}\n", 2, "json"),
            (b"{\"step\":1}\n{\"step\":2,\n", 2, "json"), // terminated: not a crash tail
            (b"{\"step\":1}\n\n[1,2]\n", 3, "not a JSON object"),
            (b"{\"loss\":1.0}\n", 1, "no \"step\" key"),
            (
                b"{\"step\":-1}\n",
                1,
                "\"step\" is not a non-negative integer",
            ),
            (
                b"{\"step\":1.5}\n",
                1,
                "\"step\" is not a non-negative integer",
            ),
            (
                b"{\"step\":\"3\"}",
                1,
                "\"step\" is not a non-negative integer",
            ),
            (b"{\"step\":1,\"s\":\"\xff\"}\n", 1, "json"),
        ];
        for (text, want_line, want) in table {
            match parse(text) {
                Err(LogError::Json { line, .. }) if *want == "json" => {
                    assert_eq!(line, *want_line, "{:?}", String::from_utf8_lossy(text))
                }
                Err(LogError::Record { line, reason, .. }) => {
                    assert_eq!(
                        (line, reason),
                        (*want_line, *want),
                        "{:?}",
                        String::from_utf8_lossy(text)
                    )
                }
                other => panic!("{}: unexpected {other:?}", String::from_utf8_lossy(text)),
            }
        }
    }

    #[test]
    fn json_error_message_names_file_line_and_column() {
        let err = parse(b"{\"step\":1}\n{\"step\" 2}\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "m.jsonl line 2, column 9: expected `:`",
            "{err:?}"
        );
    }
}
