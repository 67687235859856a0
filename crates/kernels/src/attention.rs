//! The two products of multi-head attention straight on token rows (no Burn here): the
//! scores `Q_h · K_hᵀ` and the context `P_h · V_h`, with their gradients. Queries, keys,
//! values and the context stay `[batch, seq_len, heads · head_dim]` rows, and each head is a
//! strided column block of them, so the heads are never copied out into a
//! `[batch, heads, seq_len, head_dim]` tensor and back; the scores and probabilities are
//! `[batch, heads, seq_len, seq_len]`.
//!
//! Work is split into fixed tasks (one per sequence and head, or per sequence and block of
//! query rows), each a one-thread `gemm` of a fixed shape, so results do not depend on the
//! number of threads. [`crate::reference`] holds the plain definitions they are tested
//! against.

use rayon::prelude::*;

use crate::gemm::{matmul_into, matmul_into_view, MatMut, MatRef};

/// Query rows per parallel task where an output is token rows (a batch of one sequence still
/// splits across threads).
const QUERY_BLOCK: usize = 32;

/// The shape of multi-head attention over token rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heads {
    /// Sequences.
    pub batch: usize,
    /// Tokens per sequence (queries and keys).
    pub seq_len: usize,
    /// Attention heads.
    pub heads: usize,
    /// Width of one head.
    pub head_dim: usize,
}

impl Heads {
    /// Width of a token row, `heads · head_dim`.
    pub fn width(&self) -> usize {
        self.heads * self.head_dim
    }

    /// Values of `[batch, seq_len, width]` token rows.
    pub fn rows_len(&self) -> usize {
        self.batch * self.seq_len * self.width()
    }

    /// Values of `[batch, heads, seq_len, seq_len]` scores.
    pub fn scores_len(&self) -> usize {
        self.batch * self.heads * self.seq_len * self.seq_len
    }

    /// Head `h` of sequence `b` in token rows: a `seq_len × head_dim` view.
    fn head<'a>(&self, rows: &'a [f32], b: usize, h: usize) -> MatRef<'a> {
        let width = self.width();
        let start = b * self.seq_len * width + h * self.head_dim;
        MatRef::strided(&rows[start..], self.seq_len, self.head_dim, width, 1)
    }

    /// The `seq_len × seq_len` scores of sequence `b` and head `h`.
    fn square<'a>(&self, scores: &'a [f32], b: usize, h: usize) -> MatRef<'a> {
        let len = self.seq_len * self.seq_len;
        let start = (b * self.heads + h) * len;
        MatRef::row_major(&scores[start..start + len], self.seq_len, self.seq_len)
    }

    fn check(&self, len: usize, want: usize, what: &str) {
        assert_eq!(len, want, "{what} of {self:?}");
    }
}

/// Fills `[batch, heads, seq_len, seq_len]` values, one task per sequence and head:
/// `out_{b,h} = lhs · rhs` for `(lhs, rhs) = operands(b, h)`.
fn per_head_square<'a>(
    shape: Heads,
    operands: impl Fn(usize, usize) -> (MatRef<'a>, MatRef<'a>) + Sync,
) -> Vec<f32> {
    let mut out = vec![0.0; shape.scores_len()];
    let len = shape.seq_len * shape.seq_len;
    if len == 0 {
        return out;
    }
    out.par_chunks_mut(len).enumerate().for_each(|(bh, out)| {
        let (lhs, rhs) = operands(bh / shape.heads, bh % shape.heads);
        matmul_into(out, false, lhs, rhs);
    });
    out
}

/// Fills `[batch, seq_len, width]` token rows, one task per sequence and block of query
/// rows, each head's column block in turn: rows `queries` of head `h` of sequence `b` are
/// `lhs · rhs` for `(lhs, rhs) = operands(b, h, queries)`.
fn per_head_rows<'a>(
    shape: Heads,
    operands: impl Fn(usize, usize, std::ops::Range<usize>) -> (MatRef<'a>, MatRef<'a>) + Sync,
) -> Vec<f32> {
    let mut out = vec![0.0; shape.rows_len()];
    let (width, seq_len) = (shape.width(), shape.seq_len);
    if width == 0 || seq_len == 0 {
        return out;
    }
    out.par_chunks_mut(seq_len * width)
        .enumerate()
        .flat_map_iter(|(b, sequence)| {
            sequence
                .chunks_mut(QUERY_BLOCK * width)
                .enumerate()
                .map(move |(block, rows)| (b, block, rows))
        })
        .for_each(|(b, block, rows)| {
            let start = block * QUERY_BLOCK;
            let queries = start..start + rows.len() / width;
            for h in 0..shape.heads {
                let (lhs, rhs) = operands(b, h, queries.clone());
                let view = MatMut::strided(
                    &mut rows[h * shape.head_dim..],
                    queries.len(),
                    shape.head_dim,
                    width,
                );
                matmul_into_view(view, false, lhs, rhs);
            }
        });
    out
}

/// The scores `Q_h · K_hᵀ` of every sequence and head, `[batch, heads, seq_len, seq_len]`,
/// from query and key rows `[batch, seq_len, width]` (unscaled; the softmax divides).
///
/// # Panics
/// If a slice does not hold `shape`'s values.
pub fn scores(q: &[f32], k: &[f32], shape: Heads) -> Vec<f32> {
    shape.check(q.len(), shape.rows_len(), "queries");
    shape.check(k.len(), shape.rows_len(), "keys");
    per_head_square(shape, |b, h| (shape.head(q, b, h), shape.head(k, b, h).t()))
}

/// The context `P_h · V_h` as token rows `[batch, seq_len, width]`, from probabilities
/// `[batch, heads, seq_len, seq_len]` and value rows.
///
/// # Panics
/// If a slice does not hold `shape`'s values.
pub fn context(probs: &[f32], v: &[f32], shape: Heads) -> Vec<f32> {
    shape.check(probs.len(), shape.scores_len(), "probabilities");
    shape.check(v.len(), shape.rows_len(), "values");
    per_head_rows(shape, |b, h, queries| {
        (
            shape.square(probs, b, h).row_range(queries),
            shape.head(v, b, h),
        )
    })
}

/// Gradients of [`scores`] for the scores' gradient `ds`: `(dq, dk)` as token rows,
/// `dQ_h = dS_h · K_h` and `dK_h = dS_hᵀ · Q_h`.
///
/// # Panics
/// If a slice does not hold `shape`'s values.
pub fn scores_backward(ds: &[f32], q: &[f32], k: &[f32], shape: Heads) -> (Vec<f32>, Vec<f32>) {
    shape.check(ds.len(), shape.scores_len(), "score gradients");
    shape.check(q.len(), shape.rows_len(), "queries");
    shape.check(k.len(), shape.rows_len(), "keys");
    let dq = per_head_rows(shape, |b, h, queries| {
        (
            shape.square(ds, b, h).row_range(queries),
            shape.head(k, b, h),
        )
    });
    let dk = per_head_rows(shape, |b, h, keys| {
        (
            shape.square(ds, b, h).t().row_range(keys),
            shape.head(q, b, h),
        )
    });
    (dq, dk)
}

/// Gradients of [`context`] for the context's gradient `dc` (token rows): `(dprobs, dv)`,
/// `dP_h = dC_h · V_hᵀ` and `dV_h = P_hᵀ · dC_h`.
///
/// # Panics
/// If a slice does not hold `shape`'s values.
pub fn context_backward(
    dc: &[f32],
    probs: &[f32],
    v: &[f32],
    shape: Heads,
) -> (Vec<f32>, Vec<f32>) {
    shape.check(dc.len(), shape.rows_len(), "context gradients");
    shape.check(probs.len(), shape.scores_len(), "probabilities");
    shape.check(v.len(), shape.rows_len(), "values");
    let dprobs = per_head_square(shape, |b, h| {
        (shape.head(dc, b, h), shape.head(v, b, h).t())
    });
    let dv = per_head_rows(shape, |b, h, keys| {
        (
            shape.square(probs, b, h).t().row_range(keys),
            shape.head(dc, b, h),
        )
    });
    (dprobs, dv)
}
