//! The Emb_LSH bucket: the argmax of a signed circulant projection of a word's features
//! (reference `compute_ind`), with exactly the reference's result.
//!
//! `score(i) = Σ_f R[(id_f + i) mod B] · w_f` is summed in feature order with a separate
//! multiply and add (strict `f64`: no fused multiply-add, which would change the rounding and
//! so, at near-ties, the bucket); `s_i = score(i)` below `B/2` and `−score(i)` above; the
//! lowest index wins ties, and 0 when no `s_i` exceeds [`FLOOR`].
//!
//! Strict `f64` over the whole width is slow (every score is `F` dependent multiply-adds
//! over 8-byte values), so the bucket is found in two steps ([`Rotator::signed_argmax`]):
//!
//! 1. **Filter.** Approximate signed scores `a_i` of every index, from a low-precision copy
//!    of the rotator made once per hasher, the sign folded into the weights. A block of
//!    scores stays in SIMD registers while every feature adds to it, so the only memory
//!    traffic is the rotator itself: `F × B` values per word, which is what bounds the
//!    speed. Where AVX2 is available and `F ≤ 64`, the copy is 16-bit fixed point (2 bytes
//!    a value, 16 lanes: `fixed`); otherwise `f32` with fused multiply-adds (`approx`).
//! 2. **Decide.** Each filter has a rigorous bound `E` on the distance between `a_i` and
//!    the strict `f64` signed score `ŝ_i` (what the reference computes), in the filter's
//!    units. The candidates are the indices with `a_i ≥ max_j a_j − 2E`; only these get the
//!    strict score ([`exact_signed_score`], the same per-index arithmetic as the full path),
//!    and the best of them wins with the reference's rule. The reference's winner, and every
//!    index tied with it, is a candidate (proofs at `approx::approximation_gap` and
//!    `fixed::fixed_gap`), so the result is the reference's, bit for bit.
//!
//! Inputs outside the proofs' range (non-finite or extreme weights or rotator values, huge
//! feature counts) take the full strict path ([`exact_argmax`]): L1-sized blocks of strict
//! `f64` scores, every feature added to a block while it is in cache. One word runs on one
//! thread: batch encoding already hashes words in parallel.

mod approx;
#[cfg(target_arch = "x86_64")]
mod fixed;
#[cfg(test)]
mod tests;

use crate::lsh::Feature;

/// Scores per block of the full strict path: 8 KiB of `f64`, plus one 8 KiB rotator segment
/// per feature, in L1.
const BLOCK: usize = 1024;

/// Scores below this never win (the reference starts its running maximum here).
const FLOOR: f64 = -1e16;

/// Most features the filters take (so that `F·2⁻²⁴ ≤ 2⁻⁹` in the `f32` error bound).
const MAX_FILTER_FEATURES: usize = 1 << 15;

/// The filters take rotators with `2⁻²⁰ ≤ max|R| ≤ 2²⁰` (the reference's: about 4.4).
const MAX_ABS_RANGE: (f64, f64) = (pow2(-20), pow2(20));

/// The filters take weights with `2⁻⁹⁰⁰ ≤ Σ|w| ≤ 2⁹⁰⁰`: nothing overflows, and underflow in
/// the strict scores is negligible against the bounds.
const ABS_SUM_RANGE: (f64, f64) = (pow2(-900), pow2(900));

/// `2ⁿ` for `−1022 ≤ n ≤ 1023`, exactly.
const fn pow2(n: i32) -> f64 {
    assert!(-1022 <= n && n <= 1023);
    f64::from_bits(((n + 1023) as u64) << 52)
}

/// The Emb_LSH rotator: its `f64` values, and the low-precision copies the filters read.
pub(crate) struct Rotator {
    /// The reference's values, `R[0..B]`.
    exact: Box<[f64]>,
    /// `None` unless every value is finite and `max|R|` lies in [`MAX_ABS_RANGE`]: every
    /// bucket then takes the full strict path.
    filters: Option<Filters>,
}

/// The filters' copies of a rotator.
struct Filters {
    /// `max|R|`.
    max_abs: f64,
    /// `R` rounded to `f32`.
    approx: approx::ApproxRotator,
    /// `R` in 16-bit fixed point.
    #[cfg(target_arch = "x86_64")]
    fixed: fixed::FixedRotator,
}

/// What a filter needs of one word.
struct FilterInput<'a> {
    /// The width `B`.
    width: usize,
    features: &'a [Feature],
    /// `id_f mod B`.
    offsets: &'a [usize],
    /// `Σ|w_f|`, computed in `f64`, in [`ABS_SUM_RANGE`].
    abs_sum: f64,
    /// `max|R|`.
    max_abs: f64,
}

impl Rotator {
    /// The rotator `R = values`, with its copies for the filters.
    pub(crate) fn new(values: Vec<f64>) -> Self {
        let exact = values.into_boxed_slice();
        let filters = exact
            .iter()
            .try_fold(0.0f64, |m, &r| r.is_finite().then(|| m.max(r.abs())))
            .filter(|m| (MAX_ABS_RANGE.0..=MAX_ABS_RANGE.1).contains(m))
            .map(|max_abs| Filters {
                max_abs,
                approx: approx::ApproxRotator::new(&exact),
                #[cfg(target_arch = "x86_64")]
                fixed: fixed::FixedRotator::new(&exact, max_abs),
            });
        Self { exact, filters }
    }

    /// The width `B`.
    pub(crate) fn len(&self) -> usize {
        self.exact.len()
    }

    /// Index of the largest signed score, `s_i = score(i)` for `i < B/2` and `−score(i)`
    /// above, with `B = self.len()`; the lowest index wins ties, and 0 when no score exceeds
    /// −10¹⁶. Always equal to [`exact_argmax`] (see the module docs).
    pub(crate) fn signed_argmax(&self, features: &[Feature]) -> usize {
        if features.is_empty() || self.len() == 0 {
            // Every score is 0.0, or there is none: 0 (the full path's answer too).
            return 0;
        }
        let offsets: Vec<usize> = features
            .iter()
            .map(|f| f.id as usize % self.len())
            .collect();
        match self.filter_input(features, &offsets) {
            Some((filters, input)) => {
                #[cfg(target_arch = "x86_64")]
                if let Some(found) = filters.fixed.candidates(&input) {
                    return self.decide(features, &offsets, found);
                }
                self.decide(features, &offsets, filters.approx.candidates(&input))
            }
            None => exact_argmax(&self.exact, features),
        }
    }

    /// The filters, and their view of a word; `None` when it is outside their proofs' range.
    fn filter_input<'a>(
        &self,
        features: &'a [Feature],
        offsets: &'a [usize],
    ) -> Option<(&Filters, FilterInput<'a>)> {
        let filters = self.filters.as_ref()?;
        if features.len() > MAX_FILTER_FEATURES {
            return None;
        }
        // NaN or ±∞ in any weight (or an overflowing sum) fails the range test.
        let abs_sum: f64 = features.iter().map(|f| f.weight.abs()).sum();
        let input = FilterInput {
            width: self.len(),
            features,
            offsets,
            abs_sum,
            max_abs: filters.max_abs,
        };
        (ABS_SUM_RANGE.0..=ABS_SUM_RANGE.1)
            .contains(&abs_sum)
            .then_some((filters, input))
    }

    /// The best of `candidates` (ascending indices) by the strict signed score, with the
    /// reference's rule: the highest above [`FLOOR`], then the lowest index; 0 if none.
    fn decide(&self, features: &[Feature], offsets: &[usize], candidates: Vec<usize>) -> usize {
        let mut best = None;
        for index in candidates {
            let s = exact_signed_score(&self.exact, features, offsets, index);
            best = better(best, (s > FLOOR).then_some((s, index)));
        }
        best.map_or(0, |(_, index)| index)
    }
}

/// A filter's approximate score type.
trait Score: Copy + PartialOrd {
    /// Below every score.
    const LOWEST: Self;
    /// The lowest score within `gap` of `max`, rounded down to the type: every score at or
    /// above `max − gap` is at or above it.
    fn threshold(max: Self, gap: f64) -> Self;
}

/// Approximate scores at or above the running threshold, in index order.
struct Candidates<T> {
    gap: f64,
    /// The largest approximate score so far.
    max: T,
    /// `T::threshold(max, gap)`.
    threshold: T,
    /// `(index, a_index)` with `a_index ≥ threshold`.
    found: Vec<(usize, T)>,
}

impl<T: Score> Candidates<T> {
    fn new(gap: f64) -> Self {
        Self {
            gap,
            max: T::LOWEST,
            threshold: T::LOWEST,
            found: Vec::new(),
        }
    }

    /// Takes the scores `a[start..start + block.len()]`.
    #[inline(always)]
    fn offer(&mut self, start: usize, block: &[T]) {
        let block_max = lane_max(block);
        if block_max < self.threshold {
            return;
        }
        if block_max > self.max {
            self.max = block_max;
            self.threshold = T::threshold(block_max, self.gap);
            let t = self.threshold;
            self.found.retain(|&(_, a)| a >= t);
        }
        let t = self.threshold;
        // Chunks with no score at the threshold are skipped with a branch-free test.
        for (c, chunk) in block.chunks(32).enumerate() {
            if chunk.iter().fold(false, |any, &a| any | (a >= t)) {
                for (k, &a) in chunk.iter().enumerate() {
                    if a >= t {
                        self.found.push((start + c * 32 + k, a));
                    }
                }
            }
        }
    }

    /// The candidates' indices, ascending: every index whose score is at or above
    /// `threshold(max, gap)` for the final maximum.
    fn into_indices(self) -> Vec<usize> {
        self.found.into_iter().map(|(index, _)| index).collect()
    }
}

/// The maximum of `block` (lane by lane; the filters' scores are never NaN).
#[inline(always)]
fn lane_max<T: Score>(block: &[T]) -> T {
    let mut lanes = [T::LOWEST; 32];
    let mut chunks = block.chunks_exact(32);
    for chunk in &mut chunks {
        for (acc, &v) in lanes.iter_mut().zip(chunk) {
            *acc = if v > *acc { v } else { *acc };
        }
    }
    let max = |a: T, &v: &T| if v > a { v } else { a };
    let tail = chunks.remainder().iter().fold(T::LOWEST, max);
    lanes.iter().fold(tail, max)
}

/// One step of the reference's score: `score + r·w`, a separate multiply and add in `f64`
/// (never fused). Every strict score, in both paths, is built from this step alone.
#[inline(always)]
fn add_term(score: f64, r: f64, w: f64) -> f64 {
    score + r * w
}

/// The reference's sign: `score` below `B/2`, `−score` from there on.
#[inline(always)]
fn signed(index: usize, width: usize, score: f64) -> f64 {
    if index < width / 2 {
        score
    } else {
        -score
    }
}

/// `(offset + start) mod width` for `offset, start < width`, without a division: the index
/// of the rotator entry that feature offset `offset` meets at score index `start`.
fn rotated(offset: usize, start: usize, width: usize) -> usize {
    if offset >= width - start {
        offset - (width - start)
    } else {
        offset + start
    }
}

/// The strict signed score `s_index`: `score(index)` summed from 0.0 in feature order with
/// [`add_term`], then [`signed`] (`offsets[f] = id_f mod B`). Bit for bit the full path's
/// value at `index`.
fn exact_signed_score(
    rotator: &[f64],
    features: &[Feature],
    offsets: &[usize],
    index: usize,
) -> f64 {
    let width = rotator.len();
    let score = features.iter().zip(offsets).fold(0.0, |score, (f, &o)| {
        add_term(score, rotator[rotated(o, index, width)], f.weight)
    });
    signed(index, width, score)
}

/// The full strict path: the same result as [`Rotator::signed_argmax`] for any input,
/// computing every score exactly (blocked and vectorised, each score with the reference's
/// operations in the reference's order).
pub(crate) fn exact_argmax(rotator: &[f64], features: &[Feature]) -> usize {
    let width = rotator.len();
    let blocks = width.div_ceil(BLOCK);
    (0..blocks)
        .map(|b| block_best(rotator, features, b * BLOCK, (b * BLOCK + BLOCK).min(width)))
        .fold(None, better)
        .map_or(0, |(_, index)| index)
}

/// The better of two candidates `(score, index)`: the higher score, then the lower index.
fn better(a: Option<(f64, usize)>, b: Option<(f64, usize)>) -> Option<(f64, usize)> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.0 > x.0 || (y.0 == x.0 && y.1 < x.1) {
            y
        } else {
            x
        }),
        (x, None) => x,
        (None, y) => y,
    }
}

/// The best strict signed score of `start..end` above [`FLOOR`], and its index.
fn block_best(
    rotator: &[f64],
    features: &[Feature],
    start: usize,
    end: usize,
) -> Option<(f64, usize)> {
    let width = rotator.len();
    let mut scores = [0.0f64; BLOCK];
    let scores = &mut scores[..end - start];
    pulp::Arch::new().dispatch(
        #[inline(always)]
        || {
            for f in features {
                // scores[k] = add_term(scores[k], R[(id + start + k) mod B], w), in up to
                // two contiguous runs.
                let first = rotated(f.id as usize % width, start, width);
                let run = scores.len().min(width - first);
                let (head, tail) = scores.split_at_mut(run);
                for (s, &r) in head.iter_mut().zip(&rotator[first..first + run]) {
                    *s = add_term(*s, r, f.weight);
                }
                for (s, &r) in tail.iter_mut().zip(rotator) {
                    *s = add_term(*s, r, f.weight);
                }
            }
        },
    );
    for (k, s) in scores.iter_mut().enumerate() {
        *s = signed(start + k, width, *s);
    }
    // The block's maximum (lane by lane), then its first index.
    let max = pulp::Arch::new().dispatch(
        #[inline(always)]
        || {
            let mut lanes = [FLOOR; 8];
            let mut chunks = scores.chunks_exact(8);
            for chunk in &mut chunks {
                for (acc, &v) in lanes.iter_mut().zip(chunk) {
                    *acc = if v > *acc { v } else { *acc };
                }
            }
            let tail = chunks
                .remainder()
                .iter()
                .fold(FLOOR, |a, &v| if v > a { v } else { a });
            lanes.iter().fold(tail, |a, &v| if v > a { v } else { a })
        },
    );
    // `v > acc` keeps FLOOR for NaN and for scores at or below it, as the reference's scan.
    if max > FLOOR {
        scores
            .iter()
            .position(|&s| s == max)
            .map(|k| (max, start + k))
    } else {
        None
    }
}
