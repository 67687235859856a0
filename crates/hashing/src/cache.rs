//! Bounded per-word caches. They only ever memoise a pure word → value function, so they
//! change costs, never results; `ahash` is fine here because nothing it decides is output.
//!
//! - [`WordMemo`]: owned by one worker, no locks (what [`crate::SequenceEncoder`] uses,
//!   one per rayon worker).
//! - [`CachedHasher`]: shared by all threads behind sharded locks, for callers that hash
//!   words one at a time from many threads.

use std::sync::RwLock;

use ahash::AHashMap;

use crate::error::Result;
use crate::hasher::TokenHasher;
use crate::signature::Signature;

/// Default capacity of the caches: distinct words kept per output kind.
pub const DEFAULT_CACHE_CAPACITY: usize = 1 << 16;

/// A word → value map that is cleared when it reaches its capacity: O(1), no
/// bookkeeping, and frequent words come straight back after a clear.
#[derive(Debug, Clone)]
struct BoundedMap<V> {
    map: AHashMap<Box<str>, V>,
    capacity: usize,
}

impl<V: Copy> BoundedMap<V> {
    fn new(capacity: usize) -> Self {
        Self {
            map: AHashMap::new(),
            capacity,
        }
    }

    fn get(&self, word: &str) -> Option<V> {
        self.map.get(word).copied()
    }

    fn insert(&mut self, word: &str, value: V) {
        if self.capacity == 0 {
            return;
        }
        if self.map.len() >= self.capacity {
            self.map.clear();
        }
        self.map.insert(word.into(), value);
    }
}

/// A word → value store that a batch is looked up in and its misses written back to.
trait Memo<V> {
    fn get(&self, word: &str) -> Option<V>;
    fn put(&mut self, word: &str, value: V);
}

impl<V: Copy> Memo<V> for BoundedMap<V> {
    fn get(&self, word: &str) -> Option<V> {
        BoundedMap::get(self, word)
    }

    fn put(&mut self, word: &str, value: V) {
        self.insert(word, value);
    }
}

impl<V: Copy> Memo<V> for &SharedMap<V> {
    fn get(&self, word: &str) -> Option<V> {
        SharedMap::get(self, word)
    }

    fn put(&mut self, word: &str, value: V) {
        self.insert(word, value);
    }
}

/// Appends one value per word to `out`: from `memo` where it knows the word, else from one
/// batched `compute` over the misses, which are then stored in `memo`.
fn through<V: Copy>(
    memo: &mut impl Memo<V>,
    words: &[&str],
    out: &mut Vec<V>,
    zero: V,
    compute: impl FnOnce(&[&str], &mut Vec<V>) -> Result<()>,
) -> Result<()> {
    let start = out.len();
    out.resize(start + words.len(), zero);
    let slots = &mut out[start..];
    let mut missing = Vec::new();
    for (i, w) in words.iter().enumerate() {
        match memo.get(w) {
            Some(v) => slots[i] = v,
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
        slots[i] = v;
        memo.put(words[i], v);
    }
    Ok(())
}

/// A bounded word cache owned by one worker (no locks): bucket and signature memos in
/// front of any [`TokenHasher`].
#[derive(Debug, Clone)]
pub struct WordMemo {
    buckets: BoundedMap<u32>,
    signatures: BoundedMap<Signature>,
}

impl WordMemo {
    /// A memo keeping about `capacity` words per output kind (0 disables it).
    pub fn new(capacity: usize) -> Self {
        Self {
            buckets: BoundedMap::new(capacity),
            signatures: BoundedMap::new(capacity),
        }
    }

    /// [`TokenHasher::buckets_into`] through the memo.
    ///
    /// # Errors
    /// The hasher's.
    pub fn buckets_into<H: TokenHasher + ?Sized>(
        &mut self,
        hasher: &H,
        words: &[&str],
        out: &mut Vec<u32>,
    ) -> Result<()> {
        through(&mut self.buckets, words, out, 0, |w, o| {
            hasher.buckets_into(w, o)
        })
    }

    /// [`TokenHasher::signatures_into`] through the memo.
    ///
    /// # Errors
    /// The hasher's.
    pub fn signatures_into<H: TokenHasher + ?Sized>(
        &mut self,
        hasher: &H,
        words: &[&str],
        out: &mut Vec<Signature>,
    ) -> Result<()> {
        through(&mut self.signatures, words, out, Signature::ZERO, |w, o| {
            hasher.signatures_into(w, o)
        })
    }
}

const SHARDS: usize = 16;

/// A bounded cache shared by threads: shards of [`BoundedMap`] behind read-write locks.
struct SharedMap<V> {
    shards: Vec<RwLock<BoundedMap<V>>>,
    hasher: ahash::RandomState,
}

impl<V: Copy> SharedMap<V> {
    fn new(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS);
        Self {
            shards: (0..SHARDS)
                .map(|_| RwLock::new(BoundedMap::new(per_shard)))
                .collect(),
            hasher: ahash::RandomState::new(),
        }
    }

    fn shard(&self, word: &str) -> &RwLock<BoundedMap<V>> {
        &self.shards[self.hasher.hash_one(word) as usize % SHARDS]
    }

    // A poisoned lock only means another thread panicked mid-insert; the map is still a
    // valid memo, so keep using it.
    fn get(&self, word: &str) -> Option<V> {
        self.shard(word)
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(word)
    }

    fn insert(&self, word: &str, value: V) {
        self.shard(word)
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(word, value);
    }

    fn get_or_try(&self, word: &str, compute: impl FnOnce() -> Result<V>) -> Result<V> {
        if let Some(v) = self.get(word) {
            return Ok(v);
        }
        let v = compute()?;
        self.insert(word, v);
        Ok(v)
    }

    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(|e| e.into_inner()).map.len())
            .sum()
    }
}

/// A [`TokenHasher`] with a bounded word cache shared by all threads in front. Worth it
/// for LSH, whose cold cost is 50,260 × features multiply-adds per word. Encoders use a
/// lock-free [`WordMemo`] per worker instead.
pub struct CachedHasher<H> {
    inner: H,
    buckets: SharedMap<u32>,
    signatures: SharedMap<Signature>,
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
            buckets: SharedMap::new(capacity),
            signatures: SharedMap::new(capacity),
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
        through(&mut &self.buckets, words, out, 0, |w, o| {
            self.inner.buckets_into(w, o)
        })
    }

    fn signatures_into(&self, words: &[&str], out: &mut Vec<Signature>) -> Result<()> {
        through(
            &mut &self.signatures,
            words,
            out,
            Signature::ZERO,
            |w, o| self.inner.signatures_into(w, o),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::md5::Md5Hasher;

    fn words() -> Vec<String> {
        (0..300).map(|i| format!("w{}", i % 120)).collect()
    }

    #[test]
    fn shared_cache_returns_the_same_values_and_stays_bounded() {
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
        let words = words();
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let (mut got, mut want) = (vec![7], vec![7]);
        cached.buckets_into(&refs, &mut got).unwrap();
        TokenHasher::buckets_into(&plain, &refs, &mut want).unwrap();
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
    fn memo_returns_the_same_values_and_stays_bounded() {
        let plain = Md5Hasher::default();
        let words = words();
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        for capacity in [0, 10, 1000] {
            let mut memo = WordMemo::new(capacity);
            for _ in 0..2 {
                let (mut got, mut want) = (vec![7], vec![7]);
                memo.buckets_into(&plain, &refs, &mut got).unwrap();
                TokenHasher::buckets_into(&plain, &refs, &mut want).unwrap();
                assert_eq!(got, want, "capacity {capacity}");
                let (mut got, mut want) = (Vec::new(), Vec::new());
                memo.signatures_into(&plain, &refs, &mut got).unwrap();
                TokenHasher::signatures_into(&plain, &refs, &mut want).unwrap();
                assert_eq!(got, want);
            }
            assert!(memo.buckets.map.len() <= capacity.max(1));
        }
    }
}
