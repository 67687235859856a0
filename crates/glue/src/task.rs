//! The GLUE tasks: where their files are, which columns hold text and labels, the label strings
//! in class order, the submission file names and the metrics GLUE reports. Method §8; the reference
//! loads GLUE through HF `datasets` (`load_dataset("glue", …)`), so class indices here are that
//! loader's `ClassLabel` ids.

use std::fmt;
use std::str::FromStr;

/// One GLUE leaderboard column: a task with its own dev and test split and submission file.
///
/// MNLI is two of them, [`Task::MnliMatched`] and [`Task::MnliMismatched`], because GLUE
/// evaluates and submits the matched and mismatched sections separately; both train on
/// `MNLI/train.tsv`. [`Task::Ax`] (the diagnostic set) has only a test split and is predicted
/// by an MNLI model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Task {
    /// Corpus of Linguistic Acceptability (MCC).
    Cola,
    /// Stanford Sentiment Treebank, binary (accuracy).
    Sst2,
    /// Microsoft Research Paraphrase Corpus (F1 and accuracy).
    Mrpc,
    /// Semantic Textual Similarity Benchmark, a regression (Pearson and Spearman).
    Stsb,
    /// Quora Question Pairs (F1 and accuracy).
    Qqp,
    /// MultiNLI, matched section (accuracy). `mnli` parses to this: the reference reports it.
    MnliMatched,
    /// MultiNLI, mismatched section (accuracy).
    MnliMismatched,
    /// Question NLI, from SQuAD (accuracy).
    Qnli,
    /// Recognising Textual Entailment (accuracy).
    Rte,
    /// Winograd NLI (accuracy).
    Wnli,
    /// The diagnostic set (test only; GLUE scores it with MCC, outside the GLUE average).
    Ax,
}

/// A split of a task: one file in the task's directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Split {
    /// Training data, labelled.
    Train,
    /// Development (validation) data, labelled; what "dev" results are computed on.
    Dev,
    /// Test data, unlabelled, with an `index` column (`id` for QQP) that submissions use.
    Test,
}

/// What a task predicts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LabelKind {
    /// One of several classes.
    Classification {
        /// The label strings of the TSV files and of the submission files, in class-index
        /// order (HF `datasets` `ClassLabel` order, which the reference trains with).
        file_labels: &'static [&'static str],
        /// Readable class names, same order (`negative`/`positive` for SST-2's `0`/`1`).
        names: &'static [&'static str],
    },
    /// A real-valued score in `[min, max]` (STS-B: 0 to 5).
    Regression {
        /// Smallest valid score.
        min: f32,
        /// Largest valid score.
        max: f32,
    },
}

impl LabelKind {
    /// Number of classes, or 1 for a regression (the width of the model's head).
    pub fn num_labels(&self) -> usize {
        match self {
            LabelKind::Classification { file_labels, .. } => file_labels.len(),
            LabelKind::Regression { .. } => 1,
        }
    }
}

/// A metric GLUE reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// Fraction of exact matches.
    Accuracy,
    /// F1 of the positive class (class 1).
    F1,
    /// Matthews correlation coefficient (multi-class form for 3 classes).
    Matthews,
    /// Pearson correlation.
    Pearson,
    /// Spearman rank correlation.
    Spearman,
}

impl Metric {
    /// The key used in JSON reports: `accuracy`, `f1`, `mcc`, `pearson`, `spearman`.
    pub fn key(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::F1 => "f1",
            Metric::Matthews => "mcc",
            Metric::Pearson => "pearson",
            Metric::Spearman => "spearman",
        }
    }
}

/// The text columns of a task, by header name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextColumns {
    /// The first (or only) text.
    pub a: &'static str,
    /// The second text of a sentence-pair task.
    pub b: Option<&'static str>,
}

const BINARY: &[&str] = &["0", "1"];
const NLI3: &[&str] = &["entailment", "neutral", "contradiction"];
const NLI2: &[&str] = &["entailment", "not_entailment"];

impl Task {
    /// All eleven, in GLUE leaderboard order.
    pub const ALL: [Task; 11] = [
        Task::Cola,
        Task::Sst2,
        Task::Mrpc,
        Task::Stsb,
        Task::Qqp,
        Task::MnliMatched,
        Task::MnliMismatched,
        Task::Qnli,
        Task::Rte,
        Task::Wnli,
        Task::Ax,
    ];

    /// The GLUE name: `CoLA`, `SST-2`, …, `MNLI-m`, `MNLI-mm`, …, `AX`.
    pub fn name(self) -> &'static str {
        match self {
            Task::Cola => "CoLA",
            Task::Sst2 => "SST-2",
            Task::Mrpc => "MRPC",
            Task::Stsb => "STS-B",
            Task::Qqp => "QQP",
            Task::MnliMatched => "MNLI-m",
            Task::MnliMismatched => "MNLI-mm",
            Task::Qnli => "QNLI",
            Task::Rte => "RTE",
            Task::Wnli => "WNLI",
            Task::Ax => "AX",
        }
    }

    /// The directory of the task in the GLUE download (`glue_data/<dir>/`). AX is
    /// `diagnostic/`, as the GLUE download script saves it.
    pub fn dir_name(self) -> &'static str {
        match self {
            Task::MnliMatched | Task::MnliMismatched => "MNLI",
            Task::Ax => "diagnostic",
            other => other.name(),
        }
    }

    /// The file of `split` inside [`Task::dir_name`], or `None` where GLUE has none (AX has
    /// only a test file).
    pub fn file_name(self, split: Split) -> Option<&'static str> {
        match (self, split) {
            (Task::Ax, Split::Test) => Some("diagnostic.tsv"),
            (Task::Ax, _) => None,
            (_, Split::Train) => Some("train.tsv"),
            (Task::MnliMatched, Split::Dev) => Some("dev_matched.tsv"),
            (Task::MnliMismatched, Split::Dev) => Some("dev_mismatched.tsv"),
            (Task::MnliMatched, Split::Test) => Some("test_matched.tsv"),
            (Task::MnliMismatched, Split::Test) => Some("test_mismatched.tsv"),
            (_, Split::Dev) => Some("dev.tsv"),
            (_, Split::Test) => Some("test.tsv"),
        }
    }

    /// The name of this task's file in a GLUE submission zip (`CoLA.tsv`, `MNLI-m.tsv`, …).
    pub fn submission_file(self) -> &'static str {
        match self {
            Task::Cola => "CoLA.tsv",
            Task::Sst2 => "SST-2.tsv",
            Task::Mrpc => "MRPC.tsv",
            Task::Stsb => "STS-B.tsv",
            Task::Qqp => "QQP.tsv",
            Task::MnliMatched => "MNLI-m.tsv",
            Task::MnliMismatched => "MNLI-mm.tsv",
            Task::Qnli => "QNLI.tsv",
            Task::Rte => "RTE.tsv",
            Task::Wnli => "WNLI.tsv",
            Task::Ax => "AX.tsv",
        }
    }

    /// The text columns, by header name (CoLA's headerless train/dev files are given the
    /// names `source`, `label`, `original_mark`, `sentence`).
    pub fn text_columns(self) -> TextColumns {
        let (a, b) = match self {
            Task::Cola | Task::Sst2 => ("sentence", None),
            Task::Mrpc => ("#1 String", Some("#2 String")),
            Task::Qqp => ("question1", Some("question2")),
            Task::Qnli => ("question", Some("sentence")),
            _ => ("sentence1", Some("sentence2")),
        };
        TextColumns { a, b }
    }

    /// The header name of the label column of train and dev files.
    pub fn label_column(self) -> &'static str {
        match self {
            Task::Mrpc => "Quality",
            Task::Stsb => "score",
            Task::Qqp => "is_duplicate",
            Task::MnliMatched | Task::MnliMismatched | Task::Ax => "gold_label",
            _ => "label",
        }
    }

    /// The header name of the index column of test files (`id` for QQP, else `index`).
    pub fn index_column(self) -> &'static str {
        match self {
            Task::Qqp => "id",
            _ => "index",
        }
    }

    /// What the task predicts, with the label strings in class-index order.
    pub fn label_kind(self) -> LabelKind {
        let (file_labels, names): (&'static [&'static str], &'static [&'static str]) = match self {
            Task::Stsb => return LabelKind::Regression { min: 0.0, max: 5.0 },
            Task::Cola => (BINARY, &["unacceptable", "acceptable"]),
            Task::Sst2 => (BINARY, &["negative", "positive"]),
            Task::Mrpc => (BINARY, &["not_equivalent", "equivalent"]),
            Task::Qqp => (BINARY, &["not_duplicate", "duplicate"]),
            Task::Wnli => (BINARY, &["not_entailment", "entailment"]),
            Task::MnliMatched | Task::MnliMismatched | Task::Ax => (NLI3, NLI3),
            Task::Qnli | Task::Rte => (NLI2, NLI2),
        };
        LabelKind::Classification { file_labels, names }
    }

    /// The metrics GLUE reports for the task, in leaderboard order; the task's GLUE score is
    /// their mean.
    pub fn metrics(self) -> &'static [Metric] {
        match self {
            Task::Cola | Task::Ax => &[Metric::Matthews],
            Task::Mrpc | Task::Qqp => &[Metric::F1, Metric::Accuracy],
            Task::Stsb => &[Metric::Pearson, Metric::Spearman],
            _ => &[Metric::Accuracy],
        }
    }

    /// The one metric the reference reports (method §8, `report_metrics_dict`): CoLA MCC, QQP F1,
    /// STS-B Spearman, accuracy elsewhere (MRPC included). AX: MCC.
    pub fn reference_metric(self) -> Metric {
        match self {
            Task::Cola | Task::Ax => Metric::Matthews,
            Task::Qqp => Metric::F1,
            Task::Stsb => Metric::Spearman,
            _ => Metric::Accuracy,
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A task name that [`Task`]'s `FromStr` does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown GLUE task {name:?} (expected cola, sst-2, mrpc, sts-b, qqp, mnli-m, mnli-mm, \
     qnli, rte, wnli or ax)"
)]
pub struct UnknownTask {
    /// The name given.
    pub name: String,
}

impl FromStr for Task {
    type Err = UnknownTask;

    /// Case-insensitive; `-` and `_` are optional: `cola`, `SST-2`, `sst2`, `sts-b`, `stsb`,
    /// `mnli` / `mnli-m` / `mnli_matched`, `mnli-mm` / `mnli_mismatched`, `ax` / `diagnostic`.
    fn from_str(s: &str) -> Result<Self, UnknownTask> {
        let key: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        let task = match key.as_str() {
            "cola" => Task::Cola,
            "sst2" | "sst" => Task::Sst2,
            "mrpc" => Task::Mrpc,
            "stsb" | "sts" => Task::Stsb,
            "qqp" => Task::Qqp,
            "mnli" | "mnlim" | "mnlimatched" => Task::MnliMatched,
            "mnlimm" | "mnlimismatched" => Task::MnliMismatched,
            "qnli" => Task::Qnli,
            "rte" => Task::Rte,
            "wnli" => Task::Wnli,
            "ax" | "diagnostic" => Task::Ax,
            _ => return Err(UnknownTask { name: s.to_owned() }),
        };
        Ok(task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_spellings() {
        for (input, task) in [
            ("cola", Task::Cola),
            ("CoLA", Task::Cola),
            ("sst2", Task::Sst2),
            ("SST-2", Task::Sst2),
            ("sts-b", Task::Stsb),
            ("stsb", Task::Stsb),
            ("mnli", Task::MnliMatched),
            ("mnli-m", Task::MnliMatched),
            ("MNLI_matched", Task::MnliMatched),
            ("mnli-mm", Task::MnliMismatched),
            ("mnli_mismatched", Task::MnliMismatched),
            ("ax", Task::Ax),
            ("diagnostic", Task::Ax),
        ] {
            assert_eq!(input.parse::<Task>().unwrap(), task, "{input}");
        }
        for task in Task::ALL {
            assert_eq!(task.name().parse::<Task>().unwrap(), task);
        }
        let err = "glue".parse::<Task>().unwrap_err();
        assert_eq!(err.name, "glue");
        assert!(err.to_string().contains("mnli-mm"), "{err}");
    }

    #[test]
    fn files_and_submissions() {
        assert_eq!(Task::MnliMismatched.dir_name(), "MNLI");
        assert_eq!(
            Task::MnliMismatched.file_name(Split::Dev),
            Some("dev_mismatched.tsv")
        );
        assert_eq!(
            Task::MnliMatched.file_name(Split::Test),
            Some("test_matched.tsv")
        );
        assert_eq!(Task::Ax.file_name(Split::Train), None);
        assert_eq!(Task::Ax.file_name(Split::Dev), None);
        assert_eq!(Task::Ax.file_name(Split::Test), Some("diagnostic.tsv"));
        assert_eq!(Task::Cola.file_name(Split::Dev), Some("dev.tsv"));
        let names: Vec<_> = Task::ALL.iter().map(|t| t.submission_file()).collect();
        assert_eq!(
            names,
            [
                "CoLA.tsv",
                "SST-2.tsv",
                "MRPC.tsv",
                "STS-B.tsv",
                "QQP.tsv",
                "MNLI-m.tsv",
                "MNLI-mm.tsv",
                "QNLI.tsv",
                "RTE.tsv",
                "WNLI.tsv",
                "AX.tsv"
            ]
        );
    }

    #[test]
    fn labels_follow_hf_datasets_order() {
        let LabelKind::Classification { file_labels, .. } = Task::MnliMatched.label_kind() else {
            panic!("MNLI is a classification");
        };
        assert_eq!(file_labels, ["entailment", "neutral", "contradiction"]);
        let LabelKind::Classification { names, .. } = Task::Wnli.label_kind() else {
            panic!("WNLI is a classification");
        };
        assert_eq!(names, ["not_entailment", "entailment"]);
        assert_eq!(Task::Stsb.label_kind().num_labels(), 1);
        assert_eq!(Task::Ax.label_kind().num_labels(), 3);
        assert_eq!(Task::Mrpc.metrics(), [Metric::F1, Metric::Accuracy]);
        assert_eq!(Task::Stsb.metrics(), [Metric::Pearson, Metric::Spearman]);
        assert_eq!(Task::Mrpc.reference_metric(), Metric::Accuracy);
    }
}
