//! `hashformer bench` and `bench-report`: a quick tiny run gives one record per bench with the
//! shared schema, and the report merges it with PyTorch-style records into JSON, Markdown (with
//! the ratio against PyTorch on the same device) and PNG charts.

use std::process::Command;

use hashformer_testkit::TempDir;
use serde_json::{json, Value};

#[test]
fn a_quick_bench_reports_against_pytorch_records() {
    let dir = TempDir::new("bench");
    let ours = dir.join("ours.json");
    let out = Command::new(env!("CARGO_BIN_EXE_hashformer"))
        .args([
            "bench",
            "--configs",
            "tiny",
            "--variants",
            "proj,pool",
            "--quick",
            "--out",
        ])
        .arg(&ours)
        .env("HASHFORMER_DATA", dir.join("no-data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records: Value = serde_json::from_str(&std::fs::read_to_string(&ours).unwrap()).unwrap();
    let records = records["records"].as_array().unwrap().clone();
    // 2 variants × (forward, backward) + 2 × (inference at 1 and 32, train step); no hashing
    // without data.
    assert_eq!(records.len(), 4 + 6, "{records:?}");
    for r in &records {
        for key in [
            "implementation",
            "backend",
            "device",
            "config",
            "bench",
            "variant",
        ] {
            assert!(r[key].is_string(), "{key} in {r}");
        }
        assert_eq!(r["precision"], "f32", "{r}");
        let (s, t) = (
            r["seconds"].as_f64().unwrap(),
            r["tokens_per_s"].as_f64().unwrap(),
        );
        let tokens = r["batch_size"].as_f64().unwrap() * r["seq_len"].as_f64().unwrap();
        assert!(s > 0.0 && (t - tokens / s).abs() < 1e-6 * t, "{r}");
        assert_eq!(r["iterations"], 3);
    }
    let train = records
        .iter()
        .find(|r| r["bench"] == "train_step" && r["variant"] == "proj")
        .unwrap();

    // A PyTorch record at exactly twice our step time: the report shows 2.00×.
    let mut torch = train.clone();
    torch["implementation"] = json!("PyTorch 2.15.0 eager");
    torch["seconds"] = json!(train["seconds"].as_f64().unwrap() * 2.0);
    torch["tokens_per_s"] = json!(train["tokens_per_s"].as_f64().unwrap() / 2.0);
    let torch_file = dir.join("torch.json");
    std::fs::write(&torch_file, json!({ "records": [torch] }).to_string()).unwrap();
    let report = dir.join("report");
    let out = Command::new(env!("CARGO_BIN_EXE_hashformer"))
        .arg("bench-report")
        .args([&ours, &torch_file])
        .arg("--out")
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = std::fs::read_to_string(report.join("bench.md")).unwrap();
    assert!(md.contains("| proj | hashformers cpu |"), "{md}");
    assert!(md.contains(" 2.00× "), "{md}");
    let merged: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("bench.json")).unwrap()).unwrap();
    assert_eq!(
        merged["records"].as_array().unwrap().len(),
        records.len() + 1
    );
    assert!(
        md.contains("| batch 1 | vs PyTorch | batch 32 | vs PyTorch |"),
        "{md}"
    );

    // A second round in which PyTorch is as fast as we are: the ratio is the median of the
    // rounds' (1.5×), with their range, and each measurement is listed once.
    let mut torch_again = train.clone();
    torch_again["implementation"] = json!("PyTorch 2.15.0 eager");
    let torch_round2 = dir.join("torch2.json");
    std::fs::write(
        &torch_round2,
        json!({ "records": [torch_again] }).to_string(),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hashformer"))
        .arg("bench-report")
        .args([&ours, &torch_file, &ours, &torch_round2])
        .arg("--out")
        .arg(&report)
        .output()
        .unwrap();
    assert!(out.status.success());
    let md = std::fs::read_to_string(report.join("bench.md")).unwrap();
    assert!(md.contains(" 1.50× (1.00–2.00) "), "{md}");
    assert!(md.contains("Up to 2 rounds per measurement"), "{md}");
    assert_eq!(md.matches("| proj | hashformers cpu |").count(), 2, "{md}");
    for png in [
        "train_step.png",
        "inference_b32.png",
        "embedding_backward.png",
    ] {
        let bytes = std::fs::read(report.join(png)).unwrap();
        assert_eq!(&bytes[1..4], b"PNG", "{png}");
    }
}

#[test]
fn a_half_precision_bench_is_compared_with_pytorch_in_the_same_precision() {
    let dir = TempDir::new("bench-bf16");
    let ours = dir.join("ours.json");
    let out = Command::new(env!("CARGO_BIN_EXE_hashformer"))
        .args([
            "bench",
            "--configs",
            "tiny",
            "--benches",
            "embedding_forward,inference,train_step",
            "--variants",
            "proj",
            "--precision",
            "bf16",
            "--quick",
            "--out",
        ])
        .arg(&ours)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records: Value = serde_json::from_str(&std::fs::read_to_string(&ours).unwrap()).unwrap();
    let records = records["records"].as_array().unwrap().clone();
    assert_eq!(records.len(), 1 + 6, "{records:?}");
    for r in &records {
        // The embedding layer runs in f32 whatever the encoder computes in.
        let expected = if r["bench"] == "embedding_forward" {
            "f32"
        } else {
            "bf16"
        };
        assert_eq!(r["precision"], expected, "{r}");
    }
    let train = records
        .iter()
        .find(|r| r["bench"] == "train_step" && r["variant"] == "proj")
        .unwrap();

    // PyTorch in bf16 at half our speed, in f32 at our speed, and an f32 record written before
    // records had a precision: ours in bf16 is compared with the bf16 one only.
    let torch = |precision: Option<&str>, factor: f64| {
        let mut r = train.clone();
        r["implementation"] = json!("PyTorch 2.15.0 eager");
        r["seconds"] = json!(train["seconds"].as_f64().unwrap() * factor);
        r["tokens_per_s"] = json!(train["tokens_per_s"].as_f64().unwrap() / factor);
        match precision {
            Some(p) => r["precision"] = json!(p),
            None => drop(r.as_object_mut().unwrap().remove("precision")),
        }
        r
    };
    let torch_file = dir.join("torch.json");
    let theirs = [torch(Some("bf16"), 2.0), torch(None, 1.0)];
    std::fs::write(&torch_file, json!({ "records": theirs }).to_string()).unwrap();
    let report = dir.join("report");
    let out = Command::new(env!("CARGO_BIN_EXE_hashformer"))
        .arg("bench-report")
        .args([&ours, &torch_file])
        .arg("--out")
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = std::fs::read_to_string(report.join("bench.md")).unwrap();
    // The first such row is the training step's (the inference rows follow).
    let row = md
        .lines()
        .find(|l| l.starts_with("| proj | hashformers cpu bf16 |"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(row.contains(" 2.00× "), "{row}");
    assert!(md.contains("| proj | PyTorch cpu bf16 |"), "{md}");
    assert!(md.contains("| proj | PyTorch cpu |"), "{md}");
}
