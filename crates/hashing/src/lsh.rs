//! The LSH scheme (method §3.2–§3.4; reference `LSHTokenizer._get_proj` for the 128-bit
//! SimHash and `LSHValueTokenizer._get_lsh` + `compute_ind` for the Emb_LSH bucket).
//!
//! A word's features are the roberta-base BPE pieces of the word and all its single-hyphen
//! splits, weighted by count over remaining length. The 128-bit signature is the sign of a
//! Gaussian projection whose row for piece id `p` is the first 128 normals of numpy's
//! `RandomState(p)`; the Emb bucket is the argmax of a signed circulant projection.

use std::sync::OnceLock;

use crate::bpe::RobertaBpe;
use crate::error::Result;
use crate::mt19937::LegacyRandomState;
use crate::rotator::Rotator;
use crate::signature::Signature;
use crate::special::{DEFAULT_NUM_BUCKETS, HASH_ID_OFFSET, NUM_HASH_BITS};

/// Words longer than this many code points are hashed by their first
/// `MAX_EXACT_WORD_CHARS` code points. The reference has no cap, but its feature string is
/// O(n²) in the word length (a 1 MB token would need a terabyte); up to this length our
/// output is exactly the reference's.
pub const MAX_EXACT_WORD_CHARS: usize = 512;

/// Seed of the Emb_LSH rotator (`np.random.seed(42)` in the reference).
pub const ROTATOR_SEED: u32 = 42;

/// One LSH feature: a BPE piece id and its weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Feature {
    /// roberta-base vocabulary id of the piece.
    pub id: u32,
    /// `count / max(len(word) + 1 - len(piece), 1)`, with the word length in code points
    /// and the piece length in bytes (the reference's mix of units).
    pub weight: f64,
}

/// The reference's variant string: the word, then each single-hyphen split, joined by `-`.
/// `cat` → `cat-c-at-ca-t`.
pub fn variant_string(word: &str) -> String {
    let bounds: Vec<usize> = word.char_indices().map(|(i, _)| i).skip(1).collect();
    let mut s = String::with_capacity(word.len() * (bounds.len() + 1) * 2);
    s.push_str(word);
    for &i in &bounds {
        s.push('-');
        s.push_str(&word[..i]);
        s.push('-');
        s.push_str(&word[i..]);
    }
    s
}

/// LSH features of `word`, in the reference's `Counter` (first-occurrence) order.
///
/// # Errors
/// [`crate::Error::Bpe`] if the BPE fails.
pub fn features(bpe: &RobertaBpe, word: &str) -> Result<Vec<Feature>> {
    let word = match word.char_indices().nth(MAX_EXACT_WORD_CHARS) {
        Some((cut, _)) => &word[..cut],
        None => word,
    };
    let n = word.chars().count();
    let pieces = bpe.pieces(&variant_string(word))?;
    // Counter in first-occurrence order: (piece, id, count).
    let mut counted: Vec<(&str, u32, u32)> = Vec::new();
    let mut index: ahash::AHashMap<&str, usize> = ahash::AHashMap::new();
    for piece in &pieces {
        match index.get(piece.text.as_str()) {
            Some(&k) => counted[k].2 += 1,
            None => {
                index.insert(&piece.text, counted.len());
                counted.push((&piece.text, piece.id, 1));
            }
        }
    }
    if counted.len() > 1 {
        counted.retain(|&(text, _, _)| text != "-");
    }
    let word_len = n as i64 + 1;
    Ok(counted
        .into_iter()
        .map(|(text, id, count)| {
            // The byte-level piece has one character per UTF-8 byte of the original.
            let piece_len = text.chars().count() as i64;
            let denom = (word_len - piece_len).max(1);
            Feature {
                id,
                weight: f64::from(count) / denom as f64,
            }
        })
        .collect())
}

/// Configuration of [`LshHasher`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LshConfig {
    /// Width of the Emb_LSH rotator, i.e. the number of buckets (reference: 50260).
    pub num_buckets: u32,
    /// Seed of the rotator (reference: 42).
    pub rotator_seed: u32,
}

impl Default for LshConfig {
    fn default() -> Self {
        Self {
            num_buckets: DEFAULT_NUM_BUCKETS,
            rotator_seed: ROTATOR_SEED,
        }
    }
}

/// The LSH hasher: BPE features → 128-bit SimHash signature, or → Emb_LSH bucket.
pub struct LshHasher {
    bpe: RobertaBpe,
    /// The Emb_LSH rotator, with the `f32` copy its argmax filter reads.
    rotator: Rotator,
    /// Lazily drawn Gaussian rows, one per vocabulary id (a deterministic memo, not state).
    rows: Box<[OnceLock<Box<[f64; NUM_HASH_BITS]>>]>,
}

impl std::fmt::Debug for LshHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LshHasher")
            .field("bpe", &self.bpe)
            .field("num_buckets", &self.rotator.len())
            .finish_non_exhaustive()
    }
}

impl LshHasher {
    /// The reference configuration: 50260 buckets, rotator seed 42.
    pub fn new(bpe: RobertaBpe) -> Self {
        Self::build(bpe, LshConfig::default())
    }

    /// A hasher with a custom bucket count or rotator seed.
    ///
    /// # Errors
    /// [`crate::Error::InvalidBuckets`] if `num_buckets` is 0.
    pub fn with_config(bpe: RobertaBpe, config: LshConfig) -> Result<Self> {
        if config.num_buckets == 0 {
            return Err(crate::Error::InvalidBuckets(0));
        }
        Ok(Self::build(bpe, config))
    }

    /// Builds a hasher from a validated configuration (`num_buckets > 0`).
    fn build(bpe: RobertaBpe, config: LshConfig) -> Self {
        let rotator = Rotator::new(
            LegacyRandomState::new(config.rotator_seed).normals(config.num_buckets as usize),
        );
        let rows = (0..bpe.vocab_size()).map(|_| OnceLock::new()).collect();
        Self { bpe, rotator, rows }
    }

    /// Number of Emb_LSH buckets.
    pub fn num_buckets(&self) -> u32 {
        // Built from a u32.
        self.rotator.len() as u32
    }

    /// The BPE the features come from.
    pub fn bpe(&self) -> &RobertaBpe {
        &self.bpe
    }

    /// LSH features of `word` (see [`features`]).
    ///
    /// # Errors
    /// [`crate::Error::Bpe`] if the BPE fails.
    pub fn features(&self, word: &str) -> Result<Vec<Feature>> {
        features(&self.bpe, word)
    }

    /// The 128-bit SimHash of `word` (HashFormer-Pool/Add/Proj with LSH).
    ///
    /// # Errors
    /// [`crate::Error::Bpe`] if the BPE fails.
    pub fn signature(&self, word: &str) -> Result<Signature> {
        Ok(self.signature_of(&self.features(word)?))
    }

    /// The Emb_LSH bucket of `word`, in `5..5 + num_buckets`.
    ///
    /// # Errors
    /// [`crate::Error::Bpe`] if the BPE fails.
    pub fn bucket(&self, word: &str) -> Result<u32> {
        Ok(self.bucket_of(&self.features(word)?))
    }

    /// SimHash of a feature list: `v = Σ w·row(id)` accumulated in feature order in f64,
    /// bit j = `v[j] > 0`.
    pub fn signature_of(&self, features: &[Feature]) -> Signature {
        let mut v = [0.0f64; NUM_HASH_BITS];
        for f in features {
            let drawn;
            let row: &[f64; NUM_HASH_BITS] = match self.rows.get(f.id as usize) {
                Some(cell) => cell.get_or_init(|| gaussian_row(f.id)),
                None => {
                    drawn = gaussian_row(f.id);
                    &drawn
                }
            };
            for (acc, r) in v.iter_mut().zip(row.iter()) {
                *acc += r * f.weight;
            }
        }
        let bits = v
            .iter()
            .fold(0u128, |acc, &x| (acc << 1) | u128::from(x > 0.0));
        Signature(bits)
    }

    /// Emb_LSH bucket of a feature list: `5 + argmax_i s_i` with
    /// `score(i) = Σ R[(id + i) mod B]·w` (sequential strict f64, feature order),
    /// `s_i = score(i)` for `i < B/2` and `-score(i)` above; the lowest index wins ties.
    pub fn bucket_of(&self, features: &[Feature]) -> u32 {
        // The index is below the width, a u32.
        self.rotator.signed_argmax(features) as u32 + HASH_ID_OFFSET
    }
}

fn gaussian_row(id: u32) -> Box<[f64; NUM_HASH_BITS]> {
    let mut rng = LegacyRandomState::new(id);
    Box::new(std::array::from_fn(|_| rng.standard_normal()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_strings() {
        assert_eq!(variant_string("cat"), "cat-c-at-ca-t");
        assert_eq!(variant_string("a"), "a");
        assert_eq!(variant_string(""), "");
        assert_eq!(variant_string("né"), "né-n-é");
    }

    fn toy_hasher() -> LshHasher {
        let vocab = r#"{"c": 0, "a": 1, "t": 2, "-": 3, "at": 4, "cat": 5, "ca": 6}"#;
        let merges = "a t\nc at\nc a\n";
        LshHasher::new(RobertaBpe::from_vocab_and_merges(vocab, merges).unwrap())
    }

    #[test]
    fn spec_toy_bucket() {
        // Method §3.4: features [(100, 1.0), (2000, 0.5)] give bucket 32446.
        let h = toy_hasher();
        let f = [
            Feature {
                id: 100,
                weight: 1.0,
            },
            Feature {
                id: 2000,
                weight: 0.5,
            },
        ];
        assert_eq!(h.bucket_of(&f), 32446);
    }

    #[test]
    fn cat_features_follow_counter_order_and_weights() {
        let h = toy_hasher();
        // cat-c-at-ca-t → cat - c - at - ca - t; `-` dropped; n + 1 = 4.
        let f = h.features("cat").unwrap();
        let got: Vec<(u32, f64)> = f.iter().map(|f| (f.id, f.weight)).collect();
        assert_eq!(
            got,
            [(5, 1.0), (0, 1.0 / 3.0), (4, 0.5), (6, 0.5), (2, 1.0 / 3.0)]
        );
    }

    #[test]
    fn single_piece_hyphen_is_kept() {
        let h = toy_hasher();
        let f = h.features("-").unwrap();
        assert_eq!(f, [Feature { id: 3, weight: 1.0 }]);
    }

    #[test]
    fn empty_word_has_no_features() {
        let h = toy_hasher();
        assert!(h.features("").unwrap().is_empty());
        assert_eq!(h.signature("").unwrap(), Signature::ZERO);
        assert_eq!(h.bucket("").unwrap(), 5);
    }

    #[test]
    fn long_words_are_capped() {
        let h = toy_hasher();
        let long = "cat".repeat(400);
        let capped: String = long.chars().take(MAX_EXACT_WORD_CHARS).collect();
        assert_eq!(h.features(&long).unwrap(), h.features(&capped).unwrap());
    }
}
