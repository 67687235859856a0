//! The Shuffle+Random pre-training collator (method §7.1; reference
//! `DataCollatorForShuffleRandomThreeWayClassification` and its `_Proj` / `_Conj` variants).
//!
//! Every ordinary token is labelled original (0), shuffled (1) or random (2):
//! 1. one permutation π of the positions is drawn **per batch**; a token's shuffled content is
//!    `content[π(i)]` of its own row, or its own content when `π(i)` is special;
//! 2. each ordinary position is shuffled with probability `p` (label 1, even when the content
//!    does not change);
//! 3. each remaining ordinary position gets random content with probability `p` (label 2), so
//!    the effective random rate is `p(1 − p)`;
//! 4. special positions keep their content and get label −100 (ignored by the loss).
//!
//! Special positions are, for ids (Emb, BPE baseline), the ids below 4 (`<mask>` = 4 counts as
//! ordinary, as in the reference); for hash variants, position 0 and everything from the last
//! real token (`</s>`) on. Random content: uniform ids in a configurable range (the reference
//! draws from the whole vocabulary, special ids included); for Add/Proj a signature whose bits
//! are Bernoulli(q) with q ~ U(0, 1) per token; for Pool uniform chunk indices, which is a
//! uniformly random signature (chunks 0–11 uniform in 1..=1024, chunk 12 in 1..=256).
//! The `spec` row is never changed.

use std::ops::Range;

use hashformer_hashing::{HashSequence, IdSequence, Signature, NUM_HASH_BITS};
use rand::seq::SliceRandom;
use rand::Rng;

/// Label of a special or padding position (ignored by the loss, like PyTorch's `-100`).
pub const IGNORE_LABEL: i64 = -100;
/// Label of an unchanged ordinary token.
pub const ORIGINAL: i64 = 0;
/// Label of a shuffled token.
pub const SHUFFLED: i64 = 1;
/// Label of a randomly replaced token.
pub const RANDOM: i64 = 2;

/// How random replacement content is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RandomContent {
    /// Ids uniform in the range (reference: `0..len(tokenizer)`).
    Ids(Range<u32>),
    /// Add/Proj: each bit Bernoulli(q), q ~ U(0, 1) drawn per token.
    BiasedBits,
    /// Pool: uniform chunk indices, i.e. a uniform 128-bit signature.
    UniformSignature,
}

/// The Shuffle+Random collator.
#[derive(Debug, Clone, PartialEq)]
pub struct ShuffleRandom {
    /// Manipulation probability `p` (reference default 0.10).
    pub manipulate_prob: f64,
    /// How random content is drawn.
    pub random: RandomContent,
}

/// Per-token labels of a batch, `[batch][seq_len]`.
pub type Labels = Vec<Vec<i64>>;

impl ShuffleRandom {
    /// A collator with probability `p` and the given random content.
    pub fn new(manipulate_prob: f64, random: RandomContent) -> Self {
        Self {
            manipulate_prob,
            random,
        }
    }

    /// Manipulates an Emb / BPE batch in place and returns its labels.
    ///
    /// # Panics
    /// If the sequences of the batch differ in length, or `RandomContent` is not `Ids`.
    pub fn apply_ids<R: Rng>(&self, batch: &mut [IdSequence], rng: &mut R) -> Labels {
        let RandomContent::Ids(range) = &self.random else {
            panic!("id batches need RandomContent::Ids");
        };
        let special: Vec<Vec<bool>> = batch
            .iter()
            .map(|s| s.input_ids.iter().map(|&id| id < 4).collect())
            .collect();
        let mut contents: Vec<Vec<u32>> = batch.iter().map(|s| s.input_ids.clone()).collect();
        let labels = self.manipulate(&mut contents, &special, rng, |rng| {
            rng.random_range(range.clone())
        });
        for (seq, content) in batch.iter_mut().zip(contents) {
            seq.input_ids = content;
        }
        labels
    }

    /// Manipulates a Pool/Add/Proj batch in place (signatures only) and returns its labels.
    ///
    /// # Panics
    /// If the sequences of the batch differ in length, or `RandomContent` is `Ids`.
    pub fn apply_hashes<R: Rng>(&self, batch: &mut [HashSequence], rng: &mut R) -> Labels {
        let special: Vec<Vec<bool>> = batch
            .iter()
            .map(|s| hash_special_mask(&s.attention_mask))
            .collect();
        let mut contents: Vec<Vec<Signature>> =
            batch.iter().map(|s| s.signatures.clone()).collect();
        let labels = match self.random {
            RandomContent::BiasedBits => self.manipulate(&mut contents, &special, rng, biased_bits),
            RandomContent::UniformSignature => {
                self.manipulate(&mut contents, &special, rng, |rng| Signature(rng.random()))
            }
            RandomContent::Ids(_) => panic!("hash batches need BiasedBits or UniformSignature"),
        };
        for (seq, content) in batch.iter_mut().zip(contents) {
            seq.signatures = content;
        }
        labels
    }

    /// Steps 1–4 of the module doc on any token content.
    fn manipulate<T: Copy, R: Rng>(
        &self,
        contents: &mut [Vec<T>],
        special: &[Vec<bool>],
        rng: &mut R,
        mut random: impl FnMut(&mut R) -> T,
    ) -> Labels {
        let seq_len = contents.first().map_or(0, Vec::len);
        assert!(
            contents.iter().all(|c| c.len() == seq_len),
            "sequences of one batch must have one length"
        );
        let mut perm: Vec<usize> = (0..seq_len).collect();
        perm.shuffle(rng);
        let p = self.manipulate_prob;
        let mut labels = Vec::with_capacity(contents.len());
        for (content, special) in contents.iter_mut().zip(special) {
            let original = content.clone();
            let mut row = vec![ORIGINAL; seq_len];
            for i in 0..seq_len {
                if special[i] {
                    row[i] = IGNORE_LABEL;
                    continue;
                }
                if rng.random_bool(p) {
                    let j = perm[i];
                    content[i] = if special[j] { original[i] } else { original[j] };
                    row[i] = SHUFFLED;
                } else if rng.random_bool(p) {
                    content[i] = random(rng);
                    row[i] = RANDOM;
                }
            }
            labels.push(row);
        }
        labels
    }
}

/// Special positions of a hash-variant sequence: position 0, and every position from the
/// last real token (`</s>`) on, padding included (the reference's `get_special_tokens_mask`).
pub fn hash_special_mask(attention_mask: &[u8]) -> Vec<bool> {
    let real = attention_mask.iter().filter(|&&m| m == 1).count();
    (0..attention_mask.len())
        .map(|i| i == 0 || i + 1 >= real)
        .collect()
}

fn biased_bits<R: Rng>(rng: &mut R) -> Signature {
    let q: f64 = rng.random();
    let bits = (0..NUM_HASH_BITS).fold(0u128, |acc, _| (acc << 1) | u128::from(rng.random_bool(q)));
    Signature(bits)
}

#[cfg(test)]
mod tests {
    use hashformer_hashing::{Md5Hasher, SequenceEncoder, TextInput};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn texts() -> Vec<String> {
        (0..64)
            .map(|i| {
                (0..(20 + i % 30))
                    .map(|w| format!("w{}", (w * 7 + i) % 50))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    fn encoder() -> SequenceEncoder<Md5Hasher> {
        SequenceEncoder::new(Md5Hasher::default(), 64).unwrap()
    }

    #[test]
    fn hash_special_mask_matches_the_reference() {
        // <s> a b </s> <pad> <pad>: n_real = 4 → special at 0 and 3.., as [1]+[0]*2+[1]*3.
        assert_eq!(
            hash_special_mask(&[1, 1, 1, 1, 0, 0]),
            [true, false, false, true, true, true]
        );
    }

    #[test]
    fn labels_rates_and_invariants_for_hashes() {
        let texts = texts();
        let inputs: Vec<_> = texts.iter().map(|t| TextInput::single(t)).collect();
        let original = encoder().encode_hashes_batch(&inputs).unwrap();
        let mut batch = original.clone();
        let collator = ShuffleRandom::new(0.1, RandomContent::BiasedBits);
        let labels = collator.apply_hashes(&mut batch, &mut ChaCha8Rng::seed_from_u64(7));
        let (mut ordinary, mut shuffled, mut random) = (0usize, 0usize, 0usize);
        for ((orig, new), row) in original.iter().zip(&batch).zip(&labels) {
            assert_eq!(orig.spec_ids, new.spec_ids, "the spec row never changes");
            let special = hash_special_mask(&orig.attention_mask);
            for i in 0..row.len() {
                match row[i] {
                    IGNORE_LABEL => {
                        assert!(special[i]);
                        assert_eq!(orig.signatures[i], new.signatures[i]);
                    }
                    ORIGINAL => assert_eq!(orig.signatures[i], new.signatures[i]),
                    SHUFFLED => assert!(
                        orig.signatures.contains(&new.signatures[i]),
                        "shuffled within the row"
                    ),
                    RANDOM => random += 1,
                    other => panic!("label {other}"),
                }
                if row[i] != IGNORE_LABEL {
                    ordinary += 1;
                }
                if row[i] == SHUFFLED {
                    shuffled += 1;
                }
            }
        }
        let (s, r) = (
            shuffled as f64 / ordinary as f64,
            random as f64 / ordinary as f64,
        );
        assert!((s - 0.1).abs() < 0.02, "shuffle rate {s}");
        assert!((r - 0.09).abs() < 0.02, "random rate {r} (p(1-p) = 0.09)");
    }

    #[test]
    fn ids_keep_specials_and_draw_from_the_range() {
        let texts = texts();
        let inputs: Vec<_> = texts.iter().map(|t| TextInput::single(t)).collect();
        let original = encoder().encode_ids_batch(&inputs).unwrap();
        let mut batch = original.clone();
        let collator = ShuffleRandom::new(0.3, RandomContent::Ids(1000..2000));
        let labels = collator.apply_ids(&mut batch, &mut ChaCha8Rng::seed_from_u64(1));
        for ((orig, new), row) in original.iter().zip(&batch).zip(&labels) {
            for ((&label, &before), &after) in row.iter().zip(&orig.input_ids).zip(&new.input_ids) {
                if before < 4 {
                    assert_eq!(label, IGNORE_LABEL);
                    assert_eq!(before, after);
                }
                if label == RANDOM {
                    assert!((1000..2000).contains(&after));
                }
                if label == SHUFFLED {
                    assert!(after >= 4, "specials are never shuffled in");
                }
            }
        }
    }

    #[test]
    fn seeded_runs_repeat() {
        let texts = texts();
        let inputs: Vec<_> = texts.iter().map(|t| TextInput::single(t)).collect();
        let base = encoder().encode_hashes_batch(&inputs).unwrap();
        let run = |seed| {
            let mut b = base.clone();
            let l = ShuffleRandom::new(0.1, RandomContent::UniformSignature)
                .apply_hashes(&mut b, &mut ChaCha8Rng::seed_from_u64(seed));
            (b, l)
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3).1, run(4).1);
    }
}
