//! `hashformer pretrain-compare` end to end on hand-written metrics logs: the ranked table,
//! JSON and chart, the step chosen, and the errors a user meets.

use std::path::Path;
use std::process::Command;

use hashformer_testkit::{capture, TempDir};
use serde_json::Value;

fn compare(args: &[String]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hashformer"));
    capture(cmd.arg("pretrain-compare").args(args), None)
}

/// A run directory whose metrics log has a training record and held-out evaluations
/// `(step, loss, accuracy)`.
fn run_dir(root: &Path, name: &str, evaluations: &[(u64, f64, f64)]) -> String {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut log = String::from("{\"split\":\"train\",\"step\":10,\"loss\":0.9,\"accuracy\":0.6}\n");
    for (step, loss, accuracy) in evaluations {
        log.push_str(&format!(
            "{{\"split\":\"valid\",\"step\":{step},\"loss\":{loss},\"accuracy\":{accuracy},\
             \"acc_original\":0.99,\"acc_shuffled\":0.02,\"acc_random\":0.7,\
             \"majority_rate\":0.8,\"prior_loss\":0.61,\"positions\":5000}}\n"
        ));
    }
    std::fs::write(dir.join("metrics.jsonl"), log).unwrap();
    dir.display().to_string()
}

fn args(runs: &[(&str, &str)], extra: &[&str], out: &Path) -> Vec<String> {
    let mut args: Vec<String> = runs
        .iter()
        .flat_map(|(label, dir)| ["--run".to_owned(), format!("{label}={dir}")])
        .collect();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args.extend(["--out".to_owned(), out.display().to_string()]);
    args
}

#[test]
fn ranks_runs_at_the_last_shared_step_and_writes_table_json_and_chart() {
    let tmp = TempDir::new("pretrain-compare");
    let proj = run_dir(
        &tmp,
        "proj",
        &[(500, 0.5, 0.85), (1000, 0.45, 0.86), (1500, 0.4, 0.88)],
    );
    let emb = run_dir(&tmp, "emb", &[(500, 0.55, 0.84), (1000, 0.42, 0.87)]);
    let out = tmp.join("out");
    let (code, stdout, stderr) = compare(&args(&[("Proj", &proj), ("Emb", &emb)], &[], &out));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("at step 1,000"), "{stdout}");
    let md = std::fs::read_to_string(out.join("comparison.md")).unwrap();
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| 1 ") || l.starts_with("| 2 "))
        .collect();
    assert!(
        rows[0].starts_with("| 1 | Emb | 0.420 (0.610) | 87.00 % (80.00 %) | +7.00 |"),
        "{md}"
    );
    assert!(rows[1].starts_with("| 2 | Proj | 0.450"), "{md}");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("comparison.json")).unwrap())
            .unwrap();
    assert_eq!(json["step"], 1000);
    assert_eq!(json["runs"][0]["label"], "Emb");
    assert!(std::fs::metadata(out.join("comparison.png")).unwrap().len() > 1000);

    // An explicit step re-ranks them; a run directory may also be given as its log.
    let log = format!("{proj}/metrics.jsonl");
    let (code, stdout, stderr) = compare(&args(
        &[("Proj", &log), ("Emb", &emb)],
        &["--at", "500"],
        &out,
    ));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("| 1 | Proj | 0.500"), "{stdout}");
}

#[test]
fn errors_name_the_run_the_file_or_the_step() {
    let tmp = TempDir::new("pretrain-compare-errors");
    let a = run_dir(&tmp, "a", &[(500, 0.5, 0.85)]);
    let b = run_dir(&tmp, "b", &[(1000, 0.4, 0.88)]);
    let out = tmp.join("out");
    let (code, _, stderr) = compare(&args(&[("A", &a), ("B", &b)], &[], &out));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no step has a held-out evaluation of every run (A, B)"),
        "{stderr}"
    );
    let (code, _, stderr) = compare(&args(&[("A", &a), ("B", &b)], &["--at", "1000"], &out));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("A has no held-out evaluation at step 1,000 (its last: 500)"),
        "{stderr}"
    );
    let missing = tmp.join("missing").display().to_string();
    let (code, _, stderr) = compare(&args(&[("A", &a), ("M", &missing)], &[], &out));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("reading run M") && stderr.contains("missing/metrics.jsonl"),
        "{stderr}"
    );
    let (code, _, stderr) = compare(&[
        "--run".into(),
        "no-label".into(),
        "--out".into(),
        "x".into(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("expected LABEL=DIR"), "{stderr}");
    assert!(
        !out.exists(),
        "nothing is written when the comparison fails"
    );
}
