//! Checksums: sha256 as lowercase hex, git blob ids (sha1 of `"blob {len}\0"` + content, how
//! `SOURCES.txt` names the corpus pieces), and a writer that hashes what passes through it.

use std::io::{self, Write};

use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            // Writing to a String cannot fail.
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The sha256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The git blob id of `content` (what `git hash-object` prints).
pub fn git_blob_sha1(content: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", content.len()).as_bytes());
    hasher.update(content);
    hex(&hasher.finalize())
}

/// A sink that hashes (sha256) and counts the bytes written to it.
#[derive(Default)]
pub struct HashSink {
    hasher: Sha256,
    bytes: u64,
}

impl HashSink {
    /// The byte count and the sha256 (lowercase hex) of everything written.
    pub fn finish(self) -> (u64, String) {
        (self.bytes, hex(&self.hasher.finalize()))
    }
}

impl Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.hasher.update(buf);
        self.bytes += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::{git_blob_sha1, sha256_hex, HashSink};

    #[test]
    fn known_digests() {
        // `printf 'hello\n' | sha256sum` and `git hash-object`.
        let cases: [(&[u8], &str, &str); 2] = [
            (
                b"",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
            ),
            (
                b"hello\n",
                "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
                "ce013625030ba8dba906f756967f9e9ca394464a",
            ),
        ];
        for (input, sha256, blob) in cases {
            assert_eq!(sha256_hex(input), sha256);
            assert_eq!(git_blob_sha1(input), blob);
            let mut sink = HashSink::default();
            for part in input.chunks(2) {
                sink.write_all(part).unwrap();
            }
            assert_eq!(sink.finish(), (input.len() as u64, sha256.to_string()));
        }
    }
}
