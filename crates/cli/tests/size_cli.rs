//! `hashformer size`: the parameter breakdown as JSON and as a table, and its errors.

use std::process::Command;

use hashformer_testkit::capture;
use serde_json::Value;

fn size(args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hashformer"));
    capture(cmd.arg("size").args(args), None)
}

#[test]
fn base_sizes_as_json() {
    for (variant, token, special) in [
        ("proj", 98_304, 4_608),
        ("add", 196_608, 4_608),
        ("pool", 797_184, 4_608),
        ("emb", 38_603_520, 0),
    ] {
        let (code, out, err) = size(&["--variant", variant, "--json"]);
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&out).expect("JSON");
        assert_eq!(v["embeddings"]["token"], token, "{variant}");
        assert_eq!(v["embeddings"]["special"], special, "{variant}");
        assert_eq!(v["encoder"], 85_054_464, "{variant}");
        assert_eq!(v["vocabulary_baseline_token_table"], 38_603_520);
    }
}

#[test]
fn table_and_errors() {
    let (code, out, _) = size(&["--variant", "proj", "--hidden", "256", "--layers", "4"]);
    assert_eq!(code, 0);
    assert!(out.contains("32,768"), "{out}");
    let (code, _, err) = size(&["--variant", "add", "--hidden", "100", "--heads", "3"]);
    assert_eq!(code, 2);
    assert!(err.contains("num_attention_heads"), "{err}");
    let (code, _, err) = size(&["--variant", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("nope"), "{err}");
}

/// The top-level help is current: it names every command and the workflow, and nothing in it
/// is promised for "later" (it once said "hash text, and (later) classify, embed, …").
#[test]
fn top_level_help_lists_every_command_and_the_workflow() {
    let out = Command::new(env!("CARGO_BIN_EXE_hashformer"))
        .arg("--help")
        .output()
        .expect("the binary runs");
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).expect("UTF-8");
    for command in [
        "pretrain",
        "glue",
        "classify",
        "embed",
        "evaluate",
        "glue-merge",
        "glue-compare",
        "pretrain-compare",
        "hash",
        "size",
        "collisions",
        "bench",
        "bench-report",
        "bench-step",
    ] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{command} "))),
            "{command} missing from:\n{help}"
        );
    }
    assert!(!help.contains("later"), "{help}");
    for needle in [
        "hashformer pretrain",
        "HASHFORMER_DATA",
        "cargo xtask data fetch",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
}
