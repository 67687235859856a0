//! The 16-bit fixed-point filter (x86-64 with AVX2, up to [`MAX_FIXED_FEATURES`] features):
//! the rotator and the weights as `i16`, each product's high half (`vpmulhw`: sixteen lanes
//! a vector, and half the bytes of `f32`), summed in `i16`. The filter is bound by the rate
//! at which the rotator streams from L2, so half the bytes is about twice the speed of the
//! `f32` filter; its bound is looser, but near the top of the `B` scores it still leaves
//! only a handful of candidates for a few dozen features.

use pulp::x86::V3;
use pulp::{i16x16, Simd};

use super::{pow2, rotated, Candidates, FilterInput, Score};

/// Scores per block (4 KiB), scanned for candidates as a whole; a multiple of [`CHUNK`].
const FIXED_BLOCK: usize = 2048;

/// AVX2 vectors of scores kept in registers while every feature adds to them.
const ACCUMULATORS: usize = 8;

/// Scores per register block.
const CHUNK: usize = ACCUMULATORS * 16;

/// Most features this filter takes: its gap grows with `F`, faster than the spread of the
/// scores, and past a few dozen features the `f32` filter leaves far fewer candidates.
const MAX_FIXED_FEATURES: usize = 64;

/// Sum of the weights' magnitudes after scaling (the largest is then below `i16::MAX`).
const WEIGHT_SUM: f64 = 32_000.0;

/// The rotator in 16-bit fixed point: `q_j = round(R[j mod B]·P)` for
/// `j < B + FIXED_BLOCK`, with `P` the largest power of two such that `max|R|·P ≤ 32767`.
pub(super) struct FixedRotator {
    values: Box<[i16]>,
}

impl FixedRotator {
    /// The fixed-point copy of `exact` (not empty, finite), whose largest magnitude is
    /// `max_abs`, in `[2⁻²⁰, 2²⁰]`.
    pub(super) fn new(exact: &[f64], max_abs: f64) -> Self {
        let mut p = (32_767.0 / max_abs).log2().floor() as i32;
        while max_abs * pow2(p) > 32_767.0 {
            p -= 1;
        }
        let scale = pow2(p);
        let width = exact.len();
        let values = (0..width + FIXED_BLOCK)
            .map(|j| (exact[j % width] * scale).round() as i16)
            .collect();
        Self { values }
    }

    /// Indices, ascending, whose fixed-point signed score is within [`fixed_gap`] of the
    /// largest: they include the reference's winner and every index tied with it. `None`
    /// without AVX2, or with more than [`MAX_FIXED_FEATURES`] features.
    pub(super) fn candidates(&self, input: &FilterInput<'_>) -> Option<Vec<usize>> {
        let simd = V3::try_new()?;
        let features = input.features;
        if features.len() > MAX_FIXED_FEATURES {
            return None;
        }
        let q = WEIGHT_SUM / input.abs_sum;
        let weights: Vec<i16> = features
            .iter()
            .map(|f| (f.weight * q).round() as i16)
            .collect();
        // Σ|m| ≤ 32767 keeps every partial sum in range (see `fixed_gap`); it holds by
        // construction up to roundings, and is checked rather than assumed.
        let total: i32 = weights.iter().map(|&m| i32::from(m).abs()).sum();
        (total <= 32_767).then(|| {
            simd.vectorize(FixedFilter {
                simd,
                rotator: &self.values,
                input,
                weights: &weights,
            })
        })
    }
}

/// The fixed-point filter of one word, run with AVX2.
struct FixedFilter<'a> {
    simd: V3,
    rotator: &'a [i16],
    input: &'a FilterInput<'a>,
    /// `m_f = round(w_f·32000/Σ|w|)`.
    weights: &'a [i16],
}

impl pulp::NullaryFnOnce for FixedFilter<'_> {
    type Output = Vec<usize>;

    #[inline(always)]
    fn call(self) -> Self::Output {
        let FilterInput { width, offsets, .. } = *self.input;
        let simd = self.simd;
        let mut kept = Candidates::<i16>::new(fixed_gap(self.weights.len()));
        let mut block = [0i16; FIXED_BLOCK];
        let mut runs = Vec::with_capacity(self.weights.len());
        // The sign folded into the weights: + below B/2, − above (exact: |m| ≤ 32767).
        let half = width / 2;
        for (lo, hi, sign) in [(0, half, 1), (half, width, -1)] {
            for start in (lo..hi).step_by(FIXED_BLOCK) {
                let len = FIXED_BLOCK.min(hi - start);
                runs.clear();
                runs.extend(
                    offsets
                        .iter()
                        .zip(self.weights)
                        .map(|(&o, &m)| (rotated(o, start, width), simd.splat_i16x16(sign * m))),
                );
                // Whole chunks: the lanes past `len` are computed (from the copy's wrapped
                // tail) but not offered.
                let block = &mut block[..len.next_multiple_of(CHUNK)];
                fixed_block(simd, self.rotator, &runs, block);
                kept.offer(start, &block[..len]);
            }
        }
        kept.into_indices()
    }
}

/// `block[k] = Σ_f hi16(rotator[first_f + k] · m_f)` (wrapping `i16` sums) for
/// `runs = [(first_f, splat(m_f))]`, in chunks of [`ACCUMULATORS`] vectors held in
/// registers while every feature adds to them.
#[inline(always)]
fn fixed_block(simd: V3, rotator: &[i16], runs: &[(usize, i16x16)], block: &mut [i16]) {
    for (c, out) in block.chunks_exact_mut(CHUNK).enumerate() {
        let mut acc = [simd.splat_i16x16(0); ACCUMULATORS];
        for &(first, m) in runs {
            let (r, _) = V3::as_simd_i16s(&rotator[first + c * CHUNK..][..CHUNK]);
            if let Some(r) = r.first_chunk::<ACCUMULATORS>() {
                for (a, &x) in acc.iter_mut().zip(r) {
                    *a = simd.wrapping_add_i16x16(*a, simd.widening_mul_i16x16(x, m).1);
                }
            }
        }
        let (out, _) = V3::as_mut_simd_i16s(out);
        for (o, a) in out.iter_mut().zip(acc) {
            *o = a;
        }
    }
}

/// The candidate gap, in score units, for `features` features: `⌊5F/2⌋ + 2 > 2E`.
///
/// Notation: `q_j = round(R_j·P)` as built (`|q_j| ≤ 32767`, `|q_j − P·R_j| ≤ ½`, plus
/// `2⁻¹⁰⁷⁵` if `R_j·P` underflows); `Q = 32000/Σ|w|` (the `f64` value), and
/// `m_f = round(fl(w_f·Q))`, so `|m_f − w_f·Q| ≤ ½ + 2⁻⁵³·32001` and `Σ|m_f| ≤ 32767`
/// (checked). `σ = ±1` is the sign of `s_i`, `K = P·Q/2¹⁶`, `S_i = Σ_f R[j_f(i)]·w_f`
/// (real arithmetic), `F ≤ 64`.
///
/// Each product's high half is `h_f = ⌊q·σm/2¹⁶⌋` exactly (`vpmulhw`), within 1 of
/// `q·σm/2¹⁶`. The score is `acc_i = Σ_f h_f`; `|acc_i| ≤ 32767·Σ|m|/2¹⁶ + F < 16384 + F`,
/// so the `i16` sums never wrap. Then
/// `|q·σm − (P·R)(σ·w·Q)| ≤ |q − P·R|·|m| + |P·R|·|m − w·Q| ≤ 0.5000001·(|m_f| + 32767)`,
/// and summed over `f` and divided by `2¹⁶`: `< 0.25·(F + 1)`. So
/// `|acc_i − K·σ·S_i| < F + 0.25·(F + 1)`.
///
/// The strict `f64` score errs by `|ŝ_i − σ·S_i| ≤ 1.01·F·2⁻⁵³·Σ_f|R·w|` plus `2⁻¹⁰⁷⁵` per
/// underflowing product (see `approx::approximation_gap`); in score units `K·max|R|·Σ|w| <
/// 16001` and `K < 2⁹³⁵`, so this is below `2⁻³⁰`. Altogether
/// `|acc_i − K·ŝ_i| ≤ E < 1.25·F + 0.25 + 2⁻³⁰`, and `2E < ⌊5F/2⌋ + 2`.
///
/// Proof of candidacy: let `j` be the reference's winner and `m` the index of
/// `M = max acc`. `acc_j ≥ K·ŝ_j − E ≥ K·ŝ_m − E ≥ acc_m − 2E > M − gap` (`K > 0`), and the
/// same for every `i` with `ŝ_i = ŝ_j`; the threshold `M − gap` keeps them all.
fn fixed_gap(features: usize) -> f64 {
    // F ≤ 64: exact in f64.
    (5 * features / 2 + 2) as f64
}

impl Score for i16 {
    const LOWEST: Self = i16::MIN;

    /// `max − gap` (an integer), or `i16::MIN` below the range.
    fn threshold(max: i16, gap: f64) -> i16 {
        (f64::from(max) - gap).max(f64::from(i16::MIN)) as i16
    }
}
