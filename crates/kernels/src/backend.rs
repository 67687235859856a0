//! The kernels as a Burn backend extension: implemented on Flex (forward) and on
//! `Autodiff<Flex>` (forward plus a hand-written backward node each), so that training runs
//! one fused kernel per op and direction instead of Burn's decomposition into small ops.
//!
//! Only `f32` tensors on Flex reach this module; the functions of `ops.rs` route everything else to
//! Burn's own operations.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::NodeId;
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Flex};
use burn::tensor::{DType, Shape, TensorData};

use crate::attention::{self, Heads};
use crate::linear::{self, LinearNode};
use crate::rows;

/// The fused operations. Call them through [`crate::layer_norm`], [`crate::attention_softmax`]
/// and [`crate::gelu`], which check the device and dtype.
#[backend_extension(Flex, Autodiff)]
pub trait KernelBackend: Backend {
    /// LayerNorm over the last dimension (biased variance), with scale and shift.
    fn fused_layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self>;

    /// `softmax(scores / divisor + bias)` over the last dimension of `[batch, heads,
    /// queries, keys]` scores, with a `[batch, keys]` bias (a constant: it gets no gradient).
    fn fused_attention_softmax(
        scores: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        divisor: f64,
    ) -> FloatTensor<Self>;

    /// The attention scores `Q_h · K_hᵀ`, `[batch, heads, seq_len, seq_len]`, of query and
    /// key rows `[batch, seq_len, width]` split into `heads` column blocks.
    fn fused_attention_scores(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        heads: usize,
    ) -> FloatTensor<Self>;

    /// The attention context `P_h · V_h` as rows `[batch, seq_len, width]`, of probabilities
    /// `[batch, heads, seq_len, seq_len]` and value rows `[batch, seq_len, width]`.
    fn fused_attention_context(probs: FloatTensor<Self>, v: FloatTensor<Self>)
        -> FloatTensor<Self>;

    /// erf-GELU, element by element.
    fn fused_gelu(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `x · weight + bias` for `x` of `[..., d_input]`, `weight` `[d_input, d_output]` and
    /// `bias` `[d_output]`.
    fn fused_linear(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// A contiguous `f32` view of `tensor`.
pub(crate) fn values(tensor: &FlexTensor) -> FlexTensor {
    assert_eq!(tensor.dtype(), DType::F32, "kernels run on f32 tensors");
    tensor.to_contiguous()
}

/// A Flex tensor of `shape` holding `data`.
pub(crate) fn tensor(data: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(data, shape))
}

pub(crate) fn slice(tensor: &FlexTensor) -> &[f32] {
    tensor
        .as_slice::<f32>()
        .expect("a contiguous f32 tensor has a slice")
}

/// LayerNorm forward: `(y, x̂, 1/σ per row)`.
fn layer_norm(
    x: &FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    epsilon: f64,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let (x, gamma, beta) = (values(x), values(gamma), values(beta));
    let shape = x.layout().shape().clone();
    let n = shape.num_elements();
    let rows_count = n / slice(&gamma).len();
    let (mut y, mut xhat, mut rstd) = (vec![0.0; n], vec![0.0; n], vec![0.0; rows_count]);
    rows::layer_norm_forward(
        slice(&x),
        slice(&gamma),
        slice(&beta),
        epsilon as f32,
        &mut y,
        &mut xhat,
        &mut rstd,
    );
    (
        tensor(y, shape.clone()),
        tensor(xhat, shape),
        tensor(rstd, Shape::new([rows_count])),
    )
}

/// `tensor` as a contiguous `f32` tensor whose buffer nobody else holds: `tensor` itself when
/// it already is one (an intermediate result, in inference), else a copy. The kernels then
/// write their output over it instead of into fresh, zero-filled memory.
fn into_unique(tensor: FlexTensor) -> FlexTensor {
    assert_eq!(tensor.dtype(), DType::F32, "kernels run on f32 tensors");
    if tensor.is_unique() && tensor.is_contiguous() {
        return tensor;
    }
    let shape = tensor.layout().shape().clone();
    self::tensor(slice(&values(&tensor)).to_vec(), shape)
}

/// The elements of a tensor from [`into_unique`], writable.
fn slice_mut(tensor: &mut FlexTensor) -> &mut [f32] {
    let (start, end) = tensor
        .layout()
        .contiguous_offsets()
        .expect("into_unique gives a contiguous tensor");
    let storage = tensor
        .try_storage_mut::<f32>()
        .expect("into_unique gives a uniquely owned tensor");
    &mut storage[start..end]
}

fn attention_softmax(scores: FlexTensor, bias: &FlexTensor, divisor: f64) -> FlexTensor {
    let mut y = into_unique(scores);
    let bias = values(bias);
    let shape = y.layout().shape();
    let seq_len = shape[shape.num_dims() - 1];
    rows::attention_softmax_in_place(slice_mut(&mut y), slice(&bias), seq_len, divisor as f32);
    y
}

/// The attention shape of `[batch, seq_len, width]` rows split into `heads`.
fn heads_of(rows: &FlexTensor, heads: usize) -> Heads {
    let dims: Vec<usize> = rows.layout().shape().iter().copied().collect();
    let [batch, seq_len, width] = dims[..] else {
        panic!("attention rows are [batch, seq_len, width], got {dims:?}");
    };
    assert!(
        heads > 0 && width % heads == 0,
        "{heads} heads do not split a width of {width}"
    );
    Heads {
        batch,
        seq_len,
        heads,
        head_dim: width / heads,
    }
}

/// The scores `[batch, heads, seq_len, seq_len]` and the contiguous `q` and `k` they read.
fn attention_scores(
    q: &FlexTensor,
    k: &FlexTensor,
    heads: usize,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let (q, k) = (values(q), values(k));
    let shape = heads_of(&q, heads);
    assert_eq!(heads_of(&k, heads), shape, "keys shaped as the queries");
    let scores = attention::scores(slice(&q), slice(&k), shape);
    let dims = [shape.batch, heads, shape.seq_len, shape.seq_len];
    (tensor(scores, Shape::new(dims)), q, k)
}

/// The context rows `[batch, seq_len, width]` and the contiguous probabilities and values
/// they read.
fn attention_context(probs: &FlexTensor, v: &FlexTensor) -> (FlexTensor, FlexTensor, FlexTensor) {
    let (probs, v) = (values(probs), values(v));
    let heads = probs.layout().shape()[1];
    let shape = heads_of(&v, heads);
    let context = attention::context(slice(&probs), slice(&v), shape);
    (tensor(context, v.layout().shape().clone()), probs, v)
}

fn gelu(x: FlexTensor) -> FlexTensor {
    let mut y = into_unique(x);
    rows::gelu_in_place(slice_mut(&mut y));
    y
}

/// LayerNorm's output alone, written over `x` where nobody else holds it (no `x̂` to keep).
fn layer_norm_output(
    x: FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    epsilon: f64,
) -> FlexTensor {
    let mut y = into_unique(x);
    let (gamma, beta) = (values(gamma), values(beta));
    rows::layer_norm_in_place(
        slice_mut(&mut y),
        slice(&gamma),
        slice(&beta),
        epsilon as f32,
    );
    y
}

impl KernelBackend for Flex {
    fn fused_layer_norm(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
    ) -> FlexTensor {
        layer_norm_output(x, &gamma, &beta, epsilon)
    }

    fn fused_attention_softmax(scores: FlexTensor, bias: FlexTensor, divisor: f64) -> FlexTensor {
        attention_softmax(scores, &bias, divisor)
    }

    fn fused_attention_scores(q: FlexTensor, k: FlexTensor, heads: usize) -> FlexTensor {
        attention_scores(&q, &k, heads).0
    }

    fn fused_attention_context(probs: FlexTensor, v: FlexTensor) -> FlexTensor {
        attention_context(&probs, &v).0
    }

    fn fused_gelu(x: FlexTensor) -> FlexTensor {
        gelu(x)
    }

    fn fused_linear(x: FlexTensor, weight: FlexTensor, bias: FlexTensor) -> FlexTensor {
        linear::forward(&x, &weight, &bias).0
    }
}

/// Backward node of LayerNorm; keeps `x̂`, `1/σ` and `γ`.
#[derive(Debug)]
struct LayerNormNode;

impl Backward<Flex, 3> for LayerNormNode {
    type State = (FlexTensor, FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let mut dx = into_unique(grads.consume::<Flex>(&ops.node));
        let (xhat, rstd, gamma) = ops.state;
        let width = slice(&gamma).len();
        let (mut dgamma, mut dbeta) = (vec![0.0; width], vec![0.0; width]);
        rows::layer_norm_backward_in_place(
            slice_mut(&mut dx),
            slice(&xhat),
            slice(&rstd),
            slice(&gamma),
            &mut dgamma,
            &mut dbeta,
        );
        let grads_of = [
            (node_x, dx),
            (node_gamma, tensor(dgamma, Shape::new([width]))),
            (node_beta, tensor(dbeta, Shape::new([width]))),
        ];
        for (node, grad) in grads_of {
            register(grads, node.map(|n| n.id), grad);
        }
    }
}

/// Backward node of the attention softmax; keeps its output and the divisor.
#[derive(Debug)]
struct AttentionSoftmaxNode;

impl Backward<Flex, 1> for AttentionSoftmaxNode {
    type State = (FlexTensor, f64);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_scores] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (y, divisor) = ops.state;
        if let Some(node) = node_scores {
            let mut dx = into_unique(dy);
            let shape = y.layout().shape();
            let seq_len = shape[shape.num_dims() - 1];
            rows::attention_softmax_backward_in_place(
                slice(&y),
                slice_mut(&mut dx),
                seq_len,
                divisor as f32,
            );
            grads.register::<Flex>(node.id, dx);
        }
    }
}

/// Registers `grad` for the parent `node` when it is tracked.
fn register(grads: &mut Gradients, node: Option<NodeId>, grad: FlexTensor) {
    if let Some(node) = node {
        grads.register::<Flex>(node, grad);
    }
}

/// Backward node of the attention scores; keeps the query and key rows and the heads.
#[derive(Debug)]
struct AttentionScoresNode;

impl Backward<Flex, 2> for AttentionScoresNode {
    type State = (FlexTensor, FlexTensor, usize);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_q, node_k] = ops.parents;
        let ds = values(&grads.consume::<Flex>(&ops.node));
        let (q, k, heads) = ops.state;
        let shape = heads_of(&q, heads);
        let (dq, dk) = attention::scores_backward(slice(&ds), slice(&q), slice(&k), shape);
        let rows = q.layout().shape().clone();
        register(grads, node_q.map(|n| n.id), tensor(dq, rows.clone()));
        register(grads, node_k.map(|n| n.id), tensor(dk, rows));
    }
}

/// Backward node of the attention context; keeps the probabilities and the value rows.
#[derive(Debug)]
struct AttentionContextNode;

impl Backward<Flex, 2> for AttentionContextNode {
    type State = (FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_probs, node_v] = ops.parents;
        let dc = values(&grads.consume::<Flex>(&ops.node));
        let (probs, v) = ops.state;
        let shape = heads_of(&v, probs.layout().shape()[1]);
        let (dprobs, dv) = attention::context_backward(slice(&dc), slice(&probs), slice(&v), shape);
        register(
            grads,
            node_probs.map(|n| n.id),
            tensor(dprobs, probs.layout().shape().clone()),
        );
        register(
            grads,
            node_v.map(|n| n.id),
            tensor(dv, v.layout().shape().clone()),
        );
    }
}

/// Backward node of GELU; keeps its input.
#[derive(Debug)]
struct GeluNode;

impl Backward<Flex, 1> for GeluNode {
    type State = FlexTensor;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        if let Some(node) = node_x {
            let mut dx = into_unique(dy);
            rows::gelu_backward_in_place(slice(&ops.state), slice_mut(&mut dx));
            grads.register::<Flex>(node.id, dx);
        }
    }
}

impl<C: CheckpointStrategy> KernelBackend for Autodiff<Flex, C> {
    fn fused_layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        let prep = LayerNormNode
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful();
        let (y, xhat, rstd) =
            layer_norm(x.primitive(), gamma.primitive(), beta.primitive(), epsilon);
        match prep {
            OpsKind::Tracked(prep) => prep.finish((xhat, rstd, values(gamma.primitive())), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    fn fused_attention_softmax(
        scores: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        divisor: f64,
    ) -> FloatTensor<Self> {
        assert!(
            !bias.is_tracked(),
            "the attention bias is a constant of the mask; it takes no gradient"
        );
        let prep = AttentionSoftmaxNode
            .prepare::<C>([scores.node()])
            .compute_bound()
            .stateful();
        // The scores are not kept for the backward pass: a buffer nobody else holds (the
        // product that made them) becomes the probabilities.
        let y = attention_softmax(scores.into_primitive(), bias.primitive(), divisor);
        match prep {
            OpsKind::Tracked(prep) => prep.finish((y.clone(), divisor), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    fn fused_attention_scores(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        heads: usize,
    ) -> FloatTensor<Self> {
        let prep = AttentionScoresNode
            .prepare::<C>([q.node(), k.node()])
            .compute_bound()
            .stateful();
        let (scores, q, k) = attention_scores(q.primitive(), k.primitive(), heads);
        match prep {
            OpsKind::Tracked(prep) => prep.finish((q, k, heads), scores),
            OpsKind::UnTracked(prep) => prep.finish(scores),
        }
    }

    fn fused_attention_context(
        probs: FloatTensor<Self>,
        v: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let prep = AttentionContextNode
            .prepare::<C>([probs.node(), v.node()])
            .compute_bound()
            .stateful();
        let (context, probs, v) = attention_context(probs.primitive(), v.primitive());
        match prep {
            OpsKind::Tracked(prep) => prep.finish((probs, v), context),
            OpsKind::UnTracked(prep) => prep.finish(context),
        }
    }

    fn fused_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let prep = GeluNode.prepare::<C>([x.node()]).compute_bound().stateful();
        let y = gelu(x.primitive().clone());
        match prep {
            OpsKind::Tracked(prep) => prep.finish(values(x.primitive()), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    fn fused_linear(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let prep = LinearNode
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful();
        let (y, x, weight) = linear::forward(x.primitive(), weight.primitive(), bias.primitive());
        match prep {
            OpsKind::Tracked(prep) => prep.finish((x, weight), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}
