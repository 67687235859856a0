//! Readers of the official GLUE TSV files (method §8): columns are found by header name, so the
//! 16-column GLUE MNLI layout and reduced copies read alike; CoLA's train and dev files have no
//! header and 4 columns (`source`, `label`, `original_mark`, `sentence`). Mirrors the HF
//! `datasets` GLUE loader the reference uses, except that a malformed row is an error naming
//! file, line and field instead of being skipped.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use hashformer_train::{Example, Target};

use crate::error::{Error, Position, Result};
use crate::task::{LabelKind, Split, Task};
use crate::tsv::{fields, unique_index, Header, Lines};

/// CoLA's train and dev files have no header; these names stand in for it.
const COLA_COLUMNS: [&str; 4] = ["source", "label", "original_mark", "sentence"];

/// Which range of scores [`parse_label`] accepts for a regression task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScoreRange {
    /// Gold scores must lie in the task's range (STS-B: 0 to 5).
    Task,
    /// Predictions may be any finite number (they are clamped only on submission).
    Finite,
}

/// Parses `field` as a label of `task`: one of the task's file label strings, or a score.
///
/// # Errors
/// [`Error::BadField`] at `at`, naming column `name` and what was expected.
pub(crate) fn parse_label(
    task: Task,
    field: &str,
    name: &str,
    range: ScoreRange,
    at: Position,
) -> Result<Target> {
    let (parsed, expected) = match task.label_kind() {
        // The file's labels (`0`/`1`), or the class names a classifier prints (`positive`).
        LabelKind::Classification { file_labels, names } => (
            file_labels
                .iter()
                .position(|&l| l == field)
                .or_else(|| names.iter().position(|&l| l == field))
                .map(Target::Class),
            if file_labels == names {
                one_of(file_labels)
            } else {
                format!("{} (or {})", one_of(file_labels), one_of(names))
            },
        ),
        LabelKind::Regression { min, max } => {
            let score = field.parse::<f32>().ok().filter(|s| match range {
                ScoreRange::Task => (min..=max).contains(s),
                ScoreRange::Finite => s.is_finite(),
            });
            let expected = match range {
                ScoreRange::Task => format!("a number from {min} to {max}"),
                ScoreRange::Finite => "a finite number".to_owned(),
            };
            (score.map(Target::Score), expected)
        }
    };
    parsed.ok_or_else(|| Error::BadField {
        at,
        field: name.to_owned(),
        expected,
        got: field.to_owned(),
    })
}

/// `0 or 1`, `entailment, neutral or contradiction`.
fn one_of(labels: &[&str]) -> String {
    match labels {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Reads `split` of `task` from the GLUE data directory `glue_dir` (the folder holding
/// `CoLA/`, `SST-2/`, …): `glue_dir/<Task::dir_name>/<Task::file_name>`.
///
/// # Errors
/// [`Error::NoSuchSplit`], and those of [`read_file`].
pub fn read_split(glue_dir: &Path, task: Task, split: Split) -> Result<Vec<Example>> {
    let name = task
        .file_name(split)
        .ok_or(Error::NoSuchSplit { task, split })?;
    read_file(&glue_dir.join(task.dir_name()).join(name), task, split)
}

/// Reads a file in the layout of `split` of `task`.
///
/// # Errors
/// [`Error::Io`] if it cannot be read, and those of [`read_from`].
pub fn read_file(path: &Path, task: Task, split: Split) -> Result<Vec<Example>> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    read_from(BufReader::new(file), path, task, split)
}

/// Reads GLUE rows of `split` of `task` from `reader`; `file` names it in errors.
///
/// # Errors
/// [`Error::NoSuchSplit`]; [`Error::InvalidUtf8`], [`Error::EmptyFile`],
/// [`Error::MissingColumn`], [`Error::FieldCount`]; [`Error::BadField`] for a label the task
/// does not have or a bad test index; [`Error::DuplicateIndex`] in a test file.
pub fn read_from<R: BufRead>(
    reader: R,
    file: &Path,
    task: Task,
    split: Split,
) -> Result<Vec<Example>> {
    if task.file_name(split).is_none() {
        return Err(Error::NoSuchSplit { task, split });
    }
    let mut lines = Lines::new(reader, file);
    let header = if task == Task::Cola && split != Split::Test {
        Header::fixed(&COLA_COLUMNS)
    } else {
        match lines.next_line()? {
            Some((_, line)) => Header::parse(&line),
            None => return Err(Error::EmptyFile { file: file.into() }),
        }
    };
    let columns = task.text_columns();
    let a = header.find(columns.a, file)?;
    let b = columns.b.map(|c| header.find(c, file)).transpose()?;
    let (label, index) = match split {
        Split::Test => (None, Some(header.find(task.index_column(), file)?)),
        Split::Train | Split::Dev => (Some(header.find(task.label_column(), file)?), None),
    };
    let mut examples = Vec::new();
    let mut seen: HashMap<u64, usize> = HashMap::new();
    while let Some((line_no, line)) = lines.next_line()? {
        let f = fields(&line, &header, lines.at(line_no))?;
        let label = label
            .map(|i| {
                parse_label(
                    task,
                    f[i],
                    header.name(i),
                    ScoreRange::Task,
                    lines.at(line_no),
                )
            })
            .transpose()?;
        let index = match index {
            Some(i) => unique_index(&mut seen, f[i], header.name(i), line_no, lines.at(line_no))?,
            None => examples.len() as u64,
        };
        examples.push(Example {
            index,
            text_a: f[a].to_owned(),
            text_b: b.map(|i| f[i].to_owned()),
            target: label,
        });
    }
    Ok(examples)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(task: Task, split: Split, text: &str) -> Result<Vec<Example>> {
        read_from(text.as_bytes(), Path::new("X/dev.tsv"), task, split)
    }

    fn ex(index: u64, a: &str, b: Option<&str>, target: Option<Target>) -> Example {
        Example {
            index,
            text_a: a.into(),
            text_b: b.map(Into::into),
            target,
        }
    }

    #[test]
    fn layouts() {
        let cola = "gj04\t1\t\tThe sailors rode.\ngj04\t0\t*\tRode \"the\" sailors.";
        assert_eq!(
            read(Task::Cola, Split::Dev, cola).unwrap(),
            [
                ex(0, "The sailors rode.", None, Some(Target::Class(1))),
                ex(1, "Rode \"the\" sailors.", None, Some(Target::Class(0))),
            ]
        );
        let mrpc = "\u{feff}Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n1\t1\t2\t\"A\tB\r\n";
        assert_eq!(
            read(Task::Mrpc, Split::Train, mrpc).unwrap(),
            [ex(0, "\"A", Some("B"), Some(Target::Class(1)))]
        );
        let mnli = "index\tgold_label\tsentence2\tsentence1\n7\tcontradiction\th\tp\n";
        assert_eq!(
            read(Task::MnliMismatched, Split::Dev, mnli).unwrap(),
            [ex(0, "p", Some("h"), Some(Target::Class(2)))]
        );
        let stsb = "index\tsentence1\tsentence2\tscore\n0\ta\tb\t3.800\n";
        assert_eq!(
            read(Task::Stsb, Split::Dev, stsb).unwrap(),
            [ex(0, "a", Some("b"), Some(Target::Score(3.8)))]
        );
        let qqp_test = "id\tquestion1\tquestion2\n5\tq1\tq2\n3\tr1\tr2\n";
        assert_eq!(
            read(Task::Qqp, Split::Test, qqp_test).unwrap(),
            [ex(5, "q1", Some("q2"), None), ex(3, "r1", Some("r2"), None)]
        );
        let cola_test = "index\tsentence\n0\tA b.\n";
        assert_eq!(
            read(Task::Cola, Split::Test, cola_test).unwrap(),
            [ex(0, "A b.", None, None)]
        );
    }

    #[test]
    fn malformed_rows_name_file_line_and_field() {
        for (task, split, text, message) in [
            (
                Task::Cola,
                Split::Train,
                "s\t1\t\ta\ns\tx\t\tb\n",
                "X/dev.tsv line 2, field \"label\": expected 0 or 1 (or unacceptable or \
                 acceptable), got \"x\"",
            ),
            (
                Task::Rte,
                Split::Dev,
                "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tneutral\n",
                "X/dev.tsv line 2, field \"label\": expected entailment or not_entailment, \
                 got \"neutral\"",
            ),
            (
                Task::Stsb,
                Split::Train,
                "sentence1\tsentence2\tscore\na\tb\t5.1\n",
                "X/dev.tsv line 2, field \"score\": expected a number from 0 to 5, got \"5.1\"",
            ),
            (
                Task::Sst2,
                Split::Dev,
                "sentence\tlabel\na\t1\nb\n",
                "X/dev.tsv line 3: expected 2 tab-separated fields, got 1",
            ),
            (
                Task::Sst2,
                Split::Dev,
                "sentence\tlabel\na\t1\n\nb\t0\n",
                "X/dev.tsv line 3: expected 2 tab-separated fields, got 1",
            ),
            (
                Task::Sst2,
                Split::Dev,
                "sentence\tpolarity\n",
                "X/dev.tsv: no column \"label\" in the header (found [\"sentence\", \"polarity\"])",
            ),
            (
                Task::Sst2,
                Split::Test,
                "index\tsentence\n0\ta\n0\tb\n",
                "X/dev.tsv line 3: index 0 already on line 2",
            ),
            (
                Task::Sst2,
                Split::Test,
                "index\tsentence\n-1\ta\n",
                "X/dev.tsv line 2, field \"index\": expected a non-negative integer index, \
                 got \"-1\"",
            ),
            (
                Task::Rte,
                Split::Dev,
                "",
                "X/dev.tsv: empty file, expected a header line",
            ),
            (Task::Ax, Split::Dev, "", "AX has no Dev split"),
        ] {
            let err = read(task, split, text).unwrap_err();
            assert_eq!(err.to_string(), message, "{task} {split:?} {text:?}");
        }
    }

    #[test]
    fn trailing_empty_lines_and_missing_newline_are_fine() {
        let text = "sentence\tlabel\na\t1\n\n\n";
        assert_eq!(read(Task::Sst2, Split::Dev, text).unwrap().len(), 1);
        let text = "sentence\tlabel\na\t1";
        assert_eq!(read(Task::Sst2, Split::Dev, text).unwrap().len(), 1);
        let text = "sentence\tlabel\n";
        assert_eq!(read(Task::Sst2, Split::Dev, text).unwrap(), []);
    }
}
