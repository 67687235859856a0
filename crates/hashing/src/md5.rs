//! The MD ("message digest") scheme: HMAC-MD5 with key `b"en"` (method §3.1; reference
//! `Md5Tokenizer._get_md5`, `Md5ValueTokenizer._get_md5_value`).

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};

use crate::md5_lanes::{KeyedMd5, LANES, MAX_SHORT_MESSAGE};
use crate::signature::Signature;
use crate::special::{DEFAULT_MD5_KEY, DEFAULT_NUM_BUCKETS};

/// HMAC-MD5 token hasher. The key is absorbed once at construction; hashing a token clones
/// the pre-keyed state. [`Md5Hasher::signatures_into`] hashes many tokens at once, several
/// side by side, which is several times faster per token on one core.
#[derive(Clone)]
pub struct Md5Hasher {
    keyed: Hmac<Md5>,
    lanes: KeyedMd5,
    num_buckets: u32,
}

impl std::fmt::Debug for Md5Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Md5Hasher")
            .field("num_buckets", &self.num_buckets)
            .finish_non_exhaustive()
    }
}

impl Default for Md5Hasher {
    fn default() -> Self {
        Self::new(DEFAULT_MD5_KEY, DEFAULT_NUM_BUCKETS).expect("the default configuration is valid")
    }
}

impl Md5Hasher {
    /// A hasher with HMAC key `key` (the reference uses `b"en"`) and `num_buckets` Emb
    /// buckets (the reference uses 50260).
    ///
    /// # Errors
    /// [`Error::InvalidBuckets`](crate::Error::InvalidBuckets) if `num_buckets` is 0
    /// ([`Error::InvalidKey`](crate::Error::InvalidKey) is reserved for the HMAC API;
    /// HMAC-MD5 takes keys of any length).
    pub fn new(key: &[u8], num_buckets: u32) -> crate::Result<Self> {
        if num_buckets == 0 {
            return Err(crate::Error::InvalidBuckets(num_buckets));
        }
        // HMAC accepts keys of any length; the error exists only in the generic API.
        let keyed = Hmac::<Md5>::new_from_slice(key)
            .map_err(|e| crate::Error::InvalidKey(e.to_string()))?;
        // HMAC replaces a key longer than the block by its digest.
        let lanes = if key.len() > 64 {
            KeyedMd5::new(&Md5::digest(key))
        } else {
            KeyedMd5::new(key)
        };
        Ok(Self {
            keyed,
            lanes,
            num_buckets,
        })
    }

    /// Number of Emb buckets (ids lie in `5..5 + num_buckets`).
    pub fn num_buckets(&self) -> u32 {
        self.num_buckets
    }

    /// The 128-bit HMAC-MD5 digest of the token's UTF-8 bytes.
    pub fn signature(&self, token: &str) -> Signature {
        let mut mac = self.keyed.clone();
        mac.update(token.as_bytes());
        let digest: [u8; 16] = mac.finalize().into_bytes().into();
        Signature::from_be_bytes(digest)
    }

    /// The Emb_MD5 bucket id `(N mod num_buckets) + 5`.
    pub fn bucket(&self, token: &str) -> u32 {
        self.signature(token).bucket(self.num_buckets)
    }

    /// Appends the signatures of `tokens` to `out`, in order: the same values as
    /// [`Md5Hasher::signature`], computed eight short tokens at a time.
    pub fn signatures_into<S: AsRef<str>>(&self, tokens: &[S], out: &mut Vec<Signature>) {
        let start = out.len();
        out.resize(start + tokens.len(), Signature::ZERO);
        let out = &mut out[start..];
        let mut short: Vec<usize> = Vec::with_capacity(LANES);
        let flush = |short: &mut Vec<usize>, out: &mut [Signature]| {
            let mut messages: [&[u8]; LANES] = [&[]; LANES];
            for (m, &i) in messages.iter_mut().zip(short.iter()) {
                *m = tokens[i].as_ref().as_bytes();
            }
            let mut digests = [0u128; LANES];
            self.lanes
                .digest_short(&messages[..short.len()], &mut digests);
            for (&i, d) in short.iter().zip(digests) {
                out[i] = Signature(d);
            }
            short.clear();
        };
        for (i, token) in tokens.iter().enumerate() {
            let token = token.as_ref();
            if token.len() <= MAX_SHORT_MESSAGE {
                short.push(i);
                if short.len() == LANES {
                    flush(&mut short, out);
                }
            } else {
                out[i] = self.signature(token);
            }
        }
        if !short.is_empty() {
            flush(&mut short, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_test_vectors() {
        let h = Md5Hasher::default();
        let cases = [
            ("hello", "1dec56025892c637efb2601c8e1a3ab4", 46797),
            ("world", "5f293b86db782e0c40b2761be9ad9cd5", 25238),
            ("!", "2e9e7c379d2e38e62a269357c7e4f23f", 41048),
            ("the", "b9386d96710ddd52bc49ff0033ead10f", 20664),
            ("naïve", "9d95277bb7ca83fae0262eaa0ae1d98b", 27928),
            ("cat", "52f5232f6e4a66a17708a27bc6738731", 28850),
        ];
        for (token, hex, bucket) in cases {
            assert_eq!(h.signature(token).to_hex(), hex, "{token}");
            assert_eq!(h.bucket(token), bucket, "{token}");
        }
    }

    #[test]
    fn batched_signatures_equal_single_ones() {
        let long = "x".repeat(200);
        let tokens: Vec<String> = (0..37)
            .map(|i| {
                if i % 9 == 4 {
                    format!("{long}{i}")
                } else {
                    "é".repeat(i)
                }
            })
            .collect();
        for key in [&b"en"[..], &[7u8; 100][..]] {
            let h = Md5Hasher::new(key, 50_260).unwrap();
            let mut out = vec![Signature(1)];
            h.signatures_into(&tokens, &mut out);
            assert_eq!(out[0], Signature(1));
            for (t, s) in tokens.iter().zip(&out[1..]) {
                assert_eq!(*s, h.signature(t), "{t:?}");
            }
        }
    }

    #[test]
    fn key_and_buckets_are_configurable() {
        let h = Md5Hasher::new(b"fr", 1000).unwrap();
        assert_ne!(
            h.signature("hello"),
            Md5Hasher::default().signature("hello")
        );
        assert!((5..1005).contains(&h.bucket("hello")));
        assert!(matches!(
            Md5Hasher::new(b"en", 0),
            Err(crate::Error::InvalidBuckets(0))
        ));
    }
}
