//! Golden-vector tests: every hashing output against values computed by the official
//! reference code (`golden/reference-sample.jsonl`) and by our independent Python
//! implementation of the method, `docs/method.md` (`golden/{glue,wiki,unicode}.jsonl`, see
//! `golden/README.md`).

mod common;

use std::collections::BTreeMap;

use hashformer_hashing::{
    pre_tokenize, CachedHasher, LshHasher, Md5Hasher, SequenceEncoder, TextInput, TokenHasher,
};
use serde_json::Value;

/// Mismatch counts per field, with the first few examples.
#[derive(Default)]
struct Report {
    checked: BTreeMap<String, usize>,
    failures: Vec<String>,
}

impl Report {
    fn check<T: PartialEq + std::fmt::Debug>(&mut self, field: &str, id: &str, got: T, want: T) {
        *self.checked.entry(field.to_owned()).or_default() += 1;
        if got != want {
            self.failures
                .push(format!("{id} {field}: got {got:?}, want {want:?}"));
        }
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().expect("string").to_owned())
        .collect()
}

fn ints(v: &Value) -> Vec<Option<u64>> {
    v.as_array()
        .expect("array")
        .iter()
        .map(Value::as_u64)
        .collect()
}

fn check_text(
    report: &mut Report,
    rec: &Value,
    suffix: &str,
    md5: &Md5Hasher,
    lsh: Option<&CachedHasher<LshHasher>>,
) {
    let id = rec["id"].as_str().unwrap_or("?");
    let text = rec[format!("text{suffix}")].as_str().expect("text");
    let tokens = pre_tokenize(text);
    report.check(
        &format!("tokens{suffix}"),
        id,
        &tokens,
        &strings(&rec[format!("tokens{suffix}")]),
    );
    let sigs: Vec<_> = tokens.iter().map(|t| md5.signature(t)).collect();
    let hex: Vec<String> = sigs.iter().map(|s| s.to_hex()).collect();
    report.check(
        &format!("md5_hex{suffix}"),
        id,
        hex,
        strings(&rec[format!("md5_hex{suffix}")]),
    );
    let buckets: Vec<Option<u64>> = tokens
        .iter()
        .map(|t| Some(u64::from(md5.bucket(t))))
        .collect();
    report.check(
        &format!("md5_bucket{suffix}"),
        id,
        buckets,
        ints(&rec[format!("md5_bucket{suffix}")]),
    );
    if let Some(pool) = rec.get(format!("pool{suffix}")) {
        let want: Vec<Vec<u64>> = pool
            .as_array()
            .expect("pool")
            .iter()
            .map(|row| {
                row.as_array()
                    .expect("row")
                    .iter()
                    .map(|x| x.as_u64().expect("int"))
                    .collect()
            })
            .collect();
        let got: Vec<Vec<u64>> = sigs
            .iter()
            .map(|s| s.pool_indices().iter().map(|&i| u64::from(i)).collect())
            .collect();
        report.check(&format!("pool{suffix}"), id, got, want);
    }
    let Some(lsh) = lsh else { return };
    let want_hex = rec[format!("lsh_hex{suffix}")].as_array().expect("lsh_hex");
    let want_bucket = ints(&rec[format!("lsh_bucket{suffix}")]);
    for (k, token) in tokens.iter().enumerate() {
        // `null` marks words above the exact-parity cap.
        if let Some(h) = want_hex[k].as_str() {
            report.check(
                &format!("lsh_hex{suffix}"),
                id,
                lsh.signature(token).unwrap().to_hex(),
                h.to_owned(),
            );
        }
        if let Some(b) = want_bucket[k] {
            report.check(
                &format!("lsh_bucket{suffix}"),
                id,
                u64::from(lsh.bucket(token).unwrap()),
                b,
            );
        }
    }
}

fn check_encoded(report: &mut Report, rec: &Value, md5: &Md5Hasher) {
    let id = rec["id"].as_str().unwrap_or("?");
    let input = TextInput {
        text: rec["text"].as_str().expect("text"),
        text_b: rec.get("text_b").and_then(Value::as_str),
    };
    for (key, value) in rec.as_object().expect("object") {
        let Some(len) = key.strip_prefix("encoded_") else {
            continue;
        };
        let len: usize = len.parse().expect("encoded_<N>");
        let seq = SequenceEncoder::new(md5, len)
            .unwrap()
            .encode_ids(input)
            .unwrap();
        let want = |k: &str| -> Vec<u64> {
            value[k]
                .as_array()
                .expect(k)
                .iter()
                .map(|x| x.as_u64().expect("int"))
                .collect()
        };
        report.check(
            &format!("{key}.input_ids"),
            id,
            seq.input_ids.iter().map(|&x| u64::from(x)).collect(),
            want("input_ids"),
        );
        report.check(
            &format!("{key}.attention_mask"),
            id,
            seq.attention_mask.iter().map(|&x| u64::from(x)).collect(),
            want("attention_mask"),
        );
        if value.get("position_ids").is_some() {
            report.check(
                &format!("{key}.position_ids"),
                id,
                seq.position_ids.iter().map(|&x| u64::from(x)).collect(),
                want("position_ids"),
            );
        }
    }
}

fn run_file(name: &str) -> Report {
    let md5 = Md5Hasher::default();
    let lsh = common::roberta_bpe().map(|bpe| CachedHasher::new(LshHasher::new(bpe)));
    let mut report = Report::default();
    for rec in common::golden_lines(name) {
        check_text(&mut report, &rec, "", &md5, lsh.as_ref());
        if rec.get("text_b").is_some_and(Value::is_string) {
            check_text(&mut report, &rec, "_b", &md5, lsh.as_ref());
        }
        check_encoded(&mut report, &rec, &md5);
    }
    eprintln!("{name}: checked {:?}", report.checked);
    report
}

fn assert_all_equal(name: &str) {
    let report = run_file(name);
    assert!(
        report.checked.get("tokens").copied().unwrap_or(0) > 0,
        "{name}: nothing checked"
    );
    assert!(
        report.failures.is_empty(),
        "{name}: {} mismatches:\n{}",
        report.failures.len(),
        report
            .failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn reference_sample_matches_the_official_code() {
    assert_all_equal("reference-sample.jsonl");
}

#[test]
fn glue_dev_sentences_match_the_python_implementation() {
    assert_all_equal("glue.jsonl");
}

#[test]
fn wikipedia_lines_match_the_python_implementation() {
    assert_all_equal("wiki.jsonl");
}

#[test]
fn unicode_edge_cases_match_the_python_implementation() {
    assert_all_equal("unicode.jsonl");
}

/// `vocab.json` + `merges.txt` and `tokenizer.json` are two ways to load the same BPE: they
/// must give the same LSH features for every word of the fixtures.
#[test]
fn bpe_files_and_tokenizer_json_agree() {
    let Some(dir) = hashformer_testkit::shared_data("roberta-base").map(|d| d.join("roberta-base"))
    else {
        return;
    };
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("roberta-base file");
    let from_json =
        hashformer_hashing::RobertaBpe::from_tokenizer_json(&read("tokenizer.json")).unwrap();
    let from_files = hashformer_hashing::RobertaBpe::from_vocab_and_merges(
        &read("vocab.json"),
        &read("merges.txt"),
    )
    .unwrap();
    let mut words = std::collections::BTreeSet::new();
    for name in ["glue.jsonl", "unicode.jsonl"] {
        for rec in common::golden_lines(name) {
            for field in ["tokens", "tokens_b"] {
                if let Some(tokens) = rec.get(field).and_then(Value::as_array) {
                    words.extend(tokens.iter().filter_map(Value::as_str).map(str::to_owned));
                }
            }
        }
    }
    assert!(words.len() > 1000);
    for w in &words {
        let a = hashformer_hashing::features(&from_json, w).unwrap();
        let b = hashformer_hashing::features(&from_files, w).unwrap();
        assert_eq!(a, b, "{w:?}");
    }
}
