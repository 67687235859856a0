//! Comparing models on GLUE across pre-training runs: each model is a label, its
//! token-embedding parameter count and the [`GlueResults`] of one or more pre-training runs
//! (each already the median over fine-tuning seeds). The comparison gives, per task and for
//! the average, the mean and range over a model's runs, and each model's difference from a
//! baseline with its range over pairs of runs.

use hashformer_report::group_digits;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::run::GlueResults;

/// One model of a comparison.
#[derive(Debug, Clone)]
pub struct ComparedModel {
    /// The name shown, e.g. `Proj_MD5`.
    pub label: String,
    /// Token-embedding parameters (with the special-token table), if known.
    pub embedding_parameters: Option<usize>,
    /// One result set per pre-training run (for a control without pre-training: per
    /// initialisation).
    pub runs: Vec<GlueResults>,
}

/// A score over runs, in GLUE points (0–100).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// The mean.
    pub mean: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// How many values.
    pub n: usize,
}

impl Spread {
    /// The spread of `values` (none if there are none).
    pub fn of(values: &[f64]) -> Option<Self> {
        (!values.is_empty()).then(|| Self {
            mean: values.iter().sum::<f64>() / values.len() as f64,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            n: values.len(),
        })
    }
}

/// One model's row of a [`Comparison`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelComparison {
    /// The model's label.
    pub label: String,
    /// Token-embedding parameters, if known.
    pub embedding_parameters: Option<usize>,
    /// Per task of [`Comparison::tasks`], the task score (median over fine-tuning seeds) over
    /// the model's runs.
    pub tasks: Vec<Spread>,
    /// The average of the compared tasks' scores, over the model's runs.
    pub average: Spread,
    /// Average minus the baseline's: paired run by run when both have as many runs, else over
    /// all pairs; none for the baseline itself or without one.
    pub versus_baseline: Option<Spread>,
}

/// Models side by side on the tasks every run of every model has.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The compared tasks, in the first run's order.
    pub tasks: Vec<&'static str>,
    /// Tasks some runs have and others lack: shown nowhere, averaged nowhere.
    pub left_out: Vec<&'static str>,
    /// The baseline's label, if one was named.
    pub baseline: Option<String>,
    /// One row per model, in the order given.
    pub models: Vec<ModelComparison>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::Comparison {
        message: message.into(),
    }
}

/// Compares `models` on the tasks all their runs share, against the model labelled
/// `baseline` if given.
///
/// # Errors
/// [`Error::Comparison`] if there are no models, a model has no runs, two models share a
/// label, the runs share no task, or no model has the baseline's label.
pub fn compare(models: &[ComparedModel], baseline: Option<&str>) -> Result<Comparison> {
    let runs: Vec<&GlueResults> = models.iter().flat_map(|m| &m.runs).collect();
    let first = runs.first().ok_or_else(|| invalid("no runs to compare"))?;
    if let Some(m) = models.iter().find(|m| m.runs.is_empty()) {
        return Err(invalid(format!("{} has no runs", m.label)));
    }
    for (i, m) in models.iter().enumerate() {
        if models[..i].iter().any(|o| o.label == m.label) {
            return Err(invalid(format!("two models are labelled {}", m.label)));
        }
    }
    let has = |r: &GlueResults, task: &str| r.tasks.iter().any(|t| t.task == task);
    let mut all: Vec<&'static str> = Vec::new();
    for t in runs.iter().flat_map(|r| &r.tasks) {
        if !all.contains(&t.task) {
            all.push(t.task);
        }
    }
    let (tasks, left_out): (Vec<&'static str>, Vec<&'static str>) = all
        .into_iter()
        .partition(|t| runs.iter().all(|r| has(r, t)));
    if tasks.is_empty() {
        return Err(invalid(format!(
            "the runs share no task (the first has {})",
            first
                .tasks
                .iter()
                .map(|t| t.task)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let base = match baseline {
        Some(label) => Some(
            models
                .iter()
                .find(|m| m.label == label)
                .ok_or_else(|| invalid(format!("no model is labelled {label}")))?,
        ),
        None => None,
    };
    let averages =
        |m: &ComparedModel| -> Vec<f64> { m.runs.iter().map(|r| run_average(r, &tasks)).collect() };
    let base = base.map(|b| (b.label.as_str(), averages(b)));
    let rows = models
        .iter()
        .map(|m| {
            let own = averages(m);
            let versus_baseline = base
                .as_ref()
                .filter(|(label, _)| *label != m.label)
                .and_then(|(_, theirs)| Spread::of(&differences(&own, theirs)));
            ModelComparison {
                label: m.label.clone(),
                embedding_parameters: m.embedding_parameters,
                tasks: tasks
                    .iter()
                    .map(|t| spread(m.runs.iter().map(|r| task_score(r, t))))
                    .collect(),
                average: spread(own.iter().copied()),
                versus_baseline,
            }
        })
        .collect();
    Ok(Comparison {
        tasks,
        left_out,
        baseline: baseline.map(str::to_owned),
        models: rows,
    })
}

/// A run's score on `task` in GLUE points (the task is known to be there).
fn task_score(run: &GlueResults, task: &str) -> f64 {
    run.tasks
        .iter()
        .find(|t| t.task == task)
        .map_or(f64::NAN, |t| 100.0 * t.median_score)
}

fn run_average(run: &GlueResults, tasks: &[&str]) -> f64 {
    tasks.iter().map(|t| task_score(run, t)).sum::<f64>() / tasks.len() as f64
}

fn spread(values: impl Iterator<Item = f64>) -> Spread {
    let values: Vec<f64> = values.collect();
    Spread::of(&values).expect("every model has runs")
}

/// `a − b` run by run when both have as many runs, else over all pairs.
fn differences(a: &[f64], b: &[f64]) -> Vec<f64> {
    if a.len() == b.len() {
        a.iter().zip(b).map(|(x, y)| x - y).collect()
    } else {
        a.iter()
            .flat_map(|x| b.iter().map(move |y| x - y))
            .collect()
    }
}

/// `mean (min–max)` with one decimal, or just the mean for one run.
fn cell(s: &Spread, signed: bool) -> String {
    let f = |v: f64| {
        if signed {
            format!("{v:+.2}")
        } else {
            format!("{v:.2}")
        }
    };
    if s.n > 1 {
        format!("{} ({} to {})", f(s.mean), f(s.min), f(s.max))
    } else {
        f(s.mean)
    }
}

/// The comparison as a Markdown table: one column per model, one row per task, the average,
/// the difference from the baseline, the number of runs and the embedding parameters. A cell
/// with several runs reads `mean (min to max)`.
pub fn comparison_markdown(c: &Comparison) -> String {
    let mut out = String::from("| task |");
    let mut rule = String::from("|---|");
    for m in &c.models {
        out.push_str(&format!(" {} |", m.label));
        rule.push_str("---:|");
    }
    out.push('\n');
    out.push_str(&rule);
    out.push('\n');
    let mut row = |name: &str, cells: Vec<String>| {
        out.push_str(&format!("| {name} | {} |\n", cells.join(" | ")));
    };
    for (i, task) in c.tasks.iter().enumerate() {
        row(
            task,
            c.models.iter().map(|m| cell(&m.tasks[i], false)).collect(),
        );
    }
    row(
        "**average**",
        c.models
            .iter()
            .map(|m| format!("**{}**", cell(&m.average, false)))
            .collect(),
    );
    if let Some(base) = &c.baseline {
        row(
            &format!("− {base}"),
            c.models
                .iter()
                .map(|m| m.versus_baseline.map_or("—".into(), |d| cell(&d, true)))
                .collect(),
        );
    }
    row(
        "runs",
        c.models.iter().map(|m| m.average.n.to_string()).collect(),
    );
    row(
        "token-embedding parameters",
        c.models
            .iter()
            .map(|m| m.embedding_parameters.map_or("—".into(), group_digits))
            .collect(),
    );
    if !c.left_out.is_empty() {
        out.push_str(&format!(
            "\nLeft out (not in every run): {}.\n",
            c.left_out.join(", ")
        ));
    }
    out
}
