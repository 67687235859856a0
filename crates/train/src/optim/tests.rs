//! AdamW against `torch.optim.AdamW`, on the host and on the device clipping path.

use super::*;
use serde_json::Value;

#[derive(Module, Debug)]
struct Norm {
    gamma: Param<Tensor<1>>,
    beta: Param<Tensor<1>>,
}

/// Paths `weight`, `bias`, `norm.gamma`, `norm.beta`: one decayed, three exempt.
#[derive(Module, Debug)]
struct Tiny {
    weight: Param<Tensor<2>>,
    bias: Param<Tensor<1>>,
    norm: Norm,
}

fn values(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn t1(v: &Value, device: &Device) -> Tensor<1> {
    let x = values(v);
    let n = x.len();
    Tensor::from_data(TensorData::new(x, [n]), device)
}

fn flat<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn grads(tiny: &Tiny, g: &Value, device: &Device) -> GradientsParams {
    let mut grads = GradientsParams::new();
    grads.register(tiny.weight.id, t1(&g["weight"], device).reshape([2, 3]));
    grads.register(tiny.bias.id, t1(&g["bias"], device));
    grads.register(tiny.norm.gamma.id, t1(&g["gamma"], device));
    grads.register(tiny.norm.beta.id, t1(&g["beta"], device));
    grads
}

fn close(a: &[f32], b: &[f32], what: &str) {
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 2e-6, "{what}: {a:?} != {b:?}");
    }
}

/// Four steps against `torch.optim.AdamW` + `clip_grad_norm_`
/// (fixture: tools/parity/make_adamw_fixture.py).
#[test]
fn matches_torch_adamw_with_groups_and_global_clipping() {
    matches_torch(false);
}

/// The GPU backends' path (clipping factor on the device, norm read last), run on Flex.
#[test]
fn clipping_on_the_device_matches_torch_too() {
    matches_torch(true);
}

fn matches_torch(on_device: bool) {
    let fixture: Value =
        serde_json::from_str(include_str!("../../tests/fixtures/adamw.json")).unwrap();
    let device = Device::flex();
    let init = &fixture["initial"];
    let mut tiny = Tiny {
        weight: Param::from_tensor(t1(&init["weight"], &device).reshape([2, 3])),
        bias: Param::from_tensor(t1(&init["bias"], &device)),
        norm: Norm {
            gamma: Param::from_tensor(t1(&init["gamma"], &device)),
            beta: Param::from_tensor(t1(&init["beta"], &device)),
        },
    };
    let mut optim = AdamW::new(AdamWConfig {
        weight_decay: fixture["weight_decay"].as_f64().unwrap(),
        max_grad_norm: fixture["max_grad_norm"].as_f64(),
        ..AdamWConfig::default()
    });
    let mut restored_once = false;
    for (i, step) in fixture["steps"].as_array().unwrap().iter().enumerate() {
        let g = grads(&tiny, &step["grads"], &device);
        let lr = step["lr"].as_f64().unwrap();
        let (next, stats) = optim.step_with(lr, tiny, g, 1.0, on_device);
        tiny = next;
        let norm = step["grad_norm"].as_f64().unwrap();
        assert!(
            (stats.grad_norm - norm).abs() < 1e-5 * norm.max(1.0),
            "step {i}"
        );
        let after = &step["after"];
        close(
            &flat(tiny.weight.val()),
            &values(&after["weight"]),
            "weight",
        );
        close(&flat(tiny.bias.val()), &values(&after["bias"]), "bias");
        close(
            &flat(tiny.norm.gamma.val()),
            &values(&after["gamma"]),
            "gamma",
        );
        close(&flat(tiny.norm.beta.val()), &values(&after["beta"]), "beta");
        if i == 1 && !restored_once {
            // Save and restore mid-way: the rest must still match.
            let bytes = optim.to_safetensors().unwrap();
            optim = AdamW::from_safetensors(&bytes, Path::new("mem"), &device).unwrap();
            assert_eq!(optim.steps(), 2);
            restored_once = true;
        }
    }
}

#[test]
fn non_finite_gradients_change_nothing() {
    for on_device in [false, true] {
        non_finite_changes_nothing(on_device);
    }
}

fn non_finite_changes_nothing(on_device: bool) {
    let device = Device::flex();
    let tiny = Tiny {
        weight: Param::from_tensor(Tensor::ones([2, 3], &device)),
        bias: Param::from_tensor(Tensor::ones([2], &device)),
        norm: Norm {
            gamma: Param::from_tensor(Tensor::ones([2], &device)),
            beta: Param::from_tensor(Tensor::zeros([2], &device)),
        },
    };
    let mut grads = GradientsParams::new();
    grads.register(
        tiny.bias.id,
        Tensor::<1>::from_data(TensorData::new(vec![f32::NAN, 1.0], [2]), &device),
    );
    let mut optim = AdamW::new(AdamWConfig::default());
    let (tiny, stats) = optim.step_with(0.1, tiny, grads, 1.0, on_device);
    assert!(stats.grad_norm.is_nan(), "on device: {on_device}");
    assert_eq!(optim.steps(), 0);
    assert!(optim.moments.is_empty());
    assert_eq!(flat(tiny.bias.val()), [1.0, 1.0]);
}

#[test]
fn decay_groups() {
    for (path, decayed) in [
        ("roberta.encoder.layers.0.attention.query.weight", true),
        ("roberta.encoder.layers.0.attention.query.bias", false),
        ("roberta.embeddings.layer_norm.gamma", false),
        ("roberta.embeddings.layer_norm.beta", false),
        ("roberta.embeddings.token.weight", true),
    ] {
        assert_eq!(decays(path), decayed, "{path}");
    }
}

#[test]
fn corrupt_state_is_an_error() {
    let err = AdamW::from_safetensors(
        b"not a file",
        Path::new("x/optimizer.safetensors"),
        &Device::flex(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("x/optimizer.safetensors"), "{err}");
}
