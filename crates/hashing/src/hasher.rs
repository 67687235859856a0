//! One interface over the MD5 and LSH schemes, and a bounded per-word cache.

use std::sync::RwLock;

use ahash::AHashMap;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::lsh::LshHasher;
use crate::md5::Md5Hasher;
use crate::signature::Signature;

/// The hashing scheme of a HashFormer (spec §3).
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

const SHARDS: usize = 16;

/// A bounded, thread-safe memo of one word → value function.
///
/// The map is sharded to keep rayon workers off each other's locks. A shard that reaches
/// its share of the capacity is cleared before the next insert: O(1), no bookkeeping, and
/// frequent words come straight back. The cache never changes a result, only its cost.
struct WordCache<V> {
    shards: Vec<RwLock<AHashMap<Box<str>, V>>>,
    per_shard: usize,
    hasher: ahash::RandomState,
}

impl<V: Copy> WordCache<V> {
    fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::new(AHashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS),
            hasher: ahash::RandomState::new(),
        }
    }

    fn get_or_try(&self, word: &str, compute: impl FnOnce() -> Result<V>) -> Result<V> {
        if self.per_shard == 0 {
            return compute();
        }
        let shard = &self.shards[self.shard_of(word)];
        // A poisoned lock only means another thread panicked mid-insert; the map is still
        // a valid memo, so keep using it.
        if let Some(&v) = shard.read().unwrap_or_else(|e| e.into_inner()).get(word) {
            return Ok(v);
        }
        let v = compute()?;
        let mut map = shard.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.per_shard {
            map.clear();
        }
        map.insert(word.into(), v);
        Ok(v)
    }

    /// Fills `out` (already holding one slot per word) from the cache, computing the
    /// misses with one batched call.
    fn fill_batch(
        &self,
        words: &[&str],
        out: &mut [V],
        compute: impl FnOnce(&[&str], &mut Vec<V>) -> Result<()>,
    ) -> Result<()> {
        if self.per_shard == 0 {
            let mut computed = Vec::with_capacity(words.len());
            compute(words, &mut computed)?;
            out.copy_from_slice(&computed);
            return Ok(());
        }
        let mut missing: Vec<usize> = Vec::new();
        for (i, w) in words.iter().enumerate() {
            let shard = &self.shards[self.shard_of(w)];
            match shard.read().unwrap_or_else(|e| e.into_inner()).get(*w) {
                Some(&v) => out[i] = v,
                None => missing.push(i),
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let miss_words: Vec<&str> = missing.iter().map(|&i| words[i]).collect();
        let mut computed = Vec::with_capacity(miss_words.len());
        compute(&miss_words, &mut computed)?;
        for (&i, v) in missing.iter().zip(computed) {
            out[i] = v;
            let mut map = self.shards[self.shard_of(words[i])]
                .write()
                .unwrap_or_else(|e| e.into_inner());
            if map.len() >= self.per_shard {
                map.clear();
            }
            map.insert(words[i].into(), v);
        }
        Ok(())
    }

    fn shard_of(&self, word: &str) -> usize {
        self.hasher.hash_one(word) as usize % SHARDS
    }

    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }
}

/// Default capacity of [`CachedHasher`]: distinct words kept per output kind.
pub const DEFAULT_CACHE_CAPACITY: usize = 1 << 18;

/// A [`TokenHasher`] with a bounded per-word cache in front (an in-memory memo only: it
/// never decides a bucket). Worth it for LSH, whose cold cost is 50,260 × features
/// multiply-adds per word; share one instance across threads.
pub struct CachedHasher<H> {
    inner: H,
    buckets: WordCache<u32>,
    signatures: WordCache<Signature>,
}

impl<H> std::fmt::Debug for CachedHasher<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedHasher")
            .field("cached_buckets", &self.buckets.len())
            .field("cached_signatures", &self.signatures.len())
            .finish_non_exhaustive()
    }
}

impl<H: TokenHasher> CachedHasher<H> {
    /// Wraps `inner` with a cache of [`DEFAULT_CACHE_CAPACITY`] words per output kind.
    pub fn new(inner: H) -> Self {
        Self::with_capacity(inner, DEFAULT_CACHE_CAPACITY)
    }

    /// Wraps `inner` with a cache of about `capacity` words per output kind (0 disables it).
    pub fn with_capacity(inner: H, capacity: usize) -> Self {
        Self {
            inner,
            buckets: WordCache::new(capacity),
            signatures: WordCache::new(capacity),
        }
    }

    /// The wrapped hasher.
    pub fn inner(&self) -> &H {
        &self.inner
    }
}

impl<H: TokenHasher> TokenHasher for CachedHasher<H> {
    fn bucket(&self, word: &str) -> Result<u32> {
        self.buckets.get_or_try(word, || self.inner.bucket(word))
    }

    fn signature(&self, word: &str) -> Result<Signature> {
        self.signatures
            .get_or_try(word, || self.inner.signature(word))
    }

    fn buckets_into(&self, words: &[&str], out: &mut Vec<u32>) -> Result<()> {
        let start = out.len();
        out.resize(start + words.len(), 0);
        self.buckets.fill_batch(words, &mut out[start..], |w, o| {
            self.inner.buckets_into(w, o)
        })
    }

    fn signatures_into(&self, words: &[&str], out: &mut Vec<Signature>) -> Result<()> {
        let start = out.len();
        out.resize(start + words.len(), Signature::ZERO);
        self.signatures
            .fill_batch(words, &mut out[start..], |w, o| {
                self.inner.signatures_into(w, o)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_returns_the_same_values_and_stays_bounded() {
        let plain = Md5Hasher::default();
        let cached = CachedHasher::with_capacity(Md5Hasher::default(), 64);
        for round in 0..3 {
            for i in 0..500 {
                let w = format!("w{i}");
                assert_eq!(
                    cached.bucket(&w).unwrap(),
                    plain.bucket(&w),
                    "round {round}"
                );
                assert_eq!(cached.signature(&w).unwrap(), plain.signature(&w));
            }
        }
        assert!(
            cached.buckets.len() <= 64 + SHARDS,
            "{}",
            cached.buckets.len()
        );
        let words: Vec<String> = (0..300).map(|i| format!("w{}", i % 120)).collect();
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let (mut got, mut want) = (vec![7], vec![7]);
        cached.buckets_into(&refs, &mut got).unwrap();
        plain.buckets_into(&refs, &mut want).unwrap();
        assert_eq!(got, want);
        let (mut got, mut want) = (Vec::new(), Vec::new());
        cached.signatures_into(&refs, &mut got).unwrap();
        TokenHasher::signatures_into(&plain, &refs, &mut want).unwrap();
        assert_eq!(got, want);
        let off = CachedHasher::with_capacity(Md5Hasher::default(), 0);
        assert_eq!(off.bucket("x").unwrap(), plain.bucket("x"));
        assert_eq!(off.buckets.len(), 0);
    }

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
