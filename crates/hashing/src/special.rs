//! Special tokens, id offsets and the fixed sizes of the hash representations (method §2.2,
//! §3, §4.3).

use serde::{Deserialize, Serialize};

/// RoBERTa's special tokens with their fixed ids. Hashed word ids start at [`HASH_ID_OFFSET`],
/// so they never collide with these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SpecialToken {
    /// `<s>`, id 0: start of sequence (the classification token).
    Bos = 0,
    /// `<pad>`, id 1.
    Pad = 1,
    /// `</s>`, id 2: end of a segment.
    Eos = 2,
    /// `<unk>`, id 3 (never produced by the hash tokenisers).
    Unk = 3,
    /// `<mask>`, id 4 (never produced by the hash tokenisers).
    Mask = 4,
}

impl SpecialToken {
    /// The token's id.
    pub const fn id(self) -> u32 {
        self as u32
    }

    /// The token's text, as in RoBERTa's vocabulary.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Bos => "<s>",
            Self::Pad => "<pad>",
            Self::Eos => "</s>",
            Self::Unk => "<unk>",
            Self::Mask => "<mask>",
        }
    }
}

/// Number of special ids (0..=4).
pub const NUM_SPECIAL_TOKENS: u32 = 5;

/// Offset added to every hashed bucket so that buckets never collide with special ids.
pub const HASH_ID_OFFSET: u32 = NUM_SPECIAL_TOKENS;

/// The `spec` row value of an ordinary (hashed) token in Pool/Add/Proj inputs (method §4.2).
pub const ORDINARY_TOKEN_SPEC: u32 = 5;

/// Default number of buckets of HashFormer-Emb (MD5 and LSH): ids lie in `5..50265`.
pub const DEFAULT_NUM_BUCKETS: u32 = 50_260;

/// Width of a token signature in bits.
pub const NUM_HASH_BITS: usize = 128;

/// Number of Pool chunks of a signature: 12 chunks of 10 bits and one of 8 bits (method §4.3).
pub const POOL_CHUNKS: usize = 13;

/// Rows of Pool's shared component table: index 0 (specials) plus 1..=1024.
pub const POOL_TABLE_ROWS: usize = 1025;

/// Default HMAC key of the MD5 scheme (the reference hard-codes `b"en"`).
pub const DEFAULT_MD5_KEY: &[u8] = b"en";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_roberta() {
        let all = [
            SpecialToken::Bos,
            SpecialToken::Pad,
            SpecialToken::Eos,
            SpecialToken::Unk,
            SpecialToken::Mask,
        ];
        let ids: Vec<u32> = all.iter().map(|t| t.id()).collect();
        assert_eq!(ids, [0, 1, 2, 3, 4]);
        let names: Vec<&str> = all.iter().map(|t| t.as_str()).collect();
        assert_eq!(names, ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]);
    }
}
