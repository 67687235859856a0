//! The Emb_LSH bucket: the argmax of a signed circulant projection of a word's features
//! (reference `compute_ind`), blocked, vectorised and parallel, with exactly the reference's
//! arithmetic.
//!
//! `score(i) = Σ_f R[(id_f + i) mod B] · w_f` is summed in feature order with a separate
//! multiply and add (strict `f64`: no fused multiply-add, which would change the rounding and
//! so, at near-ties, the bucket). Each score's operations are the same whatever the lanes or
//! blocks, so only the speed changes: the width is cut into L1-sized blocks whose scores stay
//! in cache while every feature adds to them, under runtime SIMD dispatch (`pulp`: AVX2 lanes
//! instead of SSE2's two); the best of each block is found on the spot (a vectorised maximum,
//! then its first index), and the lowest index wins ties. One word runs on one thread: batch
//! encoding already hashes words in parallel, and splitting one word's blocks over threads
//! cost more in wake-ups than it saved.

use crate::lsh::Feature;

/// Scores per block: 8 KiB of `f64`, plus one 8 KiB rotator segment per feature, in L1.
const BLOCK: usize = 1024;

/// Scores below this never win (the reference starts its running maximum here).
const FLOOR: f64 = -1e16;

/// Index of the largest signed score, `s_i = score(i)` for `i < B/2` and `−score(i)` above,
/// with `B = rotator.len()`; the lowest index wins ties, and 0 when no score exceeds −10¹⁶.
pub(crate) fn signed_argmax(rotator: &[f64], features: &[Feature]) -> usize {
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

/// The best signed score of `start..end` above [`FLOOR`], and its index.
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
                // scores[k] += R[(id + start + k) mod B] · w, in up to two contiguous runs.
                let first = (f.id as usize % width + start) % width;
                let run = scores.len().min(width - first);
                let (head, tail) = scores.split_at_mut(run);
                for (s, r) in head.iter_mut().zip(&rotator[first..first + run]) {
                    *s += r * f.weight;
                }
                for (s, r) in tail.iter_mut().zip(rotator) {
                    *s += r * f.weight;
                }
            }
        },
    );
    // Sign, then the block's maximum (lane by lane), then its first index.
    let flip_from = (width / 2).saturating_sub(start).min(scores.len());
    for s in &mut scores[flip_from..] {
        *s = -*s;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference loop: one pass per feature over the whole width, then one argmax pass.
    fn plain_argmax(rotator: &[f64], features: &[Feature]) -> usize {
        let width = rotator.len();
        let mut scores = vec![0.0f64; width];
        for f in features {
            for (i, s) in scores.iter_mut().enumerate() {
                *s += rotator[(f.id as usize % width + i) % width] * f.weight;
            }
        }
        let mut best = FLOOR;
        let mut best_index = 0;
        for (i, &score) in scores.iter().enumerate() {
            let s = if i < width / 2 { score } else { -score };
            if s > best {
                best = s;
                best_index = i;
            }
        }
        best_index
    }

    fn rotator(width: usize, seed: u64) -> Vec<f64> {
        let mut z = seed;
        (0..width)
            .map(|_| {
                z = z
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (z >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect()
    }

    #[test]
    fn blocked_argmax_equals_the_plain_loop() {
        for (width, seed) in [
            (1, 1),
            (7, 2),
            (1023, 3),
            (1025, 4),
            (50_260, 5),
            (3 * BLOCK, 6),
        ] {
            let r = rotator(width, seed);
            for n in [0usize, 1, 3, 19] {
                let features: Vec<Feature> = (0..n)
                    .map(|k| Feature {
                        id: (k as u32 * 7919 + seed as u32 * 31) % 50_265,
                        weight: 1.0 / (k + 1) as f64,
                    })
                    .collect();
                assert_eq!(
                    signed_argmax(&r, &features),
                    plain_argmax(&r, &features),
                    "width {width}, {n} features"
                );
            }
        }
    }

    #[test]
    fn ties_go_to_the_lowest_index_across_blocks() {
        // A constant rotator: every score in the first half ties, so index 0 wins; with a
        // negative weight every second-half score ties and is the largest.
        let r = vec![0.25; 3 * BLOCK + 5];
        let up = [Feature { id: 3, weight: 1.0 }];
        let down = [Feature {
            id: 3,
            weight: -1.0,
        }];
        assert_eq!(signed_argmax(&r, &up), 0);
        assert_eq!(signed_argmax(&r, &down), r.len() / 2);
        assert_eq!(signed_argmax(&r, &down), plain_argmax(&r, &down));
    }
}
