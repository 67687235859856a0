//! The 128-bit token signature shared by the MD5 and LSH schemes (method §3.1, §3.3, §4.3).

use std::fmt;

use crate::special::{NUM_HASH_BITS, POOL_CHUNKS};

/// A 128-bit token hash. Bit 0 is the most significant bit of the big-endian integer, i.e.
/// the top bit of the first digest byte (the reference's bit-string order).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Signature(pub u128);

impl Signature {
    /// All-zero signature, the hash input of special tokens in Pool/Add/Proj.
    pub const ZERO: Self = Self(0);

    /// Builds a signature from 16 big-endian bytes (e.g. an MD5 digest).
    pub const fn from_be_bytes(bytes: [u8; 16]) -> Self {
        Self(u128::from_be_bytes(bytes))
    }

    /// The 16 big-endian bytes.
    pub const fn to_be_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    /// Bit `i` (0 = most significant).
    ///
    /// # Panics
    /// If `i >= 128`.
    pub fn bit(self, i: usize) -> bool {
        assert!(i < NUM_HASH_BITS, "bit index {i} out of range 0..128");
        (self.0 >> (NUM_HASH_BITS - 1 - i)) & 1 == 1
    }

    /// All 128 bits as `0.0`/`1.0`, MSB first: the input of HashFormer-Add and -Proj.
    pub fn bits_f32(self) -> [f32; NUM_HASH_BITS] {
        std::array::from_fn(|i| f32::from(u8::from(self.bit(i))))
    }

    /// The 13 Pool chunk indices: bits `10k..10k+10` for k < 12 and bits `120..128`, each
    /// read MSB-first, plus one (0 is reserved for special tokens). Chunks 0..12 lie in
    /// 1..=1024, chunk 12 in 1..=256.
    pub fn pool_indices(self) -> [u16; POOL_CHUNKS] {
        std::array::from_fn(|k| {
            let value = if k < POOL_CHUNKS - 1 {
                (self.0 >> (NUM_HASH_BITS - 10 * (k + 1))) & 0x3FF
            } else {
                self.0 & 0xFF
            };
            // At most 1024: fits u16.
            value as u16 + 1
        })
    }

    /// The bucket `(N mod buckets) + 5` of HashFormer-Emb_MD5 (method §3.1).
    ///
    /// # Panics
    /// If `buckets` is 0.
    pub fn bucket(self, buckets: u32) -> u32 {
        assert!(buckets > 0, "the number of buckets must be positive");
        // The remainder is below `buckets`, so it fits u32.
        (self.0 % u128::from(buckets)) as u32 + crate::special::HASH_ID_OFFSET
    }

    /// 32 lower-case hex digits, MSB first (as Python's `hexdigest()`).
    pub fn to_hex(self) -> String {
        format!("{:032x}", self.0)
    }

    /// Parses 32 hex digits (either case).
    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u128::from_str_radix(hex, 16).ok().map(Self)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({:032x})", self.0)
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_msb_first() {
        let s = Signature::from_hex("1dec56025892c637efb2601c8e1a3ab4").unwrap();
        let first32: String = (0..32).map(|i| if s.bit(i) { '1' } else { '0' }).collect();
        assert_eq!(first32, "00011101111011000101011000000010");
        let bits = s.bits_f32();
        assert_eq!(bits[3], 1.0);
        assert_eq!(bits[0], 0.0);
    }

    #[test]
    fn pool_indices_of_spec_vectors() {
        let cases = [
            (
                "1dec56025892c637efb2601c8e1a3ab4",
                [
                    120, 710, 385, 601, 588, 100, 508, 947, 385, 457, 903, 571, 181,
                ],
            ),
            (
                "b9386d96710ddd52bc49ff0033ead10f",
                [741, 903, 870, 626, 56, 470, 176, 74, 1021, 4, 251, 722, 16],
            ),
        ];
        for (hex, expected) in cases {
            assert_eq!(
                Signature::from_hex(hex).unwrap().pool_indices(),
                expected,
                "{hex}"
            );
        }
    }

    #[test]
    fn pool_index_ranges() {
        let all_ones = Signature(u128::MAX).pool_indices();
        assert!(all_ones[..12].iter().all(|&i| i == 1024));
        assert_eq!(all_ones[12], 256);
        assert_eq!(Signature::ZERO.pool_indices(), [1; 13]);
    }

    #[test]
    fn hex_round_trip_and_rejects() {
        let s = Signature(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        assert_eq!(Signature::from_hex(&s.to_hex()), Some(s));
        assert_eq!(Signature::from_hex("xyz"), None);
        assert_eq!(Signature::from_hex(&"g".repeat(32)), None);
        assert_eq!(
            Signature::from_hex("+0000000000000000000000000000000"),
            None
        );
    }

    #[test]
    fn bucket_matches_spec() {
        let s = Signature::from_hex("1dec56025892c637efb2601c8e1a3ab4").unwrap();
        assert_eq!(s.bucket(50_260), 46_797);
    }
}
