//! Checksums: sha256 as lowercase hex, git blob ids (sha1 of `"blob {len}\0"` + content, how
//! `SOURCES.txt` names the corpus pieces), and the writer that hashes what passes through it
//! (`hashformer_files::HashSink`, shared with the prepared corpus).

use sha1::Sha1;
use sha2::{Digest, Sha256};

pub use hashformer_files::{hex, HashSink};

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
