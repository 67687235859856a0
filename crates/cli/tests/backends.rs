//! The same model on another backend computes the same thing: every parity fixture (all 8
//! variants and the BPE baseline) is loaded on the CPU (Flex) and on the GPU backend this
//! binary was built with, and their outputs must agree. Built with `--features wgpu`, it runs
//! on any Vulkan device, Mesa's software rasteriser (lavapipe) included, which is how CI runs it
//! without a GPU. Without a GPU feature there is nothing to compare and no test is compiled.
#![cfg(feature = "wgpu")]

#[path = "../../model/tests/common/parity_io.rs"]
mod parity_io;

use std::path::PathBuf;

use burn::prelude::*;
use hashformer_model::{HashformerForPretraining, HashformerForSequenceClassification};
use parity_io::{Io, FIXTURES};

/// GPU kernels accumulate in other orders than the CPU (and lavapipe may use FMA): allow
/// some f32 rounding, far below what a wrong kernel produces.
const ATOL: f32 = 2e-4;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
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

#[test]
fn wgpu_matches_cpu_for_every_variant() {
    let cpu = Device::flex();
    let gpu = Device::wgpu(DeviceKind::DefaultDevice);
    for name in FIXTURES {
        let dir = fixture(name);
        let io = Io::read(&dir);
        let mut outputs = Vec::new();
        for device in [&cpu, &gpu] {
            let (pretrain, config) =
                HashformerForPretraining::from_pretrained(&dir, device).expect("fixture loads");
            let (classify, _) =
                HashformerForSequenceClassification::from_pretrained(&dir, None, device)
                    .expect("fixture loads");
            let kind = config.embedding_type;
            outputs.push([
                to_vec(pretrain.roberta.forward(io.input(kind, device))),
                to_vec(pretrain.forward(io.input(kind, device))),
                to_vec(classify.forward(io.input(kind, device))),
            ]);
        }
        let mut diffs = Vec::new();
        for (what, (c, g)) in ["hidden", "pretrain logits", "cls logits"]
            .iter()
            .zip(outputs[0].iter().zip(&outputs[1]))
        {
            let d = max_diff(c, g);
            assert!(d <= ATOL, "{name} {what}: wgpu vs cpu max |diff| {d}");
            diffs.push(format!("{what} {d:.1e}"));
        }
        // And the GPU matches PyTorch too.
        let want: Vec<f32> = io
            .tensor("last_hidden_state")
            .expect("stored output")
            .1
            .iter()
            .collect();
        let d = max_diff(&outputs[1][0], &want);
        assert!(d <= ATOL, "{name}: wgpu vs PyTorch max |diff| {d}");
        eprintln!(
            "{name}: wgpu vs cpu max |diff|: {}; hidden vs PyTorch {d:.1e}",
            diffs.join(", ")
        );
    }
}
