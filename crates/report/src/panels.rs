//! The data of a metrics chart: which record keys are drawn, in which panel (loss, score,
//! learning rate), under which legend label and in which order; and of a chart of several
//! runs' held-out curves ([`run_panels`]).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::log::Record;

/// Scores besides the `acc*` keys that share the score panel.
const SCORES: [&str; 4] = ["mcc", "f1", "pearson", "spearman"];
/// Splits in legend order; others follow alphabetically.
const SPLITS: [&str; 4] = ["train", "valid", "dev", "test"];
/// Score keys in legend order; other `acc*` keys follow alphabetically.
const SCORE_ORDER: [&str; 8] = [
    "accuracy",
    "acc_original",
    "acc_shuffled",
    "acc_random",
    "mcc",
    "f1",
    "pearson",
    "spearman",
];

/// The panels of the chart, top to bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PanelKind {
    Loss,
    Score,
    LearningRate,
}

impl PanelKind {
    pub(crate) fn y_desc(self) -> &'static str {
        match self {
            Self::Loss => "loss",
            Self::Score => "score",
            Self::LearningRate => "learning rate",
        }
    }
}

/// One line of a panel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub(crate) label: String,
    /// `(step, value)`, finite, in log order.
    pub(crate) points: Vec<(f64, f64)>,
    /// Drawn dashed and grey (a baseline such as `majority_rate`).
    pub(crate) reference: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Panel {
    pub(crate) kind: PanelKind,
    /// The value axis' title.
    pub(crate) y_desc: String,
    pub(crate) series: Vec<Series>,
}

/// A score key's rank in the legend: its place in [`SCORE_ORDER`], other keys after those.
fn score_rank(key: &str) -> usize {
    let rank = SCORE_ORDER.iter().position(|k| *k == key);
    rank.unwrap_or(SCORE_ORDER.len())
}

/// Where a key is drawn: its panel, its rank in the legend and whether it is a reference.
fn classify(key: &str) -> Option<(PanelKind, usize, bool)> {
    match key {
        "loss" => Some((PanelKind::Loss, 0, false)),
        "lr" => Some((PanelKind::LearningRate, 0, false)),
        "majority_rate" => Some((PanelKind::Score, usize::MAX, true)),
        "prior_loss" => Some((PanelKind::Loss, usize::MAX, true)),
        _ if key.starts_with("acc") || SCORES.contains(&key) => {
            Some((PanelKind::Score, score_rank(key), false))
        }
        _ => None,
    }
}

/// Groups the plottable values of `records` into panels; panels without values are left out.
pub(crate) fn panels(records: &[Record]) -> Vec<Panel> {
    // (panel, split rank, split, key rank, key) → points; the BTreeMap fixes the legend order.
    type Key<'a> = (PanelKind, usize, &'a str, usize, &'a str);
    let mut lines: BTreeMap<Key, Vec<(f64, f64)>> = BTreeMap::new();
    for record in records {
        let Some(step) = record.get("step").and_then(Value::as_f64) else {
            continue;
        };
        let split = record.get("split").and_then(Value::as_str).unwrap_or("");
        let split_rank = SPLITS.iter().position(|s| *s == split);
        let split_rank = split_rank.unwrap_or(SPLITS.len());
        for (key, value) in record {
            let (Some((kind, rank, _)), Some(y)) = (classify(key), value.as_f64()) else {
                continue;
            };
            if y.is_finite() {
                let key = (kind, split_rank, split, rank, key.as_str());
                lines.entry(key).or_default().push((step, y));
            }
        }
    }
    let mut panels: Vec<Panel> = Vec::new();
    for ((kind, _, split, _, key), points) in lines {
        let reference = classify(key).is_some_and(|(_, _, reference)| reference);
        let label = match (split, kind) {
            ("", _) => key.to_owned(),
            (_, PanelKind::Score) => format!("{split} {key}"),
            _ if reference => format!("{split} {key}"),
            _ => split.to_owned(),
        };
        let series = Series {
            label,
            points,
            reference,
        };
        match panels.last_mut() {
            Some(panel) if panel.kind == kind => panel.series.push(series),
            _ => panels.push(Panel {
                kind,
                y_desc: kind.y_desc().to_owned(),
                series: vec![series],
            }),
        }
    }
    panels
}

/// The held-out (`split` `"valid"`) curves of several runs, one line per run in each panel
/// and in the same order, so a run keeps its colour: the loss, the accuracy above the run's
/// majority rate, then each recall (`acc_*` key) in legend order. Panels without values are
/// left out.
pub(crate) fn run_panels(runs: &[(String, Vec<Record>)]) -> Vec<Panel> {
    let held_out = |records: &[Record], value: &dyn Fn(&Record) -> Option<f64>| {
        let valid = records
            .iter()
            .filter(|r| r.get("split").and_then(Value::as_str) == Some("valid"));
        valid
            .filter_map(|r| Some((r.get("step")?.as_f64()?, value(r)?)))
            .filter(|(_, y)| y.is_finite())
            .collect::<Vec<_>>()
    };
    let number = |r: &Record, key: &str| r.get(key).and_then(Value::as_f64);
    let mut recalls: Vec<&str> = runs
        .iter()
        .flat_map(|(_, records)| records.iter().flat_map(|r| r.keys()))
        .map(String::as_str)
        .filter(|k| k.starts_with("acc_"))
        .collect();
    recalls.sort_by_key(|k| (score_rank(k), *k));
    recalls.dedup();
    let mut panels = Vec::new();
    let mut panel = |kind, y_desc: String, value: &dyn Fn(&Record) -> Option<f64>| {
        let series: Vec<Series> = runs
            .iter()
            .map(|(label, records)| Series {
                label: label.clone(),
                points: held_out(records, value),
                reference: false,
            })
            .collect();
        if series.iter().any(|s| !s.points.is_empty()) {
            panels.push(Panel {
                kind,
                y_desc,
                series,
            });
        }
    };
    panel(PanelKind::Loss, "held-out loss".into(), &|r| {
        number(r, "loss")
    });
    panel(PanelKind::Score, "accuracy − majority".into(), &|r| {
        Some(number(r, "accuracy")? - number(r, "majority_rate")?)
    });
    for key in recalls {
        let name = key.trim_start_matches("acc_").replace('_', " ");
        panel(PanelKind::Score, format!("{name} recall"), &|r| {
            number(r, key)
        });
    }
    panels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(lines: &[&str]) -> Vec<Record> {
        lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Each panel with its series as (label, points, reference).
    type Layout<'a> = Vec<(PanelKind, Vec<(&'a str, usize, bool)>)>;

    fn layout(panels: &[Panel]) -> Layout<'_> {
        panels
            .iter()
            .map(|p| {
                let series = p.series.iter();
                let series = series.map(|s| (s.label.as_str(), s.points.len(), s.reference));
                (p.kind, series.collect())
            })
            .collect()
    }

    #[test]
    fn groups_keys_into_panels_in_legend_order() {
        let records = records(&[
            r#"{"split":"valid","step":2,"loss":0.5,"accuracy":0.8,"majority_rate":0.6}"#,
            r#"{"split":"train","step":1,"loss":0.7,"acc_random":0.5,"accuracy":0.7,"lr":1e-4}"#,
            r#"{"split":"train","step":2,"loss":null,"accuracy":0.75,"lr":2e-4,"grad_norm":1.0}"#,
            r#"{"split":"dev","step":2,"mcc":0.3,"f1":0.6,"epoch":1}"#,
            r#"{"step":3,"loss":0.4}"#,
        ]);
        assert_eq!(
            layout(&panels(&records)),
            vec![
                (
                    PanelKind::Loss,
                    vec![("train", 1, false), ("valid", 1, false), ("loss", 1, false)]
                ),
                (
                    PanelKind::Score,
                    vec![
                        ("train accuracy", 2, false),
                        ("train acc_random", 1, false),
                        ("valid accuracy", 1, false),
                        ("valid majority_rate", 1, true),
                        ("dev mcc", 1, false),
                        ("dev f1", 1, false),
                    ]
                ),
                (PanelKind::LearningRate, vec![("train", 2, false)]),
            ]
        );
    }

    #[test]
    fn run_panels_give_every_run_a_line_in_each_panel() {
        let a = records(&[
            r#"{"split":"train","step":10,"loss":0.9,"accuracy":0.5}"#,
            r#"{"split":"valid","step":10,"loss":0.6,"accuracy":0.85,"majority_rate":0.8,"acc_random":0.4,"acc_shuffled":0.0}"#,
            r#"{"split":"valid","step":20,"loss":0.5,"accuracy":0.9,"majority_rate":0.8,"acc_random":0.6,"acc_shuffled":0.1}"#,
        ]);
        let b = records(&[r#"{"split":"valid","step":10,"loss":0.7,"accuracy":0.8}"#]);
        let panels = run_panels(&[("A".into(), a), ("B".into(), b)]);
        let titles: Vec<_> = panels.iter().map(|p| p.y_desc.as_str()).collect();
        assert_eq!(
            titles,
            [
                "held-out loss",
                "accuracy − majority",
                "shuffled recall",
                "random recall"
            ]
        );
        for panel in &panels {
            let labels: Vec<_> = panel.series.iter().map(|s| s.label.as_str()).collect();
            assert_eq!(labels, ["A", "B"], "{}", panel.y_desc);
        }
        assert_eq!(panels[0].series[0].points, [(10.0, 0.6), (20.0, 0.5)]);
        assert_eq!(panels[0].series[1].points, [(10.0, 0.7)]);
        let margin = &panels[1].series[0].points;
        assert!((margin[1].1 - 0.1).abs() < 1e-12, "{margin:?}");
        assert!(
            panels[1].series[1].points.is_empty(),
            "B has no majority rate"
        );
        assert!(run_panels(&[("A".into(), records(&[r#"{"step":1,"loss":0.5}"#]))]).is_empty());
    }

    #[test]
    fn skips_empty_panels_and_non_finite_values() {
        // NaN is logged as null (and serde_json holds no infinities).
        let records = records(&[
            r#"{"split":"train","step":1,"loss":null,"lr":"fast","accuracy":[0.5]}"#,
            r#"{"split":"train","step":2,"loss":0.5}"#,
        ]);
        assert_eq!(
            layout(&panels(&records)),
            vec![(PanelKind::Loss, vec![("train", 1, false)])]
        );
        assert!(panels(&records[..1]).is_empty());
    }
}
