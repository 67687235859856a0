//! `hashformer convert`: both directions on a parity fixture, and its errors.

use std::path::{Path, PathBuf};
use std::process::Command;

use hashformer_testkit::TempDir;

fn fixture(name: &str) -> PathBuf {
    hashformer_testkit::manifest_dir!()
        .join("../model/tests/fixtures/parity")
        .join(name)
}

fn convert(args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hashformer"));
    let (code, _, stderr) = hashformer_testkit::capture(cmd.arg("convert").args(args), None);
    (code, stderr)
}

fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

#[test]
fn both_ways_on_a_fixture() {
    let tmp = TempDir::new("convert-cli");
    let (reference, back) = (tmp.path().join("ref"), tmp.path().join("back"));
    let proj = fixture("proj-lsh");
    let (code, err) = convert(&[s(&proj), "--out", s(&reference), "--to", "reference"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("safetensors_to_bin.py"), "{err}");
    let (code, err) = convert(&[s(&reference), "--out", s(&back), "--to", "ours"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--scheme"), "{err}");
    let (code, err) = convert(&[
        s(&reference),
        "--out",
        s(&back),
        "--to",
        "ours",
        "--scheme",
        "lsh",
    ]);
    assert_eq!(code, 0, "{err}");
    let weights = |dir: &Path| std::fs::read(dir.join("model.safetensors")).unwrap();
    assert_eq!(weights(&back), weights(&proj));
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(back.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["hash_type"], "lsh");
    assert_eq!(config["embedding_type"], "proj");
}

#[test]
fn errors_are_clear() {
    let tmp = TempDir::new("convert-cli-err");
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(
        fixture("proj-md5").join("config.json"),
        bin.join("config.json"),
    )
    .unwrap();
    std::fs::write(bin.join("pytorch_model.bin"), b"not read").unwrap();
    let out = tmp.path().join("out");
    let (code, err) = convert(&[s(&bin), "--out", s(&out), "--to", "ours", "--scheme", "md5"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bin_to_safetensors.py"), "{err}");
    let (code, err) = convert(&[
        s(&fixture("proj-md5")),
        "--out",
        s(&out),
        "--to",
        "reference",
        "--scheme",
        "md5",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--scheme is for --to ours"), "{err}");
    let (code, err) = convert(&[s(tmp.path()), "--out", s(&out), "--to", "ours"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a checkpoint directory"), "{err}");
}
