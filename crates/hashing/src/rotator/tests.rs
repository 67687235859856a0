//! The filtered argmax against the plain reference loop, on adversarial inputs.

use super::*;
use crate::mt19937::LegacyRandomState;

/// The real width (the reference's 50,260 buckets).
const WIDTH: usize = 50_260;

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

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
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

/// Features with ids below 50,265 (the vocabulary) and weights from `weight`.
fn features(rng: &mut Rng, n: usize, mut weight: impl FnMut(&mut Rng) -> f64) -> Vec<Feature> {
    (0..n)
        .map(|_| Feature {
            id: rng.below(50_265) as u32,
            weight: weight(rng),
        })
        .collect()
}

/// Like the LSH features: `count / denominator`, positive.
fn lsh_weight(rng: &mut Rng) -> f64 {
    (1 + rng.below(3)) as f64 / (1 + rng.below(20)) as f64
}

/// Checks both paths against the plain loop.
fn check(values: &[f64], features: &[Feature], what: &str) {
    let want = plain_argmax(values, features);
    let r = Rotator::new(values.to_vec());
    assert_eq!(
        r.signed_argmax(features),
        want,
        "filtered: {what}, {features:?}"
    );
    assert_eq!(exact_argmax(values, features), want, "exact: {what}");
}

/// A law of random weights.
type WeightLaw = fn(&mut Rng) -> f64;

/// Checks `cases` random feature lists of 0..=`max_len` features per weight law.
fn check_random(values: &[f64], seed: u64, cases: usize, max_len: u64, what: &str) {
    let mut rng = Rng(seed);
    let r = Rotator::new(values.to_vec());
    let laws: [(&str, WeightLaw); 5] = [
        ("lsh", lsh_weight),
        ("signed", |g| g.unit() * 2.0 - 1.0),
        ("negative", |g| -lsh_weight(g)),
        ("tiny", |g| lsh_weight(g) * 1e-250),
        ("huge", |g| lsh_weight(g) * 1e250),
    ];
    for case in 0..cases {
        let (law, weight) = laws[case % laws.len()];
        let n = rng.below(max_len + 1) as usize;
        let f = features(&mut rng, n, weight);
        let want = plain_argmax(values, &f);
        assert_eq!(
            r.signed_argmax(&f),
            want,
            "{what}, case {case} ({law}): {f:?}"
        );
    }
}

#[test]
fn blocked_argmax_equals_the_plain_loop() {
    for (width, seed) in [
        (1, 1),
        (2, 9),
        (7, 2),
        (1023, 3),
        (1025, 4),
        (2049, 7),
        (4096, 8),
        (WIDTH, 5),
        (3 * BLOCK, 6),
    ] {
        let r = rotator(width, seed);
        for n in [0usize, 1, 3, 4, 5, 19] {
            let features: Vec<Feature> = (0..n)
                .map(|k| Feature {
                    id: (k as u32 * 7919 + seed as u32 * 31) % 50_265,
                    weight: 1.0 / (k + 1) as f64,
                })
                .collect();
            check(&r, &features, &format!("width {width}, {n} features"));
        }
    }
}

#[test]
fn ties_go_to_the_lowest_index_across_blocks() {
    // A constant rotator: every score in the first half ties, so index 0 wins; with a
    // negative weight every second-half score ties and is the largest.
    for width in [3 * BLOCK + 5, WIDTH] {
        let r = vec![0.25; width];
        let up = [Feature { id: 3, weight: 1.0 }];
        let down = [Feature {
            id: 3,
            weight: -1.0,
        }];
        let rot = Rotator::new(r.clone());
        assert_eq!(rot.signed_argmax(&up), 0);
        assert_eq!(rot.signed_argmax(&down), width / 2);
        assert_eq!(exact_argmax(&r, &up), 0);
        assert_eq!(exact_argmax(&r, &down), width / 2);
        check(&r, &down, "constant");
    }
}

#[test]
fn random_features_on_the_real_rotator() {
    let real = LegacyRandomState::new(42).normals(WIDTH);
    check_random(&real, 1, 150, 40, "real rotator");
    check_random(&rotator(WIDTH, 11), 2, 50, 40, "uniform rotator");
}

#[test]
fn constant_and_periodic_rotators_tie_exactly() {
    // A constant rotator: all scores of a half tie; a rotator of period 10 (which divides
    // 50,260): score(i) == score(i + 10) bit for bit, so every maximum ties many times.
    check_random(&vec![0.75; WIDTH], 3, 15, 12, "constant");
    check_random(&vec![-1.5; WIDTH], 4, 10, 12, "negative constant");
    let period: Vec<f64> = (0..WIDTH)
        .map(|j| [0.5, -1.0, 0.25, 2.0, -0.75][j % 5] * (1 + j % 10 / 5) as f64)
        .collect();
    check_random(&period, 5, 25, 12, "period 10");
    // Values a few ulps apart collapse in f32: near-ties only the exact scores separate.
    let ulps: Vec<f64> = (0..WIDTH)
        .map(|j| 1.0 + (j * 7 % 13) as f64 * f64::EPSILON)
        .collect();
    check_random(&ulps, 6, 25, 12, "ulp-spaced");
    // Small integers with power-of-two weights: many exactly equal sums at distinct indices.
    let mut rng = Rng(7);
    let ints: Vec<f64> = (0..WIDTH).map(|_| rng.below(5) as f64 - 2.0).collect();
    for case in 0..25 {
        let n = rng.below(8) as usize;
        let f = features(&mut rng, n, |g| [1.0, 0.5, -0.25, 2.0][g.below(4) as usize]);
        check(&ints, &f, &format!("integer rotator, case {case}"));
    }
}

#[test]
fn f32_rounding_reorders_near_ties() {
    // Values that differ below f32's resolution: the f32 scores order the indices
    // differently from the exact ones, and only the candidate gap keeps the winner.
    let mut rng = Rng(10);
    let flat: Vec<f64> = (0..WIDTH).map(|_| 1.0 + rng.unit() * 2e-7).collect();
    check_random(&flat, 11, 40, 8, "sub-ulp spread");
    // The real rotator, each value moved by up to one f32 ulp around its f32 rounding.
    let real = LegacyRandomState::new(42).normals(WIDTH);
    let jittered: Vec<f64> = real
        .iter()
        .map(|&r| f64::from(r as f32) * (1.0 + (rng.unit() - 0.5) * 2.4e-7))
        .collect();
    check_random(&jittered, 12, 40, 30, "f32-jittered real rotator");
}

#[test]
fn fixed_point_rounding_reorders_near_ties() {
    // Values of ±20000.5 plus up to ±0.5 in units of 2⁻¹², the fixed-point step here: each
    // rounds up or down by almost half a step, and every sign pattern of a few features
    // repeats at hundreds of indices whose exact scores differ only by those fractions.
    let mut rng = Rng(13);
    let halves: Vec<f64> = (0..WIDTH)
        .map(|_| {
            let n = if rng.below(2) == 0 {
                -20_000.0
            } else {
                20_000.0
            };
            (n + 0.5 + (rng.unit() - 0.5) * 0.999) / 4096.0
        })
        .collect();
    check_random(&halves, 14, 60, 8, "half-step rotator");
}

/// A rotator whose cycles `j, j + 70, j + 140, …` (718 long: 70 divides the width) run down
/// and back up [−2.5, 2.5] in steps of `c = 5/359`.
fn zigzag() -> Vec<f64> {
    let c = 5.0 / 359.0;
    let mut r = vec![0.0; WIDTH];
    for start in 0..70 {
        for k in 0..718usize {
            let level = k.abs_diff(359);
            r[(start + 70 * k) % WIDTH] = -2.5 + level as f64 * c;
        }
    }
    r
}

#[test]
fn thousands_of_near_ties_with_diverse_values() {
    // With features (o, w) and (o + 70, −w), score(i) = w·(R[i] − R[i + 70]) = ±w·c at every
    // index, up to the rounding of R: half the indices tie for the maximum w·c, while the
    // values themselves (and so their low-precision roundings) spread over [−2.5, 2.5].
    // Every approximation differs from the exact near-ties by its own rounding pattern, and
    // only a sufficient gap keeps the true winner.
    let zig = zigzag();
    let mut rng = Rng(15);
    for case in 0..40 {
        let o = rng.below(WIDTH as u64) as u32;
        let w = lsh_weight(&mut rng);
        let mut f = vec![
            Feature { id: o, weight: w },
            Feature {
                id: o + 70,
                weight: -w,
            },
        ];
        // Sometimes a few small extra features, which break the ties unevenly.
        let extra = rng.below(4) as usize;
        f.extend(features(&mut rng, extra, |g| g.unit() * 1e-3));
        check(&zig, &f, &format!("zigzag, case {case}"));
    }
}

#[test]
fn duplicate_ids_and_few_features() {
    let real = LegacyRandomState::new(42).normals(WIDTH);
    let mut rng = Rng(8);
    check(&real, &[], "no features");
    for case in 0..20 {
        let id = rng.below(50_265) as u32;
        let w = lsh_weight(&mut rng);
        check(&real, &[Feature { id, weight: w }], "one feature");
        // The same id twice, also cancelling itself out exactly.
        let twice = [
            Feature { id, weight: w },
            Feature {
                id,
                weight: w / 3.0,
            },
        ];
        check(&real, &twice, &format!("duplicate ids, case {case}"));
        let cancel = [Feature { id, weight: w }, Feature { id, weight: -w }];
        check(&real, &cancel, "cancelling duplicates");
        // Ids congruent modulo the width (50,260 + k and k) are the same rotation.
        let wrapped = [
            Feature {
                id: id % 5,
                weight: w,
            },
            Feature {
                id: WIDTH as u32 + id % 5,
                weight: 1.0,
            },
        ];
        check(&real, &wrapped, "ids wrapping the width");
    }
}

#[test]
fn extreme_weights_and_values_match_the_plain_loop() {
    let real = LegacyRandomState::new(42).normals(WIDTH);
    let ids = |w: [f64; 3]| -> Vec<Feature> {
        [17u32, 40_000, 25_131]
            .iter()
            .zip(w)
            .map(|(&id, weight)| Feature { id, weight })
            .collect()
    };
    for w in [
        [1e-310, 2e-310, -1e-311], // subnormal: the full path
        [1e-300, 1.0, 1e-320],     // mixed magnitudes
        [1e-270, 3e-271, 1e-280],  // tiny, in range
        [1e270, -3e270, 1e269],    // huge, in range
        [1e300, 1e300, -1e300],    // huge: the full path
        [1e308, 1e308, 1e308],     // overflowing scores
        [0.0, -0.0, 0.0],          // zero weights
        [f64::NAN, 1.0, 0.5],      // non-finite weights
        [f64::INFINITY, 1.0, 0.5],
        [1.0, f64::NEG_INFINITY, 0.5],
    ] {
        check(&real, &ids(w), &format!("weights {w:?}"));
    }
    // Non-finite and extreme rotators take the full path.
    for bad in [f64::NAN, f64::INFINITY, 1e300, 1e-300] {
        let mut r = real.clone();
        r[1234] = bad;
        check(&r, &ids([1.0, 0.5, 0.25]), &format!("rotator with {bad}"));
    }
    check(&vec![0.0; WIDTH], &ids([1.0, 0.5, 0.25]), "zero rotator");
    let f = ids([1.0, 0.5, 0.25]);
    assert_eq!(Rotator::new(Vec::new()).signed_argmax(&f), 0, "no rotator");
    assert_eq!(exact_argmax(&[], &f), 0, "no rotator");
    check(&vec![1e-30; WIDTH], &ids([1.0, 0.5, 0.25]), "tiny rotator");
}

#[test]
fn many_features() {
    // Long words have hundreds of features; the error bound grows with their number.
    let real = LegacyRandomState::new(42).normals(WIDTH);
    let mut rng = Rng(9);
    for n in [64, 300, 1000] {
        let f = features(&mut rng, n, lsh_weight);
        check(&real, &f, &format!("{n} features"));
    }
}
