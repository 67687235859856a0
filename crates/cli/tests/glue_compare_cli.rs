//! `hashformer glue-compare`: two models over pre-training runs written as `hashformer glue`
//! leaves them, the table, JSON and chart it writes, and its refusals.

use std::path::{Path, PathBuf};
use std::process::Command;

use hashformer_testkit::TempDir;
use serde_json::{json, Value};

fn fixtures() -> PathBuf {
    hashformer_testkit::manifest_dir!().join("../model/tests/fixtures/parity")
}

/// A `hashformer glue` output directory with RTE and MRPC seed scores, and the fine-tuned
/// checkpoint's config.json (from the `fixture` parity model) under RTE seed 0.
fn glue_dir(root: &Path, name: &str, fixture: &str, rte: [f64; 3], mrpc: f64) -> PathBuf {
    let dir = root.join(name);
    let best = dir.join("RTE/seed-0/best");
    std::fs::create_dir_all(&best).unwrap();
    std::fs::copy(
        fixtures().join(fixture).join("config.json"),
        best.join("config.json"),
    )
    .unwrap();
    let seed = |task: &str, seed: u64, metrics: Value, score: f64| {
        json!({"seed": seed, "best_step": 10, "steps": 30, "seconds": 5.0,
               "metrics": {"task": task, "examples": 100, "metrics": metrics, "score": score}})
    };
    let rte_seed = |(s, &v): (usize, &f64)| seed("RTE", s as u64, json!({ "accuracy": v }), v);
    // MRPC reports accuracy and F1; its score is their mean.
    let mrpc_seed = seed("MRPC", 0, json!({"accuracy": mrpc, "f1": mrpc}), mrpc);
    let results = json!({"seconds": 30.0, "tasks": [
        {"task": "RTE", "train_examples": 2490, "dev_examples": 277,
         "seeds": rte.iter().enumerate().map(rte_seed).collect::<Vec<_>>()},
        {"task": "MRPC", "train_examples": 3668, "dev_examples": 408,
         "seeds": [mrpc_seed]},
    ]});
    std::fs::write(dir.join("results.json"), results.to_string()).unwrap();
    dir
}

fn compare(args: &[String]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hashformer"));
    hashformer_testkit::capture(cmd.arg("glue-compare").args(args), None)
}

fn model(label: &str, dir: &Path) -> [String; 2] {
    ["--model".into(), format!("{label}={}", dir.display())]
}

#[test]
fn compares_two_models_over_runs_into_table_json_and_chart() {
    let tmp = TempDir::new("glue-compare");
    let p0 = glue_dir(tmp.path(), "proj-s0", "proj-md5", [0.50, 0.56, 0.54], 0.70);
    let p1 = glue_dir(tmp.path(), "proj-s1", "proj-md5", [0.60, 0.58, 0.40], 0.72);
    let b0 = glue_dir(tmp.path(), "bpe-s0", "vocab", [0.52, 0.52, 0.52], 0.74);
    let out = tmp.path().join("out");
    let mut args: Vec<String> = Vec::new();
    args.extend(model("Proj_MD5", &p0));
    args.extend(model("BPE", &b0));
    args.extend(model("Proj_MD5", &p1.join("results.json")));
    args.extend([
        "--baseline".into(),
        "BPE".into(),
        "--out".into(),
        out.display().to_string(),
    ]);
    let (code, stdout, stderr) = compare(&args);
    assert_eq!(code, 0, "{stderr}");
    // RTE medians: Proj 54 and 58, BPE 52; averages Proj 62 and 65, BPE 63.
    assert!(stdout.contains("| task | Proj_MD5 | BPE |"), "{stdout}");
    assert!(
        stdout.contains("| RTE | 56.00 (54.00 to 58.00) | 52.00 |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| − BPE | +0.50 (-1.00 to +2.00) | — |"),
        "{stdout}"
    );
    let md = std::fs::read_to_string(out.join("comparison.md")).unwrap();
    assert!(stdout.starts_with(&md), "{stdout}");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("comparison.json")).unwrap())
            .unwrap();
    assert_eq!(v["tasks"], json!(["RTE", "MRPC"]));
    let proj = &v["models"][0];
    assert_eq!(proj["average"]["n"], 2);
    // The parity fixtures (width 32): Proj's 128 × 32 projection and special-token rows, the
    // BPE baseline's 1005 × 32 vocabulary table.
    let params = |m: &Value| m["embedding_parameters"].as_u64().unwrap();
    assert!(
        params(proj) < 5_000 && params(&v["models"][1]) >= 1005 * 32,
        "{v}"
    );
    let png = std::fs::read(out.join("comparison.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}

#[test]
fn refuses_bad_labels_missing_files_and_unknown_baselines() {
    let tmp = TempDir::new("glue-compare-bad");
    let p0 = glue_dir(tmp.path(), "proj-s0", "proj-md5", [0.5, 0.5, 0.5], 0.7);
    let out = tmp.path().join("out").display().to_string();
    let (code, _, err) = compare(&[
        "--model".into(),
        p0.display().to_string(),
        "--out".into(),
        out.clone(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("expected LABEL=DIR"), "{err}");
    let missing = tmp.path().join("nowhere");
    let mut args = model("A", &missing).to_vec();
    args.extend(["--out".into(), out.clone()]);
    let (code, _, err) = compare(&args);
    assert_eq!(code, 2);
    assert!(
        err.contains("nowhere") && err.contains("results.json"),
        "{err}"
    );
    let mut args = model("A", &p0).to_vec();
    args.extend(["--baseline".into(), "BPE".into(), "--out".into(), out]);
    let (code, _, err) = compare(&args);
    assert_eq!(code, 2);
    assert!(err.contains("no model is labelled BPE"), "{err}");
}
