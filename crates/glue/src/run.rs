//! Fine-tuning on GLUE tasks with several seeds, the reference's way (method §8): train on the
//! train split, evaluate on dev during training, keep the best-on-dev model and its outputs,
//! report each seed and the median, and write `results.json` and `results.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::prelude::Device;
use hashformer_model::TextEncoder;
use hashformer_report::median;
use hashformer_train::{finetune, FinetuneConfig, FinetuneObserver, FinetuneTask, Init, Target};
use serde::{Deserialize, Serialize};

use crate::error::{write_atomic, Error, Result};
use crate::evaluate::{GlueScore, TaskMetrics};
use crate::read::read_split;
use crate::submit::{write_predictions, Prediction};
use crate::task::{LabelKind, Split, Task};

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct GlueRunConfig {
    /// The tasks (each needs train and dev files).
    pub tasks: Vec<Task>,
    /// One fine-tuning run per seed (reference: 0, 1, 2).
    pub seeds: Vec<u64>,
    /// Fine-tuning settings (its `seed` is replaced by each seed).
    pub finetune: FinetuneConfig,
}

/// One seed's result on one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    /// The seed.
    pub seed: u64,
    /// Dev metrics of the best-on-dev model.
    pub metrics: TaskMetrics,
    /// The step of the best dev score.
    pub best_step: u64,
    /// Optimizer steps.
    pub steps: u64,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// One task's results over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct TaskResult {
    /// The task's name.
    pub task: &'static str,
    /// Training and dev examples.
    pub train_examples: usize,
    /// Dev examples.
    pub dev_examples: usize,
    /// Each seed.
    pub seeds: Vec<SeedResult>,
    /// Per metric, the median over seeds.
    pub median: BTreeMap<&'static str, f64>,
    /// The median over seeds of the task's GLUE score.
    pub median_score: f64,
}

/// All results of a run.
#[derive(Debug, Clone, Serialize)]
pub struct GlueResults {
    /// Per task.
    pub tasks: Vec<TaskResult>,
    /// The average of the tasks' median scores, over the tasks run (not the full GLUE score
    /// unless all nine ran).
    pub average: Option<f64>,
    /// GLUE tasks not run.
    pub missing: Vec<&'static str>,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Progress of a GLUE run.
pub trait GlueObserver: FinetuneObserver {
    /// A seed of a task starts.
    fn on_task(&mut self, _task: Task, _seed: u64) {}
    /// A seed of a task finished.
    fn on_result(&mut self, _result: &SeedResult) {}
}

impl GlueObserver for () {}

/// The names `classify` shows: the task's class names, or the STS-B score's name.
fn label_names(task: Task) -> Vec<String> {
    match task.label_kind() {
        LabelKind::Classification { names, .. } => names.iter().map(|&n| n.to_owned()).collect(),
        LabelKind::Regression { .. } => vec!["similarity".to_owned()],
    }
}

/// Fine-tunes `init` on every task and seed of `config`, reading `glue_dir` (`<TASK>/train.tsv`,
/// `dev.tsv`), writing each run into `out_dir/<task>/seed-<s>/` and the summary into
/// `out_dir/results.json` and `out_dir/results.md`.
///
/// Each finished seed also leaves `out_dir/<task>/seed-<s>/result.json` with the settings that
/// produced it, so an interrupted run picks up where it stopped: rerunning the same command
/// reuses the finished seeds and fine-tunes the rest.
///
/// # Errors
/// Reading errors naming the file, [`Error::Train`] from fine-tuning, [`Error::BadResults`]
/// when a seed's saved result was produced with other settings, I/O errors.
pub fn run_glue(
    glue_dir: &Path,
    init: &Init,
    encoder: &TextEncoder,
    config: &GlueRunConfig,
    out_dir: &Path,
    device: &Device,
    observer: &mut dyn GlueObserver,
) -> Result<GlueResults> {
    let started = std::time::Instant::now();
    let mut results = Vec::new();
    for &task in &config.tasks {
        let train = read_split(glue_dir, task, Split::Train)?;
        let dev = read_split(glue_dir, task, Split::Dev)?;
        let gold: Vec<Target> = dev.iter().filter_map(|e| e.target).collect();
        let num_labels = match task.label_kind() {
            LabelKind::Regression { .. } => 1,
            kind => kind.num_labels(),
        };
        let mut seeds = Vec::new();
        for &seed in &config.seeds {
            observer.on_task(task, seed);
            let run_dir = out_dir.join(task.dir_name()).join(format!("seed-{seed}"));
            let ft = FinetuneConfig {
                seed,
                label_names: label_names(task),
                ..config.finetune.clone()
            };
            let saved_path = run_dir.join(SEED_RESULT);
            let settings = SeedSettings {
                init: format!("{init:?}"),
                finetune: ft.clone(),
            };
            if let Some(result) = load_seed_result(&saved_path, task, &settings)? {
                observer.on_result(&result);
                seeds.push(result);
                continue;
            }
            let score = |predicted: &[Target]| {
                TaskMetrics::compute(task, predicted, &gold).map_or(f64::NAN, |m| m.score())
            };
            let finetune_task = FinetuneTask {
                encoder,
                train: &train,
                dev: &dev,
                num_labels,
                score: &score,
            };
            let summary = finetune(init, &finetune_task, &ft, Some(&run_dir), device, observer)
                .map_err(|source| Error::Train { task, seed, source })?;
            let metrics = TaskMetrics::compute(task, &summary.best_outputs, &gold)?;
            let result = SeedResult {
                seed,
                metrics,
                best_step: summary.best_step,
                steps: summary.steps,
                seconds: summary.seconds,
            };
            save_seed_result(&saved_path, &settings, &result)?;
            write_dev_predictions(&run_dir, task, &summary.best_outputs)?;
            observer.on_result(&result);
            seeds.push(result);
        }
        results.push(task_result(task, train.len(), dev.len(), seeds));
        write_results(out_dir, &results, started.elapsed().as_secs_f64())?;
    }
    write_results(out_dir, &results, started.elapsed().as_secs_f64())
}

/// Each finished seed's result, in `<out>/<task>/seed-<s>/`, so that a rerun of the same
/// command skips it.
const SEED_RESULT: &str = "result.json";

/// The best model's dev predictions, in `<out>/<task>/seed-<s>/`, in the form
/// `hashformer evaluate --predictions` reads.
pub const DEV_PREDICTIONS: &str = "dev_predictions.tsv";

/// Writes `outputs` (one per dev row, in order) as `run_dir/dev_predictions.tsv`.
fn write_dev_predictions(run_dir: &Path, task: Task, outputs: &[Target]) -> Result<()> {
    let predictions: Vec<Prediction> = outputs
        .iter()
        .enumerate()
        .map(|(index, &label)| Prediction {
            index: index as u64,
            label,
        })
        .collect();
    write_predictions(&run_dir.join(DEV_PREDICTIONS), task, &predictions)
}

/// What produced a seed's result: a rerun reuses the result only when these match.
#[derive(Debug, Serialize)]
struct SeedSettings {
    /// The initialisation, as `Debug` prints [`Init`].
    init: String,
    /// The fine-tuning settings, seed included.
    finetune: FinetuneConfig,
}

/// `result.json`. The settings are kept as their JSON text and compared as text: a float read
/// back from JSON may differ from the one written in the last bit, text does not.
#[derive(Serialize, Deserialize)]
struct SavedSeed {
    settings: String,
    result: SeedResult,
}

fn settings_text(path: &Path, settings: &SeedSettings) -> Result<String> {
    serde_json::to_string(settings).map_err(results_json(path))
}

/// `map_err` adapter naming the results file of a JSON error.
fn results_json(path: &Path) -> impl FnOnce(serde_json::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::ResultsJson { path, source }
}

fn bad_results(path: &Path, message: impl Into<String>) -> Error {
    Error::BadResults {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// The saved result of a seed run with `settings`, `None` when there is none yet.
fn load_seed_result(
    path: &Path,
    task: Task,
    settings: &SeedSettings,
) -> Result<Option<SeedResult>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Io {
                path: path.to_owned(),
                source,
            })
        }
    };
    let saved: SavedSeed = serde_json::from_str(&text).map_err(results_json(path))?;
    if saved.settings != settings_text(path, settings)? || saved.result.metrics.task() != task {
        return Err(bad_results(
            path,
            "this seed was fine-tuned with other settings or another model; \
             choose another --out directory or delete this one",
        ));
    }
    Ok(Some(saved.result))
}

fn save_seed_result(path: &Path, settings: &SeedSettings, result: &SeedResult) -> Result<()> {
    let saved = SavedSeed {
        settings: settings_text(path, settings)?,
        result: result.clone(),
    };
    let json = serde_json::to_string_pretty(&saved).map_err(results_json(path))?;
    write_atomic(path, json.as_bytes())?;
    Ok(())
}

/// One task's seeds with their per-metric medians.
fn task_result(
    task: Task,
    train_examples: usize,
    dev_examples: usize,
    seeds: Vec<SeedResult>,
) -> TaskResult {
    let mut median_metrics = BTreeMap::new();
    for &metric in task.metrics() {
        let mut v: Vec<f64> = seeds.iter().filter_map(|s| s.metrics.get(metric)).collect();
        median_metrics.insert(metric.key(), median(&mut v));
    }
    let mut scores: Vec<f64> = seeds.iter().map(|s| s.metrics.score()).collect();
    TaskResult {
        task: task.name(),
        train_examples,
        dev_examples,
        seeds,
        median: median_metrics,
        median_score: median(&mut scores),
    }
}

/// Combines the `results.json` files of several [`run_glue`] runs of one model (different
/// seeds, or different tasks, run apart or on different machines) into one set of results:
/// each task's seeds are pooled and the medians and average recomputed. Tasks keep the order
/// in which they first appear; the wall time is the sum.
///
/// # Errors
/// [`Error::Io`] for a file that cannot be read, [`Error::BadResults`] for one that is not a
/// results file, or for a task whose seed appears twice or whose example counts differ.
pub fn merge_results(paths: &[PathBuf]) -> Result<GlueResults> {
    #[derive(Deserialize)]
    struct SavedTask {
        task: String,
        train_examples: usize,
        dev_examples: usize,
        seeds: Vec<SeedResult>,
    }
    #[derive(Deserialize)]
    struct Saved {
        tasks: Vec<SavedTask>,
        seconds: f64,
    }
    let mut merged: Vec<(Task, usize, usize, Vec<SeedResult>)> = Vec::new();
    let mut seconds = 0.0;
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let saved: Saved = serde_json::from_str(&text).map_err(results_json(path))?;
        seconds += saved.seconds;
        for t in saved.tasks {
            let task: Task = t.task.parse().map_err(|source| Error::ResultsTask {
                path: path.clone(),
                source,
            })?;
            let at = match merged.iter().position(|m| m.0 == task) {
                Some(at) => at,
                None => {
                    merged.push((task, t.train_examples, t.dev_examples, Vec::new()));
                    merged.len() - 1
                }
            };
            let entry = &mut merged[at];
            if (entry.1, entry.2) != (t.train_examples, t.dev_examples) {
                return Err(bad_results(
                    path,
                    format!(
                        "{task} has {} train and {} dev examples here, {} and {} in an \
                         earlier file",
                        t.train_examples, t.dev_examples, entry.1, entry.2
                    ),
                ));
            }
            for s in t.seeds {
                if entry.3.iter().any(|e| e.seed == s.seed) {
                    return Err(bad_results(
                        path,
                        format!("{task} seed {} is also in an earlier file", s.seed),
                    ));
                }
                entry.3.push(s);
            }
        }
    }
    let tasks: Vec<TaskResult> = merged
        .into_iter()
        .map(|(task, train, dev, mut seeds)| {
            seeds.sort_by_key(|s| s.seed);
            task_result(task, train, dev, seeds)
        })
        .collect();
    Ok(glue_results(&tasks, seconds))
}

/// Writes `results` as `out_dir/results.json` and `out_dir/results.md`.
///
/// # Errors
/// I/O errors.
pub fn write_glue_results(out_dir: &Path, results: &GlueResults) -> Result<()> {
    write_results(out_dir, &results.tasks, results.seconds).map(|_| ())
}

fn glue_results(results: &[TaskResult], seconds: f64) -> GlueResults {
    let average = (!results.is_empty())
        .then(|| results.iter().map(|r| r.median_score).sum::<f64>() / results.len() as f64);
    let present: Vec<&str> = results.iter().map(|r| r.task).collect();
    let missing = GlueScore::new(&[])
        .map(|s| s.missing)
        .unwrap_or_default()
        .into_iter()
        .map(Task::name)
        .filter(|n| !present.contains(n))
        .collect();
    GlueResults {
        tasks: results.to_vec(),
        average,
        missing,
        seconds,
    }
}

fn write_results(out_dir: &Path, results: &[TaskResult], seconds: f64) -> Result<GlueResults> {
    let all = glue_results(results, seconds);
    let json =
        serde_json::to_string_pretty(&all).map_err(results_json(&out_dir.join("results.json")))?;
    std::fs::create_dir_all(out_dir).map_err(|source| Error::Io {
        path: out_dir.to_owned(),
        source,
    })?;
    let json_path = out_dir.join("results.json");
    write_atomic(&json_path, json.as_bytes())?;
    write_atomic(&out_dir.join("results.md"), markdown(&all).as_bytes())?;
    Ok(all)
}

/// The results as a Markdown table: one row per task and metric, one column per seed, the
/// median, and the average of the task scores.
pub fn markdown(results: &GlueResults) -> String {
    // Every seed of any task, in order: tasks run with fewer seeds get `—` in the others.
    let mut seeds: Vec<u64> = results
        .tasks
        .iter()
        .flat_map(|t| t.seeds.iter().map(|s| s.seed))
        .collect();
    seeds.sort_unstable();
    seeds.dedup();
    let mut out = String::from("| task | metric |");
    for s in &seeds {
        out.push_str(&format!(" seed {s} |"));
    }
    out.push_str(" median |\n|---|---|");
    for _ in &seeds {
        out.push_str("---:|");
    }
    out.push_str("---:|\n");
    for t in &results.tasks {
        for (key, med) in &t.median {
            out.push_str(&format!("| {} | {key} |", t.task));
            for seed in &seeds {
                let value = t.seeds.iter().find(|s| s.seed == *seed).map(|s| {
                    s.metrics
                        .values()
                        .iter()
                        .find(|(m, _)| m.key() == *key)
                        .map_or(f64::NAN, |(_, v)| *v)
                });
                match value {
                    Some(v) => out.push_str(&format!(" {:.2} |", 100.0 * v)),
                    None => out.push_str(" — |"),
                }
            }
            out.push_str(&format!(" **{:.2}** |\n", 100.0 * med));
        }
    }
    if let Some(avg) = results.average {
        out.push_str(&format!(
            "\nAverage of the task scores (median over seeds) over {} task(s): **{:.2}**",
            results.tasks.len(),
            100.0 * avg
        ));
        if !results.missing.is_empty() {
            out.push_str(&format!(" (not run: {})", results.missing.join(", ")));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_results_keep_their_cause() {
        let dir = hashformer_testkit::TempDir::new("glue-results-json");
        let path = dir.join("results.json");
        std::fs::write(&path, "{\"tasks\": [").unwrap();
        let err = merge_results(std::slice::from_ref(&path)).unwrap_err();
        assert!(
            matches!(&err, Error::ResultsJson { path: p, .. } if *p == path),
            "{err}"
        );
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert!(source.is_some_and(|s| s.contains("line 1")), "{err}");
        std::fs::write(
            &path,
            r#"{"tasks": [{"task": "nope", "train_examples": 1, "dev_examples": 1,
                "seeds": []}], "seconds": 1.0}"#,
        )
        .unwrap();
        let err = merge_results(std::slice::from_ref(&path)).unwrap_err();
        assert!(matches!(err, Error::ResultsTask { .. }), "{err}");
    }

    #[test]
    fn the_table_has_a_column_per_seed_even_when_tasks_ran_different_seeds() {
        let seed = |seed, task, value: f64| SeedResult {
            seed,
            metrics: TaskMetrics::compute(
                task,
                &[Target::Class(usize::from(value > 0.5))],
                &[Target::Class(1)],
            )
            .unwrap(),
            best_step: 1,
            steps: 1,
            seconds: 1.0,
        };
        let results = glue_results(
            &[
                task_result(
                    Task::Rte,
                    1,
                    1,
                    vec![seed(0, Task::Rte, 1.0), seed(1, Task::Rte, 0.0)],
                ),
                task_result(Task::Wnli, 1, 1, vec![seed(0, Task::Wnli, 1.0)]),
            ],
            1.0,
        );
        let md = markdown(&results);
        assert!(
            md.starts_with("| task | metric | seed 0 | seed 1 | median |"),
            "{md}"
        );
        assert!(
            md.contains("| RTE | accuracy | 100.00 | 0.00 | **50.00** |"),
            "{md}"
        );
        assert!(
            md.contains("| WNLI | accuracy | 100.00 | — | **100.00** |"),
            "{md}"
        );
    }
}
