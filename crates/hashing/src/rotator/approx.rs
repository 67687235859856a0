//! The `f32` filter: approximate scores from an `f32` copy of the rotator, with fused
//! multiply-adds where the CPU has them, under runtime SIMD dispatch (`pulp`). It serves
//! every CPU and any feature count the filters take; [`super::fixed`] is faster where it
//! applies.

use super::{pow2, rotated, Candidates, FilterInput, Score};

/// Scores per block (6 KiB), scanned for candidates as a whole. A multiple of every chunk
/// size (`ACCUMULATORS` × 1, 4, 8 or 16 lanes).
const APPROX_BLOCK: usize = 1536;

/// SIMD vectors of scores kept in registers while every feature adds to them.
const ACCUMULATORS: usize = 12;

/// The rotator rounded to `f32`: `R[j mod B]` for `j < B + APPROX_BLOCK`, so that a block's
/// run of any feature is one contiguous slice, wrap-around included.
pub(super) struct ApproxRotator(Box<[f32]>);

impl ApproxRotator {
    /// The `f32` copy of `exact` (not empty).
    pub(super) fn new(exact: &[f64]) -> Self {
        let width = exact.len();
        Self(
            (0..width + APPROX_BLOCK)
                .map(|j| exact[j % width] as f32)
                .collect(),
        )
    }

    /// Indices, ascending, whose approximate signed score is within [`approximation_gap`]
    /// of the largest: they include the reference's winner and every index tied with it.
    pub(super) fn candidates(&self, input: &FilterInput<'_>) -> Vec<usize> {
        // |log2 Σ|w|| ≤ 900: the scale is a normal power of two, and Σ|w|·2^k is in [½, 2].
        let scale = pow2(-(input.abs_sum.log2().round() as i32));
        let a = input.abs_sum * scale * input.max_abs;
        pulp::Arch::new().dispatch(Filter {
            rotator: &self.0,
            input,
            scale,
            gap: approximation_gap(input.features.len(), a),
        })
    }
}

/// The `f32` filter of one word (weights scaled by `scale`), run under runtime dispatch.
struct Filter<'a> {
    rotator: &'a [f32],
    input: &'a FilterInput<'a>,
    scale: f64,
    gap: f64,
}

impl pulp::WithSimd for Filter<'_> {
    type Output = Vec<usize>;

    // A `WithSimd` type rather than a closure: a closure's `FnOnce` shim is not always
    // inlined into the dispatched function, which then runs without the instruction set.
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) -> Self::Output {
        let FilterInput {
            width,
            features,
            offsets,
            ..
        } = *self.input;
        let chunk = ACCUMULATORS * S::F32_LANES;
        let mut kept = Candidates::<f32>::new(self.gap);
        let mut block = [0.0f32; APPROX_BLOCK];
        let mut runs = Vec::with_capacity(features.len());
        // The sign folded into the weights: + below B/2, − above.
        let half = width / 2;
        for (lo, hi, scale) in [(0, half, self.scale), (half, width, -self.scale)] {
            for start in (lo..hi).step_by(APPROX_BLOCK) {
                let len = APPROX_BLOCK.min(hi - start);
                runs.clear();
                runs.extend(features.iter().zip(offsets).map(|(f, &o)| {
                    (
                        rotated(o, start, width),
                        simd.splat_f32s((f.weight * scale) as f32),
                    )
                }));
                // Whole chunks: the lanes past `len` are computed (from the copy's wrapped
                // tail) but not offered.
                let block = &mut block[..len.next_multiple_of(chunk)];
                approx_block(simd, self.rotator, &runs, block);
                kept.offer(start, &block[..len]);
            }
        }
        kept.into_indices()
    }
}

/// `block[k] = Σ_f w_f·rotator[first_f + k]` for `runs = [(first_f, splat(w_f))]`, in chunks
/// of [`ACCUMULATORS`] vectors held in registers while every feature adds to them (one
/// multiply-add per element and feature, fused where the CPU has it; each score is stored
/// once).
#[inline(always)]
fn approx_block<S: pulp::Simd>(
    simd: S,
    rotator: &[f32],
    runs: &[(usize, S::f32s)],
    block: &mut [f32],
) {
    let chunk = ACCUMULATORS * S::F32_LANES;
    for (c, out) in block.chunks_exact_mut(chunk).enumerate() {
        let mut acc = [simd.splat_f32s(0.0); ACCUMULATORS];
        for &(first, w) in runs {
            let (r, _) = S::as_simd_f32s(&rotator[first + c * chunk..][..chunk]);
            if let Some(r) = r.first_chunk::<ACCUMULATORS>() {
                for (a, &x) in acc.iter_mut().zip(r) {
                    *a = simd.mul_add_e_f32s(x, w, *a);
                }
            }
        }
        let (out, _) = S::as_mut_simd_f32s(out);
        for (o, a) in out.iter_mut().zip(acc) {
            *o = a;
        }
    }
}

/// The candidate gap `T` (scaled units) for `features` features with `a = max|R|·Σ|w|·2^k`
/// computed in `f64`: `T ≥ 2(E32 + E64)` plus the rounding of `max a − T` itself.
///
/// Notation: `v_f = 2^k·w_f` (exact: a power-of-two scaling), `S_i = Σ_f R[j_f(i)]·v_f`
/// (real arithmetic), `A = max|R|·Σ_f|v_f| ≥ Σ_f |R[j_f(i)]·v_f|`, `u = 2⁻²⁴`, `F ≤ 2¹⁵`.
/// The filters take `2⁻²⁰ ≤ max|R| ≤ 2²⁰` and `2⁻⁹⁰⁰ ≤ Σ|w| ≤ 2⁹⁰⁰`, so `Σ|v| ∈ [½, 2]`,
/// and nothing overflows in either precision.
///
/// (a) `f32` filter: `a_i` is a chain of multiply-adds over `r_f = fl32(R)` and
/// `w'_f = fl32(±v_f)` (`±`: the sign of `s_i`). The conversions give `|r − R| ≤ u|R|` and
/// `|w' ∓ v| ≤ u|v|`, so `|Σ r·w' ∓ S_i| ≤ (2u + u²)A`. The chain rounds each term at most
/// `F` times, fused or not (fused: by its own step and each later one; unfused: by its
/// product and the additions from its own on, the first addition, to 0, being exact),
/// adding at most `γ_F·Σ|r·w'| ≤ γ_F(1 + u)²A`, `γ_F = Fu/(1 − Fu) ≤ 1.01·Fu`. Total
/// `≤ (F + 3)·1.01·u·A ≤ E32 = (F + 4)·2⁻²³·A`.
///
/// (b) strict `f64` (`U = 2⁻⁵³`): `ŝ_i` sums `F` rounded products by `F − 1` rounded
/// additions (the first, `0 + p`, is exact), so each term carries at most `F` roundings and
/// `|2^k·ŝ_i ∓ S_i| ≤ γ_F(U)·A ≤ 1.01·F·U·A ≤ E64 = (F + 2)·2⁻⁵²·A`.
///
/// Underflow (subnormal `f32` conversions and results, `f64` products) adds at most
/// `2⁻¹⁵⁰·max(1, max|R|, Σ|v|)` per event in (a) and `2^k·2⁻¹⁰⁷⁵ ≤ 2⁻¹⁷⁴` per product in
/// (b), at most `4F + 2` events: below `2⁻¹¹⁰`, covered by the absolute `2⁻¹⁰⁰`. Computing
/// `A` and `T` here rounds each of a few operations and an `F`-term sum by `2⁻⁵³`: the
/// factor `1 + 2⁻²⁰` covers it.
///
/// Proof of candidacy: `|a_i − 2^k·ŝ_i| ≤ E = E32 + E64` for every `i`. Let `j` be the
/// reference's winner (`ŝ_j ≥ ŝ_i` for all `i`) and `m` the index of `M = max a`. Then
/// `a_j ≥ 2^k·ŝ_j − E ≥ 2^k·ŝ_m − E ≥ a_m − 2E = M − 2E`, and the same holds for every `i`
/// with `ŝ_i = ŝ_j`. The threshold is `fl64(M − T)` rounded down to `f32`; `fl64` errs by
/// at most `2⁻⁵³·|M − T| ≤ 2⁻⁵¹·A` (`|M| ≤ 1.01·A`, `T ≤ A`), which the `2⁻⁴⁸·A` term
/// covers, so the threshold is at most `M − 2E` and every such `i` is kept. The candidates
/// are then scored exactly as the reference does, in index order with its rule (`>` from
/// the floor), so the result is the reference's.
fn approximation_gap(features: usize, a: f64) -> f64 {
    let f = features as f64;
    let e32 = (f + 4.0) * pow2(-23) * a;
    let e64 = (f + 2.0) * pow2(-52) * a;
    2.0 * (e32 + e64) * (1.0 + pow2(-20)) + pow2(-48) * a + pow2(-100)
}

impl Score for f32 {
    const LOWEST: Self = f32::NEG_INFINITY;

    /// The largest `f32` at or below `max − gap` (computed in `f64`).
    fn threshold(max: f32, gap: f64) -> f32 {
        let t = f64::from(max) - gap;
        let t32 = t as f32;
        if f64::from(t32) > t {
            t32.next_down()
        } else {
            t32
        }
    }
}
