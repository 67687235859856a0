//! Elementary functions written so that LLVM vectorises them: branch-free, no library calls,
//! only `+ − × ÷`, `min`/`max`, `abs` and bit casts. Each operation is IEEE-exact on every
//! instruction set, and Rust never fuses `a · b + c` on its own, so a value is the same on
//! scalar, AVX2 and AVX-512 code paths. [`vectorized`] runs a loop with the best instruction
//! set of the machine (chosen at run time by `pulp`), which is where these pay off.

/// Runs `f` compiled for the best SIMD instruction set of this CPU (AVX2+FMA, or scalar
/// SSE2), so the loops inside it vectorise. Mark `f` `#[inline(always)]`: a closure that is
/// not inlined into the dispatched function is compiled without the instruction set.
#[inline(always)]
pub fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

/// Arguments of [`exp_non_positive`] below this give exactly 0.
///
/// `e^−60` ≈ 8.8e-27 is far below what a softmax row (whose largest term is 1) or a GELU
/// (whose `Φ` is then below 2e-27) can show in `f32`, and cutting there keeps every nonzero
/// result, and the softmax probabilities and gradients made from it, clear of subnormal
/// floats: Intel's FMA units take a microcode assist for each subnormal operand or result,
/// which made a padded training step 30× slower on an Intel Xeon (docs/benchmarks.md,
/// 2026-12-06). The earlier clamp to the smallest normal float turned every masked key's
/// probability into a subnormal.
pub const EXP_CUTOFF: f32 = -60.0;

/// `e^x` for `x ≤ 0` (the arguments of the GELU and the softmax), as Cephes' `expf`:
/// `x = n · ln 2 + r` with `|r| ≤ ln 2 / 2`, a degree-7 polynomial for `e^r`, then `2^n`
/// from the exponent bits. Relative error about 2e-7 on `[EXP_CUTOFF, 0]`; below
/// [`EXP_CUTOFF`] (and for −∞) exactly 0.
#[inline(always)]
pub fn exp_non_positive(x: f32) -> f32 {
    let below = x < EXP_CUTOFF;
    let x = x.max(EXP_CUTOFF);
    // Round to nearest by adding and removing 1.5 · 2²³ (exact for |y| < 2²²; `round` and
    // `floor` are library calls without SSE4.1).
    const ROUND: f32 = 12_582_912.0;
    let n = (x * core::f32::consts::LOG2_E + ROUND) - ROUND;
    // ln 2 in two parts, so `n · C1` is exact.
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = 1.987_569_1e-4;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    // 2^n for n ∈ [−126, 0] from the bits of 2²³ + n + 127, whose low mantissa bits are the
    // biased exponent (a float-to-int cast would not vectorise: it saturates).
    let biased = (n + (8_388_608.0 + 127.0)).to_bits();
    let e = e_r * f32::from_bits(biased << 23);
    // A select, not a branch: the loop still vectorises.
    if below {
        0.0
    } else {
        e
    }
}

/// The standard normal distribution function `Φ(x)` and density `φ(x)` together (they share
/// `e^{−x²/2}`). `Φ` follows Abramowitz & Stegun 7.1.26 for `erf` (absolute error below
/// 1.5e-7 in exact arithmetic, below 3e-7 for `Φ` in `f32`), computed on the tail side so that `Φ` of a negative `x` keeps its relative
/// precision instead of cancelling against 1.
#[inline(always)]
pub fn normal_cdf_pdf(x: f32) -> (f32, f32) {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_74,
        1.421_413_7,
        -1.453_152_1,
        1.061_405_4,
    ];
    let z = x.abs() * core::f32::consts::FRAC_1_SQRT_2;
    let t = 1.0 / (1.0 + P * z);
    let poly = ((((A[4] * t + A[3]) * t + A[2]) * t + A[1]) * t + A[0]) * t;
    let gauss = exp_non_positive(-0.5 * x * x);
    // 1 − erf(|x|/√2), halved: the probability of the far tail.
    let tail = 0.5 * poly * gauss;
    let cdf = if x >= 0.0 { 1.0 - tail } else { tail };
    let pdf = gauss * (0.5 * core::f32::consts::FRAC_2_SQRT_PI * core::f32::consts::FRAC_1_SQRT_2);
    (cdf, pdf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_a_few_ulp_of_libm() {
        let mut worst = 0.0f64;
        for i in 0..=200_000 {
            let x = EXP_CUTOFF * i as f32 / 200_000.0;
            let want = (x as f64).exp();
            let got = exp_non_positive(x) as f64;
            worst = worst.max(((got - want) / want).abs());
        }
        assert!(worst < 5e-7, "worst relative error {worst}");
        assert_eq!(exp_non_positive(0.0), 1.0);
    }

    #[test]
    fn exp_is_zero_below_the_cutoff_and_never_subnormal() {
        for x in [
            -60.000_004,
            -61.0,
            -87.5,
            -103.0,
            -1e4,
            f32::MIN,
            f32::NEG_INFINITY,
        ] {
            assert_eq!(exp_non_positive(x), 0.0, "e^{x}");
        }
        let at_cutoff = exp_non_positive(EXP_CUTOFF) as f64;
        assert!((at_cutoff / (EXP_CUTOFF as f64).exp() - 1.0).abs() < 5e-7);
        for i in 0..=100_000 {
            let e = exp_non_positive(-70.0 * i as f32 / 100_000.0);
            assert!(e == 0.0 || e.is_normal(), "a subnormal result {e:e}");
        }
    }

    #[test]
    fn normal_cdf_and_pdf_match_their_definitions() {
        for i in -4000..=4000 {
            let x = i as f32 / 400.0;
            let (cdf, pdf) = normal_cdf_pdf(x);
            let xd = x as f64;
            let want_cdf = 0.5 * (1.0 + libm::erf(xd / core::f64::consts::SQRT_2));
            let want_pdf = (-0.5 * xd * xd).exp() / (2.0 * core::f64::consts::PI).sqrt();
            assert!(
                (cdf as f64 - want_cdf).abs() < 3e-7,
                "cdf({x}) {cdf} vs {want_cdf}"
            );
            assert!(
                (pdf as f64 - want_pdf).abs() < 1e-7,
                "pdf({x}) {pdf} vs {want_pdf}"
            );
        }
    }

    #[test]
    fn vectorized_runs_the_closure() {
        let v: Vec<f32> = vectorized(|| (0..9).map(|i| exp_non_positive(-(i as f32))).collect());
        assert_eq!(v.len(), 9);
        assert!((v[1] - (-1.0f32).exp()).abs() < 1e-7);
    }
}
