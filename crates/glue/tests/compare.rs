//! Comparing models across pre-training runs: shared tasks, means and ranges, differences
//! from a baseline (paired or over all pairs), the Markdown table and the refusals.

use std::collections::BTreeMap;

use hashformer_glue::{
    compare, comparison_markdown, ComparedModel, Error, GlueResults, TaskResult,
};

/// A result set with the given task scores (fractions, as `hashformer glue` stores them).
fn run(scores: &[(&'static str, f64)]) -> GlueResults {
    let tasks: Vec<TaskResult> = scores
        .iter()
        .map(|&(task, score)| TaskResult {
            task,
            train_examples: 10,
            dev_examples: 5,
            seeds: Vec::new(),
            median: BTreeMap::new(),
            median_score: score,
        })
        .collect();
    GlueResults {
        average: None,
        missing: Vec::new(),
        seconds: 1.0,
        tasks,
    }
}

fn model(label: &str, params: Option<usize>, runs: Vec<GlueResults>) -> ComparedModel {
    ComparedModel {
        label: label.into(),
        embedding_parameters: params,
        runs,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn compares_shared_tasks_with_ranges_and_paired_differences() {
    let proj = model(
        "Proj_MD5",
        Some(34_304),
        vec![
            run(&[("RTE", 0.55), ("MRPC", 0.70), ("SST-2", 0.80)]),
            run(&[("RTE", 0.57), ("MRPC", 0.74)]),
        ],
    );
    let bpe = model(
        "BPE",
        Some(12_869_376),
        vec![
            run(&[("RTE", 0.54), ("MRPC", 0.72)]),
            run(&[("RTE", 0.58), ("MRPC", 0.72)]),
        ],
    );
    let c = compare(&[proj, bpe], Some("BPE")).unwrap();
    assert_eq!(c.tasks, ["RTE", "MRPC"]);
    assert_eq!(c.left_out, ["SST-2"]);
    let p = &c.models[0];
    assert!(close(p.tasks[0].mean, 56.0) && close(p.tasks[0].min, 55.0));
    assert!(close(p.tasks[0].max, 57.0) && p.tasks[0].n == 2);
    // Averages: Proj 62.5 and 65.5, BPE 63 and 65: paired differences -0.5 and +0.5.
    assert!(close(p.average.mean, 64.0));
    let d = p.versus_baseline.unwrap();
    assert!(close(d.mean, 0.0) && close(d.min, -0.5) && close(d.max, 0.5) && d.n == 2);
    assert!(c.models[1].versus_baseline.is_none());
    let md = comparison_markdown(&c);
    assert!(
        md.starts_with("| task | Proj_MD5 | BPE |\n|---|---:|---:|\n"),
        "{md}"
    );
    assert!(
        md.contains("| RTE | 56.00 (55.00 to 57.00) | 56.00 (54.00 to 58.00) |"),
        "{md}"
    );
    assert!(
        md.contains("| − BPE | +0.00 (-0.50 to +0.50) | — |"),
        "{md}"
    );
    assert!(
        md.contains("| token-embedding parameters | 34,304 | 12,869,376 |"),
        "{md}"
    );
    assert!(md.contains("Left out (not in every run): SST-2."), "{md}");
}

#[test]
fn unequal_run_counts_take_every_pair() {
    let a = model("A", None, vec![run(&[("RTE", 0.60)])]);
    let b = model(
        "B",
        None,
        vec![run(&[("RTE", 0.50)]), run(&[("RTE", 0.54)])],
    );
    let c = compare(&[a, b], Some("B")).unwrap();
    let d = c.models[0].versus_baseline.unwrap();
    assert!(close(d.min, 6.0) && close(d.max, 10.0) && close(d.mean, 8.0) && d.n == 2);
    let md = comparison_markdown(&c);
    assert!(
        md.contains("| RTE | 60.00 | 52.00 (50.00 to 54.00) |"),
        "{md}"
    );
    assert!(md.contains("| runs | 1 | 2 |"), "{md}");
    assert!(
        md.contains("| token-embedding parameters | — | — |"),
        "{md}"
    );
}

#[test]
fn refuses_what_cannot_be_compared() {
    let one = || run(&[("RTE", 0.5)]);
    let refuse = |models: &[ComparedModel], baseline: Option<&str>, needle: &str| match compare(
        models, baseline,
    ) {
        Err(e @ Error::Comparison { .. }) => {
            assert!(e.to_string().contains(needle), "{e} lacks {needle}");
        }
        other => panic!("expected a comparison error, got {other:?}"),
    };
    refuse(&[], None, "no runs");
    refuse(
        &[model("A", None, vec![one()]), model("B", None, vec![])],
        None,
        "B has no runs",
    );
    refuse(
        &[model("A", None, vec![one()]), model("A", None, vec![one()])],
        None,
        "two models are labelled A",
    );
    refuse(
        &[
            model("A", None, vec![one()]),
            model("B", None, vec![run(&[("CoLA", 0.1)])]),
        ],
        None,
        "share no task",
    );
    refuse(
        &[model("A", None, vec![one()])],
        Some("BPE"),
        "no model is labelled BPE",
    );
}
