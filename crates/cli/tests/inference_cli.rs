//! `hashformer classify`, `embed` and `collisions` end to end: a tiny model fine-tuned on WNLI
//! by `hashformer glue` labels texts with WNLI's label names, vectors have the model's width,
//! collision counts are exact on a small corpus, and bad model directories give clear errors.

use std::path::Path;
use std::process::Command;

use hashformer_testkit::{capture, shared_data, TempDir};
use serde_json::Value;

/// Runs the binary; returns (exit code, stdout, stderr).
fn hashformer(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hashformer"));
    if let Some(cache) = hashformer_testkit::cache_beside_out(args) {
        cmd.env(hashformer_testkit::CACHE_VAR, cache);
    }
    capture(cmd.args(args), stdin)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn classify_and_embed_with_a_fine_tuned_model() {
    let Some(data) = shared_data("glue") else {
        return;
    };
    let out = TempDir::new("infer-glue");
    let (code, _, err) = hashformer(
        &[
            "glue",
            "--scratch",
            "--config",
            "tiny",
            "--tasks",
            "wnli",
            "--seeds",
            "1",
            "--epochs",
            "1",
            "--max-length",
            "64",
            "--quiet",
            "--glue",
            path(&data.join("glue")),
            "--out",
            path(&out),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let best = out.join("WNLI/seed-0/best");
    let model = path(&best);

    // Texts as arguments, pairs split at the tab: one line each, a WNLI label and its score.
    let (code, stdout, err) = hashformer(
        &[
            "classify",
            "--model",
            model,
            "--pairs",
            "The cat sat.\tA cat sat.",
            "No tab here",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    for (line, text) in lines
        .iter()
        .zip(["The cat sat.\tA cat sat.", "No tab here"])
    {
        let (label, rest) = line.split_once('\t').unwrap();
        let (score, echoed) = rest.split_once('\t').unwrap();
        assert!(["entailment", "not_entailment"].contains(&label), "{line}");
        let score: f32 = score.parse().unwrap();
        assert!((0.5..=1.0).contains(&score), "{line}");
        assert_eq!(echoed, text);
    }

    // Stdin lines and JSON: probabilities of both labels summing to 1; batching changes nothing.
    let input = "first line\n\nsecond, longer line of text\nthird\n";
    let run = |batch: &str| {
        let (code, stdout, err) = hashformer(
            &[
                "classify",
                "--model",
                model,
                "--json",
                "--batch-size",
                batch,
            ],
            Some(input),
        );
        assert_eq!(code, 0, "{err}");
        stdout
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    let (one, many) = (run("1"), run("8"));
    assert_eq!(one.len(), 3, "empty lines are skipped");
    for (a, b) in one.iter().zip(&many) {
        assert_eq!(a["text"], b["text"]);
        assert_eq!(a["label"], b["label"]);
        let scores = a["scores"].as_object().unwrap();
        let sum: f64 = scores.values().map(|v| v.as_f64().unwrap()).sum();
        assert!((sum - 1.0).abs() < 1e-5, "{a}");
        assert!(scores.contains_key("entailment") && scores.contains_key("not_entailment"));
        let (x, y) = (a["score"].as_f64().unwrap(), b["score"].as_f64().unwrap());
        assert!((x - y).abs() < 1e-5, "{a} vs {b}");
    }

    // Sentence vectors: the tiny model's width, unit length with --normalize.
    let (code, stdout, err) = hashformer(
        &[
            "embed",
            "--model",
            model,
            "--normalize",
            "hello world",
            "hi",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let vectors: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(vectors.len(), 2);
    let v: Vec<f64> = vectors[0]["vector"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(v.len(), 32);
    assert!((v.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-4);
    assert_ne!(vectors[0]["vector"], vectors[1]["vector"]);

    // --precision bf16: nearly the same unit vector (docs/backends.md's tolerance), not the
    // same bits; an unknown precision is refused with the choices.
    let (code, stdout, err) = hashformer(
        &[
            "embed",
            "--model",
            model,
            "--normalize",
            "--precision",
            "bf16",
            "hello world",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let half: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    let half: Vec<f64> = half["vector"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let worst = v
        .iter()
        .zip(&half)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst > 0.0 && worst < 0.05, "bf16 vs f32: {worst}");
    let (code, _, err) = hashformer(
        &["embed", "--model", model, "--precision", "fp8", "x"],
        None,
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("f32") && err.contains("bf16") && err.contains("f16"),
        "{err}"
    );

    // A pre-trained encoder (no classification head) cannot classify, but can embed.
    let run = out.join("pretrained");
    let (code, _, err) = hashformer(
        &[
            "pretrain",
            "--config",
            "tiny",
            "--steps",
            "1",
            "--batch-size",
            "2",
            "--max-train-sequences",
            "200",
            "--eval-batches",
            "1",
            "--quiet",
            "--corpus",
            path(&data.join("corpus/enwiki-2014-wikiextractor/AA.txt.gz")),
            "--out",
            path(&run),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let encoder = run.join("model");
    let (code, _, err) = hashformer(&["classify", "--model", path(&encoder), "x"], None);
    assert_eq!(code, 2);
    assert!(
        err.contains("without a trained classification head"),
        "{err}"
    );
    let (code, stdout, err) = hashformer(&["embed", "--model", path(&encoder), "x"], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(stdout.lines().count(), 1);
}

#[test]
fn bad_model_directories_are_explained() {
    let dir = TempDir::new("infer-bad");
    let missing = dir.join("nothing-here");
    let (code, _, err) = hashformer(&["classify", "--model", path(&missing), "x"], None);
    assert_eq!(code, 2);
    assert!(err.contains("no model directory at"), "{err}");

    let (code, _, err) = hashformer(&["embed", "--model", path(&dir), "x"], None);
    assert_eq!(code, 2);
    assert!(err.contains("has no config.json"), "{err}");
}

#[test]
fn collisions_count_exactly() {
    let dir = TempDir::new("infer-collisions");
    let corpus = dir.join("c.txt");
    // 4 distinct words: "a" ×3, "b" ×2, "c" ×1, "." ×1 → 7 occurrences.
    std::fs::write(&corpus, "A a b .\n\nb a c\n").unwrap();
    let (code, stdout, err) = hashformer(
        &[
            "collisions",
            "--corpus",
            path(&corpus),
            "--buckets",
            "1,1000000",
            "--json",
            "--quiet",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(r["tokens"], 7);
    assert_eq!(r["distinct_words"], 4);
    let one = &r["per_bucket_count"][0];
    assert_eq!(one["buckets"], 1);
    assert_eq!(one["used"], 1);
    assert_eq!(one["colliding_words"], 4);
    // Everything but the most frequent word ("a", 3 of 7) is shadowed.
    assert!((one["shadowed_token_share"].as_f64().unwrap() - 4.0 / 7.0).abs() < 1e-12);
    assert_eq!(one["top"][0]["words"][0][0], "a");
    assert_eq!(one["top"][0]["words"][1][0], "b");
    // A million buckets: four words almost surely land apart (MD5 is fixed, so this is exact).
    let wide = &r["per_bucket_count"][1];
    assert_eq!(wide["used"], 4);
    assert_eq!(wide["colliding_words"], 0);

    let (code, _, err) = hashformer(
        &["collisions", "--corpus", path(&corpus), "--buckets", "0"],
        None,
    );
    assert_eq!(code, 2);
    assert!(err.contains("must be positive"), "{err}");
}
