//! One interface over the MD5 and LSH schemes, and a bounded per-word cache.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::lsh::LshHasher;
use crate::md5::Md5Hasher;
use crate::signature::Signature;

/// The hashing scheme of a HashFormer (method §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashKind {
    /// HMAC-MD5 ("message digest", the paper's MD).
    #[serde(alias = "md")]
    Md5,
    /// Locality-sensitive hashing over roberta-base BPE pieces.
    Lsh,
}

/// Maps a word (a pre-tokenised token) to what the models consume: an Emb bucket id, or a
/// 128-bit signature for Pool/Add/Proj.
pub trait TokenHasher: Send + Sync {
    /// The Emb bucket id of `word`, at least 5.
    ///
    /// # Errors
    /// Scheme-specific; MD5 never fails, LSH fails only if its BPE does.
    fn bucket(&self, word: &str) -> Result<u32>;

    /// The 128-bit signature of `word`.
    ///
    /// # Errors
    /// As [`TokenHasher::bucket`].
    fn signature(&self, word: &str) -> Result<Signature>;

    /// Appends the buckets of `words` to `out`, in order. Hashers that can hash many words
    /// at once faster than one by one override this.
    ///
    /// # Errors
    /// As [`TokenHasher::bucket`].
    fn buckets_into(&self, words: &[&str], out: &mut Vec<u32>) -> Result<()> {
        for w in words {
            out.push(self.bucket(w)?);
        }
        Ok(())
    }

    /// Appends the signatures of `words` to `out`, in order (see
    /// [`TokenHasher::buckets_into`]).
    ///
    /// # Errors
    /// As [`TokenHasher::bucket`].
    fn signatures_into(&self, words: &[&str], out: &mut Vec<Signature>) -> Result<()> {
        for w in words {
            out.push(self.signature(w)?);
        }
        Ok(())
    }
}

impl TokenHasher for Md5Hasher {
    fn bucket(&self, word: &str) -> Result<u32> {
        Ok(Md5Hasher::bucket(self, word))
    }

    fn signature(&self, word: &str) -> Result<Signature> {
        Ok(Md5Hasher::signature(self, word))
    }

    fn buckets_into(&self, words: &[&str], out: &mut Vec<u32>) -> Result<()> {
        let mut sigs = Vec::with_capacity(words.len());
        Md5Hasher::signatures_into(self, words, &mut sigs);
        out.extend(sigs.iter().map(|s| s.bucket(self.num_buckets())));
        Ok(())
    }

    fn signatures_into(&self, words: &[&str], out: &mut Vec<Signature>) -> Result<()> {
        Md5Hasher::signatures_into(self, words, out);
        Ok(())
    }
}

impl TokenHasher for LshHasher {
    fn bucket(&self, word: &str) -> Result<u32> {
        LshHasher::bucket(self, word)
    }

    fn signature(&self, word: &str) -> Result<Signature> {
        LshHasher::signature(self, word)
    }
}

impl<H: TokenHasher + ?Sized> TokenHasher for &H {
    fn bucket(&self, word: &str) -> Result<u32> {
        (**self).bucket(word)
    }

    fn signature(&self, word: &str) -> Result<Signature> {
        (**self).signature(word)
    }
    fn buckets_into(&self, words: &[&str], out: &mut Vec<u32>) -> Result<()> {
        (**self).buckets_into(words, out)
    }

    fn signatures_into(&self, words: &[&str], out: &mut Vec<Signature>) -> Result<()> {
        (**self).signatures_into(words, out)
    }
}

impl<H: TokenHasher + ?Sized> TokenHasher for Box<H> {
    fn bucket(&self, word: &str) -> Result<u32> {
        (**self).bucket(word)
    }

    fn signature(&self, word: &str) -> Result<Signature> {
        (**self).signature(word)
    }
    fn buckets_into(&self, words: &[&str], out: &mut Vec<u32>) -> Result<()> {
        (**self).buckets_into(words, out)
    }

    fn signatures_into(&self, words: &[&str], out: &mut Vec<Signature>) -> Result<()> {
        (**self).signatures_into(words, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_kind_names() {
        assert_eq!(serde_json::to_string(&HashKind::Md5).unwrap(), "\"md5\"");
        assert_eq!(
            serde_json::from_str::<HashKind>("\"md\"").unwrap(),
            HashKind::Md5
        );
        assert_eq!(
            serde_json::from_str::<HashKind>("\"lsh\"").unwrap(),
            HashKind::Lsh
        );
    }
}
