//! The fused operations on `Autodiff<Flex>` against Burn's own operations: values and
//! gradients of every input, on odd shapes and a padded attention mask.

use burn::prelude::*;
use burn::tensor::activation;
use burn::tensor::Distribution;
use hashformer_kernels::{
    attention_context, attention_scores, attention_softmax, gelu, layer_norm, linear,
};

fn device() -> Device {
    let device = Device::flex().autodiff();
    // Else these tests would compare Burn with itself.
    assert!(
        hashformer_kernels::is_flex(&device),
        "the fused kernels run on Flex"
    );
    device.seed(11);
    device
}

fn random<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device).require_grad()
}

fn assert_close<const D: usize>(got: Tensor<D>, want: Tensor<D>, tol: f32, what: &str) {
    let (got, want) = (got.into_data(), want.into_data());
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for (i, (g, w)) in got.iter::<f32>().zip(want.iter::<f32>()).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{i}]: {g} vs {w}"
        );
    }
}

/// A fixed weighting of the output, so every output element's gradient differs.
fn weighted<const D: usize>(y: Tensor<D>, weights: &Tensor<D>) -> Tensor<1> {
    (y * weights.clone()).sum()
}

#[test]
fn layer_norm_values_and_gradients_match_burn() {
    let device = device();
    for shape in [[2, 3, 7], [5, 1, 256], [1, 33, 17]] {
        let x = random(shape, &device);
        let gamma = random([shape[2]], &device);
        let beta = random([shape[2]], &device);
        let w = random(shape, &device).detach();

        let fused = layer_norm(x.clone(), gamma.clone(), beta.clone(), 1e-5);
        let grads = weighted(fused.clone(), &w).backward();
        let (x2, g2, b2) = (
            x.clone().detach().require_grad(),
            gamma.clone().detach().require_grad(),
            beta.clone().detach().require_grad(),
        );
        let plain =
            burn::tensor::module::layer_norm(x2.clone(), g2.clone(), Some(b2.clone()), 1e-5);
        let plain_grads = weighted(plain.clone(), &w).backward();

        let what = format!("{shape:?}");
        assert_close(fused, plain, 1e-5, &format!("y {what}"));
        let pairs = [(&x, &x2, "dx")];
        for (a, b, name) in pairs {
            assert_close(
                a.grad(&grads).unwrap(),
                b.grad(&plain_grads).unwrap(),
                1e-4,
                &format!("{name} {what}"),
            );
        }
        assert_close(
            gamma.grad(&grads).unwrap(),
            g2.grad(&plain_grads).unwrap(),
            1e-4,
            &format!("dgamma {what}"),
        );
        assert_close(
            beta.grad(&grads).unwrap(),
            b2.grad(&plain_grads).unwrap(),
            1e-4,
            &format!("dbeta {what}"),
        );
    }
}

#[test]
fn attention_softmax_values_and_gradients_match_burn_with_padding() {
    let device = device();
    let (batch, heads, seq) = (3, 2, 9);
    let scores = random([batch, heads, seq, seq], &device);
    // Sequence b has b padded keys.
    let mask: Vec<f32> = (0..batch * seq)
        .map(|i| {
            if i % seq + i / seq >= seq {
                -10_000.0
            } else {
                0.0
            }
        })
        .collect();
    let bias = Tensor::<1>::from_floats(mask.as_slice(), &device).reshape([batch, 1, 1, seq]);
    let w = random([batch, heads, seq, seq], &device).detach();

    let fused = attention_softmax(scores.clone(), bias.clone(), 8.0);
    let grads = weighted(fused.clone(), &w).backward();
    let s2 = scores.clone().detach().require_grad();
    let plain = activation::softmax(s2.clone().div_scalar(8.0) + bias, 3);
    let plain_grads = weighted(plain.clone(), &w).backward();

    assert_close(fused, plain, 1e-6, "probabilities");
    assert_close(
        scores.grad(&grads).unwrap(),
        s2.grad(&plain_grads).unwrap(),
        1e-5,
        "dscores",
    );
}

/// `[batch, seq, heads · head_dim]` rows as `[batch, heads, seq, head_dim]` heads.
fn split(rows: Tensor<3>, heads: usize) -> Tensor<4> {
    let [batch, seq, width] = rows.dims();
    rows.reshape([batch, seq, heads, width / heads])
        .swap_dims(1, 2)
}

#[test]
fn attention_products_values_and_gradients_match_burn() {
    let device = device();
    // 37 query rows: one full parallel block and a partial one.
    let (batch, seq, heads, head_dim) = (2, 37, 3, 4);
    let width = heads * head_dim;
    let (q, k, v) = (
        random([batch, seq, width], &device),
        random([batch, seq, width], &device),
        random([batch, seq, width], &device),
    );
    let probs = random([batch, heads, seq, seq], &device);
    let (ws, wc) = (
        random([batch, heads, seq, seq], &device).detach(),
        random([batch, seq, width], &device).detach(),
    );

    let scores = attention_scores(q.clone(), k.clone(), heads);
    let context = attention_context(probs.clone(), v.clone());
    let grads = (weighted(scores.clone(), &ws) + weighted(context.clone(), &wc)).backward();
    let fresh = |x: &Tensor<3>| x.clone().detach().require_grad();
    let (q2, k2, v2) = (fresh(&q), fresh(&k), fresh(&v));
    let p2 = probs.clone().detach().require_grad();
    let plain_scores = split(q2.clone(), heads).matmul(split(k2.clone(), heads).swap_dims(2, 3));
    let plain_context = p2
        .clone()
        .matmul(split(v2.clone(), heads))
        .swap_dims(1, 2)
        .reshape([batch, seq, width]);
    let plain_grads =
        (weighted(plain_scores.clone(), &ws) + weighted(plain_context.clone(), &wc)).backward();

    assert_close(scores, plain_scores, 1e-5, "scores");
    assert_close(context, plain_context, 1e-5, "context");
    for (got, want, what) in [
        (q.grad(&grads), q2.grad(&plain_grads), "dq"),
        (k.grad(&grads), k2.grad(&plain_grads), "dk"),
        (v.grad(&grads), v2.grad(&plain_grads), "dv"),
    ] {
        assert_close(got.unwrap(), want.unwrap(), 1e-5, what);
    }
    assert_close(
        probs.grad(&grads).unwrap(),
        p2.grad(&plain_grads).unwrap(),
        1e-5,
        "dprobs",
    );
}

#[test]
fn gelu_values_and_gradients_match_burn() {
    let device = device();
    let x = random([7, 131], &device);
    let w = random([7, 131], &device).detach();
    let fused = gelu(x.clone());
    let grads = weighted(fused.clone(), &w).backward();
    let x2 = x.clone().detach().require_grad();
    let plain = activation::gelu(x2.clone());
    let plain_grads = weighted(plain.clone(), &w).backward();
    assert_close(fused, plain, 1e-6, "gelu");
    assert_close(
        x.grad(&grads).unwrap(),
        x2.grad(&plain_grads).unwrap(),
        1e-6,
        "dx",
    );
}

/// `x · W + b` and its three gradients against Burn's `linear`, for 2-D and 3-D inputs and
/// for a weight stored transposed (a strided view, as a loaded checkpoint may hold it).
#[test]
fn linear_values_and_gradients_match_burn() {
    let device = device();
    for (leading, d_in, d_out, transposed) in [
        (vec![1], 1, 1, false),
        (vec![7], 5, 3, false),
        (vec![2, 9], 33, 17, true),
        (vec![3, 70], 200, 210, false),
        (vec![130], 64, 300, true),
    ] {
        let what = format!("{leading:?}x{d_in}->{d_out} transposed {transposed}");
        let weight = if transposed {
            Tensor::<2>::random([d_out, d_in], Distribution::Normal(0.0, 1.0), &device)
                .transpose()
                .require_grad()
        } else {
            random([d_in, d_out], &device)
        };
        let bias = random([d_out], &device);
        let check = |x: Tensor<3>| {
            let [a, b, _] = x.dims();
            let w = random([a, b, d_out], &device).detach();
            let fused = linear(x.clone(), weight.clone(), Some(bias.clone()));
            let grads = weighted(fused.clone(), &w).backward();
            let (x2, w2, b2) = (
                x.clone().detach().require_grad(),
                weight.clone().detach().require_grad(),
                bias.clone().detach().require_grad(),
            );
            let plain = burn::tensor::module::linear(x2.clone(), w2.clone(), Some(b2.clone()));
            let plain_grads = weighted(plain.clone(), &w).backward();
            assert_close(fused, plain, 1e-5, &format!("y {what}"));
            assert_close(
                x.grad(&grads).unwrap(),
                x2.grad(&plain_grads).unwrap(),
                1e-4,
                &format!("dx {what}"),
            );
            assert_close(
                weight.grad(&grads).unwrap(),
                w2.grad(&plain_grads).unwrap(),
                1e-4,
                &format!("dW {what}"),
            );
            assert_close(
                bias.grad(&grads).unwrap(),
                b2.grad(&plain_grads).unwrap(),
                1e-4,
                &format!("db {what}"),
            );
        };
        let rows: usize = leading.iter().product();
        check(random([1, rows, d_in], &device));
        if let [a, b] = leading[..] {
            check(random([a, b, d_in], &device));
        }
    }
}

#[test]
fn without_autodiff_the_fused_ops_run_forward_only() {
    let device = Device::flex();
    let x = Tensor::<2>::random([4, 6], Distribution::Normal(0.0, 1.0), &device);
    let gamma = Tensor::<1>::ones([6], &device);
    let beta = Tensor::<1>::zeros([6], &device);
    let y = layer_norm(x.clone(), gamma.clone(), beta.clone(), 1e-5);
    assert_close(
        y,
        burn::tensor::module::layer_norm(x.clone(), gamma, Some(beta), 1e-5),
        1e-5,
        "layer norm",
    );
    assert_close(gelu(x.clone()), activation::gelu(x.clone()), 1e-6, "gelu");
    let weight = Tensor::<2>::random([6, 5], Distribution::Normal(0.0, 1.0), &device);
    let bias = Tensor::<1>::random([5], Distribution::Normal(0.0, 1.0), &device);
    assert_close(
        linear(x.clone(), weight.clone(), Some(bias.clone())),
        burn::tensor::module::linear(x.clone(), weight.clone(), Some(bias)),
        1e-5,
        "linear",
    );
    assert_close(
        linear(x.clone(), weight.clone(), None),
        x.matmul(weight),
        1e-5,
        "linear without a bias",
    );
}

/// The same data on Flex (inference, where a kernel writes over an input nobody else holds)
/// and on `Autodiff<Flex>` (training, which copies): bit-identical outputs, and an input that
/// is still held elsewhere, or is a strided view, is left as it was.
#[test]
fn inference_in_place_matches_training_bit_for_bit_and_spares_shared_inputs() {
    let (flex, autodiff) = (Device::flex(), device());
    let data = Tensor::<3>::random([3, 9, 9], Distribution::Normal(0.0, 2.0), &flex).into_data();
    let on = |device: &Device| Tensor::<3>::from_data(data.clone(), device);
    let gamma = Tensor::<1>::random([9], Distribution::Normal(1.0, 0.5), &flex).into_data();
    let beta = Tensor::<1>::random([9], Distribution::Normal(0.0, 0.5), &flex).into_data();
    let param =
        |values: &TensorData, device: &Device| Tensor::<1>::from_data(values.clone(), device);
    let mask: Vec<f32> = (0..3 * 9)
        .map(|i| if i % 9 >= 9 - i / 9 { -10_000.0 } else { 0.0 })
        .collect();
    let bias =
        |device: &Device| Tensor::<1>::from_floats(mask.as_slice(), device).reshape([3, 1, 1, 9]);
    let scores = |x: Tensor<3>| x.reshape([3, 1, 9, 9]);

    // Each op twice on Flex: on a fresh intermediate (`x * 1`, unique: written over) and on
    // `x.clone()` (shared: copied); once on Autodiff<Flex>.
    type Op<'a> = Box<dyn Fn(Tensor<3>, &Device) -> Tensor<3> + 'a>;
    let ops: [(&str, Op); 3] = [
        ("gelu", Box::new(|x, _| gelu(x))),
        (
            "layer norm",
            Box::new(|x, device| layer_norm(x, param(&gamma, device), param(&beta, device), 1e-5)),
        ),
        (
            "attention softmax",
            Box::new(|x, device| {
                attention_softmax(scores(x), bias(device), 4.0).reshape([3, 9, 9])
            }),
        ),
    ];
    for (what, op) in ops {
        let x = on(&flex);
        let in_place = op(x.clone().mul_scalar(1.0), &flex).into_data();
        let copied = op(x.clone(), &flex).into_data();
        let training = op(on(&autodiff).require_grad(), &autodiff).into_data();
        assert_eq!(in_place, training, "{what}: inference against training");
        assert_eq!(copied, training, "{what}: a shared input");
        assert_eq!(x.into_data(), data, "{what}: the shared input changed");
    }
    // A strided view is copied, not written through.
    let x = on(&flex);
    let swapped = gelu(x.clone().swap_dims(0, 1)).swap_dims(0, 1);
    assert_close(swapped, activation::gelu(x.clone()), 1e-6, "gelu of a view");
    assert_eq!(x.into_data(), data, "the viewed tensor changed");
}
