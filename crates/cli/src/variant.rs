//! The embedding variant and hashing scheme as the command line names them: the one pair of
//! enums every subcommand uses (`pretrain`, `glue`, `bench-step`, `size`, …).

use clap::ValueEnum;
use hashformer_embeddings::EmbeddingKind;
use hashformer_hashing::HashKind;

/// How words become vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Variant {
    /// HashFormer-Emb: a bucket table.
    Emb,
    /// HashFormer-Pool: 13 pooled chunk tables.
    Pool,
    /// HashFormer-Add: a linear map of the ±1 bits.
    Add,
    /// HashFormer-Proj: the Pearson projection of the bits.
    Proj,
    /// The BPE vocabulary baseline (roberta-base ids).
    #[value(alias = "vocab")]
    Bpe,
}

/// Hashing scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scheme {
    /// HMAC-MD5.
    Md5,
    /// Locality-sensitive hashing over BPE features.
    Lsh,
}

impl Variant {
    /// The model's embedding kind and hashing scheme (`None` for the BPE baseline, which
    /// hashes nothing and ignores `scheme`).
    pub fn with_scheme(self, scheme: Scheme) -> (EmbeddingKind, Option<HashKind>) {
        let hash = match scheme {
            Scheme::Md5 => HashKind::Md5,
            Scheme::Lsh => HashKind::Lsh,
        };
        match self {
            Self::Emb => (EmbeddingKind::Emb, Some(hash)),
            Self::Pool => (EmbeddingKind::Pool, Some(hash)),
            Self::Add => (EmbeddingKind::Add, Some(hash)),
            Self::Proj => (EmbeddingKind::Proj, Some(hash)),
            Self::Bpe => (EmbeddingKind::Vocab, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_baseline_hashes_nothing() {
        assert_eq!(
            Variant::Bpe.with_scheme(Scheme::Lsh),
            (EmbeddingKind::Vocab, None)
        );
        assert_eq!(
            Variant::Proj.with_scheme(Scheme::Lsh),
            (EmbeddingKind::Proj, Some(HashKind::Lsh))
        );
        assert_eq!(Variant::from_str("vocab", true), Ok(Variant::Bpe));
    }
}
