//! The slice kernels against their plain references (odd shapes included), the references'
//! gradients against finite differences, and thread-count independence.

use hashformer_kernels::{reference, rows};

mod common;
use common::{assert_close, on_threads, values};

struct LayerNormCase {
    x: Vec<f32>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    dy: Vec<f32>,
}

impl LayerNormCase {
    fn new(rows: usize, width: usize) -> Self {
        LayerNormCase {
            x: values(1, rows * width),
            gamma: values(2, width),
            beta: values(3, width),
            dy: values(4, rows * width),
        }
    }

    /// `(y, dx, dgamma, dbeta)` from the kernels.
    fn run(&self) -> [Vec<f32>; 4] {
        let (n, width) = (self.x.len(), self.gamma.len());
        let (mut y, mut xhat, mut rstd) = (vec![0.0; n], vec![0.0; n], vec![0.0; n / width]);
        rows::layer_norm_forward(
            &self.x,
            &self.gamma,
            &self.beta,
            1e-5,
            &mut y,
            &mut xhat,
            &mut rstd,
        );
        let (mut dx, mut dg, mut db) = (vec![0.0; n], vec![0.0; width], vec![0.0; width]);
        rows::layer_norm_backward(
            &self.dy,
            &xhat,
            &rstd,
            &self.gamma,
            &mut dx,
            &mut dg,
            &mut db,
        );
        [y, dx, dg, db]
    }
}

#[test]
fn layer_norm_matches_the_reference_on_odd_shapes() {
    for (rows_count, width) in [(1, 1), (3, 7), (17, 33), (130, 256), (1031, 5)] {
        let case = LayerNormCase::new(rows_count, width);
        let [y, dx, dg, db] = case.run();
        let y_ref = reference::layer_norm(&case.x, &case.gamma, &case.beta, 1e-5);
        let (dx_ref, dg_ref, db_ref) =
            reference::layer_norm_backward(&case.x, &case.gamma, 1e-5, &case.dy);
        let what = format!("{rows_count}x{width}");
        assert_close(&y, &y_ref, 1e-5, &format!("y {what}"));
        assert_close(&dx, &dx_ref, 1e-4, &format!("dx {what}"));
        // Sums over many rows: the tolerance grows with the row count.
        let tol = 1e-5 * rows_count as f32;
        assert_close(&dg, &dg_ref, tol, &format!("dgamma {what}"));
        assert_close(&db, &db_ref, tol, &format!("dbeta {what}"));
    }
}

#[test]
fn layer_norm_is_the_same_on_one_and_two_threads() {
    let case = LayerNormCase::new(3000, 64);
    assert_eq!(on_threads(1, || case.run()), on_threads(2, || case.run()));
}

#[test]
fn layer_norm_reference_gradient_matches_finite_differences() {
    let case = LayerNormCase::new(2, 5);
    let loss = |x: &[f32], gamma: &[f32], beta: &[f32]| -> f64 {
        reference::layer_norm(x, gamma, beta, 1e-5)
            .iter()
            .zip(&case.dy)
            .map(|(&y, &d)| y as f64 * d as f64)
            .sum()
    };
    let (dx, dg, db) = reference::layer_norm_backward(&case.x, &case.gamma, 1e-5, &case.dy);
    let h = 1e-2f32;
    let numeric = |which: usize, i: usize| {
        let mut args = [case.x.clone(), case.gamma.clone(), case.beta.clone()];
        args[which][i] += h;
        let up = loss(&args[0], &args[1], &args[2]);
        args[which][i] -= 2.0 * h;
        let down = loss(&args[0], &args[1], &args[2]);
        ((up - down) / (2.0 * h as f64)) as f32
    };
    for (i, d) in dx.iter().enumerate() {
        assert!((d - numeric(0, i)).abs() < 2e-2, "dx[{i}]");
    }
    for i in 0..case.gamma.len() {
        assert!((dg[i] - numeric(1, i)).abs() < 2e-2, "dgamma[{i}]");
        assert!((db[i] - numeric(2, i)).abs() < 2e-2, "dbeta[{i}]");
    }
}

/// `[batch, heads, queries, keys]` scores with padded keys in the bias.
struct SoftmaxCase {
    scores: Vec<f32>,
    bias: Vec<f32>,
    dy: Vec<f32>,
    keys: usize,
}

impl SoftmaxCase {
    fn new(batch: usize, heads: usize, queries: usize, keys: usize) -> Self {
        // Sequence b has b % keys padded keys at the end, as in a batch of real texts.
        let bias = (0..batch * keys)
            .map(|i| {
                let (b, k) = (i / keys, i % keys);
                if k + b % keys >= keys && k > 0 {
                    -10_000.0
                } else {
                    0.0
                }
            })
            .collect();
        let n = batch * heads * queries * keys;
        SoftmaxCase {
            scores: values(5, n).iter().map(|v| v * 4.0).collect(),
            bias,
            dy: values(6, n),
            keys,
        }
    }

    fn run(&self) -> (Vec<f32>, Vec<f32>) {
        let n = self.scores.len();
        let (mut y, mut dx) = (vec![0.0; n], vec![0.0; n]);
        rows::attention_softmax_forward(&self.scores, &self.bias, self.keys, 8.0, &mut y);
        rows::attention_softmax_backward(&y, &self.dy, self.keys, 8.0, &mut dx);
        (y, dx)
    }
}

#[test]
fn attention_softmax_matches_the_reference_with_padding() {
    for (b, h, q, k) in [(1, 1, 1, 1), (3, 2, 5, 7), (4, 4, 33, 33), (2, 3, 128, 128)] {
        let case = SoftmaxCase::new(b, h, q, k);
        let (y, dx) = case.run();
        let y_ref = reference::attention_softmax(&case.scores, &case.bias, k, 8.0);
        let dx_ref = reference::attention_softmax_backward(&y_ref, &case.dy, k, 8.0);
        let what = format!("{b}x{h}x{q}x{k}");
        assert_close(&y, &y_ref, 1e-6, &format!("y {what}"));
        assert_close(&dx, &dx_ref, 1e-6, &format!("dx {what}"));
        // Padded keys get exactly nothing, and no probability or gradient is subnormal
        // (a subnormal operand makes Intel's FMA take a microcode assist: `math::EXP_CUTOFF`).
        for (r, row) in y.chunks(k).enumerate() {
            let seq = r / (h * q);
            for (key, &p) in row.iter().enumerate() {
                if case.bias[seq * k + key] < 0.0 {
                    assert_eq!(p, 0.0, "padded key {key} of row {r}");
                }
            }
        }
        for v in y.iter().chain(&dx) {
            assert!(*v == 0.0 || v.is_normal(), "{what}: a subnormal {v:e}");
        }
    }
}

#[test]
fn attention_softmax_is_the_same_on_one_and_two_threads() {
    let case = SoftmaxCase::new(4, 2, 64, 64);
    assert_eq!(on_threads(1, || case.run()), on_threads(2, || case.run()));
}

#[test]
fn attention_softmax_reference_gradient_matches_finite_differences() {
    let case = SoftmaxCase::new(1, 1, 2, 4);
    let y = reference::attention_softmax(&case.scores, &case.bias, 4, 8.0);
    let dx = reference::attention_softmax_backward(&y, &case.dy, 4, 8.0);
    let loss = |scores: &[f32]| -> f64 {
        reference::attention_softmax(scores, &case.bias, 4, 8.0)
            .iter()
            .zip(&case.dy)
            .map(|(&y, &d)| y as f64 * d as f64)
            .sum()
    };
    let h = 1e-2f32;
    for i in 0..case.scores.len() {
        let mut s = case.scores.clone();
        s[i] += h;
        let up = loss(&s);
        s[i] -= 2.0 * h;
        let numeric = ((up - loss(&s)) / (2.0 * h as f64)) as f32;
        assert!(
            (dx[i] - numeric).abs() < 1e-3,
            "dx[{i}] {} vs {numeric}",
            dx[i]
        );
    }
}

#[test]
fn gelu_matches_the_reference_and_finite_differences() {
    let x: Vec<f32> = values(7, 40_001).iter().map(|v| v * 3.0).collect();
    let dy = values(8, x.len());
    let (mut y, mut dx) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    rows::gelu_forward(&x, &mut y);
    rows::gelu_backward(&x, &dy, &mut dx);
    assert_close(&y, &reference::gelu(&x), 1e-6, "gelu");
    assert_close(&dx, &reference::gelu_backward(&x, &dy), 1e-6, "gelu grad");
    let h = 1e-3f32;
    for (i, &v) in x.iter().enumerate().step_by(997) {
        let slope = (reference::gelu(&[v + h])[0] - reference::gelu(&[v - h])[0]) / (2.0 * h);
        let want = reference::gelu_backward(&[v], &[1.0])[0];
        assert!(
            (slope - want).abs() < 1e-2,
            "gelu'({v}) [{i}]: {slope} vs {want}"
        );
    }
}

/// The linear layer's pieces on a product above the threading threshold: a `gemm` onto bias
/// rows (forward), the transposed products (backward) and the column sums.
#[test]
fn linear_products_and_column_sums_are_the_same_on_one_and_two_threads() {
    use hashformer_kernels::gemm::{matmul_into, MatRef};
    let (rows, d_in, d_out) = (300, 256, 130);
    let (x, w, dy) = (
        values(5, rows * d_in),
        values(6, d_in * d_out),
        values(7, rows * d_out),
    );
    let run = || {
        let (x, w, dy) = (
            MatRef::row_major(&x, rows, d_in),
            MatRef::row_major(&w, d_in, d_out),
            MatRef::row_major(&dy, rows, d_out),
        );
        let mut y = vec![0.5; rows * d_out];
        matmul_into(&mut y, true, x, w);
        let mut dx = vec![0.0; rows * d_in];
        matmul_into(&mut dx, false, dy, w.t());
        let mut dw = vec![0.0; d_in * d_out];
        matmul_into(&mut dw, false, x.t(), dy);
        let mut db = vec![0.0; d_out];
        hashformer_kernels::column_sums(&values(7, rows * d_out), &mut db);
        [y, dx, dw, db]
    };
    assert_eq!(on_threads(1, run), on_threads(2, run));
}
