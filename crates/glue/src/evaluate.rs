//! A task's reported metrics from predictions and gold labels, predictions matched to gold
//! examples by index, and the GLUE score (method §8; GLUE leaderboard conventions: a task with
//! two metrics scores their mean, MNLI scores the mean of matched and mismatched, and the
//! GLUE score is the mean over the nine tasks, AX left out).

use std::collections::HashMap;

use hashformer_train::{Example, Target};
use serde::de::{Deserialize, Deserializer, Error as _};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::error::{Error, Result};
use crate::metrics::{accuracy, f1, matthews, pearson, spearman};
use crate::submit::Prediction;
use crate::task::{LabelKind, Metric, Task};

/// The metrics GLUE reports for one task ([`Task::metrics`]), computed on one set.
///
/// Serialises as `{"task": "MRPC", "examples": 408, "metrics": {"f1": …, "accuracy": …},
/// "score": …}`, metrics in [`Task::metrics`] order.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskMetrics {
    task: Task,
    examples: usize,
    values: Vec<(Metric, f64)>,
}

impl TaskMetrics {
    /// Computes the metrics of `task` for `predictions` against `gold`, position by position.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`], [`Error::Empty`], and [`Error::LabelMismatch`] for a label
    /// that does not fit the task (a score for a classification, a class index past the
    /// task's classes, a class or a non-finite score for STS-B).
    pub fn compute(task: Task, predictions: &[Target], gold: &[Target]) -> Result<Self> {
        if predictions.len() != gold.len() {
            return Err(Error::LengthMismatch {
                predictions: predictions.len(),
                gold: gold.len(),
            });
        }
        let values = match task.label_kind() {
            LabelKind::Classification { file_labels, .. } => {
                let classes = |labels: &[Target]| -> Result<Vec<usize>> {
                    labels
                        .iter()
                        .map(|&l| match l {
                            Target::Class(c) if c < file_labels.len() => Ok(c),
                            other => Err(mismatch(task, other, "a class index")),
                        })
                        .collect()
                };
                let (p, g) = (classes(predictions)?, classes(gold)?);
                task.metrics()
                    .iter()
                    .map(|&m| {
                        let v = match m {
                            Metric::Accuracy => accuracy(&p, &g),
                            Metric::F1 => f1(&p, &g),
                            Metric::Matthews => matthews(&p, &g),
                            Metric::Pearson | Metric::Spearman => unreachable_metric(task, m),
                        };
                        v.map(|v| (m, v))
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            LabelKind::Regression { .. } => {
                let scores = |labels: &[Target]| -> Result<Vec<f64>> {
                    labels
                        .iter()
                        .map(|&l| match l {
                            Target::Score(s) if s.is_finite() => Ok(f64::from(s)),
                            other => Err(mismatch(task, other, "a finite score")),
                        })
                        .collect()
                };
                let (p, g) = (scores(predictions)?, scores(gold)?);
                task.metrics()
                    .iter()
                    .map(|&m| {
                        let v = match m {
                            Metric::Pearson => pearson(&p, &g),
                            Metric::Spearman => spearman(&p, &g),
                            _ => unreachable_metric(task, m),
                        };
                        v.map(|v| (m, v))
                    })
                    .collect::<Result<Vec<_>>>()?
            }
        };
        Ok(TaskMetrics {
            task,
            examples: gold.len(),
            values,
        })
    }

    /// The task.
    pub fn task(&self) -> Task {
        self.task
    }

    /// Number of examples the metrics were computed on.
    pub fn examples(&self) -> usize {
        self.examples
    }

    /// The reported metrics and their values, in [`Task::metrics`] order.
    pub fn values(&self) -> &[(Metric, f64)] {
        &self.values
    }

    /// The value of `metric`, if the task reports it.
    pub fn get(&self, metric: Metric) -> Option<f64> {
        self.values
            .iter()
            .find_map(|&(m, v)| (m == metric).then_some(v))
    }

    /// The task's GLUE score: the mean of its reported metrics.
    pub fn score(&self) -> f64 {
        self.values.iter().map(|(_, v)| v).sum::<f64>() / self.values.len() as f64
    }
}

fn mismatch(task: Task, label: Target, expected: &str) -> Error {
    Error::LabelMismatch {
        task,
        label: format!("{label:?}"),
        expected: expected.to_owned(),
    }
}

/// [`Task::metrics`] lists only metrics of the task's label kind (a unit test checks it).
fn unreachable_metric(task: Task, metric: Metric) -> Result<f64> {
    unreachable!("{task} does not report {metric:?}")
}

impl Serialize for TaskMetrics {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        struct Values<'a>(&'a [(Metric, f64)]);
        impl Serialize for Values<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.len()))?;
                for (m, v) in self.0 {
                    map.serialize_entry(m.key(), v)?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("task", self.task.name())?;
        map.serialize_entry("examples", &self.examples)?;
        map.serialize_entry("metrics", &Values(&self.values))?;
        map.serialize_entry("score", &self.score())?;
        map.end()
    }
}

/// Reads what [`Serialize`] writes; `score` is recomputed, and every metric of the task must
/// be present (and no other).
impl<'de> Deserialize<'de> for TaskMetrics {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        struct Saved {
            task: String,
            examples: usize,
            metrics: std::collections::BTreeMap<String, f64>,
        }
        let saved = Saved::deserialize(deserializer)?;
        let task: Task = saved.task.parse().map_err(D::Error::custom)?;
        if saved.metrics.len() != task.metrics().len() {
            return Err(D::Error::custom(format!(
                "{task} reports {} metric(s), found {}",
                task.metrics().len(),
                saved.metrics.len()
            )));
        }
        let values = task
            .metrics()
            .iter()
            .map(|&m| {
                saved
                    .metrics
                    .get(m.key())
                    .map(|&v| (m, v))
                    .ok_or_else(|| D::Error::custom(format!("{task}: no metric {:?}", m.key())))
            })
            .collect::<std::result::Result<_, _>>()?;
        Ok(Self {
            task,
            examples: saved.examples,
            values,
        })
    }
}

/// Matches `predictions` to `gold` by [`Example::index`] and computes the task's metrics.
/// Every gold example needs exactly one prediction, and every prediction a gold example.
///
/// # Errors
/// [`Error::RepeatedIndex`] (in either), [`Error::UnknownIndex`],
/// [`Error::MissingPredictions`]; [`Error::LabelMismatch`] for a gold example without a
/// label or a label that does not fit; those of [`TaskMetrics::compute`].
pub fn evaluate(task: Task, gold: &[Example], predictions: &[Prediction]) -> Result<TaskMetrics> {
    let mut by_index: HashMap<u64, Target> = HashMap::with_capacity(predictions.len());
    for p in predictions {
        if by_index.insert(p.index, p.label).is_some() {
            return Err(Error::RepeatedIndex {
                what: "predictions",
                index: p.index,
            });
        }
    }
    let mut gold_labels = Vec::with_capacity(gold.len());
    let mut predicted = Vec::with_capacity(gold.len());
    let mut missing: Option<(usize, u64)> = None;
    let mut gold_indices: HashMap<u64, ()> = HashMap::with_capacity(gold.len());
    for ex in gold {
        if gold_indices.insert(ex.index, ()).is_some() {
            return Err(Error::RepeatedIndex {
                what: "gold examples",
                index: ex.index,
            });
        }
        let label = ex.target.ok_or_else(|| Error::LabelMismatch {
            task,
            label: "None".to_owned(),
            expected: format!("a gold label for index {}", ex.index),
        })?;
        match by_index.get(&ex.index) {
            Some(&p) => {
                gold_labels.push(label);
                predicted.push(p);
            }
            None => {
                let (count, first) = missing.unwrap_or((0, ex.index));
                missing = Some((count + 1, first.min(ex.index)));
            }
        }
    }
    let unknown: Vec<u64> = predictions
        .iter()
        .map(|p| p.index)
        .filter(|i| !gold_indices.contains_key(i))
        .collect();
    if let Some(&index) = unknown.first() {
        return Err(Error::UnknownIndex {
            index,
            count: unknown.len(),
        });
    }
    if let Some((count, first)) = missing {
        return Err(Error::MissingPredictions { count, first });
    }
    TaskMetrics::compute(task, &predicted, &gold_labels)
}

/// The nine tasks of the GLUE average and their scores.
///
/// Serialises as `{"tasks": {"CoLA": …, …, "MNLI": …, …}, "average": …, "missing": […]}`.
#[derive(Clone, Debug, PartialEq)]
pub struct GlueScore {
    /// Each task's score, in leaderboard order, for the tasks present. MNLI is one entry
    /// (`"MNLI"`), the mean of MNLI-m and MNLI-mm, or the one of them present.
    pub tasks: Vec<(&'static str, f64)>,
    /// The mean of [`GlueScore::tasks`]; the GLUE score when [`GlueScore::missing`] is
    /// empty. `None` when no task is present.
    pub average: Option<f64>,
    /// The leaderboard columns (AX excepted) with no results.
    pub missing: Vec<Task>,
}

impl GlueScore {
    /// Scores `results`, one per task; AX results are ignored (AX is outside the average).
    ///
    /// # Errors
    /// [`Error::DuplicateTask`] if a task occurs twice.
    pub fn new(results: &[TaskMetrics]) -> Result<Self> {
        let mut score: HashMap<Task, f64> = HashMap::new();
        for r in results {
            if score.insert(r.task(), r.score()).is_some() {
                return Err(Error::DuplicateTask { task: r.task() });
            }
        }
        let mut tasks = Vec::new();
        let mut missing = Vec::new();
        for task in Task::ALL {
            match (task, score.get(&task)) {
                (Task::Ax, _) => {}
                (_, None) => missing.push(task),
                (Task::MnliMatched, Some(&m)) => {
                    let mm = score.get(&Task::MnliMismatched).copied();
                    tasks.push(("MNLI", mm.map_or(m, |mm| (m + mm) / 2.0)));
                }
                (Task::MnliMismatched, Some(&mm)) => {
                    if !score.contains_key(&Task::MnliMatched) {
                        tasks.push(("MNLI", mm));
                    }
                }
                (task, Some(&s)) => tasks.push((task.name(), s)),
            }
        }
        let average = (!tasks.is_empty())
            .then(|| tasks.iter().map(|(_, s)| s).sum::<f64>() / tasks.len() as f64);
        Ok(GlueScore {
            tasks,
            average,
            missing,
        })
    }

    /// Whether all nine tasks (both MNLI sections) are present.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }
}

impl Serialize for GlueScore {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        struct Tasks<'a>(&'a [(&'static str, f64)]);
        impl Serialize for Tasks<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.len()))?;
                for (name, v) in self.0 {
                    map.serialize_entry(name, v)?;
                }
                map.end()
            }
        }
        let missing: Vec<&str> = self.missing.iter().map(|t| t.name()).collect();
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("tasks", &Tasks(&self.tasks))?;
        map.serialize_entry("average", &self.average)?;
        map.serialize_entry("missing", &missing)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(v: &[usize]) -> Vec<Target> {
        v.iter().map(|&c| Target::Class(c)).collect()
    }

    fn gold(labels: &[usize]) -> Vec<Example> {
        labels
            .iter()
            .enumerate()
            .map(|(i, &c)| Example {
                index: i as u64,
                text_a: String::new(),
                text_b: None,
                target: Some(Target::Class(c)),
            })
            .collect()
    }

    fn preds(pairs: &[(u64, usize)]) -> Vec<Prediction> {
        pairs
            .iter()
            .map(|&(index, c)| Prediction {
                index,
                label: Target::Class(c),
            })
            .collect()
    }

    #[test]
    fn metrics_fit_label_kinds() {
        for task in Task::ALL {
            let regression = matches!(task.label_kind(), LabelKind::Regression { .. });
            for m in task.metrics() {
                let correlation = matches!(m, Metric::Pearson | Metric::Spearman);
                assert_eq!(regression, correlation, "{task} {m:?}");
            }
        }
    }

    #[test]
    fn mrpc_reports_f1_and_accuracy() {
        let m = TaskMetrics::compute(Task::Mrpc, &classes(&[1, 1, 0, 0]), &classes(&[1, 0, 0, 1]))
            .unwrap();
        assert_eq!(m.get(Metric::F1), Some(0.5));
        assert_eq!(m.get(Metric::Accuracy), Some(0.5));
        assert_eq!(m.get(Metric::Matthews), None);
        assert_eq!(m.score(), 0.5);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(
            json,
            r#"{"task":"MRPC","examples":4,"metrics":{"f1":0.5,"accuracy":0.5},"score":0.5}"#
        );
    }

    #[test]
    fn labels_must_fit() {
        let err = TaskMetrics::compute(Task::Sst2, &classes(&[2]), &classes(&[1])).unwrap_err();
        assert!(
            matches!(
                err,
                Error::LabelMismatch {
                    task: Task::Sst2,
                    ..
                }
            ),
            "{err}"
        );
        let err = TaskMetrics::compute(Task::Stsb, &classes(&[1]), &[Target::Score(1.0)]);
        assert!(matches!(err, Err(Error::LabelMismatch { .. })));
        let ok = TaskMetrics::compute(
            Task::Stsb,
            &[Target::Score(1.0), Target::Score(2.0)],
            &[Target::Score(0.0), Target::Score(5.0)],
        )
        .unwrap();
        let metrics: Vec<Metric> = ok.values().iter().map(|&(m, _)| m).collect();
        assert_eq!(metrics, [Metric::Pearson, Metric::Spearman]);
        assert!(ok.values().iter().all(|&(_, v)| (v - 1.0).abs() < 1e-12));
    }

    #[test]
    fn evaluate_matches_by_index() {
        let g = gold(&[1, 0, 1]);
        let m = evaluate(Task::Sst2, &g, &preds(&[(2, 1), (0, 0), (1, 0)])).unwrap();
        assert_eq!(m.get(Metric::Accuracy), Some(2.0 / 3.0));
        for (p, message) in [
            (
                preds(&[(0, 1), (1, 0)]),
                "no prediction for 1 gold example(s), the first with index 2 \
                 (predictions must cover every gold index)",
            ),
            (
                preds(&[(0, 1), (1, 0), (2, 1), (7, 1), (3, 1)]),
                "2 prediction(s) with an index not in the gold data, the first 7",
            ),
            (
                preds(&[(0, 1), (0, 0)]),
                "index 0 occurs twice in the predictions",
            ),
        ] {
            assert_eq!(
                evaluate(Task::Sst2, &g, &p).unwrap_err().to_string(),
                message
            );
        }
    }

    #[test]
    fn glue_score_averages_like_the_leaderboard() {
        let m = |task, p: &[usize], g: &[usize]| {
            TaskMetrics::compute(task, &classes(p), &classes(g)).unwrap()
        };
        let results = [
            m(Task::Sst2, &[1, 1], &[1, 1]),
            m(Task::MnliMatched, &[0, 1], &[0, 0]),
            m(Task::MnliMismatched, &[0, 0], &[0, 0]),
            m(Task::Ax, &[0, 1], &[0, 0]),
        ];
        let s = GlueScore::new(&results).unwrap();
        assert_eq!(s.tasks, [("SST-2", 1.0), ("MNLI", 0.75)]);
        assert_eq!(s.average, Some(0.875));
        assert_eq!(s.missing.len(), 7);
        assert!(!s.is_complete());
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["tasks"]["MNLI"], 0.75);
        assert_eq!(json["missing"][0], "CoLA");
        let only_mm = GlueScore::new(&results[2..3]).unwrap();
        assert_eq!(only_mm.tasks, [("MNLI", 1.0)]);
        assert!(matches!(
            GlueScore::new(&[results[0].clone(), results[0].clone()]),
            Err(Error::DuplicateTask { task: Task::Sst2 })
        ));
        assert_eq!(GlueScore::new(&[]).unwrap().average, None);
    }
}
