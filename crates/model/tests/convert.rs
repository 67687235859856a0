//! Checkpoint conversion (`hashformer convert`): ours → reference → ours is lossless for
//! every parity fixture; a reference-format checkpoint (no hashing fields, `architectures:
//! null`) written by the PyTorch parity implementation converts with its scheme and gives the
//! stored logits; missing schemes and pickled weights are refused clearly.

use std::fs;
use std::path::Path;

use burn::prelude::*;
use hashformer_model::{
    from_reference, load_config, to_reference, Error, HashformerForPretraining,
    HashformerForSequenceClassification, ReferenceScheme, CONFIG_FILE, WEIGHTS_FILE,
};
use hashformer_testkit::TempDir;
use serde_json::Value;

mod common;

use common::parity_io::{Io, FIXTURES};
use common::{assert_close, fixture};

/// The fields of our `config.json` that the reference's does not have.
const OUR_FIELDS: [&str; 5] = [
    "embedding_type",
    "hash_type",
    "num_buckets",
    "hash_key",
    "num_hash_bits",
];

fn scheme_of(name: &str) -> ReferenceScheme {
    match name.rsplit('-').next() {
        Some("md5") => ReferenceScheme::Md5,
        Some("lsh") => ReferenceScheme::Lsh,
        _ => ReferenceScheme::Bpe,
    }
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// A copy of fixture `name` as the official code's `to_dict()` writes it: no hashing fields
/// and `architectures: null`.
fn reference_copy(name: &str, dir: &Path) {
    let mut config = json(&fixture(name).join(CONFIG_FILE));
    let fields = config.as_object_mut().unwrap();
    for field in OUR_FIELDS {
        fields.remove(field);
    }
    fields.insert("architectures".into(), Value::Null);
    fields.insert("transformers_version".into(), "3.4.0".into());
    fs::write(dir.join(CONFIG_FILE), config.to_string()).unwrap();
    fs::copy(fixture(name).join(WEIGHTS_FILE), dir.join(WEIGHTS_FILE)).unwrap();
}

#[test]
fn ours_to_reference_to_ours_is_lossless() {
    for name in FIXTURES {
        let tmp = TempDir::new("convert-rt");
        let (reference, back) = (tmp.path().join("reference"), tmp.path().join("back"));
        let there =
            to_reference(&fixture(name), &reference).unwrap_or_else(|e| panic!("{name}: {e}"));
        let written = json(&reference.join(CONFIG_FILE));
        for field in OUR_FIELDS {
            assert!(written.get(field).is_none(), "{name}: {field} written");
        }
        assert!(there
            .notes
            .iter()
            .any(|n| n.contains("safetensors_to_bin.py")));
        let err = from_reference(&reference, &back, None).unwrap_err();
        assert!(matches!(err, Error::SchemeNeeded { .. }), "{name}: {err}");
        let again = from_reference(&reference, &back, Some(scheme_of(name)))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let original = fs::read(fixture(name).join(WEIGHTS_FILE)).unwrap();
        assert_eq!(
            fs::read(reference.join(WEIGHTS_FILE)).unwrap(),
            original,
            "{name}"
        );
        assert_eq!(
            fs::read(back.join(WEIGHTS_FILE)).unwrap(),
            original,
            "{name}"
        );
        assert_eq!(
            load_config(&back).unwrap(),
            load_config(&fixture(name)).unwrap(),
            "{name}"
        );
        assert_eq!(again.architectures, there.architectures, "{name}");
        assert_eq!(
            json(&back.join(CONFIG_FILE))["architectures"],
            json(&fixture(name).join(CONFIG_FILE))["architectures"],
            "{name}"
        );
    }
}

#[test]
fn a_reference_checkpoint_converts_and_matches_pytorch() {
    let device = Device::flex();
    for name in FIXTURES {
        let tmp = TempDir::new("convert-ref");
        let (reference, ours) = (tmp.path().join("reference"), tmp.path().join("ours"));
        fs::create_dir_all(&reference).unwrap();
        reference_copy(name, &reference);
        let converted = from_reference(&reference, &ours, Some(scheme_of(name)))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // `architectures: null`: the classes come from the heads in the weights.
        assert_eq!(
            converted.architectures,
            [
                HashformerForPretraining::ARCHITECTURE,
                HashformerForSequenceClassification::ARCHITECTURE
            ],
            "{name}"
        );
        assert_eq!(
            converted.config,
            load_config(&fixture(name)).unwrap(),
            "{name}"
        );
        let io = Io::read(&fixture(name));
        let kind = converted.config.variant.kind();
        let (pretrain, _) = HashformerForPretraining::from_pretrained(&ours, &device).unwrap();
        let logits = pretrain.forward(io.input(kind, &device));
        assert_close(
            name,
            "pretrain_logits",
            logits,
            io.floats("pretrain_logits", &device),
        );
        let (classify, _) =
            HashformerForSequenceClassification::from_pretrained(&ours, None, &device).unwrap();
        let cls = classify.forward(io.input(kind, &device));
        assert_close(name, "cls_logits", cls, io.floats("cls_logits", &device));
    }
}

#[test]
fn schemes_must_be_given_and_agree() {
    let tmp = TempDir::new("convert-scheme");
    let reference = tmp.path().join("reference");
    fs::create_dir_all(&reference).unwrap();
    reference_copy("pool-md5", &reference);
    let err = from_reference(&reference, &tmp.path().join("a"), None).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("does not record the hashing scheme"),
        "{message}"
    );
    assert!(message.contains(CONFIG_FILE), "{message}");
    // Our own files record it: a different one is an error, none is fine.
    let err = from_reference(
        &fixture("pool-md5"),
        &tmp.path().join("b"),
        Some(ReferenceScheme::Lsh),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Config { ref field, .. } if field == "hash_type"),
        "{err}"
    );
    from_reference(&fixture("pool-md5"), &tmp.path().join("c"), None).unwrap();
    // bpe names the baseline, a table: not a Pool model.
    let err = from_reference(
        &reference,
        &tmp.path().join("d"),
        Some(ReferenceScheme::Bpe),
    )
    .unwrap_err();
    assert!(err.to_string().contains("vocab_size"), "{err}");
}

#[test]
fn pickles_and_occupied_outputs_are_refused() {
    let tmp = TempDir::new("convert-bad");
    let bin = tmp.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    fs::copy(fixture("proj-md5").join(CONFIG_FILE), bin.join(CONFIG_FILE)).unwrap();
    fs::write(bin.join("pytorch_model.bin"), b"PK\x03\x04 not unpickled").unwrap();
    let err =
        from_reference(&bin, &tmp.path().join("out"), Some(ReferenceScheme::Md5)).unwrap_err();
    assert!(matches!(err, Error::PickledWeights { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("tools/convert/bin_to_safetensors.py"),
        "{message}"
    );
    assert!(message.contains("weights_only=True"), "{message}");
    assert!(!tmp.path().join("out").exists());

    let out = tmp.path().join("taken");
    to_reference(&fixture("proj-md5"), &out).unwrap();
    let err = to_reference(&fixture("proj-md5"), &out).unwrap_err();
    assert!(
        err.to_string().contains("already holds a checkpoint"),
        "{err}"
    );
    let err = to_reference(&fixture("bad/missing_key"), &tmp.path().join("m")).unwrap_err();
    assert!(err.to_string().contains("missing tensors"), "{err}");
    assert!(!tmp.path().join("m").exists());
}
