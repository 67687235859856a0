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
    /// The vocabulary baseline: roberta-base BPE ids looked up in a table.
    Vocab,
}

impl EmbeddingKind {
    /// Whether the model consumes token ids (Emb, Vocab) rather than hash signatures.
    pub fn takes_ids(self) -> bool {
        matches!(self, Self::Emb | Self::Vocab)
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
            ("\"vocab\"", EmbeddingKind::Vocab),
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
        assert!(EmbeddingKind::Emb.takes_ids());
        assert!(!EmbeddingKind::Proj.takes_ids());
    }
}
