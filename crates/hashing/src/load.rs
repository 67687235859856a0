//! File helpers: the only I/O of this crate, kept out of the core.

use std::path::Path;

use crate::bpe::RobertaBpe;
use crate::error::{Error, Result};

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

impl RobertaBpe {
    /// Loads roberta-base BPE from a directory holding `tokenizer.json`, or else
    /// `vocab.json` and `merges.txt` (e.g. `$HASHFORMER_DATA/roberta-base`).
    ///
    /// # Errors
    /// [`Error::MissingBpeFiles`] if neither is there, [`Error::Io`] naming the file that
    /// could not be read, [`Error::Bpe`] if its contents are invalid.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let tokenizer_json = dir.join("tokenizer.json");
        if tokenizer_json.is_file() {
            return Self::from_tokenizer_json(&read(&tokenizer_json)?);
        }
        let (vocab, merges) = (dir.join("vocab.json"), dir.join("merges.txt"));
        if vocab.is_file() && merges.is_file() {
            return Self::from_vocab_and_merges(&read(&vocab)?, &read(&merges)?);
        }
        Err(Error::MissingBpeFiles {
            dir: dir.to_owned(),
        })
    }
}
