//! The same model on another backend computes the same thing: every parity fixture (all 8
//! variants and the BPE baseline) is loaded on the CPU (Flex) and on each GPU backend this
//! binary was built with, and their outputs must agree. Built with `--features wgpu`, it runs
//! on any Vulkan device, Mesa's software rasteriser (lavapipe) included, which is how CI runs it
//! without a GPU; `--features vulkan` adds the same device through Vulkan's SPIR-V path. GPU
//! builds fuse kernels (Burn's `fusion`), so these tests check the fused graphs too. With `--features cuda` it also runs on CUDA wherever CUDA starts (a machine
//! without an NVIDIA driver skips it, saying so). Without a GPU feature there is nothing to
//! compare and no test is compiled.
#![cfg(any(feature = "wgpu", feature = "cuda"))]

#[path = "../../model/tests/common/parity_io.rs"]
mod parity_io;

use std::path::PathBuf;

use burn::prelude::*;
use hashformer_model::{HashformerForPretraining, HashformerForSequenceClassification, Precision};
use hashformer_testkit::TempDir;
use parity_io::{Io, FIXTURES};

/// GPU kernels accumulate in other orders than the CPU (and lavapipe may use FMA): allow
/// some f32 rounding, far below what a wrong kernel produces.
const ATOL: f32 = 2e-4;

/// Burn 0.22's CUDA matmul runs f32 products on tensor cores in TF32 (10-bit mantissa:
/// `cubek-matmul`'s `adjust_dtypes` promotes f32 to tf32 wherever the device supports it), so
/// CUDA outputs differ from f32 by about 1e-3 of their scale; the fixtures' values are of
/// order 1. Still two orders below what a wrong kernel produces.
const TF32_ATOL: f32 = 3e-3;

/// The tolerance of `backend`'s outputs.
fn atol(backend: &str) -> f32 {
    if backend == "cuda" {
        TF32_ATOL
    } else {
        ATOL
    }
}

fn fixture(name: &str) -> PathBuf {
    hashformer_testkit::manifest_dir!()
        .join("../model/tests/fixtures/parity")
        .join(name)
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().iter().collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The GPU backends of this build that start here, by name.
fn gpus() -> Vec<(&'static str, Device)> {
    let mut out = Vec::new();
    #[cfg(feature = "wgpu")]
    out.push(("wgpu", Device::wgpu(DeviceKind::DefaultDevice)));
    #[cfg(feature = "vulkan")]
    out.push(("vulkan", Device::vulkan(DeviceKind::DefaultDevice)));
    #[cfg(feature = "cuda")]
    if cuda_starts() {
        out.push(("cuda", Device::cuda(0)));
    } else {
        eprintln!("CUDA did not start here (no NVIDIA driver?): CUDA skipped");
    }
    out
}

/// Whether CUDA starts on this machine, asked of a child process: cudarc panics without a
/// driver, and under Burn's fusion that panic poisons the process-wide fusion registry,
/// which would then fail every other GPU backend of this test process too.
#[cfg(feature = "cuda")]
fn cuda_starts() -> bool {
    std::process::Command::new(env!("CARGO_BIN_EXE_hashformer"))
        .args(["embed", "--backend", "cuda", "--model"])
        .arg(fixture("proj-md5"))
        .arg("probe")
        .output()
        .is_ok_and(|out| out.status.success())
}

/// The CPU backend has one random stream per process, which model initialisation draws from:
/// tests that build models take turns, or a seeded initialisation would not be reproducible.
static CPU_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn gpus_match_cpu_for_every_variant() {
    let _guard = CPU_RNG.lock().unwrap_or_else(|e| e.into_inner());
    let cpu = Device::flex();
    let mut worst = Vec::new();
    for (backend, gpu) in gpus() {
        let mut max = 0.0f32;
        for name in FIXTURES {
            let diffs = compare(name, &cpu, &gpu);
            eprintln!("{backend} {name}: max |diff| {diffs:?} (hidden, pretrain, cls, vs PyTorch)");
            max = diffs.iter().copied().fold(max, f32::max);
        }
        worst.push((backend, max));
    }
    eprintln!("largest difference per backend: {worst:?}");
    for (backend, max) in worst {
        let atol = atol(backend);
        assert!(
            max <= atol,
            "{backend}: max |diff| {max} > {atol} against the CPU or PyTorch"
        );
    }
}

/// Mixed precision on the GPU backends, wherever the device computes in the half type:
/// every fixture's hidden states and both heads' logits in `bf16` and `f16` against
/// PyTorch's `f32` outputs, within the precision's tolerance (`docs/backends.md`) plus the
/// backend's own `f32` one.
#[test]
fn gpus_match_pytorch_in_half_precision_where_supported() {
    for (backend, gpu) in gpus() {
        for (precision, tolerance) in [(Precision::Bf16, 0.05), (Precision::F16, 0.01)] {
            if precision.check_device(&gpu).is_err() {
                eprintln!("{backend} does not compute in {precision} here: skipped");
                continue;
            }
            let atol = tolerance + atol(backend);
            let mut max = 0.0f32;
            for name in FIXTURES {
                let dir = fixture(name);
                let io = Io::read(&dir);
                let (mut pretrain, config) =
                    HashformerForPretraining::from_pretrained(&dir, &gpu).expect("fixture loads");
                let (mut classify, _) =
                    HashformerForSequenceClassification::from_pretrained(&dir, None, &gpu)
                        .expect("fixture loads");
                pretrain.roberta.precision = precision;
                classify.roberta.precision = precision;
                let kind = config.variant.kind();
                let want = |what: &str| -> Vec<f32> {
                    io.tensor(what).expect("stored output").1.iter().collect()
                };
                let diffs = [
                    max_diff(
                        &to_vec(pretrain.roberta.forward(io.input(kind, &gpu))),
                        &want("last_hidden_state"),
                    ),
                    max_diff(
                        &to_vec(pretrain.forward(io.input(kind, &gpu))),
                        &want("pretrain_logits"),
                    ),
                    max_diff(
                        &to_vec(classify.forward(io.input(kind, &gpu))),
                        &want("cls_logits"),
                    ),
                ];
                max = diffs.into_iter().fold(max, f32::max);
            }
            eprintln!("{backend} {precision}: largest difference from PyTorch f32 {max}");
            assert!(max <= atol, "{backend} {precision}: {max} > {atol}");
            assert!(
                max > 1e-6,
                "{backend} {precision}: no difference from f32 at all"
            );
        }
    }
}

/// The fixture's hidden states and both heads' logits on `gpu` against `cpu`, and the
/// GPU's hidden states against PyTorch's: the largest absolute difference of each.
fn compare(name: &str, cpu: &Device, gpu: &Device) -> [f32; 4] {
    let dir = fixture(name);
    let io = Io::read(&dir);
    let mut outputs = Vec::new();
    for device in [cpu, gpu] {
        let (pretrain, config) =
            HashformerForPretraining::from_pretrained(&dir, device).expect("fixture loads");
        let (classify, _) =
            HashformerForSequenceClassification::from_pretrained(&dir, None, device)
                .expect("fixture loads");
        let kind = config.variant.kind();
        outputs.push([
            to_vec(pretrain.roberta.forward(io.input(kind, device))),
            to_vec(pretrain.forward(io.input(kind, device))),
            to_vec(classify.forward(io.input(kind, device))),
        ]);
    }
    let want: Vec<f32> = io
        .tensor("last_hidden_state")
        .expect("stored output")
        .1
        .iter()
        .collect();
    [
        max_diff(&outputs[0][0], &outputs[1][0]),
        max_diff(&outputs[0][1], &outputs[1][1]),
        max_diff(&outputs[0][2], &outputs[1][2]),
        max_diff(&outputs[1][0], &want),
    ]
}

/// Training runs on the GPU backend too: three pre-training steps of a tiny HashFormer-Proj
/// (dropout off, so both backends compute the same function) give the CPU's losses, and the
/// data-parallel path works with two handles of the GPU device.
#[test]
fn gpu_pretraining_steps_match_cpu() {
    let _guard = CPU_RNG.lock().unwrap_or_else(|e| e.into_inner());
    use hashformer_corpus::{prepare, PrepareConfig};
    use hashformer_embeddings::Variant;
    use hashformer_hashing::HashKind;
    use hashformer_model::{HashformerConfig, TextEncoder};
    use hashformer_train::{
        pretrain, AdamWConfig, Decay, LrSchedule, Objective, PretrainConfig, RunOptions,
    };

    let dir = TempDir::new("wgpu-train");
    let text = "the cat sat on the mat . a dog ran in the park with a red ball .\n\n";
    std::fs::write(dir.join("c.txt"), text.repeat(64)).unwrap();
    let corpus = dir.join("prepared");
    let prep = PrepareConfig {
        max_words: 30,
        ..PrepareConfig::default()
    };
    prepare(&[dir.join("c.txt")], &corpus, &prep).unwrap();
    let model = HashformerConfig::tiny(Variant::Proj(HashKind::Md5))
        .with_hidden_dropout_prob(0.0)
        .with_attention_probs_dropout_prob(0.0);
    let config = PretrainConfig {
        model: model.clone(),
        objective: Objective::ShuffleRandom {
            manipulate_prob: 0.15,
        },
        max_length: 32,
        batch_size: 4,
        grad_accum: 2,
        steps: 3,
        schedule: LrSchedule {
            peak: 1e-3,
            warmup_steps: 0,
            total_steps: 3,
            decay: Decay::Constant,
        },
        optimizer: AdamWConfig::default(),
        seed: 1,
        log_every: 1,
        eval_every: 0,
        eval_batches: 1,
        checkpoint_every: 0,
        keep_checkpoints: 1,
        precision: Precision::F32,
    };
    let mut runs: Vec<(String, Vec<Device>)> = vec![("cpu".into(), vec![Device::flex()])];
    for (backend, gpu) in gpus() {
        runs.push((backend.into(), vec![gpu.clone()]));
        runs.push((format!("{backend}2"), vec![gpu.clone(), gpu]));
    }
    let mut losses = Vec::new();
    for (name, devices) in runs {
        let encoder = TextEncoder::new(&model, 32, None).unwrap();
        let out = dir.join(&name);
        pretrain(
            &config,
            &corpus,
            encoder,
            &out,
            &devices,
            &RunOptions::default(),
            &mut (),
        )
        .unwrap();
        let l: Vec<f64> = std::fs::read_to_string(out.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|r| r["split"] == "train")
            .map(|r| r["loss"].as_f64().unwrap())
            .collect();
        assert_eq!(l.len(), 3, "{name}");
        losses.push((name, l));
    }
    eprintln!("losses per run: {losses:?}");
    for (name, other) in &losses[1..] {
        // TF32 matmuls (CUDA) move a loss of about 1.1 by a few 1e-3 at most.
        let tolerance = if name.starts_with("cuda") { 1e-2 } else { 1e-3 };
        for (a, b) in losses[0].1.iter().zip(other) {
            assert!(
                (a - b).abs() < tolerance,
                "CPU {:?} vs {name} {other:?}",
                losses[0].1
            );
        }
    }
}

/// A successful WGPU run prints nothing about `XDG_RUNTIME_DIR` when the variable is unset
/// (it printed `error: XDG_RUNTIME_DIR is invalid or not set in the environment.` four times:
/// Mesa's device-selection layer asks libwayland for a compositor).
#[cfg(feature = "wgpu")]
#[test]
fn a_wgpu_run_without_a_runtime_directory_is_quiet() {
    let tmp = TempDir::new("xdg");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hashformer"))
        .args(["embed", "--backend", "wgpu", "--model"])
        .arg(fixture("proj-md5"))
        .arg("a short text")
        .env_remove("XDG_RUNTIME_DIR")
        .env("TMPDIR", tmp.path())
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("XDG_RUNTIME_DIR"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"vector\""));
}
