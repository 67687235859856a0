//! Plain definitions of the kernels in [`crate::rows`] and [`crate::attention`]: one thread, `f64` arithmetic, the
//! formulas as written, no blocking or lanes. The kernels are tested against these (values
//! and gradients), and the gradients here are checked against finite differences.

use crate::attention::Heads;

/// LayerNorm of `rows × γ.len()` values: `(x − mean) / sqrt(var + eps) · γ + β`.
pub fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32], eps: f64) -> Vec<f32> {
    let width = gamma.len();
    x.chunks(width)
        .flat_map(|row| {
            let (mean, rstd) = moments(row, eps);
            row.iter()
                .zip(gamma.iter().zip(beta))
                .map(move |(&v, (&g, &b))| ((v as f64 - mean) * rstd * g as f64 + b as f64) as f32)
        })
        .collect()
}

/// Mean and reciprocal standard deviation (biased variance) of one row.
fn moments(row: &[f32], eps: f64) -> (f64, f64) {
    let n = row.len() as f64;
    let mean = row.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    (mean, 1.0 / (var + eps).sqrt())
}

/// Gradients of [`layer_norm`] for the output gradient `dy`: `(dx, dγ, dβ)`.
pub fn layer_norm_backward(
    x: &[f32],
    gamma: &[f32],
    eps: f64,
    dy: &[f32],
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let width = gamma.len();
    let mut dx = Vec::with_capacity(x.len());
    let (mut dgamma, mut dbeta) = (vec![0.0f64; width], vec![0.0f64; width]);
    for (row, dy) in x.chunks(width).zip(dy.chunks(width)) {
        let (mean, rstd) = moments(row, eps);
        let xhat: Vec<f64> = row.iter().map(|&v| (v as f64 - mean) * rstd).collect();
        let g: Vec<f64> = dy
            .iter()
            .zip(gamma)
            .map(|(&d, &w)| d as f64 * w as f64)
            .collect();
        let n = width as f64;
        let mean_g = g.iter().sum::<f64>() / n;
        let mean_gx = g.iter().zip(&xhat).map(|(a, b)| a * b).sum::<f64>() / n;
        for i in 0..width {
            dx.push((rstd * (g[i] - mean_g - xhat[i] * mean_gx)) as f32);
            dgamma[i] += dy[i] as f64 * xhat[i];
            dbeta[i] += dy[i] as f64;
        }
    }
    let narrow = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect();
    (dx, narrow(dgamma), narrow(dbeta))
}

/// `softmax(scores / divisor + bias)` over rows of `seq_len`; `bias` is `[batch, seq_len]`
/// and `scores` `[batch, …, seq_len]`.
pub fn attention_softmax(scores: &[f32], bias: &[f32], seq_len: usize, divisor: f64) -> Vec<f32> {
    let per_sequence = scores.len() / bias.len();
    scores
        .chunks(seq_len)
        .enumerate()
        .flat_map(|(r, row)| {
            let b = r / per_sequence;
            let bias = &bias[b * seq_len..(b + 1) * seq_len];
            let z: Vec<f64> = row
                .iter()
                .zip(bias)
                .map(|(&s, &b)| s as f64 / divisor + b as f64)
                .collect();
            let max = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
            let sum: f64 = e.iter().sum();
            e.into_iter().map(move |v| (v / sum) as f32)
        })
        .collect()
}

/// Gradient of [`attention_softmax`] with respect to `scores`, from its output `y`.
pub fn attention_softmax_backward(y: &[f32], dy: &[f32], seq_len: usize, divisor: f64) -> Vec<f32> {
    y.chunks(seq_len)
        .zip(dy.chunks(seq_len))
        .flat_map(|(y, dy)| {
            let dot: f64 = y.iter().zip(dy).map(|(&a, &b)| a as f64 * b as f64).sum();
            y.iter()
                .zip(dy)
                .map(move |(&a, &b)| (a as f64 * (b as f64 - dot) / divisor) as f32)
        })
        .collect()
}

/// `x · Φ(x)` with the standard normal distribution function `Φ`.
pub fn gelu(x: &[f32]) -> Vec<f32> {
    x.iter()
        .map(|&v| {
            let v = v as f64;
            (0.5 * v * (1.0 + libm::erf(v / core::f64::consts::SQRT_2))) as f32
        })
        .collect()
}

/// Gradient of [`gelu`]: `dy · (Φ(x) + x · φ(x))`.
pub fn gelu_backward(x: &[f32], dy: &[f32]) -> Vec<f32> {
    x.iter()
        .zip(dy)
        .map(|(&v, &g)| {
            let v = v as f64;
            let cdf = 0.5 * (1.0 + libm::erf(v / core::f64::consts::SQRT_2));
            let pdf = (-0.5 * v * v).exp() / (2.0 * core::f64::consts::PI).sqrt();
            (g as f64 * (cdf + v * pdf)) as f32
        })
        .collect()
}

/// Head `h` of token `t` of sequence `b` in `[batch, seq_len, heads · head_dim]` rows.
fn head_row(rows: &[f32], shape: Heads, b: usize, t: usize, h: usize) -> &[f32] {
    let start = (b * shape.seq_len + t) * shape.width() + h * shape.head_dim;
    &rows[start..start + shape.head_dim]
}

/// The attention scores `q_i · k_j` per sequence and head, `[batch, heads, seq_len, seq_len]`,
/// from `[batch, seq_len, width]` query and key rows.
pub fn attention_scores(q: &[f32], k: &[f32], shape: Heads) -> Vec<f32> {
    let mut out = Vec::with_capacity(shape.scores_len());
    for b in 0..shape.batch {
        for h in 0..shape.heads {
            for i in 0..shape.seq_len {
                for j in 0..shape.seq_len {
                    let (qi, kj) = (head_row(q, shape, b, i, h), head_row(k, shape, b, j, h));
                    let dot: f64 = qi.iter().zip(kj).map(|(&a, &c)| a as f64 * c as f64).sum();
                    out.push(dot as f32);
                }
            }
        }
    }
    out
}

/// The attention context `Σ_j p_ij v_j` per sequence and head, as `[batch, seq_len, width]`
/// rows, from `[batch, heads, seq_len, seq_len]` probabilities and value rows.
pub fn attention_context(probs: &[f32], v: &[f32], shape: Heads) -> Vec<f32> {
    let s = shape.seq_len;
    let mut out = vec![0.0; shape.rows_len()];
    for b in 0..shape.batch {
        for i in 0..s {
            for h in 0..shape.heads {
                let p = &probs[((b * shape.heads + h) * s + i) * s..][..s];
                let start = (b * s + i) * shape.width() + h * shape.head_dim;
                for (c, out) in out[start..start + shape.head_dim].iter_mut().enumerate() {
                    let sum: f64 = (0..s)
                        .map(|j| p[j] as f64 * head_row(v, shape, b, j, h)[c] as f64)
                        .sum();
                    *out = sum as f32;
                }
            }
        }
    }
    out
}
