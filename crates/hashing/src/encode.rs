//! Sequence construction: special tokens, the reference's truncation rule, padding,
//! attention mask and RoBERTa position ids (method §2.3, §4; reference `_proc_each`).

use std::sync::Mutex;

use rayon::prelude::*;

use crate::cache::{WordMemo, DEFAULT_CACHE_CAPACITY};
use crate::error::{Error, Result};
use crate::hasher::TokenHasher;
use crate::pretokenize::Words;
use crate::signature::Signature;
use crate::special::{SpecialToken, NUM_HASH_BITS, ORDINARY_TOKEN_SPEC, POOL_CHUNKS};

/// The smallest `max_length`: room for `<s> </s></s> </s>` of a pair.
pub const MIN_MAX_LENGTH: usize = 4;

/// One position of an encoded sequence, before hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot<'a> {
    /// A special token.
    Special(SpecialToken),
    /// A pre-tokenised word.
    Word(&'a str),
}

/// The slots of a sequence and how many of them the attention mask covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout<'a> {
    /// Exactly `max_length` slots, padded with `<pad>`.
    pub slots: Vec<Slot<'a>>,
    /// Number of leading slots with attention mask 1.
    pub attended: usize,
}

impl<'a> Layout<'a> {
    /// The words of the layout, in slot order.
    pub fn words(&self) -> Vec<&'a str> {
        self.slots
            .iter()
            .filter_map(|s| match *s {
                Slot::Word(w) => Some(w),
                Slot::Special(_) => None,
            })
            .collect()
    }
}

/// Lays out one text: `<s> words[..max_length-2] </s> <pad>…`.
///
/// # Panics
/// If `max_length < 4` ([`SequenceEncoder::new`] rejects such lengths).
pub fn layout_single<S: AsRef<str>>(words: &[S], max_length: usize) -> Layout<'_> {
    assert!(
        max_length >= MIN_MAX_LENGTH,
        "max_length {max_length} < {MIN_MAX_LENGTH}"
    );
    let kept = &words[..words.len().min(max_length - 2)];
    let mut slots = Vec::with_capacity(max_length);
    slots.push(Slot::Special(SpecialToken::Bos));
    slots.extend(kept.iter().map(|w| Slot::Word(w.as_ref())));
    slots.push(Slot::Special(SpecialToken::Eos));
    let attended = slots.len();
    slots.resize(max_length, Slot::Special(SpecialToken::Pad));
    Layout { slots, attended }
}

/// How many words of each text of a pair the reference keeps (method §2.3).
pub fn pair_truncation(n1: usize, n2: usize, max_length: usize) -> (usize, usize) {
    let budget = max_length - 4;
    if n1 + n2 <= budget {
        return (n1, n2);
    }
    let thres = max_length / 2 - 2;
    if n1 <= n2 {
        if n1 >= thres {
            (thres, thres)
        } else {
            (n1, budget - n1)
        }
    } else if n2 >= thres {
        (thres, thres)
    } else {
        (budget - n2, n2)
    }
}

/// Lays out a pair, RoBERTa style: `<s> A </s></s> B </s> <pad>…`, truncated by the
/// reference's rule.
///
/// For an odd `max_length` where both texts are cut to `max_length / 2 - 2` words, the
/// reference emits `max_length - 1` ids with `max_length` mask ones (a ragged batch). Here
/// the sequence is padded to `max_length` and the pad is masked out instead.
///
/// # Panics
/// If `max_length < 4` ([`SequenceEncoder::new`] rejects such lengths).
pub fn layout_pair<'a, S: AsRef<str>>(a: &'a [S], b: &'a [S], max_length: usize) -> Layout<'a> {
    assert!(
        max_length >= MIN_MAX_LENGTH,
        "max_length {max_length} < {MIN_MAX_LENGTH}"
    );
    let (k1, k2) = pair_truncation(a.len(), b.len(), max_length);
    let mut slots = Vec::with_capacity(max_length);
    slots.push(Slot::Special(SpecialToken::Bos));
    slots.extend(a[..k1].iter().map(|w| Slot::Word(w.as_ref())));
    slots.push(Slot::Special(SpecialToken::Eos));
    slots.push(Slot::Special(SpecialToken::Eos));
    slots.extend(b[..k2].iter().map(|w| Slot::Word(w.as_ref())));
    slots.push(Slot::Special(SpecialToken::Eos));
    let attended = slots.len();
    slots.resize(max_length, Slot::Special(SpecialToken::Pad));
    Layout { slots, attended }
}

/// RoBERTa position ids from an attention mask (padding index 1): the `k`-th attended
/// position gets `k + 1` (so `<s>` gets 2) and padding gets 1.
pub fn position_ids(attention_mask: &[u8]) -> Vec<u32> {
    let mut seen = 0u32;
    attention_mask
        .iter()
        .map(|&m| {
            if m == 1 {
                seen += 1;
                seen + 1
            } else {
                1
            }
        })
        .collect()
}

fn attention_mask(attended: usize, max_length: usize) -> Vec<u8> {
    let mut mask = vec![1u8; attended];
    mask.resize(max_length, 0);
    mask
}

/// An encoded sequence for HashFormer-Emb (MD5 or LSH buckets) or the BPE baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdSequence {
    /// `[max_length]` ids: 0..=4 specials, hashed buckets from 5.
    pub input_ids: Vec<u32>,
    /// `[max_length]`, 1 = real token, 0 = padding.
    pub attention_mask: Vec<u8>,
    /// `[max_length]` RoBERTa position ids (padding = 1).
    pub position_ids: Vec<u32>,
}

/// An encoded sequence for HashFormer-Pool/Add/Proj (method §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashSequence {
    /// `[max_length]` special row: 0..=4 for special tokens, 5 for ordinary tokens.
    pub spec_ids: Vec<u32>,
    /// `[max_length]` signatures; all-zero for special tokens.
    pub signatures: Vec<Signature>,
    /// `[max_length]`, 1 = real token, 0 = padding.
    pub attention_mask: Vec<u8>,
    /// `[max_length]` RoBERTa position ids (padding = 1).
    pub position_ids: Vec<u32>,
}

impl HashSequence {
    /// The reference's pad row `1 - attention_mask` (`input_ids[:, 1, :]`).
    pub fn pad_row(&self) -> Vec<u32> {
        self.attention_mask
            .iter()
            .map(|&m| u32::from(m == 0))
            .collect()
    }

    /// `[max_length * 128]` bits as 0.0/1.0, row-major: the Add/Proj input.
    pub fn bits_f32(&self) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.signatures.len() * NUM_HASH_BITS);
        for s in &self.signatures {
            out.extend_from_slice(&s.bits_f32());
        }
        out
    }

    /// `[max_length]` rows of 13 Pool chunk indices: all 0 for special tokens.
    pub fn pool_indices(&self) -> Vec<[u16; POOL_CHUNKS]> {
        self.spec_ids
            .iter()
            .zip(&self.signatures)
            .map(|(&spec, s)| {
                if spec == ORDINARY_TOKEN_SPEC {
                    s.pool_indices()
                } else {
                    [0; POOL_CHUNKS]
                }
            })
            .collect()
    }
}

/// One text or text pair to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextInput<'a> {
    /// The (first) text.
    pub text: &'a str,
    /// The second text of a pair.
    pub text_b: Option<&'a str>,
}

impl<'a> TextInput<'a> {
    /// A single text.
    pub fn single(text: &'a str) -> Self {
        Self { text, text_b: None }
    }

    /// A text pair.
    pub fn pair(text: &'a str, text_b: &'a str) -> Self {
        Self {
            text,
            text_b: Some(text_b),
        }
    }
}

/// Turns texts into fixed-length model inputs with a [`TokenHasher`].
///
/// Words go through a bounded [`WordMemo`] (one per concurrent caller, kept in a small pool
/// so rayon workers never share a lock per word); batch methods run on rayon's pool.
pub struct SequenceEncoder<H> {
    hasher: H,
    max_length: usize,
    cache_capacity: usize,
    memos: Mutex<Vec<WordMemo>>,
}

impl<H: Clone> Clone for SequenceEncoder<H> {
    fn clone(&self) -> Self {
        Self {
            hasher: self.hasher.clone(),
            max_length: self.max_length,
            cache_capacity: self.cache_capacity,
            memos: Mutex::new(Vec::new()),
        }
    }
}

impl<H: std::fmt::Debug> std::fmt::Debug for SequenceEncoder<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequenceEncoder")
            .field("hasher", &self.hasher)
            .field("max_length", &self.max_length)
            .field("cache_capacity", &self.cache_capacity)
            .finish_non_exhaustive()
    }
}

impl<H: TokenHasher> SequenceEncoder<H> {
    /// An encoder padding every sequence to `max_length` (GLUE: 128, pre-training: 512).
    ///
    /// # Errors
    /// [`Error::InvalidMaxLength`] if `max_length < 4`.
    pub fn new(hasher: H, max_length: usize) -> Result<Self> {
        if max_length < MIN_MAX_LENGTH {
            return Err(Error::InvalidMaxLength {
                max_length,
                min: MIN_MAX_LENGTH,
            });
        }
        Ok(Self {
            hasher,
            max_length,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            memos: Mutex::new(Vec::new()),
        })
    }

    /// Sets how many distinct words each worker's memo keeps per output kind (default
    /// [`DEFAULT_CACHE_CAPACITY`]; 0 turns caching off).
    #[must_use]
    pub fn with_cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self.memos = Mutex::new(Vec::new());
        self
    }

    /// Runs `f` with a memo from the pool (a fresh one if all are in use).
    fn with_memo<T>(&self, f: impl FnOnce(&mut WordMemo) -> T) -> T {
        // A poisoned pool only lost a memo to a panic; the others are still valid.
        let taken = self.memos.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut memo = taken.unwrap_or_else(|| WordMemo::new(self.cache_capacity));
        let result = f(&mut memo);
        self.memos
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(memo);
        result
    }

    /// The padded length.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// The hasher.
    pub fn hasher(&self) -> &H {
        &self.hasher
    }

    fn with_layout<T>(
        &self,
        input: TextInput<'_>,
        f: impl FnOnce(Layout<'_>) -> Result<T>,
    ) -> Result<T> {
        let a = Words::new(input.text);
        let a = a.to_strs();
        match input.text_b {
            None => f(layout_single(&a, self.max_length)),
            Some(text_b) => {
                let b = Words::new(text_b);
                f(layout_pair(&a, &b.to_strs(), self.max_length))
            }
        }
    }

    /// Emb inputs: bucket ids, mask and position ids.
    ///
    /// # Errors
    /// Only if the hasher fails (LSH: the BPE).
    pub fn encode_ids(&self, input: TextInput<'_>) -> Result<IdSequence> {
        self.with_layout(input, |layout| {
            let words = layout.words();
            let mut buckets = Vec::with_capacity(words.len());
            self.with_memo(|memo| memo.buckets_into(&self.hasher, &words, &mut buckets))?;
            // One bucket was computed per word slot, in slot order.
            let mut next_word = 0;
            let input_ids = layout
                .slots
                .iter()
                .map(|slot| match *slot {
                    Slot::Special(t) => t.id(),
                    Slot::Word(_) => {
                        next_word += 1;
                        buckets[next_word - 1]
                    }
                })
                .collect();
            let attention_mask = attention_mask(layout.attended, self.max_length);
            let position_ids = position_ids(&attention_mask);
            Ok(IdSequence {
                input_ids,
                attention_mask,
                position_ids,
            })
        })
    }

    /// Pool/Add/Proj inputs: special row, signatures, mask and position ids.
    ///
    /// # Errors
    /// Only if the hasher fails (LSH: the BPE).
    pub fn encode_hashes(&self, input: TextInput<'_>) -> Result<HashSequence> {
        self.with_layout(input, |layout| {
            let words = layout.words();
            let mut word_sigs = Vec::with_capacity(words.len());
            self.with_memo(|memo| memo.signatures_into(&self.hasher, &words, &mut word_sigs))?;
            let mut next_word = 0;
            let mut spec_ids = Vec::with_capacity(self.max_length);
            let mut signatures = Vec::with_capacity(self.max_length);
            for slot in &layout.slots {
                match *slot {
                    Slot::Special(t) => {
                        spec_ids.push(t.id());
                        signatures.push(Signature::ZERO);
                    }
                    Slot::Word(_) => {
                        spec_ids.push(ORDINARY_TOKEN_SPEC);
                        // One signature was computed per word slot, in slot order.
                        signatures.push(word_sigs[next_word]);
                        next_word += 1;
                    }
                }
            }
            let attention_mask = attention_mask(layout.attended, self.max_length);
            let position_ids = position_ids(&attention_mask);
            Ok(HashSequence {
                spec_ids,
                signatures,
                attention_mask,
                position_ids,
            })
        })
    }

    /// [`Self::encode_ids`] over a batch, in parallel, in input order.
    ///
    /// # Errors
    /// The first hasher failure.
    pub fn encode_ids_batch(&self, inputs: &[TextInput<'_>]) -> Result<Vec<IdSequence>> {
        inputs.par_iter().map(|&i| self.encode_ids(i)).collect()
    }

    /// [`Self::encode_hashes`] over a batch, in parallel, in input order.
    ///
    /// # Errors
    /// The first hasher failure.
    pub fn encode_hashes_batch(&self, inputs: &[TextInput<'_>]) -> Result<Vec<HashSequence>> {
        inputs.par_iter().map(|&i| self.encode_hashes(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::md5::Md5Hasher;

    #[test]
    fn spec_parity_vector_l8() {
        // Method §11: `<s> hello world ! </s> <pad>×3` at L = 8.
        let enc = SequenceEncoder::new(Md5Hasher::default(), 8).unwrap();
        let ids = enc.encode_ids(TextInput::single("hello world!")).unwrap();
        assert_eq!(ids.input_ids, [0, 46797, 25238, 41048, 2, 1, 1, 1]);
        assert_eq!(ids.attention_mask, [1, 1, 1, 1, 1, 0, 0, 0]);
        assert_eq!(ids.position_ids, [2, 3, 4, 5, 6, 1, 1, 1]);
        let h = enc
            .encode_hashes(TextInput::single("hello world!"))
            .unwrap();
        assert_eq!(h.spec_ids, [0, 5, 5, 5, 2, 1, 1, 1]);
        assert_eq!(h.pad_row(), [0, 0, 0, 0, 0, 1, 1, 1]);
        assert_eq!(h.position_ids, ids.position_ids);
        assert_eq!(h.signatures[1].to_hex(), "1dec56025892c637efb2601c8e1a3ab4");
        assert_eq!(h.pool_indices()[0], [0; 13]);
        assert_eq!(h.pool_indices()[1][0], 120);
        assert_eq!(h.bits_f32().len(), 8 * 128);
    }

    #[test]
    fn pair_truncation_spec_examples() {
        for ((n1, n2), expected) in [
            ((10, 200), (10, 114)),
            ((100, 100), (62, 62)),
            ((200, 10), (114, 10)),
            ((70, 30), (70, 30)),
        ] {
            assert_eq!(pair_truncation(n1, n2, 128), expected, "({n1}, {n2})");
        }
    }

    #[test]
    fn pair_layout_and_padding() {
        let a = ["a", "b"];
        let b = ["c"];
        let l = layout_pair(&a, &b, 10);
        use Slot::*;
        use SpecialToken::*;
        assert_eq!(
            l.slots,
            [
                Special(Bos),
                Word("a"),
                Word("b"),
                Special(Eos),
                Special(Eos),
                Word("c"),
                Special(Eos),
                Special(Pad),
                Special(Pad),
                Special(Pad)
            ]
        );
        assert_eq!(l.attended, 7);
    }

    #[test]
    fn odd_length_both_truncated_is_padded_not_ragged() {
        let a = ["w"; 10];
        let l = layout_pair(&a, &a, 9);
        // thres = 2: <s> w w </s></s> w w </s> = 8 slots, one pad.
        assert_eq!(l.slots.len(), 9);
        assert_eq!(l.attended, 8);
    }

    #[test]
    fn short_lengths_are_rejected() {
        let err = SequenceEncoder::new(Md5Hasher::default(), 3).unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidMaxLength {
                max_length: 3,
                min: 4
            }
        ));
    }

    #[test]
    fn batch_matches_single() {
        let enc = SequenceEncoder::new(Md5Hasher::default(), 16).unwrap();
        let uncached = SequenceEncoder::new(Md5Hasher::default(), 16)
            .unwrap()
            .with_cache_capacity(0);
        let inputs = [
            TextInput::single("one two"),
            TextInput::pair("three", "four five"),
            TextInput::single(""),
        ];
        let batch = enc.encode_ids_batch(&inputs).unwrap();
        for (i, seq) in inputs.iter().zip(&batch) {
            assert_eq!(&enc.encode_ids(*i).unwrap(), seq);
            assert_eq!(&uncached.encode_ids(*i).unwrap(), seq);
        }
        let hashes = enc.encode_hashes_batch(&inputs).unwrap();
        for (i, seq) in inputs.iter().zip(&hashes) {
            assert_eq!(&uncached.encode_hashes(*i).unwrap(), seq);
        }
    }
}
