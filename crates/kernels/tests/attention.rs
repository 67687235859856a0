//! The attention products on token rows against their plain references (odd shapes, more
//! query rows than one parallel block), their gradients against the references' transposed
//! products, and thread-count independence.

use hashformer_kernels::attention::{self, Heads};
use hashformer_kernels::reference;

mod common;
use common::{assert_close, on_threads, values};

/// Each `seq_len × seq_len` square of `[batch, heads, seq_len, seq_len]` values transposed.
fn transposed(squares: &[f32], seq_len: usize) -> Vec<f32> {
    squares
        .chunks(seq_len * seq_len)
        .flat_map(|m| (0..seq_len * seq_len).map(move |i| m[(i % seq_len) * seq_len + i / seq_len]))
        .collect()
}

const SHAPES: [Heads; 4] = [
    Heads {
        batch: 1,
        seq_len: 1,
        heads: 1,
        head_dim: 1,
    },
    Heads {
        batch: 3,
        seq_len: 5,
        heads: 2,
        head_dim: 3,
    },
    Heads {
        batch: 2,
        seq_len: 37,
        heads: 3,
        head_dim: 4,
    },
    Heads {
        batch: 1,
        seq_len: 70,
        heads: 4,
        head_dim: 8,
    },
];

struct Case {
    shape: Heads,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    squares: Vec<f32>,
}

impl Case {
    fn new(shape: Heads) -> Self {
        let rows = shape.rows_len();
        Self {
            shape,
            q: values(1, rows),
            k: values(2, rows),
            v: values(3, rows),
            squares: values(4, shape.scores_len()),
        }
    }

    /// Scores, context and all four gradients, the output gradients being `v` and `squares`.
    fn run(&self) -> [Vec<f32>; 6] {
        let s = self.shape;
        let scores = attention::scores(&self.q, &self.k, s);
        let context = attention::context(&self.squares, &self.v, s);
        let (dq, dk) = attention::scores_backward(&self.squares, &self.q, &self.k, s);
        let (dprobs, dv) = attention::context_backward(&self.q, &self.squares, &self.v, s);
        [scores, context, dq, dk, dprobs, dv]
    }
}

#[test]
fn attention_products_match_the_reference_on_odd_shapes() {
    for shape in SHAPES {
        let c = Case::new(shape);
        let [scores, context, dq, dk, dprobs, dv] = c.run();
        let what = |name: &str| format!("{name} of {shape:?}");
        let squares_t = transposed(&c.squares, shape.seq_len);
        assert_close(
            &scores,
            &reference::attention_scores(&c.q, &c.k, shape),
            1e-5,
            &what("scores"),
        );
        assert_close(
            &context,
            &reference::attention_context(&c.squares, &c.v, shape),
            1e-5,
            &what("context"),
        );
        // dQ = dS · K and dK = dSᵀ · Q are contexts; dP = dC · Vᵀ is a score; dV = Pᵀ · dC.
        let want_dq = reference::attention_context(&c.squares, &c.k, shape);
        assert_close(&dq, &want_dq, 1e-5, &what("dq"));
        let want_dk = reference::attention_context(&squares_t, &c.q, shape);
        assert_close(&dk, &want_dk, 1e-5, &what("dk"));
        let want_dprobs = reference::attention_scores(&c.q, &c.v, shape);
        assert_close(&dprobs, &want_dprobs, 1e-5, &what("dprobs"));
        let want_dv = reference::attention_context(&squares_t, &c.q, shape);
        assert_close(&dv, &want_dv, 1e-5, &what("dv"));
    }
}

#[test]
fn attention_products_are_the_same_on_one_and_two_threads() {
    for shape in SHAPES {
        let c = Case::new(shape);
        assert_eq!(
            on_threads(1, || c.run()),
            on_threads(2, || c.run()),
            "{shape:?}"
        );
    }
}

#[test]
fn empty_batches_and_sequences_give_empty_outputs() {
    for shape in [
        Heads {
            batch: 0,
            seq_len: 4,
            heads: 2,
            head_dim: 3,
        },
        Heads {
            batch: 2,
            seq_len: 0,
            heads: 2,
            head_dim: 3,
        },
    ] {
        let [scores, context, dq, dk, dprobs, dv] = Case::new(shape).run();
        for out in [scores, context, dq, dk, dprobs, dv] {
            assert!(out.is_empty(), "{shape:?}");
        }
    }
}

#[test]
fn a_context_of_the_wrong_size_is_refused() {
    let shape = Heads {
        batch: 1,
        seq_len: 2,
        heads: 1,
        head_dim: 2,
    };
    let refused = std::panic::catch_unwind(|| attention::context(&[0.0; 3], &[0.0; 4], shape));
    let message = refused.expect_err("three probabilities for a 2 × 2 square");
    let message = message
        .downcast_ref::<String>()
        .expect("a formatted message");
    assert!(message.contains("probabilities"), "{message}");
}
