//! The closed set of input-embedding variants (method §1.2, §5).

use serde::{Deserialize, Serialize};

/// How a token becomes an input vector. The reference's spellings (`ori`, `conj`, `de`,
/// `pcc`) are accepted as aliases when reading configs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmbeddingKind {
    /// HashFormer-Emb: a hashed bucket id looked up in a table (reference `ori`).
    #[serde(alias = "ori")]
    Emb,
    /// HashFormer-Pool: softmax-weighted pooling of 13 chunk embeddings (reference `conj`).
    #[serde(alias = "conj")]
    Pool,
    /// HashFormer-Add: a sum of per-(bit, value) vectors (reference `de`).
    #[serde(alias = "de")]
    Add,
    /// HashFormer-Proj: a Pearson-correlation projection of the 128 bits (reference `pcc`).
    #[serde(alias = "pcc")]
    Proj,
    /// The BPE baseline: roberta-base BPE ids looked up in a vocabulary table. `config.json`
    /// spells it `vocab` (the on-disk name since the first release); `bpe` is read too.
    #[serde(rename = "vocab", alias = "bpe")]
    Bpe,
}

impl EmbeddingKind {
    /// Whether the model consumes token ids (Emb, BPE) rather than hash signatures.
    pub fn takes_ids(self) -> bool {
        matches!(self, Self::Emb | Self::Bpe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_aliases() {
        for (alias, kind) in [
            ("\"ori\"", EmbeddingKind::Emb),
            ("\"conj\"", EmbeddingKind::Pool),
            ("\"de\"", EmbeddingKind::Add),
            ("\"pcc\"", EmbeddingKind::Proj),
            ("\"proj\"", EmbeddingKind::Proj),
            ("\"vocab\"", EmbeddingKind::Bpe),
            ("\"bpe\"", EmbeddingKind::Bpe),
        ] {
            assert_eq!(
                serde_json::from_str::<EmbeddingKind>(alias).unwrap(),
                kind,
                "{alias}"
            );
        }
        assert_eq!(
            serde_json::to_string(&EmbeddingKind::Pool).unwrap(),
            "\"pool\""
        );
        // The on-disk name of the BPE baseline stays `vocab`.
        assert_eq!(
            serde_json::to_string(&EmbeddingKind::Bpe).unwrap(),
            "\"vocab\""
        );
        assert!(EmbeddingKind::Emb.takes_ids());
        assert!(!EmbeddingKind::Proj.takes_ids());
    }
}
