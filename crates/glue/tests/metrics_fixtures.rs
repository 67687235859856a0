//! The metrics against sklearn and scipy values (`fixtures/metrics.json`, written by
//! `tools/glue_metrics/make_fixtures.py`).

use hashformer_glue::metrics::{accuracy, f1, matthews, pearson, spearman};
use serde_json::Value;

/// Sums of a few thousand products in a different order than numpy's pairwise sums differ by
/// a few ULPs; 1e-9 is far above that and far below any difference that matters.
const METRIC_ATOL: f64 = 1e-9;

const FIXTURES: &str = include_str!("fixtures/metrics.json");

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn classes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("class") as usize)
        .collect()
}

/// scipy's NaN (a constant input) is `null` in the fixture; the crate returns 0 there.
fn expected(case: &Value, key: &str) -> f64 {
    case[key].as_f64().unwrap_or(0.0)
}

fn check(name: &str, key: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= METRIC_ATOL,
        "{name}: {key} = {got}, sklearn/scipy say {want}"
    );
}

#[test]
fn metrics_match_sklearn_and_scipy() {
    let doc: Value = serde_json::from_str(FIXTURES).expect("valid JSON");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let (mut classification, mut regression, mut nan) = (0, 0, 0);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        match case["kind"].as_str() {
            Some("classification") => {
                classification += 1;
                let (p, g) = (classes(&case["predictions"]), classes(&case["gold"]));
                check(
                    name,
                    "accuracy",
                    accuracy(&p, &g).unwrap(),
                    expected(case, "accuracy"),
                );
                check(
                    name,
                    "mcc",
                    matthews(&p, &g).unwrap(),
                    expected(case, "mcc"),
                );
                if case.get("f1").is_some() {
                    check(name, "f1", f1(&p, &g).unwrap(), expected(case, "f1"));
                }
            }
            Some("regression") => {
                regression += 1;
                let (p, g) = (floats(&case["predictions"]), floats(&case["gold"]));
                nan += usize::from(case["pearson"].is_null());
                check(
                    name,
                    "pearson",
                    pearson(&p, &g).unwrap(),
                    expected(case, "pearson"),
                );
                check(
                    name,
                    "spearman",
                    spearman(&p, &g).unwrap(),
                    expected(case, "spearman"),
                );
            }
            other => panic!("{name}: unknown kind {other:?}"),
        }
    }
    assert!(classification >= 40 && regression >= 20 && nan >= 3);
}
