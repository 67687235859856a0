//! Sequence encoding for the BPE (vocabulary) baseline: roberta-base byte-level BPE ids with
//! RoBERTa's special tokens, padded like the hash encoders so that every variant feeds the
//! model the same tensors (method §1.3, §4.1).
//!
//! Single text: `<s> pieces </s> <pad>…`, cut to `max_length − 2` pieces. Pair: RoBERTa's
//! `<s> A </s></s> B </s>`, cut with HF's `longest_first` rule (one piece at a time from the
//! longer side, the second on ties), which is what `RobertaTokenizer(truncation=True)` does.

use rayon::prelude::*;

use crate::bpe::RobertaBpe;
use crate::encode::{position_ids, IdSequence, TextInput, MIN_MAX_LENGTH};
use crate::error::{Error, Result};
use crate::special::SpecialToken;

/// Encodes texts into roberta-base vocabulary ids for the BPE baseline.
#[derive(Debug, Clone)]
pub struct BpeEncoder {
    bpe: RobertaBpe,
    max_length: usize,
}

impl BpeEncoder {
    /// An encoder padding every sequence to `max_length`.
    ///
    /// # Errors
    /// [`Error::InvalidMaxLength`] if `max_length < 4`.
    pub fn new(bpe: RobertaBpe, max_length: usize) -> Result<Self> {
        if max_length < MIN_MAX_LENGTH {
            return Err(Error::InvalidMaxLength {
                max_length,
                min: MIN_MAX_LENGTH,
            });
        }
        Ok(Self { bpe, max_length })
    }

    /// The padded length.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Size of the id table the model needs (50265 for roberta-base).
    pub fn vocab_size(&self) -> usize {
        self.bpe.vocab_size()
    }

    fn ids(&self, text: &str) -> Result<Vec<u32>> {
        Ok(self.bpe.pieces(text)?.into_iter().map(|p| p.id).collect())
    }

    /// Ids, mask and position ids of one text or pair.
    ///
    /// # Errors
    /// Only if the BPE fails (it does not for byte-level vocabularies).
    pub fn encode_ids(&self, input: TextInput<'_>) -> Result<IdSequence> {
        let (s, e, pad) = (
            SpecialToken::Bos.id(),
            SpecialToken::Eos.id(),
            SpecialToken::Pad.id(),
        );
        let mut ids = Vec::with_capacity(self.max_length);
        ids.push(s);
        let mut a = self.ids(input.text)?;
        match input.text_b {
            None => {
                a.truncate(self.max_length - 2);
                ids.extend(a);
                ids.push(e);
            }
            Some(text_b) => {
                let mut b = self.ids(text_b)?;
                let budget = self.max_length - 4;
                while a.len() + b.len() > budget {
                    if a.len() > b.len() {
                        a.pop();
                    } else {
                        b.pop();
                    }
                }
                ids.extend(a);
                ids.extend([e, e]);
                ids.extend(b);
                ids.push(e);
            }
        }
        let attended = ids.len();
        ids.resize(self.max_length, pad);
        let mut attention_mask = vec![1u8; attended];
        attention_mask.resize(self.max_length, 0);
        let position_ids = position_ids(&attention_mask);
        Ok(IdSequence {
            input_ids: ids,
            attention_mask,
            position_ids,
        })
    }

    /// [`Self::encode_ids`] over a batch, in parallel, in input order.
    ///
    /// # Errors
    /// The first BPE failure.
    pub fn encode_ids_batch(&self, inputs: &[TextInput<'_>]) -> Result<Vec<IdSequence>> {
        inputs.par_iter().map(|&i| self.encode_ids(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A toy byte-level vocabulary: specials at RoBERTa's ids, then letters and merges.
    const VOCAB: &str = r#"{"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 4,
        "c": 5, "a": 6, "t": 7, "at": 8, "cat": 9, "Ġ": 10, "Ġcat": 11, "d": 12, "o": 13,
        "g": 14, "Ġd": 15, "Ġdog": 16, "og": 17}"#;
    const MERGES: &str = "#version: 0.2\na t\nc at\nĠ cat\no g\nĠ d\nĠd og\n";

    fn encoder(max_length: usize) -> BpeEncoder {
        let bpe = RobertaBpe::from_vocab_and_merges(VOCAB, MERGES).unwrap();
        BpeEncoder::new(bpe, max_length).unwrap()
    }

    fn check(input: TextInput<'_>, max_length: usize, ids: &[u32], real: usize) {
        let seq = encoder(max_length).encode_ids(input).unwrap();
        assert_eq!(seq.input_ids, ids, "{input:?}");
        assert_eq!(seq.attention_mask.iter().filter(|&&m| m == 1).count(), real);
        assert_eq!(seq.position_ids, position_ids(&seq.attention_mask));
    }

    #[test]
    fn single_and_pair_layouts() {
        check(TextInput::single("cat cat"), 6, &[0, 9, 11, 2, 1, 1], 4);
        // Cut to max_length − 2 pieces.
        check(TextInput::single("cat cat cat dog"), 4, &[0, 9, 11, 2], 4);
        check(
            TextInput::pair("cat", "dog"),
            8,
            &[0, 9, 2, 2, 12, 17, 2, 1],
            7,
        );
    }

    #[test]
    fn pair_truncation_is_longest_first() {
        // A = 3 pieces, B = 1 piece, budget 2: A loses two.
        check(
            TextInput::pair("cat cat cat", "dog"),
            6,
            &[0, 9, 2, 2, 12, 2],
            6,
        );
        // Equal lengths: the second text loses first.
        check(
            TextInput::pair("cat cat", "cat dog"),
            7,
            &[0, 9, 11, 2, 2, 9, 2],
            7,
        );
    }

    #[test]
    fn rejects_tiny_max_length() {
        let bpe = RobertaBpe::from_vocab_and_merges(VOCAB, MERGES).unwrap();
        assert!(matches!(
            BpeEncoder::new(bpe, 3),
            Err(Error::InvalidMaxLength { .. })
        ));
    }
}
