//! Content hashes of files: sha256 as lowercase hex, through a writer that hashes and counts
//! what passes through it (so a file, or a stream being decompressed or written, is hashed
//! while it is copied). `cargo xtask data` checks its downloads with it, and a prepared corpus
//! records its inputs' hashes with it.

use std::io::{self, Write};

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
    use super::*;

    #[test]
    fn hashes_and_counts_what_passes_through() {
        // `printf 'hello\n' | sha256sum`.
        let mut sink = HashSink::default();
        for part in b"hello\n".chunks(2) {
            sink.write_all(part).unwrap();
        }
        assert_eq!(
            sink.finish(),
            (
                6,
                "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03".into()
            )
        );
        assert_eq!(hex(&[0, 15, 255]), "000fff");
    }
}
