//! Parity with an independent PyTorch implementation of the method (`docs/method.md`, `tools/parity/`): tiny
//! models of all 8 HashFormer variants and the BPE baseline, loaded from the reference's
//! safetensors layout, must reproduce PyTorch's hidden states and head logits (eval mode).
//! Also: padding invariance, and the bad fixtures fail with the right errors.

use burn::prelude::*;
use hashformer_embeddings::{EmbeddingInput, TokenInput};
use hashformer_model::{
    load_config, load_weights, Error, HashformerForPretraining,
    HashformerForSequenceClassification, Precision,
};

mod common;

use common::parity_io::{Io, FIXTURES};
use common::{assert_close, fixture, max_diff};

/// Largest |difference| from PyTorch's `f32` outputs in `bf16` (8 significant bits).
const BF16_ATOL: f32 = 0.05;
/// Largest |difference| from PyTorch's `f32` outputs in `f16` (11 significant bits).
const F16_ATOL: f32 = 0.01;

#[test]
fn all_variants_match_pytorch() {
    let device = Device::flex();
    for name in FIXTURES {
        let dir = fixture(name);
        let io = Io::read(&dir);
        let config = load_config(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (pretrain, _) = HashformerForPretraining::from_pretrained(&dir, &device)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let (classify, _) =
            HashformerForSequenceClassification::from_pretrained(&dir, None, &device)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        let kind = config.variant.kind();

        let hidden = pretrain.roberta.forward(io.input(kind, &device));
        assert_close(
            name,
            "last_hidden_state",
            hidden,
            io.floats("last_hidden_state", &device),
        );
        let logits = pretrain.forward(io.input(kind, &device));
        assert_close(
            name,
            "pretrain_logits",
            logits,
            io.floats("pretrain_logits", &device),
        );
        let cls = classify.forward(io.input(kind, &device));
        assert_close(name, "cls_logits", cls, io.floats("cls_logits", &device));
    }
}

#[test]
fn padding_does_not_change_real_positions() {
    let device = Device::flex();
    for name in ["emb-md5", "pool-lsh", "add-md5", "proj-lsh"] {
        let dir = fixture(name);
        let io = Io::read(&dir);
        let (model, config) = HashformerForPretraining::from_pretrained(&dir, &device).unwrap();
        let kind = config.variant.kind();
        let batch = io.input(kind, &device);
        let mask: Vec<i64> = batch.attention_mask.clone().into_data().iter().collect();
        let seq_len = batch.attention_mask.dims()[1];
        // The second sentence is the padded one: run it alone at its own length.
        let real = mask[seq_len..].iter().filter(|&&m| m == 1).count();
        let cut = |x: EmbeddingInput| -> EmbeddingInput {
            let tokens = match x.tokens {
                TokenInput::Ids(ids) => TokenInput::Ids(ids.slice([1..2, 0..real])),
                TokenInput::Chunks { spec_ids, pool_ids } => TokenInput::Chunks {
                    spec_ids: spec_ids.slice([1..2, 0..real]),
                    pool_ids: pool_ids.slice([1..2, 0..real, 0..13]),
                },
                TokenInput::Bits {
                    spec_ids,
                    hash_bits,
                } => TokenInput::Bits {
                    spec_ids: spec_ids.slice([1..2, 0..real]),
                    hash_bits: hash_bits.slice([1..2, 0..real, 0..128]),
                },
            };
            EmbeddingInput {
                tokens,
                attention_mask: x.attention_mask.slice([1..2, 0..real]),
            }
        };
        let alone = model.roberta.forward(cut(io.input(kind, &device)));
        let padded = model.roberta.forward(batch);
        let width = padded.dims()[2];
        assert_close(
            name,
            "padded vs alone",
            padded.slice([1..2, 0..real, 0..width]),
            alone,
        );
    }
}

#[test]
fn bad_fixtures_fail_with_named_errors() {
    let device = Device::flex();
    let bad = fixture("bad");
    for (case, needle) in [("wrong_shape", "LayerNorm"), ("missing_key", "missing")] {
        let err = HashformerForPretraining::from_pretrained(&bad.join(case), &device).unwrap_err();
        assert!(matches!(err, Error::Tensor { .. }), "{case}: {err}");
        assert!(err.to_string().contains(needle), "{case}: {err}");
    }
    // A truncated file under a valid config.
    let dir = std::env::temp_dir().join(format!("hashformer-truncated-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        fixture("proj-md5").join("config.json"),
        dir.join("config.json"),
    )
    .unwrap();
    std::fs::copy(
        bad.join("truncated.safetensors"),
        dir.join("model.safetensors"),
    )
    .unwrap();
    let config = load_config(&dir).unwrap();
    let mut model = config.init_pretraining(&device);
    let err = load_weights(&mut model, &dir, &[]).unwrap_err();
    assert!(
        matches!(err, Error::Safetensors { .. } | Error::Tensor { .. }),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Mixed precision against the same PyTorch `f32` outputs: every variant, both heads, within
/// the tolerances `docs/backends.md` states per precision. A half-precision run that matched
/// `f32` to 1e-6 would not have run in half precision, so that fails too.
#[test]
fn half_precision_stays_within_its_tolerance() {
    let device = Device::flex();
    for (precision, tolerance) in [(Precision::Bf16, BF16_ATOL), (Precision::F16, F16_ATOL)] {
        let mut worst = 0.0f32;
        for name in FIXTURES {
            let dir = fixture(name);
            let io = Io::read(&dir);
            let (mut pretrain, config) = HashformerForPretraining::from_pretrained(&dir, &device)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let (mut classify, _) =
                HashformerForSequenceClassification::from_pretrained(&dir, None, &device)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            pretrain.roberta.precision = precision;
            classify.roberta.precision = precision;
            let kind = config.variant.kind();
            let hidden = pretrain.roberta.forward(io.input(kind, &device));
            assert_eq!(
                hidden.dtype(),
                burn::tensor::DType::F32,
                "{name}: output dtype"
            );
            let diffs = [
                max_diff(
                    name,
                    "hidden",
                    hidden,
                    io.floats("last_hidden_state", &device),
                ),
                max_diff(
                    name,
                    "pretrain_logits",
                    pretrain.forward(io.input(kind, &device)),
                    io.floats("pretrain_logits", &device),
                ),
                max_diff(
                    name,
                    "cls_logits",
                    classify.forward(io.input(kind, &device)),
                    io.floats("cls_logits", &device),
                ),
            ];
            eprintln!("{precision} {name}: max |diff| hidden, pretrain, cls = {diffs:?}");
            for diff in diffs {
                assert!(
                    diff <= tolerance,
                    "{precision} {name}: {diff} > {tolerance}"
                );
                worst = worst.max(diff);
            }
        }
        assert!(worst > 1e-6, "{precision}: no difference from f32 at all");
    }
}
