//! MD5 compression over several independent messages at once ("multi-buffer" MD5).
//!
//! One MD5 block is a chain of 64 dependent steps, so a scalar implementation waits on
//! latency. Running `LANES` messages side by side in `[u32; LANES]` arrays gives the
//! compiler independent work (and SSE2 vectors on any x86-64), which is how HMAC-MD5 of
//! short tokens gets several times faster on one core. Checked against the `md-5` crate.

/// Messages hashed side by side.
pub(crate) const LANES: usize = 8;

type Lanes = [u32; LANES];

const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

const K: [u32; 64] = [
    0xd76a_a478,
    0xe8c7_b756,
    0x2420_70db,
    0xc1bd_ceee,
    0xf57c_0faf,
    0x4787_c62a,
    0xa830_4613,
    0xfd46_9501,
    0x6980_98d8,
    0x8b44_f7af,
    0xffff_5bb1,
    0x895c_d7be,
    0x6b90_1122,
    0xfd98_7193,
    0xa679_438e,
    0x49b4_0821,
    0xf61e_2562,
    0xc040_b340,
    0x265e_5a51,
    0xe9b6_c7aa,
    0xd62f_105d,
    0x0244_1453,
    0xd8a1_e681,
    0xe7d3_fbc8,
    0x21e1_cde6,
    0xc337_07d6,
    0xf4d5_0d87,
    0x455a_14ed,
    0xa9e3_e905,
    0xfcef_a3f8,
    0x676f_02d9,
    0x8d2a_4c8a,
    0xfffa_3942,
    0x8771_f681,
    0x6d9d_6122,
    0xfde5_380c,
    0xa4be_ea44,
    0x4bde_cfa9,
    0xf6bb_4b60,
    0xbebf_bc70,
    0x289b_7ec6,
    0xeaa1_27fa,
    0xd4ef_3085,
    0x0488_1d05,
    0xd9d4_d039,
    0xe6db_99e5,
    0x1fa2_7cf8,
    0xc4ac_5665,
    0xf429_2244,
    0x432a_ff97,
    0xab94_23a7,
    0xfc93_a039,
    0x655b_59c3,
    0x8f0c_cc92,
    0xffef_f47d,
    0x8584_5dd1,
    0x6fa8_7e4f,
    0xfe2c_e6e0,
    0xa301_4314,
    0x4e08_11a1,
    0xf753_7e82,
    0xbd3a_f235,
    0x2ad7_d2bb,
    0xeb86_d391,
];

const S: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
    14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15,
    21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];

/// Message word used by step `i`.
const fn word_index(i: usize) -> usize {
    match i / 16 {
        0 => i,
        1 => (5 * i + 1) % 16,
        2 => (3 * i + 5) % 16,
        _ => (7 * i) % 16,
    }
}

/// One MD5 compression of a 64-byte block per lane. `block[w][l]` is little-endian word
/// `w` of lane `l`'s block.
#[inline]
fn compress(state: &mut [Lanes; 4], block: &[Lanes; 16]) {
    let [mut a, mut b, mut c, mut d] = *state;
    for i in 0..64 {
        let m = &block[word_index(i)];
        let (k, s) = (K[i], S[i]);
        let mut f = [0u32; LANES];
        for l in 0..LANES {
            let (bl, cl, dl) = (b[l], c[l], d[l]);
            f[l] = match i / 16 {
                0 => (bl & cl) | (!bl & dl),
                1 => (dl & bl) | (!dl & cl),
                2 => bl ^ cl ^ dl,
                _ => cl ^ (bl | !dl),
            };
        }
        for l in 0..LANES {
            let t = f[l].wrapping_add(a[l]).wrapping_add(k).wrapping_add(m[l]);
            a[l] = d[l];
            d[l] = c[l];
            c[l] = b[l];
            b[l] = b[l].wrapping_add(t.rotate_left(s));
        }
    }
    for (st, v) in state.iter_mut().zip([a, b, c, d]) {
        for l in 0..LANES {
            st[l] = st[l].wrapping_add(v[l]);
        }
    }
}

/// Longest message that fits the one-block inner hash after the key block.
pub(crate) const MAX_SHORT_MESSAGE: usize = 55;

/// HMAC-MD5 with the key blocks already absorbed: `inner`/`outer` are the MD5 states
/// after `key ^ ipad` and `key ^ opad`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyedMd5 {
    inner: [u32; 4],
    outer: [u32; 4],
}

impl KeyedMd5 {
    /// Pre-keys HMAC-MD5 with a key of at most 64 bytes (longer keys are hashed first by
    /// the caller, as HMAC prescribes).
    pub(crate) fn new(key: &[u8]) -> Self {
        assert!(
            key.len() <= 64,
            "HMAC keys above 64 bytes must be hashed first"
        );
        let absorb = |pad: u8| {
            let mut bytes = [pad; 64];
            for (b, k) in bytes.iter_mut().zip(key) {
                *b ^= k;
            }
            let mut block = [[0u32; LANES]; 16];
            for (w, chunk) in block.iter_mut().zip(bytes.chunks_exact(4)) {
                // chunks_exact(4) yields 4-byte slices.
                *w = [u32::from_le_bytes(chunk.try_into().expect("4 bytes")); LANES];
            }
            let mut state = INIT.map(|x| [x; LANES]);
            compress(&mut state, &block);
            state.map(|lane| lane[0])
        };
        Self {
            inner: absorb(0x36),
            outer: absorb(0x5c),
        }
    }

    /// HMAC-MD5 digests of up to [`LANES`] messages of at most [`MAX_SHORT_MESSAGE`]
    /// bytes each, as big-endian `u128`s.
    ///
    /// # Panics
    /// If more than `LANES` messages are given or one is too long.
    pub(crate) fn digest_short(&self, messages: &[&[u8]], out: &mut [u128]) {
        assert!(messages.len() <= LANES && out.len() >= messages.len());
        // Inner: key block absorbed; one block holds message, 0x80 and the bit length.
        let mut block = [[0u32; LANES]; 16];
        for (l, msg) in messages.iter().enumerate() {
            assert!(
                msg.len() <= MAX_SHORT_MESSAGE,
                "message of {} bytes",
                msg.len()
            );
            let mut bytes = [0u8; 64];
            bytes[..msg.len()].copy_from_slice(msg);
            bytes[msg.len()] = 0x80;
            let bits = ((64 + msg.len()) as u64) * 8;
            bytes[56..].copy_from_slice(&bits.to_le_bytes());
            for (w, chunk) in bytes.chunks_exact(4).enumerate() {
                block[w][l] = u32::from_le_bytes(chunk.try_into().expect("4 bytes"));
            }
        }
        let mut inner = self.inner.map(|x| [x; LANES]);
        compress(&mut inner, &block);
        // Outer: key block absorbed; one block holds the 16-byte inner digest.
        let mut block = [[0u32; LANES]; 16];
        block[..4].copy_from_slice(&inner);
        block[4] = [0x80; LANES];
        block[14] = [(64 + 16) * 8; LANES];
        let mut outer = self.outer.map(|x| [x; LANES]);
        compress(&mut outer, &block);
        for (l, o) in out.iter_mut().enumerate().take(messages.len()) {
            let mut bytes = [0u8; 16];
            for (w, chunk) in bytes.chunks_exact_mut(4).enumerate() {
                chunk.copy_from_slice(&outer[w][l].to_le_bytes());
            }
            *o = u128::from_be_bytes(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, KeyInit, Mac};

    fn reference(key: &[u8], msg: &[u8]) -> u128 {
        let mut mac = Hmac::<md5::Md5>::new_from_slice(key).expect("any key length");
        mac.update(msg);
        u128::from_be_bytes(mac.finalize().into_bytes().into())
    }

    #[test]
    fn matches_the_hmac_crate_for_every_short_length() {
        for key in [
            &b"en"[..],
            b"",
            b"a much longer key that still fits in one block..",
        ] {
            let h = KeyedMd5::new(key);
            let messages: Vec<Vec<u8>> = (0..=MAX_SHORT_MESSAGE)
                .map(|n| (0..n).map(|i| (i * 7 + n) as u8).collect())
                .collect();
            for group in messages.chunks(LANES) {
                let refs: Vec<&[u8]> = group.iter().map(Vec::as_slice).collect();
                let mut out = [0u128; LANES];
                h.digest_short(&refs, &mut out);
                for (m, d) in refs.iter().zip(out) {
                    assert_eq!(d, reference(key, m), "key {key:?} len {}", m.len());
                }
            }
        }
    }

    #[test]
    fn spec_vector() {
        let mut out = [0u128; 1];
        KeyedMd5::new(b"en").digest_short(&[b"hello"], &mut out);
        assert_eq!(
            format!("{:032x}", out[0]),
            "1dec56025892c637efb2601c8e1a3ab4"
        );
    }
}
