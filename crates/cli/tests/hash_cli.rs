//! `hashformer hash` end to end: the release-check contract on the reference's own sample.

use std::process::Command;

use hashformer_testkit::{capture, shared_data};
use serde_json::Value;

fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    capture(
        Command::new(env!("CARGO_BIN_EXE_hashformer")).args(args),
        Some(stdin),
    )
}

const SAMPLE: &str = include_str!("../../hashing/tests/golden/reference-sample.jsonl");

#[test]
fn reproduces_the_reference_sample() {
    let Some(data) = shared_data("") else { return };
    let bpe = data.join("roberta-base");
    let args = [
        "hash",
        "--lsh",
        "--bpe-dir",
        bpe.to_str().expect("UTF-8 path"),
        "--max-length",
        "128",
    ];
    let (code, stdout, stderr) = run(&args, SAMPLE);
    assert_eq!(code, 0, "{stderr}");
    let outputs: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let expected: Vec<Value> = SAMPLE
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(outputs.len(), expected.len());
    for (got, want) in outputs.iter().zip(&expected) {
        for field in ["tokens", "md5_hex", "md5_bucket", "lsh_hex", "lsh_bucket"] {
            assert_eq!(got[field], want[field], "{} {field}", want["id"]);
            if want.get("text_b").is_some_and(Value::is_string) {
                let field_b = format!("{field}_b");
                assert_eq!(got[&field_b], want[&field_b], "{} {field_b}", want["id"]);
            }
        }
        assert_eq!(
            got["input_ids"], want["encoded_128"]["input_ids"],
            "{}",
            want["id"]
        );
        assert_eq!(
            got["attention_mask"], want["encoded_128"]["attention_mask"],
            "{}",
            want["id"]
        );
        let pool = got["pool"].as_array().expect("pool");
        assert_eq!(pool.len(), got["tokens"].as_array().expect("tokens").len());
    }
}

#[test]
fn md5_only_output_has_no_lsh_fields() {
    let (code, stdout, _) = run(&["hash"], "{\"text\": \"Hello world!\"}\n\n");
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(v["tokens"], serde_json::json!(["hello", "world", "!"]));
    assert_eq!(v["md5_bucket"], serde_json::json!([46797, 25238, 41048]));
    assert_eq!(v["pool"][0][0], 120);
    assert!(
        v.get("lsh_hex").is_none() && v.get("input_ids").is_none() && v.get("tokens_b").is_none()
    );
}

#[test]
fn bad_input_names_the_line_and_exits_2() {
    let (code, stdout, stderr) = run(&["hash"], "{\"text\": \"ok\"}\nnot json\n");
    assert_eq!(code, 2);
    assert!(stderr.contains("stdin line 2"), "{stderr}");
    // The line before the bad one is not lost.
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("\"ok\""), "{stdout}");
    // A byte order mark (Windows editors write one) is not a bad first line.
    let (code, stdout, stderr) = run(&["hash"], "\u{feff}{\"text\": \"ok\"}\n");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 1);
    // Numbers out of range are refused with the range, not a panic or a 160 GB allocation.
    for bad in ["1e10", "18446744073709551615", "600"] {
        let (code, _, stderr) = run(&["hash", "--max-length", bad], "");
        assert_eq!(code, 2);
        assert!(stderr.contains("from 2 to 512"), "{bad}: {stderr}");
    }
    let (code, _, stderr) = run(&["hash", "--max-length", "3"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("max_length"), "{stderr}");
    let (code, _, stderr) = run(&["hash", "--lsh", "--bpe-dir", "/nonexistent"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent"), "{stderr}");
}
