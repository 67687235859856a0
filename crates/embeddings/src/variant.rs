//! [`Variant`]: a model's input layer as one value, the embedding together with the hashing
//! scheme it reads (method §1.1). The BPE baseline hashes nothing and every hash embedding
//! hashes with exactly one scheme, so no invalid pair can be written.

use std::fmt;

use hashformer_hashing::HashKind;
use serde::{Deserialize, Serialize};

use crate::kind::EmbeddingKind;

/// How words become input vectors: a hash embedding with its scheme, or the BPE baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Variant {
    /// HashFormer-Emb: a hashed bucket id looked up in a table.
    #[doc(alias = "HashFormer-Emb")]
    Emb(HashKind),
    /// HashFormer-Pool: softmax-weighted pooling over the 13 chunks of a signature.
    #[doc(alias = "HashFormer-Pool")]
    Pool(HashKind),
    /// HashFormer-Add: a sum of per-(bit, value) vectors of a signature.
    #[doc(alias = "HashFormer-Add")]
    Add(HashKind),
    /// HashFormer-Proj: a Pearson-correlation projection of a signature's 128 bits.
    #[doc(alias = "HashFormer-Proj")]
    Proj(HashKind),
    /// The BPE baseline: roberta-base BPE ids looked up in a vocabulary table.
    Bpe,
}

impl Variant {
    /// The variant of an embedding and a scheme, or `None` for a pair that cannot exist: a
    /// scheme with the BPE baseline, or a hash embedding without one.
    pub fn new(kind: EmbeddingKind, scheme: Option<HashKind>) -> Option<Self> {
        Some(match (kind, scheme) {
            (EmbeddingKind::Bpe, None) => Self::Bpe,
            (EmbeddingKind::Emb, Some(s)) => Self::Emb(s),
            (EmbeddingKind::Pool, Some(s)) => Self::Pool(s),
            (EmbeddingKind::Add, Some(s)) => Self::Add(s),
            (EmbeddingKind::Proj, Some(s)) => Self::Proj(s),
            _ => return None,
        })
    }

    /// The embedding layer.
    pub fn kind(self) -> EmbeddingKind {
        match self {
            Self::Emb(_) => EmbeddingKind::Emb,
            Self::Pool(_) => EmbeddingKind::Pool,
            Self::Add(_) => EmbeddingKind::Add,
            Self::Proj(_) => EmbeddingKind::Proj,
            Self::Bpe => EmbeddingKind::Bpe,
        }
    }

    /// The hashing scheme (`None` for the BPE baseline).
    pub fn scheme(self) -> Option<HashKind> {
        match self {
            Self::Emb(s) | Self::Pool(s) | Self::Add(s) | Self::Proj(s) => Some(s),
            Self::Bpe => None,
        }
    }

    /// Whether the model reads token ids (Emb, the BPE baseline) rather than signatures.
    pub fn takes_ids(self) -> bool {
        self.kind().takes_ids()
    }
}

/// The paper's names: `HashFormer-Proj_MD5`, `HashFormer-Emb_LSH`, …, and `BPE baseline`.
impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme() {
            Some(HashKind::Md5) => "MD5",
            Some(HashKind::Lsh) => "LSH",
            None => return f.write_str("BPE baseline"),
        };
        let kind = match self.kind() {
            EmbeddingKind::Emb => "Emb",
            EmbeddingKind::Pool => "Pool",
            EmbeddingKind::Add => "Add",
            EmbeddingKind::Proj => "Proj",
            EmbeddingKind::Bpe => unreachable!("the BPE baseline has no scheme"),
        };
        write!(f, "HashFormer-{kind}_{scheme}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_valid_pairs_make_a_variant() {
        use EmbeddingKind::*;
        for kind in [Emb, Pool, Add, Proj] {
            for scheme in [HashKind::Md5, HashKind::Lsh] {
                let v = Variant::new(kind, Some(scheme)).unwrap();
                assert_eq!((v.kind(), v.scheme()), (kind, Some(scheme)));
                assert_eq!(v.takes_ids(), kind == Emb);
            }
            assert_eq!(Variant::new(kind, None), None);
        }
        assert_eq!(Variant::new(Bpe, None), Some(Variant::Bpe));
        assert_eq!(Variant::new(Bpe, Some(HashKind::Md5)), None);
        assert!(Variant::Bpe.takes_ids());
    }

    #[test]
    fn names_are_the_papers() {
        assert_eq!(
            Variant::Proj(HashKind::Md5).to_string(),
            "HashFormer-Proj_MD5"
        );
        assert_eq!(
            Variant::Emb(HashKind::Lsh).to_string(),
            "HashFormer-Emb_LSH"
        );
        assert_eq!(Variant::Bpe.to_string(), "BPE baseline");
    }
}
