//! The linear layer `y = x · W + b` on Flex: forward into an output that starts as the bias
//! rows (one `gemm` pass, no zero-fill and no separate bias add), and a backward node that
//! computes `dx = dy · Wᵀ`, `dW = xᵀ · dy` and `db = Σ_rows dy` straight from strided views.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::flex::FlexTensor;
use burn::backend::Flex;
use burn::tensor::{DType, Shape};
use rayon::prelude::*;

use crate::backend::{slice, tensor, values};
use crate::gemm::{matmul, matmul_into, MatRef};

/// Columns summed by one parallel task in [`column_sums`].
const TASK_COLUMNS: usize = 256;

/// `out[j] = Σ_i rows[i · out.len() + j]`: the sum of each column of a row-major matrix, rows
/// added in order (the same result on any number of threads).
///
/// # Panics
/// If `rows.len()` is not a multiple of `out.len()`.
pub fn column_sums(rows: &[f32], out: &mut [f32]) {
    let width = out.len();
    if width == 0 {
        return;
    }
    assert_eq!(rows.len() % width, 0, "rows of {width} values");
    out.par_chunks_mut(TASK_COLUMNS)
        .enumerate()
        .for_each(|(block, acc)| {
            let columns = block * TASK_COLUMNS..block * TASK_COLUMNS + acc.len();
            acc.fill(0.0);
            for row in rows.chunks_exact(width) {
                for (a, &v) in acc.iter_mut().zip(&row[columns.clone()]) {
                    *a += v;
                }
            }
        });
}

/// A 2-D weight as a strided view of its storage (a transposed weight is not copied).
fn weight_view(weight: &FlexTensor) -> MatRef<'_> {
    assert_eq!(weight.dtype(), DType::F32, "kernels run on f32 tensors");
    let layout = weight.layout();
    let (rows, cols, row_stride, col_stride) =
        layout.as_2d_strides().expect("a linear weight is 2-D");
    let stride = |s: isize| usize::try_from(s).expect("a weight with non-negative strides");
    let data = &weight.storage::<f32>()[layout.start_offset()..];
    MatRef::strided(data, rows, cols, stride(row_stride), stride(col_stride))
}

/// A weight with negative strides (a flipped view) copied into a contiguous one; others as
/// they are.
fn viewable(weight: &FlexTensor) -> FlexTensor {
    if weight.layout().has_positive_strides() {
        weight.clone()
    } else {
        weight.to_contiguous()
    }
}

/// Rows of `[..., width]`: the product of the leading dimensions.
fn leading_rows(shape: &Shape) -> usize {
    shape.iter().rev().skip(1).product()
}

/// The shape of `x` (`[..., d_input]`) with its last dimension set to `width`.
fn with_last(shape: &Shape, width: usize) -> Shape {
    let mut dims: Vec<usize> = shape.iter().copied().collect();
    *dims.last_mut().expect("a linear input has a dimension") = width;
    Shape::from(dims)
}

/// The forward pass: `(y, x as a contiguous tensor, the weight as kept)` for `x` of
/// `[..., d_input]`, `weight` `[d_input, d_output]` and `bias` `[d_output]`.
pub fn forward(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: &FlexTensor,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let (x, weight, bias) = (values(x), viewable(weight), values(bias));
    let w = weight_view(&weight);
    let (d_input, d_output) = (w.rows(), w.cols());
    let shape = x.layout().shape().clone();
    assert_eq!(shape[shape.num_dims() - 1], d_input, "linear input width");
    let bias_row = slice(&bias);
    assert_eq!(bias_row.len(), d_output, "linear bias width");
    let rows = leading_rows(&shape);
    let mut y = Vec::with_capacity(rows * d_output);
    for _ in 0..rows {
        y.extend_from_slice(bias_row);
    }
    matmul_into(&mut y, true, MatRef::row_major(slice(&x), rows, d_input), w);
    (tensor(y, with_last(&shape, d_output)), x, weight)
}

/// Backward node of the linear layer; keeps `x` (contiguous) and the weight.
#[derive(Debug)]
pub struct LinearNode;

impl Backward<Flex, 3> for LinearNode {
    type State = (FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let dy = values(&grads.consume::<Flex>(&ops.node));
        let (x, weight) = ops.state;
        let w = weight_view(&weight);
        let (d_input, d_output) = (w.rows(), w.cols());
        let rows = leading_rows(x.layout().shape());
        let dy_rows = MatRef::row_major(slice(&dy), rows, d_output);
        if let Some(node) = node_x {
            let dx = matmul(dy_rows, w.t());
            grads.register::<Flex>(node.id, tensor(dx, x.layout().shape().clone()));
        }
        if let Some(node) = node_weight {
            let x_rows = MatRef::row_major(slice(&x), rows, d_input);
            let dw = matmul(x_rows.t(), dy_rows);
            grads.register::<Flex>(node.id, tensor(dw, Shape::new([d_input, d_output])));
        }
        if let Some(node) = node_bias {
            let mut db = vec![0.0; d_output];
            column_sums(slice(&dy), &mut db);
            grads.register::<Flex>(node.id, tensor(db, Shape::new([d_output])));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_sums_add_each_column_over_the_rows() {
        for (rows, width) in [(1, 1), (3, 5), (7, 300), (0, 4), (40, 513)] {
            let data: Vec<f32> = (0..rows * width).map(|i| (i % 13) as f32 - 6.0).collect();
            let mut got = vec![f32::NAN; width];
            column_sums(&data, &mut got);
            let want: Vec<f32> = (0..width)
                .map(|j| (0..rows).map(|i| data[i * width + j]).sum())
                .collect();
            assert_eq!(got, want, "{rows}x{width}");
        }
    }
}
