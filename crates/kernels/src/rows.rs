//! The kernels on plain `f32` slices, row by row (no Burn here): LayerNorm forward and
//! backward, the attention softmax forward and backward, erf-GELU forward and backward. The
//! forwards also come in place (`*_in_place`), for inference on buffers nobody else holds,
//! and so do the backwards, writing the input gradient over the consumed output gradient.
//!
//! Rows are split into fixed blocks that run in parallel; every output element is computed
//! by one fixed sequence of operations, and reductions across rows (the LayerNorm parameter
//! gradients) add block partials in block order. So results do not depend on the number of
//! threads. [`crate::reference`] holds the plain definitions they are tested against.

use rayon::prelude::*;

use crate::math::{exp_non_positive, normal_cdf_pdf, vectorized};

/// Elements handled by one parallel task (rows are grouped to about this many).
const TASK_ELEMENTS: usize = 1 << 14;

/// Rows per parallel task for rows of `width` elements.
fn rows_per_task(width: usize) -> usize {
    (TASK_ELEMENTS / width.max(1)).max(1)
}

/// `Σ f(i)` for `i < n`, in eight interleaved lanes (so it vectorises) and then the tail: a
/// fixed order, whatever the machine.
#[inline(always)]
fn lane_sum(n: usize, f: impl Fn(usize) -> f32) -> f32 {
    let mut lanes = [0.0f32; 8];
    let full = n / 8 * 8;
    for base in (0..full).step_by(8) {
        for (lane, acc) in lanes.iter_mut().enumerate() {
            *acc += f(base + lane);
        }
    }
    let tail: f32 = (full..n).map(&f).sum();
    lanes.iter().sum::<f32>() + tail
}

/// The largest value of a non-empty slice, in eight lanes.
#[inline(always)]
fn lane_max(values: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let mut chunks = values.chunks_exact(8);
    for chunk in &mut chunks {
        for (acc, &v) in lanes.iter_mut().zip(chunk) {
            *acc = acc.max(v);
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    lanes.iter().fold(tail, |a, &b| a.max(b))
}

/// LayerNorm over rows of `gamma.len()` elements: `y = x̂ · γ + β` with
/// `x̂ = (x − mean) / sqrt(var + eps)` (biased variance). Also writes `x̂` and the reciprocal
/// standard deviation of each row, which the backward pass reads.
///
/// # Panics
/// If the slice lengths disagree.
pub fn layer_norm_forward(
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
    y: &mut [f32],
    xhat: &mut [f32],
    rstd: &mut [f32],
) {
    let width = gamma.len();
    assert!(width > 0 && beta.len() == width && x.len() == rstd.len() * width);
    assert!(y.len() == x.len() && xhat.len() == x.len());
    let task = rows_per_task(width);
    y.par_chunks_mut(task * width)
        .zip(xhat.par_chunks_mut(task * width))
        .zip(rstd.par_chunks_mut(task))
        .zip(x.par_chunks(task * width))
        .for_each(|(((y, xhat), rstd), x)| {
            vectorized(
                #[inline(always)]
                || {
                    for (r, s) in rstd.iter_mut().enumerate() {
                        let row = r * width..(r + 1) * width;
                        *s = normalize_row(&x[row.clone()], eps, &mut xhat[row.clone()]);
                        for ((out, &h), (&g, &b)) in y[row.clone()]
                            .iter_mut()
                            .zip(&xhat[row])
                            .zip(gamma.iter().zip(beta))
                        {
                            *out = h * g + b;
                        }
                    }
                },
            )
        });
}

/// Writes `x̂` of one row; returns its reciprocal standard deviation.
#[inline(always)]
fn normalize_row(x: &[f32], eps: f32, xhat: &mut [f32]) -> f32 {
    let (mean, rstd) = row_moments(x, eps);
    for (h, &v) in xhat.iter_mut().zip(x) {
        *h = (v - mean) * rstd;
    }
    rstd
}

/// The mean and `1/σ` (biased variance plus `eps`) of one row.
#[inline(always)]
fn row_moments(x: &[f32], eps: f32) -> (f32, f32) {
    let n = x.len() as f32;
    let mean = lane_sum(x.len(), |i| x[i]) / n;
    let var = lane_sum(x.len(), |i| (x[i] - mean) * (x[i] - mean)) / n;
    (mean, 1.0 / (var + eps).sqrt())
}

/// [`layer_norm_forward`]'s output `y` written over `x`, without `x̂` and `1/σ` (nothing to
/// differentiate: inference). Bit for bit the same `y`.
///
/// # Panics
/// If `x` is not a whole number of rows of `gamma`'s width, or `beta`'s width differs.
pub fn layer_norm_in_place(x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let width = gamma.len();
    assert!(width > 0 && beta.len() == width && x.len().is_multiple_of(width));
    x.par_chunks_mut(rows_per_task(width) * width)
        .for_each(|x| {
            vectorized(
                #[inline(always)]
                || {
                    for row in x.chunks_exact_mut(width) {
                        let (mean, rstd) = row_moments(row, eps);
                        for ((v, &g), &b) in row.iter_mut().zip(gamma).zip(beta) {
                            *v = (*v - mean) * rstd * g + b;
                        }
                    }
                },
            )
        });
}

/// Gradients of [`layer_norm_forward`]: `dx` from the output gradient `dy`, `x̂` and the row
/// reciprocal standard deviations; `dgamma = Σ dy · x̂` and `dbeta = Σ dy` over the rows.
///
/// # Panics
/// If the slice lengths disagree.
pub fn layer_norm_backward(
    dy: &[f32],
    xhat: &[f32],
    rstd: &[f32],
    gamma: &[f32],
    dx: &mut [f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    assert_eq!(dx.len(), dy.len());
    dx.copy_from_slice(dy);
    layer_norm_backward_in_place(dx, xhat, rstd, gamma, dgamma, dbeta);
}

/// [`layer_norm_backward`] with `dx` written over `dy` (the same values, bit for bit).
///
/// # Panics
/// If the slice lengths disagree.
pub fn layer_norm_backward_in_place(
    dy: &mut [f32],
    xhat: &[f32],
    rstd: &[f32],
    gamma: &[f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    let width = gamma.len();
    assert!(width > 0 && dy.len() == rstd.len() * width && xhat.len() == dy.len());
    assert!(dgamma.len() == width && dbeta.len() == width);
    let task = rows_per_task(width);
    let partials: Vec<(Vec<f32>, Vec<f32>)> = dy
        .par_chunks_mut(task * width)
        .zip(xhat.par_chunks(task * width))
        .zip(rstd.par_chunks(task))
        .map(|((dy, xhat), rstd)| {
            vectorized(
                #[inline(always)]
                || {
                    let mut dg = vec![0.0f32; width];
                    let mut db = vec![0.0f32; width];
                    for (r, &s) in rstd.iter().enumerate() {
                        let row = r * width..(r + 1) * width;
                        let (dy, xhat) = (&mut dy[row.clone()], &xhat[row]);
                        for i in 0..width {
                            dg[i] += dy[i] * xhat[i];
                            db[i] += dy[i];
                        }
                        input_grad_row(dy, xhat, s, gamma);
                    }
                    (dg, db)
                },
            )
        })
        .collect();
    dgamma.fill(0.0);
    dbeta.fill(0.0);
    for (dg, db) in &partials {
        for i in 0..width {
            dgamma[i] += dg[i];
            dbeta[i] += db[i];
        }
    }
}

/// `dx = rstd · (g − mean(g) − x̂ · mean(g · x̂))` with `g = dy · γ`, for one row, written
/// over `dy`.
#[inline(always)]
fn input_grad_row(dy: &mut [f32], xhat: &[f32], rstd: f32, gamma: &[f32]) {
    let n = dy.len() as f32;
    let mean_g = lane_sum(dy.len(), |i| dy[i] * gamma[i]) / n;
    let mean_gx = lane_sum(dy.len(), |i| dy[i] * gamma[i] * xhat[i]) / n;
    for i in 0..dy.len() {
        dy[i] = rstd * (dy[i] * gamma[i] - mean_g - xhat[i] * mean_gx);
    }
}

/// The attention softmax: `y = softmax(scores / divisor + bias)` over rows of `seq_len`
/// keys. `scores` is `[batch, heads, queries, seq_len]` and `bias` `[batch, seq_len]`
/// (one additive bias per key, shared by the heads and queries of a sequence).
///
/// # Panics
/// If the slice lengths disagree.
pub fn attention_softmax_forward(
    scores: &[f32],
    bias: &[f32],
    seq_len: usize,
    divisor: f32,
    y: &mut [f32],
) {
    assert_eq!(y.len(), scores.len());
    y.copy_from_slice(scores);
    attention_softmax_in_place(y, bias, seq_len, divisor);
}

/// [`attention_softmax_forward`] written over the scores (the same values, bit for bit).
///
/// # Panics
/// If the slice lengths disagree.
pub fn attention_softmax_in_place(scores: &mut [f32], bias: &[f32], seq_len: usize, divisor: f32) {
    assert!(seq_len > 0);
    assert!(bias.len().is_multiple_of(seq_len) && !bias.is_empty());
    let batch = bias.len() / seq_len;
    assert!(scores.len().is_multiple_of(batch * seq_len));
    let rows_per_sequence = scores.len() / (batch * seq_len);
    let task = rows_per_task(seq_len);
    scores
        .par_chunks_mut(task * seq_len)
        .enumerate()
        .for_each(|(t, scores)| {
            vectorized(
                #[inline(always)]
                || {
                    for (r, row) in scores.chunks_exact_mut(seq_len).enumerate() {
                        let b = (t * task + r) / rows_per_sequence;
                        softmax_row(row, &bias[b * seq_len..(b + 1) * seq_len], divisor);
                    }
                },
            )
        });
}

/// One row of [`attention_softmax_forward`], in place.
#[inline(always)]
fn softmax_row(y: &mut [f32], bias: &[f32], divisor: f32) {
    for (v, &b) in y.iter_mut().zip(bias) {
        *v = *v / divisor + b;
    }
    let max = lane_max(y);
    for v in y.iter_mut() {
        *v = exp_non_positive(*v - max);
    }
    let sum = lane_sum(y.len(), |i| y[i]);
    for v in y.iter_mut() {
        *v /= sum;
    }
}

/// Gradient of [`attention_softmax_forward`] with respect to `scores`:
/// `dx = y · (dy − Σ dy · y) / divisor`, row by row.
///
/// # Panics
/// If the slice lengths disagree.
pub fn attention_softmax_backward(
    y: &[f32],
    dy: &[f32],
    seq_len: usize,
    divisor: f32,
    dx: &mut [f32],
) {
    assert_eq!(dx.len(), dy.len());
    dx.copy_from_slice(dy);
    attention_softmax_backward_in_place(y, dx, seq_len, divisor);
}

/// [`attention_softmax_backward`] with `dx` written over `dy` (the same values, bit for bit).
///
/// # Panics
/// If the slice lengths disagree.
pub fn attention_softmax_backward_in_place(
    y: &[f32],
    dy: &mut [f32],
    seq_len: usize,
    divisor: f32,
) {
    assert!(seq_len > 0 && y.len().is_multiple_of(seq_len) && dy.len() == y.len());
    let task = rows_per_task(seq_len) * seq_len;
    dy.par_chunks_mut(task)
        .zip(y.par_chunks(task))
        .for_each(|(dy, y)| {
            vectorized(
                #[inline(always)]
                || {
                    for (dy, y) in dy.chunks_exact_mut(seq_len).zip(y.chunks_exact(seq_len)) {
                        let dot = lane_sum(seq_len, |i| y[i] * dy[i]);
                        for i in 0..seq_len {
                            dy[i] = y[i] * (dy[i] - dot) / divisor;
                        }
                    }
                },
            )
        });
}

/// `GELU(x) = x · Φ(x)` (erf-GELU), element by element on all threads, with the
/// vectorised `Φ` of [`crate::math::normal_cdf_pdf`] (within 3e-7 of the exact one).
///
/// # Panics
/// If the slices differ in length.
pub fn gelu_forward(x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len());
    y.copy_from_slice(x);
    gelu_in_place(y);
}

/// [`gelu_forward`] written over its input (the same values, bit for bit).
pub fn gelu_in_place(x: &mut [f32]) {
    x.par_chunks_mut(TASK_ELEMENTS).for_each(|x| {
        vectorized(
            #[inline(always)]
            || {
                for v in x.iter_mut() {
                    *v *= normal_cdf_pdf(*v).0;
                }
            },
        )
    });
}

/// Gradient of [`gelu_forward`]: `dx = dy · (Φ(x) + x · φ(x))`.
///
/// # Panics
/// If the slices differ in length.
pub fn gelu_backward(x: &[f32], dy: &[f32], dx: &mut [f32]) {
    assert_eq!(dx.len(), dy.len());
    dx.copy_from_slice(dy);
    gelu_backward_in_place(x, dx);
}

/// [`gelu_backward`] with `dx` written over `dy` (the same values, bit for bit).
///
/// # Panics
/// If the slices differ in length.
pub fn gelu_backward_in_place(x: &[f32], dy: &mut [f32]) {
    assert_eq!(x.len(), dy.len());
    dy.par_chunks_mut(TASK_ELEMENTS)
        .zip(x.par_chunks(TASK_ELEMENTS))
        .for_each(|(dy, x)| {
            vectorized(
                #[inline(always)]
                || {
                    for (g, &v) in dy.iter_mut().zip(x) {
                        let (cdf, pdf) = normal_cdf_pdf(v);
                        *g *= cdf + v * pdf;
                    }
                },
            )
        });
}
