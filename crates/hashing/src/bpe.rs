//! roberta-base byte-level BPE, used only to extract LSH features (method §3.2; reference
//! `RobertaTokenizerFast.from_pretrained('roberta-base').tokenize`).
//!
//! Built from in-memory strings; [`crate::load`] reads them from a directory.

use std::collections::HashMap;

use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::Tokenizer;

use crate::error::{Error, Result};

/// A byte-level BPE piece: its byte-level string (one character per UTF-8 byte) and its
/// vocabulary id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BpePiece {
    /// The byte-level token string, e.g. `"cat"` or `"Ã©"` for `é`.
    pub text: String,
    /// Its vocabulary id.
    pub id: u32,
}

/// roberta-base byte-level BPE (no prefix space, no special tokens).
#[derive(Clone)]
pub struct RobertaBpe {
    tokenizer: Tokenizer,
    vocab_size: usize,
}

impl std::fmt::Debug for RobertaBpe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RobertaBpe")
            .field("vocab_size", &self.vocab_size)
            .finish_non_exhaustive()
    }
}

impl RobertaBpe {
    /// Builds the BPE from the contents of a HuggingFace `tokenizer.json` (roberta-base's).
    ///
    /// # Errors
    /// [`Error::Bpe`] if the JSON is not a tokenizer.
    pub fn from_tokenizer_json(json: &str) -> Result<Self> {
        let tokenizer: Tokenizer = json
            .parse()
            .map_err(|e| Error::Bpe(format!("tokenizer.json: {e}")))?;
        Self::wrap(tokenizer, "tokenizer.json")
    }

    /// Builds the BPE from the contents of `vocab.json` and `merges.txt`, with a byte-level
    /// pre-tokeniser without prefix space, as `RobertaTokenizerFast` does.
    ///
    /// # Errors
    /// [`Error::Bpe`] if the vocabulary is not a JSON object of ids or is empty, a merge line
    /// does not hold two pieces, or there are no merges (every word would then fall apart
    /// into bytes: all LSH words in one bucket, a BPE model learning nothing).
    pub fn from_vocab_and_merges(vocab_json: &str, merges_txt: &str) -> Result<Self> {
        let vocab: HashMap<String, u32> =
            serde_json::from_str(vocab_json).map_err(|e| Error::Bpe(format!("vocab.json: {e}")))?;
        if vocab.is_empty() {
            return Err(Error::Bpe("vocab.json: the vocabulary is empty".into()));
        }
        let mut merges = Vec::new();
        for (i, line) in merges_txt.lines().enumerate() {
            if line.starts_with("#version") || line.trim().is_empty() {
                continue;
            }
            let mut parts = line.split(' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(a), Some(b), None) => merges.push((a.to_owned(), b.to_owned())),
                _ => {
                    return Err(Error::Bpe(format!(
                    "merges.txt line {}: expected two pieces separated by a space, got {line:?}",
                    i + 1
                )))
                }
            }
        }
        if merges.is_empty() {
            return Err(Error::Bpe("merges.txt holds no merges".into()));
        }
        let model = BPE::builder()
            .vocab_and_merges(
                vocab
                    .into_iter()
                    .collect::<tokenizers::models::bpe::Vocab>(),
                merges,
            )
            .build()
            .map_err(|e| Error::Bpe(format!("vocab.json + merges.txt: {e}")))?;
        let mut tokenizer = Tokenizer::new(model);
        tokenizer.with_pre_tokenizer(Some(ByteLevel::new(false, true, true)));
        Self::wrap(tokenizer, "vocab.json")
    }

    /// The BPE of `tokenizer`, refused when its vocabulary (read from `source`) is empty.
    fn wrap(tokenizer: Tokenizer, source: &str) -> Result<Self> {
        let vocab_size = tokenizer.get_vocab_size(true);
        if vocab_size == 0 {
            return Err(Error::Bpe(format!("{source}: the vocabulary is empty")));
        }
        Ok(Self {
            tokenizer,
            vocab_size,
        })
    }

    /// Number of ids in the vocabulary (50265 for roberta-base).
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// The BPE pieces of `text` (`RobertaTokenizerFast.tokenize(text)`).
    ///
    /// # Errors
    /// [`Error::Bpe`] if the tokenizer fails (it does not for byte-level vocabularies).
    pub fn pieces(&self, text: &str) -> Result<Vec<BpePiece>> {
        let encoding = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| Error::Bpe(e.to_string()))?;
        Ok(encoding
            .get_tokens()
            .iter()
            .zip(encoding.get_ids())
            .map(|(text, &id)| BpePiece {
                text: text.clone(),
                id,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VOCAB: &str =
        r#"{"c": 0, "a": 1, "t": 2, "-": 3, "at": 4, "cat": 5, "Ã": 6, "©": 7, "Ã©": 8}"#;
    const MERGES: &str = "#version: 0.2\na t\nc at\nÃ ©\n";

    #[test]
    fn pieces_from_vocab_and_merges() {
        let bpe = RobertaBpe::from_vocab_and_merges(VOCAB, MERGES).unwrap();
        let texts: Vec<String> = bpe
            .pieces("cat-c-at")
            .unwrap()
            .into_iter()
            .map(|p| p.text)
            .collect();
        assert_eq!(texts, ["cat", "-", "c", "-", "at"]);
        let e = bpe.pieces("é").unwrap();
        assert_eq!(
            e,
            [BpePiece {
                text: "Ã©".into(),
                id: 8
            }]
        );
    }

    #[test]
    fn bad_resources_are_errors() {
        assert!(matches!(
            RobertaBpe::from_vocab_and_merges("[1]", MERGES),
            Err(Error::Bpe(_))
        ));
        // Empty files: every word was in one LSH bucket, and the BPE baseline trained to NaN.
        let err = RobertaBpe::from_vocab_and_merges("{}", MERGES).unwrap_err();
        assert!(err.to_string().contains("vocabulary is empty"), "{err}");
        let err = RobertaBpe::from_vocab_and_merges(VOCAB, "").unwrap_err();
        assert!(err.to_string().contains("no merges"), "{err}");
        let err = RobertaBpe::from_vocab_and_merges(VOCAB, "#version: 0.2\n").unwrap_err();
        assert!(err.to_string().contains("no merges"), "{err}");
        let err = RobertaBpe::from_vocab_and_merges(VOCAB, "a t\nbad\n").unwrap_err();
        assert!(err.to_string().contains("merges.txt line 2"), "{err}");
        assert!(matches!(
            RobertaBpe::from_tokenizer_json("{}"),
            Err(Error::Bpe(_))
        ));
    }
}
