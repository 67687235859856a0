//! The two hashing schemes behind one type, the sequence encoders kept per `max_length`,
//! and the switch between rayon and one thread (rayon's pool does not survive `fork`).

use std::sync::{Arc, Mutex, OnceLock};

use hashformer_hashing::{
    CachedHasher, LshHasher, Md5Hasher, Result, SequenceEncoder, Signature, TokenHasher,
};
use rayon::prelude::*;

/// A hasher of either scheme, cheap to clone (shared behind an `Arc`).
#[derive(Clone)]
pub enum Hasher {
    /// HMAC-MD5 with key `b"en"`, 50260 buckets: fast enough to need no shared cache.
    Md5(Arc<Md5Hasher>),
    /// LSH over roberta-base BPE, behind a cache shared by all threads and calls (an
    /// Emb_LSH bucket costs ~150 µs per distinct word).
    Lsh(Arc<CachedHasher<LshHasher>>),
}

impl TokenHasher for Hasher {
    fn bucket(&self, word: &str) -> Result<u32> {
        match self {
            Self::Md5(h) => Ok(h.bucket(word)),
            Self::Lsh(h) => h.bucket(word),
        }
    }

    fn signature(&self, word: &str) -> Result<Signature> {
        match self {
            Self::Md5(h) => Ok(h.signature(word)),
            Self::Lsh(h) => h.signature(word),
        }
    }

    fn buckets_into(&self, words: &[&str], out: &mut Vec<u32>) -> Result<()> {
        match self {
            Self::Md5(h) => TokenHasher::buckets_into(h.as_ref(), words, out),
            Self::Lsh(h) => h.buckets_into(words, out),
        }
    }

    fn signatures_into(&self, words: &[&str], out: &mut Vec<Signature>) -> Result<()> {
        match self {
            Self::Md5(h) => TokenHasher::signatures_into(h.as_ref(), words, out),
            Self::Lsh(h) => h.signatures_into(words, out),
        }
    }
}

/// How many encoders (one per distinct `max_length`) are kept alive at once.
const MAX_ENCODERS: usize = 8;

/// A [`SequenceEncoder`] per `max_length`, kept across calls so that their per-worker word
/// memos stay warm (a tokeniser is called once per small batch by `datasets.map`).
pub struct Encoders {
    hasher: Hasher,
    memo_capacity: usize,
    by_length: Mutex<Vec<(usize, Arc<SequenceEncoder<Hasher>>)>>,
}

impl Encoders {
    /// Encoders over `hasher`, each worker memo keeping up to `memo_capacity` words.
    pub fn new(hasher: Hasher, memo_capacity: usize) -> Self {
        Self {
            hasher,
            memo_capacity,
            by_length: Mutex::new(Vec::new()),
        }
    }

    /// The hasher.
    pub fn hasher(&self) -> &Hasher {
        &self.hasher
    }

    /// The encoder for `max_length`, made on first use (the oldest is dropped beyond
    /// [`MAX_ENCODERS`]).
    ///
    /// # Errors
    /// [`hashformer_hashing::Error::InvalidMaxLength`] below 4.
    pub fn get(&self, max_length: usize) -> Result<Arc<SequenceEncoder<Hasher>>> {
        // A poisoned lock only means another call panicked; the list is still valid.
        let mut by_length = self.by_length.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, enc)) = by_length.iter().find(|(l, _)| *l == max_length) {
            return Ok(Arc::clone(enc));
        }
        let enc = Arc::new(
            SequenceEncoder::new(self.hasher.clone(), max_length)?
                .with_cache_capacity(self.memo_capacity),
        );
        if by_length.len() >= MAX_ENCODERS {
            by_length.remove(0);
        }
        by_length.push((max_length, Arc::clone(&enc)));
        Ok(enc)
    }
}

/// The process that first used rayon's global pool.
static POOL_OWNER: OnceLock<u32> = OnceLock::new();

/// Whether rayon may be used here: not in a process forked after the pool started
/// (`multiprocessing` with `fork`, `datasets.map(num_proc=…)`), whose pool threads did not
/// survive the fork; there the work runs on the calling thread instead.
pub fn parallel_ok() -> bool {
    *POOL_OWNER.get_or_init(std::process::id) == std::process::id()
}

/// `f` over `items` in order, on all cores where [`parallel_ok`].
///
/// # Errors
/// The first error of `f`.
pub fn map_items<T, R, E, F>(items: &[T], f: F) -> std::result::Result<Vec<R>, E>
where
    T: Sync,
    R: Send,
    E: Send,
    F: Fn(&T) -> std::result::Result<R, E> + Sync + Send,
{
    if parallel_ok() {
        items.par_iter().map(f).collect()
    } else {
        items.iter().map(f).collect()
    }
}

/// Fills `buf`, seen as rows of `width` elements, one row per item of `rows`.
pub fn fill_rows<A, S, F>(buf: &mut [A], width: usize, rows: &[S], f: F)
where
    A: Send,
    S: Sync,
    F: Fn(&S, &mut [A]) + Sync + Send,
{
    if width == 0 {
        return;
    }
    if parallel_ok() {
        buf.par_chunks_mut(width)
            .zip(rows.par_iter())
            .for_each(|(row, s)| f(s, row));
    } else {
        buf.chunks_mut(width)
            .zip(rows)
            .for_each(|(row, s)| f(s, row));
    }
}

/// One value per word through `hash` (which appends a chunk's values), in word order,
/// chunks spread over the cores where [`parallel_ok`].
///
/// # Errors
/// The first hashing error.
pub fn hash_words<V, F>(words: &[&str], hash: F) -> Result<Vec<V>>
where
    V: Send,
    F: Fn(&[&str], &mut Vec<V>) -> Result<()> + Sync + Send,
{
    // About four chunks per thread (an LSH word costs ~150 µs: 500 words must spread), of
    // 16..=2048 words (MD5 hashes 8 words side by side and gains nothing from more).
    let threads = if parallel_ok() {
        rayon::current_num_threads()
    } else {
        1
    };
    let chunk = (words.len() / (4 * threads)).clamp(16, 2048);
    let chunks: Vec<&[&str]> = words.chunks(chunk).collect();
    let parts = map_items(&chunks, |chunk| {
        let mut out = Vec::with_capacity(chunk.len());
        hash(chunk, &mut out)?;
        Ok(out)
    })?;
    Ok(parts.into_iter().flatten().collect())
}
