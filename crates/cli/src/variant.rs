//! The embedding variant and hashing scheme as the command line names them (`--variant`,
//! `--scheme`): the one pair of enums every subcommand uses (`pretrain`, `glue`, `bench-step`, `size`, …).

use clap::ValueEnum;
use hashformer_embeddings::Variant;
use hashformer_hashing::HashKind;

/// How words become vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VariantArg {
    /// HashFormer-Emb: a bucket table.
    Emb,
    /// HashFormer-Pool: 13 pooled chunk tables.
    Pool,
    /// HashFormer-Add: a linear map of the ±1 bits.
    Add,
    /// HashFormer-Proj: the Pearson projection of the bits.
    Proj,
    /// The BPE BPE baseline (roberta-base ids).
    #[value(alias = "vocab")]
    Bpe,
}

/// Hashing scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemeArg {
    /// HMAC-MD5.
    Md5,
    /// Locality-sensitive hashing over BPE features.
    Lsh,
}

impl VariantArg {
    /// The model's variant with `scheme` (which the BPE baseline, hashing nothing, ignores).
    pub fn with_scheme(self, scheme: SchemeArg) -> Variant {
        let hash = match scheme {
            SchemeArg::Md5 => HashKind::Md5,
            SchemeArg::Lsh => HashKind::Lsh,
        };
        match self {
            Self::Emb => Variant::Emb(hash),
            Self::Pool => Variant::Pool(hash),
            Self::Add => Variant::Add(hash),
            Self::Proj => Variant::Proj(hash),
            Self::Bpe => Variant::Bpe,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_baseline_hashes_nothing() {
        assert_eq!(VariantArg::Bpe.with_scheme(SchemeArg::Lsh), Variant::Bpe);
        assert_eq!(
            VariantArg::Proj.with_scheme(SchemeArg::Lsh),
            Variant::Proj(HashKind::Lsh)
        );
        assert_eq!(VariantArg::from_str("vocab", true), Ok(VariantArg::Bpe));
    }
}
