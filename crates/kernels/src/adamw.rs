//! One AdamW update of a flattened parameter in a single pass over its four vectors
//! (parameter, gradient, two moments), instead of a dozen whole-tensor operations; on Flex it
//! runs in place on all threads. The arithmetic is `torch.optim.AdamW`'s, in the same order
//! on every backend.

use burn::prelude::*;
use burn::tensor::{DType, TensorData};
use rayon::prelude::*;

use crate::math::vectorized;

/// Elements per parallel task.
const CHUNK: usize = 1 << 15;

/// The scalars of one update, computed once per step in `f64` and rounded to `f32` as
/// tensor-scalar operations do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWScalars {
    /// Gradient multiplier: the global-norm clipping factor (1 when not clipping), divided by
    /// the loss scale when the loss was scaled.
    pub clip: f64,
    /// β₁.
    pub beta1: f64,
    /// β₂.
    pub beta2: f64,
    /// Parameter scale of the decoupled weight decay, `1 − lr · wd` (1 for exempt groups).
    pub decay: f64,
    /// `1 − β₂ᵗ`.
    pub bias_correction2: f64,
    /// `lr / (1 − β₁ᵗ)`.
    pub step_size: f64,
    /// ε, added to `√v̂`.
    pub eps: f64,
}

/// The update of element `i`:
/// `g ← g · clip`, `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
/// `p ← p · decay − step_size · m / (√(v / bc₂) + ε)`.
///
/// # Panics
/// If the four slices differ in length.
pub fn adamw_slices(
    s: &AdamWScalars,
    param: &mut [f32],
    grad: &[f32],
    exp_avg: &mut [f32],
    exp_avg_sq: &mut [f32],
) {
    let n = param.len();
    assert!(grad.len() == n && exp_avg.len() == n && exp_avg_sq.len() == n);
    let f = |v: f64| v as f32;
    let (clip, b1, b2, decay) = (f(s.clip), f(s.beta1), f(s.beta2), f(s.decay));
    let (one_b1, one_b2) = (f(1.0 - s.beta1), f(1.0 - s.beta2));
    let (bc2, step, eps) = (f(s.bias_correction2), f(s.step_size), f(s.eps));
    param
        .par_chunks_mut(CHUNK)
        .zip(grad.par_chunks(CHUNK))
        .zip(
            exp_avg
                .par_chunks_mut(CHUNK)
                .zip(exp_avg_sq.par_chunks_mut(CHUNK)),
        )
        .for_each(|((p, g), (m, v))| {
            vectorized(
                #[inline(always)]
                || {
                    for i in 0..p.len() {
                        let g = g[i] * clip;
                        m[i] = m[i] * b1 + g * one_b1;
                        v[i] = v[i] * b2 + g * g * one_b2;
                        let denom = (v[i] / bc2).sqrt() + eps;
                        p[i] = p[i] * decay - m[i] / denom * step;
                    }
                },
            )
        });
}

/// Updated `(param, exp_avg, exp_avg_sq)` of one flattened parameter; absent moments start at
/// zero. `f32` tensors on Flex take [`adamw_slices`]; others the same formula as tensor
/// operations.
///
/// # Panics
/// If the shapes differ.
pub fn adamw_update(
    s: &AdamWScalars,
    param: Tensor<1>,
    grad: Tensor<1>,
    moments: Option<(Tensor<1>, Tensor<1>)>,
) -> (Tensor<1>, Tensor<1>, Tensor<1>) {
    let (m, v) = moments.unwrap_or_else(|| (param.zeros_like(), param.zeros_like()));
    if param.dtype() != DType::F32 || !crate::is_flex(&param.device()) {
        return tensor_update(s, param, grad, m, v);
    }
    let device = param.device();
    let vec = |t: Tensor<1>| {
        t.into_data()
            .try_into_vec::<f32>()
            .expect("an f32 tensor holds f32 values")
    };
    let (mut p, g, mut m, mut v) = (vec(param), vec(grad), vec(m), vec(v));
    adamw_slices(s, &mut p, &g, &mut m, &mut v);
    let tensor = |values: Vec<f32>| {
        let n = values.len();
        Tensor::<1>::from_data(TensorData::new(values, [n]), &device)
    };
    (tensor(p), tensor(m), tensor(v))
}

/// [`adamw_slices`] as tensor operations (GPU backends, other dtypes).
fn tensor_update(
    s: &AdamWScalars,
    param: Tensor<1>,
    grad: Tensor<1>,
    m: Tensor<1>,
    v: Tensor<1>,
) -> (Tensor<1>, Tensor<1>, Tensor<1>) {
    let g = grad.mul_scalar(s.clip);
    let m = m.mul_scalar(s.beta1) + g.clone().mul_scalar(1.0 - s.beta1);
    let v = v.mul_scalar(s.beta2) + g.square().mul_scalar(1.0 - s.beta2);
    let denom = v
        .clone()
        .div_scalar(s.bias_correction2)
        .sqrt()
        .add_scalar(s.eps);
    let p = param.mul_scalar(s.decay) - m.clone().div(denom).mul_scalar(s.step_size);
    (p, m, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalars() -> AdamWScalars {
        AdamWScalars {
            clip: 0.5,
            beta1: 0.9,
            beta2: 0.999,
            decay: 1.0 - 1e-3 * 0.01,
            bias_correction2: 1.0 - 0.999f64.powi(3),
            step_size: 1e-3 / (1.0 - 0.9f64.powi(3)),
            eps: 1e-8,
        }
    }

    #[test]
    fn fused_update_matches_the_tensor_formula_and_an_f64_reference() {
        let n = 3 * CHUNK + 7;
        let make = |seed: u64, scale: f32| -> Vec<f32> {
            (0..n as u64)
                .map(|i| ((crate::draw(seed, i) >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * scale)
                .collect()
        };
        let (p, g, m, v) = (
            make(1, 2.0),
            make(2, 1.0),
            make(3, 0.1),
            make(4, 0.01).iter().map(|x| x.abs()).collect::<Vec<_>>(),
        );
        let s = scalars();
        let (mut p1, mut m1, mut v1) = (p.clone(), m.clone(), v.clone());
        adamw_slices(&s, &mut p1, &g, &mut m1, &mut v1);

        // The plain formula in f64.
        for i in 0..n {
            let gi = g[i] as f64 * s.clip;
            let mi = m[i] as f64 * s.beta1 + gi * (1.0 - s.beta1);
            let vi = v[i] as f64 * s.beta2 + gi * gi * (1.0 - s.beta2);
            let pi = p[i] as f64 * s.decay
                - mi / ((vi / s.bias_correction2).sqrt() + s.eps) * s.step_size;
            assert!((m1[i] as f64 - mi).abs() < 1e-7, "m[{i}]");
            assert!((v1[i] as f64 - vi).abs() < 1e-8, "v[{i}]");
            assert!((p1[i] as f64 - pi).abs() < 1e-6, "p[{i}] {} vs {pi}", p1[i]);
        }

        // The tensor formula (another backend's path) on Flex.
        let device = Device::flex();
        let t = |x: &Vec<f32>| Tensor::<1>::from_floats(x.as_slice(), &device);
        let (p2, m2, v2) = tensor_update(&s, t(&p), t(&g), t(&m), t(&v));
        let close = |a: &[f32], b: Tensor<1>, what: &str| {
            for (i, (x, y)) in a.iter().zip(b.into_data().iter::<f32>()).enumerate() {
                assert!(
                    (x - y).abs() <= 1e-6 * (1.0 + y.abs()),
                    "{what}[{i}]: {x} vs {y}"
                );
            }
        };
        close(&p1, p2, "param");
        close(&m1, m2, "exp_avg");
        close(&v1, v2, "exp_avg_sq");
    }

    #[test]
    fn update_is_the_same_on_one_and_two_threads_and_starts_moments_at_zero() {
        let n = 2 * CHUNK + 1;
        let g: Vec<f32> = (0..n).map(|i| (i % 17) as f32 - 8.0).collect();
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    let (mut p, mut m, mut v) = (vec![1.0f32; n], vec![0.0; n], vec![0.0; n]);
                    adamw_slices(&scalars(), &mut p, &g, &mut m, &mut v);
                    (p, m, v)
                })
        };
        assert_eq!(run(1), run(2));
        let device = Device::flex();
        let (p, _, _) = adamw_update(
            &scalars(),
            Tensor::<1>::ones([n], &device),
            Tensor::<1>::from_floats(g.as_slice(), &device),
            None,
        );
        assert_eq!(p.into_data().try_into_vec::<f32>().unwrap(), run(1).0);
    }
}
