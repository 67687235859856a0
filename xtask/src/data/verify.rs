//! Checking one file against its [`Expected`] size and checksum. A full check hashes the content
//! (for gzip: the uncompressed content, the contract); a quick one compares sizes only (for gzip:
//! the uncompressed size from the trailer, which holds for single-member files such as `gzip` and
//! `fetch` write).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::digest::HashSink;
use super::manifest::Expected;
use super::progress;

/// How thoroughly to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Sizes only.
    Quick,
    /// Sizes and sha256.
    Full,
}

/// The state of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Size (and, in a full check, sha256) as expected. `note` says more, for example that a
    /// gzip file's own bytes differ from the reference gzip.
    Ok {
        /// Informational remark.
        note: Option<String>,
    },
    /// No such file.
    Missing,
    /// Wrong size (for gzip: uncompressed size).
    WrongSize {
        /// Expected bytes.
        expected: u64,
        /// Bytes found.
        actual: u64,
    },
    /// Right size, wrong content.
    WrongSha256 {
        /// Expected sha256.
        expected: &'static str,
        /// sha256 found.
        actual: String,
    },
    /// It could not be read (or is not valid gzip).
    Unreadable(String),
}

impl Status {
    /// Whether the file is as expected.
    pub fn is_ok(&self) -> bool {
        matches!(self, Status::Ok { .. })
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Ok { note: None } => write!(f, "ok"),
            Status::Ok { note: Some(note) } => write!(f, "ok ({note})"),
            Status::Missing => write!(f, "MISSING"),
            Status::WrongSize { expected, actual } => {
                write!(f, "WRONG SIZE: {actual} bytes, expected {expected}")
            }
            Status::WrongSha256 { expected, actual } => {
                write!(f, "WRONG SHA256: {actual}, expected {expected}")
            }
            Status::Unreadable(why) => write!(f, "UNREADABLE: {why}"),
        }
    }
}

/// Checks the file at `path`; `label` names it on a progress bar.
pub fn verify(path: &Path, expected: &Expected, mode: Mode, label: &str) -> Status {
    let result = match expected {
        Expected::Plain { bytes, sha256 } => plain(path, *bytes, sha256, mode, label),
        Expected::Gzip {
            bytes,
            sha256,
            gz_bytes,
            gz_sha256,
        } => gzip(path, (*bytes, sha256), (*gz_bytes, gz_sha256), mode, label),
    };
    result.unwrap_or_else(|err| match err.kind() {
        io::ErrorKind::NotFound => Status::Missing,
        _ => Status::Unreadable(err.to_string()),
    })
}

fn plain(
    path: &Path,
    bytes: u64,
    sha256: &'static str,
    mode: Mode,
    label: &str,
) -> io::Result<Status> {
    let mut file = File::open(path)?;
    let actual = file.metadata()?.len();
    if actual != bytes {
        return Ok(Status::WrongSize {
            expected: bytes,
            actual,
        });
    }
    if mode == Mode::Quick {
        return Ok(Status::Ok { note: None });
    }
    let bar = progress::bytes_if_big(actual, label);
    let mut sink = HashSink::default();
    io::copy(&mut bar.wrap_read(&mut file), &mut sink)?;
    bar.finish_and_clear();
    Ok(compare(sink, bytes, sha256, None))
}

/// `content` and `reference` are the (size, sha256) of the uncompressed content and of the
/// reference gzip.
fn gzip(
    path: &Path,
    content: (u64, &'static str),
    reference: (u64, &str),
    mode: Mode,
    label: &str,
) -> io::Result<Status> {
    let (bytes, sha256) = content;
    let mut file = File::open(path)?;
    let gz_len = file.metadata()?.len();
    if mode == Mode::Quick {
        let isize = trailer_size(&mut file, gz_len)?;
        // ISIZE is the uncompressed size modulo 2^32.
        return Ok(if u64::from(isize) == bytes % (1 << 32) {
            Status::Ok { note: None }
        } else {
            Status::WrongSize {
                expected: bytes,
                actual: u64::from(isize),
            }
        });
    }
    let bar = progress::bytes_if_big(gz_len, label);
    let mut gz_sink = HashSink::default();
    let tee = TeeReader {
        inner: bar.wrap_read(&mut file),
        copy: &mut gz_sink,
    };
    let mut sink = HashSink::default();
    io::copy(&mut MultiGzDecoder::new(tee), &mut sink)
        .map_err(|err| io::Error::new(err.kind(), format!("gzip: {err}")))?;
    bar.finish_and_clear();
    let note = (gz_sink.finish() != (reference.0, reference.1.to_string()))
        .then(|| "content matches; gzip bytes differ from the reference .gz".to_string());
    Ok(compare(sink, bytes, sha256, note))
}

fn compare(sink: HashSink, bytes: u64, sha256: &'static str, note: Option<String>) -> Status {
    let (actual_bytes, actual) = sink.finish();
    if actual_bytes != bytes {
        Status::WrongSize {
            expected: bytes,
            actual: actual_bytes,
        }
    } else if actual != sha256 {
        Status::WrongSha256 {
            expected: sha256,
            actual,
        }
    } else {
        Status::Ok { note }
    }
}

/// The gzip ISIZE field: the last 4 bytes, little-endian.
fn trailer_size(file: &mut File, len: u64) -> io::Result<u32> {
    let mut magic = [0u8; 2];
    file.read_exact(&mut magic)?;
    if magic != [0x1f, 0x8b] || len < 18 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a gzip file",
        ));
    }
    file.seek(SeekFrom::End(-4))?;
    let mut isize = [0u8; 4];
    file.read_exact(&mut isize)?;
    Ok(u32::from_le_bytes(isize))
}

/// Passes reads through, copying the bytes read into `copy`.
struct TeeReader<'a, R> {
    inner: R,
    copy: &'a mut HashSink,
}

impl<R: Read> Read for TeeReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::{verify, Expected, Mode, Status};
    use crate::data::digest::sha256_hex;
    use hashformer_testkit::TempDir as TestDir;

    const HELLO: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    fn gz(data: &[u8], level: u32) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::new(level));
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn plain_files() {
        let dir = TestDir::new("verify-plain");
        let path = dir.path().join("f");
        let expected = Expected::Plain {
            bytes: 6,
            sha256: HELLO,
        };
        let check = |mode| verify(&path, &expected, mode, "f");
        assert_eq!(check(Mode::Full), Status::Missing);
        std::fs::write(&path, b"hello\n").unwrap();
        assert!(check(Mode::Full).is_ok());
        std::fs::write(&path, b"hello!").unwrap();
        assert!(check(Mode::Quick).is_ok(), "quick compares sizes only");
        assert_eq!(
            check(Mode::Full),
            Status::WrongSha256 {
                expected: HELLO,
                actual: sha256_hex(b"hello!")
            }
        );
        std::fs::write(&path, b"hello").unwrap();
        assert_eq!(
            check(Mode::Quick),
            Status::WrongSize {
                expected: 6,
                actual: 5
            }
        );
    }

    #[test]
    fn gzip_files_are_checked_by_content() {
        let dir = TestDir::new("verify-gzip");
        let path = dir.path().join("f.gz");
        let reference = gz(b"hello\n", 9);
        let expected = Expected::Gzip {
            bytes: 6,
            sha256: HELLO,
            gz_bytes: reference.len() as u64,
            gz_sha256: Box::leak(sha256_hex(&reference).into_boxed_str()),
        };
        let check = |mode| verify(&path, &expected, mode, "f.gz");
        std::fs::write(&path, &reference).unwrap();
        assert_eq!(check(Mode::Full), Status::Ok { note: None });
        assert_eq!(check(Mode::Quick), Status::Ok { note: None });

        // Another encoding of the same content passes, with a note.
        std::fs::write(&path, gz(b"hello\n", 0)).unwrap();
        assert!(matches!(check(Mode::Full), Status::Ok { note: Some(_) }));
        // Two members: the content is what MultiGzDecoder reads.
        std::fs::write(&path, [gz(b"hel", 9), gz(b"lo\n", 9)].concat()).unwrap();
        assert!(check(Mode::Full).is_ok());

        std::fs::write(&path, gz(b"hello!", 9)).unwrap();
        assert!(check(Mode::Quick).is_ok());
        assert!(matches!(check(Mode::Full), Status::WrongSha256 { .. }));
        std::fs::write(&path, gz(b"hello", 9)).unwrap();
        assert_eq!(
            check(Mode::Quick),
            Status::WrongSize {
                expected: 6,
                actual: 5
            }
        );
        std::fs::write(&path, b"hello\n plain text, not gzip").unwrap();
        assert!(matches!(check(Mode::Quick), Status::Unreadable(_)));
        assert!(matches!(check(Mode::Full), Status::Unreadable(_)));
        let truncated = &reference[..reference.len() - 6];
        std::fs::write(&path, truncated).unwrap();
        assert!(matches!(check(Mode::Full), Status::Unreadable(_)));
    }
}
