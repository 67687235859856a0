//! The fused operations on `Autodiff<Flex>` against Burn's own operations: values and
//! gradients of every input, on odd shapes and a padded attention mask.

use burn::prelude::*;
use burn::tensor::activation;
use burn::tensor::Distribution;
use hashformer_kernels::{attention_softmax, gelu, layer_norm};

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
    assert_close(gelu(x.clone()), activation::gelu(x), 1e-6, "gelu");
}
