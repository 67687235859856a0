//! Frozen rows: the reference's `padding_idx` rows get no gradient (method §10.4). Burn has no
//! `padding_idx`, so the look-up detaches the outputs that came from such a row: the row
//! keeps its (random) initial value under gradient descent, as in PyTorch, while weight
//! decay still reaches it, as with the reference's AdamW.

use burn::prelude::*;
use burn::tensor::module::embedding;

/// Looks up `ids` (`[batch, n]`) in `weight` (`[rows, hidden]`), cutting the gradient to
/// row `frozen`.
///
/// # Shapes
/// - `weight`: `[rows, hidden]`
/// - `ids`: `[batch, n]`
/// - output: `[batch, n, hidden]`
pub fn lookup_frozen_row(weight: Tensor<2>, ids: Tensor<2, Int>, frozen: i64) -> Tensor<3> {
    let out = embedding(weight, ids.clone());
    if !out.device().is_autodiff() {
        return out;
    }
    let [batch, n, hidden] = out.dims();
    let mask = ids
        .equal_elem(frozen)
        .unsqueeze_dim::<3>(2)
        .expand([batch, n, hidden]);
    out.clone().mask_where(mask, out.detach())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;

    #[test]
    fn frozen_row_gets_no_gradient() {
        let device = Device::flex().autodiff();
        let weight = Param::from_tensor(Tensor::<2>::ones([4, 3], &device));
        let ids =
            Tensor::<2, Int>::from_data(TensorData::new(vec![0i64, 1, 2, 1], [2, 2]), &device);
        let out = lookup_frozen_row(weight.val(), ids, 1);
        let grads = out.sum().backward();
        let grad = weight.val().grad(&grads).expect("weight has a gradient");
        let g: Vec<f32> = grad.to_data().iter().collect();
        assert_eq!(g, [1., 1., 1., 0., 0., 0., 1., 1., 1., 0., 0., 0.]);
    }
}
