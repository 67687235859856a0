//! Pre-training runs side by side: each run's held-out evaluation at one step, ranked by its
//! loss (`hashformer pretrain-compare`; the curves are drawn by
//! [`hashformer_report::plot_runs`]). Runs that differ in one thing, such as the input layer on
//! one seed and schedule, are compared where all of them have been evaluated.

use hashformer_report::{group_digits, Record};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::pretrain::counts::ClassRecall;

/// One held-out evaluation of a run, as its metrics log records it ([`crate::EvalReport`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldOut {
    /// Optimizer steps done.
    pub step: u64,
    /// Mean loss per labelled position.
    pub loss: f64,
    /// Accuracy.
    pub accuracy: f64,
    /// The loss of predicting the class frequencies (absent in older logs).
    pub prior_loss: Option<f64>,
    /// Accuracy of always predicting the most frequent class (absent in older logs).
    pub majority_rate: Option<f64>,
    /// Shuffle+Random: recall per class (absent for masked LM).
    pub recall: Option<ClassRecall>,
    /// Labelled positions evaluated (absent in older logs).
    pub positions: Option<u64>,
}

impl HeldOut {
    /// Accuracy above the majority rate, when the log has the rate.
    pub fn over_majority(&self) -> Option<f64> {
        Some(self.accuracy - self.majority_rate?)
    }
}

/// The held-out evaluations in `records` (a run's metrics log, as
/// [`hashformer_report::read_metrics`] gives it): every `"valid"` record with a finite loss
/// and accuracy, in step order, the last one kept where a step was evaluated twice (a resumed
/// run's final evaluation).
pub fn held_out_evaluations(records: &[Record]) -> Vec<HeldOut> {
    let number = |r: &Record, key: &str| r.get(key).and_then(Value::as_f64);
    let mut evaluations: Vec<HeldOut> = records
        .iter()
        .filter(|r| r.get("split").and_then(Value::as_str) == Some("valid"))
        .filter_map(|r| {
            let recall = || {
                Some(ClassRecall {
                    acc_original: number(r, "acc_original")?,
                    acc_shuffled: number(r, "acc_shuffled")?,
                    acc_random: number(r, "acc_random")?,
                })
            };
            Some(HeldOut {
                step: r.get("step")?.as_u64()?,
                loss: number(r, "loss").filter(|v| v.is_finite())?,
                accuracy: number(r, "accuracy").filter(|v| v.is_finite())?,
                prior_loss: number(r, "prior_loss"),
                majority_rate: number(r, "majority_rate"),
                recall: recall(),
                positions: r.get("positions").and_then(Value::as_u64),
            })
        })
        .collect();
    evaluations.reverse();
    evaluations.sort_by_key(|e| e.step); // stable: the last record of a step comes first
    evaluations.dedup_by_key(|e| e.step);
    evaluations
}

/// A run in a [`RunComparison`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComparedRun {
    /// The run's label.
    pub label: String,
    /// Its held-out evaluation at the compared step.
    pub held_out: HeldOut,
}

/// Runs' held-out evaluations at one step, ranked by loss (lowest first).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunComparison {
    /// The step compared.
    pub step: u64,
    /// The runs, lowest held-out loss first.
    pub runs: Vec<ComparedRun>,
}

/// Compares `runs` (each a label and its [`held_out_evaluations`]) at step `at`, or, without
/// it, at the last step every run has been evaluated at.
///
/// # Errors
/// [`Error::Comparison`] when there are no runs, a label repeats, a run has no held-out
/// evaluation at `at`, or (without `at`) no step has an evaluation of every run.
pub fn compare_runs(runs: &[(String, Vec<HeldOut>)], at: Option<u64>) -> Result<RunComparison> {
    let refuse = |message: String| Err(Error::Comparison { message });
    if runs.is_empty() {
        return refuse("no runs to compare".into());
    }
    for (i, (label, _)) in runs.iter().enumerate() {
        if runs[..i].iter().any(|(l, _)| l == label) {
            return refuse(format!("the label {label:?} is given twice"));
        }
    }
    let step = match at {
        Some(step) => step,
        None => common_step(runs)?,
    };
    let mut compared = Vec::with_capacity(runs.len());
    for (label, evaluations) in runs {
        let Some(held_out) = evaluations.iter().find(|e| e.step == step) else {
            let last = evaluations
                .last()
                .map_or("none".to_owned(), |e| group_digits(e.step as usize));
            return refuse(format!(
                "{label} has no held-out evaluation at step {} (its last: {last})",
                group_digits(step as usize)
            ));
        };
        compared.push(ComparedRun {
            label: label.clone(),
            held_out: held_out.clone(),
        });
    }
    compared.sort_by(|a, b| a.held_out.loss.total_cmp(&b.held_out.loss));
    Ok(RunComparison {
        step,
        runs: compared,
    })
}

/// The last step at which every run has a held-out evaluation.
fn common_step(runs: &[(String, Vec<HeldOut>)]) -> Result<u64> {
    let (_, first) = &runs[0];
    let shared = first.iter().rev().map(|e| e.step).find(|&step| {
        runs.iter()
            .all(|(_, evaluations)| evaluations.iter().any(|e| e.step == step))
    });
    shared.ok_or_else(|| {
        let labels: Vec<&str> = runs.iter().map(|(l, _)| l.as_str()).collect();
        let message = format!(
            "no step has a held-out evaluation of every run ({})",
            labels.join(", ")
        );
        Error::Comparison { message }
    })
}

impl RunComparison {
    /// A Markdown table, ranked by held-out loss, with a note when the runs were evaluated on
    /// different numbers of positions (the BPE baseline's are subwords, a HashFormer's words):
    /// their losses then differ in what they average over, and the accuracy above the
    /// majority rate is the fairer comparison.
    pub fn to_markdown(&self) -> String {
        let pct = |v: f64| format!("{:.2} %", 100.0 * v);
        let mut md = format!(
            "Held-out evaluation at step {}, lowest loss first:\n\n\
             | rank | run | loss (prior) | accuracy (majority) | accuracy − majority | \
             recall original / shuffled / random | positions |\n\
             |---:|---|---:|---:|---:|---|---:|\n",
            group_digits(self.step as usize)
        );
        for (rank, run) in self.runs.iter().enumerate() {
            let h = &run.held_out;
            let loss = match h.prior_loss {
                Some(prior) => format!("{:.3} ({prior:.3})", h.loss),
                None => format!("{:.3}", h.loss),
            };
            let accuracy = match h.majority_rate {
                Some(majority) => format!("{} ({})", pct(h.accuracy), pct(majority)),
                None => pct(h.accuracy),
            };
            let over = h
                .over_majority()
                .map_or("—".into(), |v| format!("{:+.2}", 100.0 * v));
            let recall = h.recall.as_ref().map_or("—".into(), |r| {
                let [o, s, x] = [r.acc_original, r.acc_shuffled, r.acc_random].map(|v| 100.0 * v);
                format!("{o:.1} / {s:.1} / {x:.1} %")
            });
            let positions = h.positions.map_or("—".into(), |p| group_digits(p as usize));
            md.push_str(&format!(
                "| {} | {} | {loss} | {accuracy} | {over} | {recall} | {positions} |\n",
                rank + 1,
                run.label
            ));
        }
        let mut counts: Vec<Option<u64>> = self.runs.iter().map(|r| r.held_out.positions).collect();
        counts.sort_unstable();
        counts.dedup();
        if counts.len() > 1 {
            md.push_str(
                "\nThe runs were evaluated on different numbers of positions (a vocabulary \
                 model's subwords against a HashFormer's words), so their losses average over \
                 different things; accuracy − majority compares them more fairly.\n",
            );
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(lines: &[String]) -> Vec<Record> {
        lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn valid(step: u64, loss: f64, accuracy: f64, positions: u64) -> String {
        format!(
            r#"{{"split":"valid","step":{step},"loss":{loss},"accuracy":{accuracy},
            "acc_original":0.99,"acc_shuffled":0.01,"acc_random":0.8,
            "majority_rate":0.8,"prior_loss":0.61,"positions":{positions}}}"#
        )
        .replace('\n', "")
    }

    #[test]
    fn held_out_evaluations_keep_valid_records_in_step_order_last_one_per_step() {
        let log = records(&[
            r#"{"split":"train","step":10,"loss":0.9,"accuracy":0.5}"#.into(),
            valid(20, 0.5, 0.85, 100),
            valid(10, 0.6, 0.84, 100),
            r#"{"split":"valid","step":30,"loss":null,"accuracy":0.9}"#.into(),
            r#"{"split":"valid","step":40,"loss":0.4,"accuracy":0.9}"#.into(),
            valid(20, 0.45, 0.86, 100),
        ]);
        let evaluations = held_out_evaluations(&log);
        let steps: Vec<_> = evaluations.iter().map(|e| (e.step, e.loss)).collect();
        assert_eq!(steps, [(10, 0.6), (20, 0.45), (40, 0.4)]);
        let last = &evaluations[2];
        assert_eq!(
            (last.recall, last.majority_rate, last.positions),
            (None, None, None)
        );
        assert!((evaluations[1].over_majority().unwrap() - 0.06).abs() < 1e-12);
    }

    #[test]
    fn runs_are_compared_at_the_last_shared_step_and_ranked_by_loss() {
        let a = held_out_evaluations(&records(&[
            valid(500, 0.5, 0.85, 100),
            valid(1000, 0.45, 0.86, 100),
            valid(1500, 0.44, 0.87, 100),
        ]));
        let b = held_out_evaluations(&records(&[
            valid(500, 0.55, 0.84, 120),
            valid(1000, 0.40, 0.88, 120),
        ]));
        let runs = [("A".to_owned(), a), ("B".to_owned(), b)];
        let comparison = compare_runs(&runs, None).unwrap();
        assert_eq!(comparison.step, 1000);
        let ranked: Vec<_> = comparison.runs.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(ranked, ["B", "A"]);
        let md = comparison.to_markdown();
        assert!(md.contains("at step 1,000"), "{md}");
        assert!(
            md.contains(
                "| 1 | B | 0.400 (0.610) | 88.00 % (80.00 %) | +8.00 | 99.0 / 1.0 / 80.0 % | 120 |"
            ),
            "{md}"
        );
        assert!(md.contains("different numbers of positions"), "{md}");
        let at_500 = compare_runs(&runs, Some(500)).unwrap();
        let ranked: Vec<_> = at_500.runs.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(ranked, ["A", "B"]);
    }

    #[test]
    fn comparisons_that_cannot_be_made_are_refused_with_the_reason() {
        let a = held_out_evaluations(&records(&[valid(500, 0.5, 0.85, 100)]));
        let b = held_out_evaluations(&records(&[valid(1000, 0.4, 0.88, 100)]));
        let message = |runs: &[(String, Vec<HeldOut>)], at| match compare_runs(runs, at) {
            Err(e @ Error::Comparison { .. }) => e.to_string(),
            other => panic!("unexpected {other:?}"),
        };
        let (a, b) = (("A".to_owned(), a), ("B".to_owned(), b));
        assert_eq!(message(&[], None), "cannot compare: no runs to compare");
        assert!(message(&[a.clone(), a.clone()], None).contains("\"A\" is given twice"));
        assert!(message(&[a.clone(), b.clone()], None)
            .contains("no step has a held-out evaluation of every run (A, B)"));
        assert_eq!(
            message(&[a, b], Some(1000)),
            "cannot compare: A has no held-out evaluation at step 1,000 (its last: 500)"
        );
    }
}
