//! `hashformer evaluate` end to end: metrics as JSON and as a table, its errors, and the real
//! SST-2 dev set.

use std::path::{Path, PathBuf};
use std::process::Command;

use hashformer_testkit::{shared_data, TempDir};
use serde_json::Value;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn evaluate(task: &str, gold: &Path, predictions: &Path, json: bool) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hashformer"));
    cmd.args(["evaluate", "--task", task, "--gold"])
        .arg(gold)
        .arg("--predictions")
        .arg(predictions);
    if json {
        cmd.arg("--json");
    }
    hashformer_testkit::capture(&mut cmd, None)
}

const MRPC_GOLD: &str = "\u{feff}Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n\
    1\t1\t2\t\"He said\tShe said\n\
    0\t3\t4\ta\tb\n\
    1\t5\t6\tc\td\n\
    0\t7\t8\te\tf";

#[test]
fn mrpc_metrics_as_json_and_table() {
    let dir = TempDir::new("evaluate-mrpc");
    let gold = write(&dir, "dev.tsv", MRPC_GOLD);
    // Rows out of order; index = 0-based gold row. tp 1, fp 1, fn 1, tn 1.
    let preds = write(&dir, "p.tsv", "index\tprediction\n3\t0\n0\t1\n2\t0\n1\t1\n");
    let (code, out, err) = evaluate("mrpc", &gold, &preds, true);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["task"], "MRPC");
    assert_eq!(v["examples"], 4);
    assert_eq!(v["metrics"]["accuracy"], 0.5);
    assert_eq!(v["metrics"]["f1"], 0.5);
    assert_eq!(v["score"], 0.5);

    let (code, out, _) = evaluate("MRPC", &gold, &preds, false);
    assert_eq!(code, 0);
    assert!(out.starts_with("MRPC (4 examples)"), "{out}");
    assert!(out.contains("f1        0.5000"), "{out}");
}

#[test]
fn stsb_and_mnli() {
    let dir = TempDir::new("evaluate-stsb");
    let gold = write(
        &dir,
        "dev.tsv",
        "index\tgenre\tsentence1\tsentence2\tscore\n0\tg\ta\tb\t1.0\n1\tg\tc\td\t2.5\n2\tg\te\tf\t4.0\n",
    );
    let preds = write(
        &dir,
        "p.tsv",
        "index\tprediction\n0\t-0.5\n1\t3.0\n2\t3.5\n",
    );
    let (code, out, err) = evaluate("sts-b", &gold, &preds, true);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(
        (v["metrics"]["spearman"].as_f64().unwrap() - 1.0).abs() < 1e-12,
        "{out}"
    );
    assert!(v["metrics"]["pearson"].as_f64().unwrap() < 1.0);

    let gold = write(
        &dir,
        "dev_matched.tsv",
        "index\tsentence1\tsentence2\tgold_label\n0\tp\th\tneutral\n1\tp\th\tcontradiction\n",
    );
    let preds = write(
        &dir,
        "m.tsv",
        "index\tprediction\n0\tneutral\n1\tentailment\n",
    );
    let (code, out, err) = evaluate("mnli", &gold, &preds, true);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["task"], "MNLI-m");
    assert_eq!(v["metrics"]["accuracy"], 0.5);
}

#[test]
fn errors_exit_non_zero_and_say_where() {
    let dir = TempDir::new("evaluate-errors");
    let gold = write(&dir, "dev.tsv", MRPC_GOLD);
    let cases = [
        (
            "mrpc",
            "index\tprediction\n0\t1\n1\t1\n2\t1\n",
            "no prediction for 1 gold example(s), the first with index 3",
        ),
        (
            "mrpc",
            "index\tprediction\n0\t1\n1\t1\n2\t1\n3\t1\n4\t1\n",
            "1 prediction(s) with an index not in the gold data, the first 4",
        ),
        (
            "mrpc",
            "index\tprediction\n0\t1\n0\t1\n",
            "p.tsv line 3: index 0 already on line 2",
        ),
        (
            "mrpc",
            "index\tprediction\n0\t1\n1\tsimilar\n",
            "p.tsv line 3, field \"prediction\": expected 0 or 1 (or not_equivalent or \
             equivalent), got \"similar\"",
        ),
        (
            "rte",
            "index\tprediction\n0\tentailment\n",
            "dev.tsv: no column \"sentence1\" in the header",
        ),
        ("ax", "index\tprediction\n", "AX has no Dev split"),
        ("glue", "index\tprediction\n", "unknown GLUE task \"glue\""),
    ];
    for (task, preds, message) in cases {
        let p = write(&dir, "p.tsv", preds);
        let (code, out, err) = evaluate(task, &gold, &p, true);
        assert_eq!(code, 2, "{task} {preds:?}: {out}");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains(message), "{task} {preds:?}: {err}");
    }
    let (code, _, err) = evaluate("mrpc", &dir.join("absent.tsv"), &gold, false);
    assert_eq!(code, 2);
    assert!(
        err.contains("reading the gold labels") && err.contains("absent.tsv"),
        "{err}"
    );
}

#[test]
fn real_sst2_dev_all_positive() {
    let Some(data) = shared_data("glue") else {
        return;
    };
    let gold = data.join("glue/SST-2/dev.tsv");
    let text = std::fs::read_to_string(&gold).unwrap();
    let labels: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.rsplit('\t').next().unwrap())
        .collect();
    assert_eq!(labels.len(), 872);
    let positive = labels.iter().filter(|&&l| l == "1").count();

    let dir = TempDir::new("evaluate-sst2");
    let mut preds = String::from("index\tprediction\n");
    for i in 0..labels.len() {
        preds.push_str(&format!("{i}\t1\n"));
    }
    let preds = write(&dir, "all_positive.tsv", &preds);
    let (code, out, err) = evaluate("sst2", &gold, &preds, true);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["examples"], 872);
    let accuracy = v["metrics"]["accuracy"].as_f64().unwrap();
    assert_eq!(accuracy, positive as f64 / 872.0);
    assert_eq!(positive, 444); // GLUE SST-2 dev: 444 positive, 428 negative
}
