//! Prediction files and GLUE submission archives. A prediction file is what the GLUE server
//! takes for one task: a header `index\tprediction`, then one row per test example with the
//! task's label string (`0`/`1` for CoLA, SST-2, MRPC, QQP and WNLI; `entailment`/… for MNLI,
//! QNLI, RTE and AX) or, for STS-B, the score with 3 decimals clamped to `[0, 5]`. A
//! submission is a zip of such files (`CoLA.tsv`, …, `AX.tsv`) at its root, written
//! atomically. `hashformer evaluate` reads the same format for dev predictions.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Write};
use std::path::Path;

use hashformer_train::Target;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::error::{write_atomic, Error, Result};
use crate::read::{parse_label, ScoreRange};
use crate::task::{LabelKind, Task};
use crate::tsv::{fields, unique_index, Header, Lines};

/// The header of a prediction file.
pub const PREDICTION_HEADER: &str = "index\tprediction";

/// A model's prediction for one example.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction {
    /// The example's index ([`crate::Example::index`]).
    pub index: u64,
    /// The predicted class or score.
    pub label: Target,
}

/// The label as a prediction file writes it.
fn format_label(task: Task, label: Target) -> Result<String> {
    let mismatch = |expected: String| Error::LabelMismatch {
        task,
        label: format!("{label:?}"),
        expected,
    };
    match (task.label_kind(), label) {
        (LabelKind::Classification { file_labels, .. }, Target::Class(c)) => file_labels
            .get(c)
            .map(|&s| s.to_owned())
            .ok_or_else(|| mismatch(format!("a class below {}", file_labels.len()))),
        (LabelKind::Regression { min, max }, Target::Score(s)) if s.is_finite() => {
            Ok(format!("{:.3}", s.clamp(min, max)))
        }
        (LabelKind::Classification { .. }, _) => Err(mismatch("a class".to_owned())),
        (LabelKind::Regression { .. }, _) => Err(mismatch("a finite score".to_owned())),
    }
}

/// Formats `predictions` as a prediction file for `task`, sorted by index.
///
/// # Errors
/// [`Error::LabelMismatch`] for a label the task does not have (or a non-finite score),
/// [`Error::RepeatedIndex`].
pub fn format_predictions(task: Task, predictions: &[Prediction]) -> Result<String> {
    let mut sorted: Vec<&Prediction> = predictions.iter().collect();
    sorted.sort_by_key(|p| p.index);
    if let Some(pair) = sorted.windows(2).find(|w| w[0].index == w[1].index) {
        return Err(Error::RepeatedIndex {
            what: "predictions",
            index: pair[0].index,
        });
    }
    let mut text = format!("{PREDICTION_HEADER}\n");
    for p in sorted {
        text.push_str(&format!("{}\t{}\n", p.index, format_label(task, p.label)?));
    }
    Ok(text)
}

/// Writes `predictions` of `task` to `path` atomically, as [`format_predictions`] formats
/// them.
///
/// # Errors
/// Those of [`format_predictions`]; [`Error::Io`] if the file cannot be written.
pub fn write_predictions(path: &Path, task: Task, predictions: &[Prediction]) -> Result<()> {
    let text = format_predictions(task, predictions)?;
    write_atomic(path, text.as_bytes())?;
    Ok(())
}

/// Reads a prediction file of `task` (header `index\tprediction`; other columns are
/// ignored). STS-B scores may be any finite number.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read, and those of [`read_predictions_from`].
pub fn read_predictions(path: &Path, task: Task) -> Result<Vec<Prediction>> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    read_predictions_from(BufReader::new(file), path, task)
}

/// Reads prediction rows of `task` from `reader`; `file` names it in errors.
///
/// # Errors
/// [`Error::EmptyFile`], [`Error::MissingColumn`], [`Error::FieldCount`],
/// [`Error::InvalidUtf8`], [`Error::BadField`] (bad index or label, with file, line and
/// field), [`Error::DuplicateIndex`].
pub fn read_predictions_from<R: BufRead>(
    reader: R,
    file: &Path,
    task: Task,
) -> Result<Vec<Prediction>> {
    let mut lines = Lines::new(reader, file);
    let Some((_, header)) = lines.next_line()? else {
        return Err(Error::EmptyFile { file: file.into() });
    };
    let header = Header::parse(&header);
    let index_col = header.find("index", file)?;
    let label_col = header.find("prediction", file)?;
    let mut seen: HashMap<u64, usize> = HashMap::new();
    let mut out = Vec::new();
    while let Some((line_no, line)) = lines.next_line()? {
        let f = fields(&line, &header, lines.at(line_no))?;
        let index = unique_index(&mut seen, f[index_col], "index", line_no, lines.at(line_no))?;
        let label = parse_label(
            task,
            f[label_col],
            "prediction",
            ScoreRange::Finite,
            lines.at(line_no),
        )?;
        out.push(Prediction { index, label });
    }
    Ok(out)
}

/// A GLUE submission being put together: one prediction file per task.
///
/// ```
/// use hashformer_glue::{Target, Prediction, Submission, Task};
///
/// let mut submission = Submission::new();
/// let preds = [Prediction { index: 0, label: Target::Class(1) }];
/// submission.add(Task::Sst2, &preds)?;
/// assert_eq!(submission.file(Task::Sst2), Some(&b"index\tprediction\n0\t1\n"[..]));
/// assert_eq!(submission.missing().len(), 10);
/// # Ok::<(), hashformer_glue::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Submission {
    files: BTreeMap<Task, Vec<u8>>,
}

impl Submission {
    /// An empty submission.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the test-set predictions of `task`.
    ///
    /// # Errors
    /// [`Error::DuplicateTask`] if `task` is already in, and those of
    /// [`format_predictions`].
    pub fn add(&mut self, task: Task, predictions: &[Prediction]) -> Result<()> {
        if self.files.contains_key(&task) {
            return Err(Error::DuplicateTask { task });
        }
        let text = format_predictions(task, predictions)?;
        self.files.insert(task, text.into_bytes());
        Ok(())
    }

    /// The prediction file of `task`, if added.
    pub fn file(&self, task: Task) -> Option<&[u8]> {
        self.files.get(&task).map(Vec::as_slice)
    }

    /// The tasks GLUE expects that have no predictions yet (the server rejects an incomplete
    /// submission).
    pub fn missing(&self) -> Vec<Task> {
        Task::ALL
            .into_iter()
            .filter(|t| !self.files.contains_key(t))
            .collect()
    }

    /// Writes the zip archive to `path` atomically (temp file + rename): each task's file
    /// under its [`Task::submission_file`] name, deflated, in leaderboard order, with a fixed
    /// timestamp so the same predictions give the same bytes.
    ///
    /// # Errors
    /// [`Error::Zip`] if the archive cannot be built, [`Error::Io`] if it cannot be
    /// written.
    pub fn write_zip(&self, path: &Path) -> Result<()> {
        let zip_err = |source| Error::Zip {
            path: path.to_owned(),
            source,
        };
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(DateTime::default())
            .unix_permissions(0o644);
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        for (task, bytes) in &self.files {
            zip.start_file(task.submission_file(), options)
                .map_err(zip_err)?;
            zip.write_all(bytes)
                .map_err(|e| zip_err(zip::result::ZipError::Io(e)))?;
        }
        let bytes = zip.finish().map_err(zip_err)?.into_inner();
        write_atomic(path, &bytes)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(index: u64, c: usize) -> Prediction {
        Prediction {
            index,
            label: Target::Class(c),
        }
    }

    fn written(task: Task, preds: &[Prediction]) -> Result<String> {
        format_predictions(task, preds)
    }

    #[test]
    fn label_strings_per_task() {
        let preds = [class(1, 0), class(0, 2)];
        assert_eq!(
            written(Task::MnliMismatched, &preds).unwrap(),
            "index\tprediction\n0\tcontradiction\n1\tentailment\n"
        );
        assert_eq!(
            written(Task::Rte, &[class(0, 1)]).unwrap(),
            "index\tprediction\n0\tnot_entailment\n"
        );
        assert_eq!(
            written(Task::Cola, &[class(0, 1)]).unwrap(),
            "index\tprediction\n0\t1\n"
        );
        let scores = [-0.5, 2.0, 2.12345, 7.0].map(Target::Score);
        let preds: Vec<_> = (0..4)
            .map(|i| Prediction {
                index: i,
                label: scores[i as usize],
            })
            .collect();
        assert_eq!(
            written(Task::Stsb, &preds).unwrap(),
            "index\tprediction\n0\t0.000\n1\t2.000\n2\t2.123\n3\t5.000\n"
        );
    }

    #[test]
    fn bad_predictions() {
        let err = written(Task::Sst2, &[class(0, 2)]).unwrap_err();
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
        let nan = Prediction {
            index: 0,
            label: Target::Score(f32::NAN),
        };
        assert!(matches!(
            written(Task::Stsb, &[nan]),
            Err(Error::LabelMismatch { .. })
        ));
        assert!(matches!(
            written(Task::Stsb, &[class(0, 0)]),
            Err(Error::LabelMismatch { .. })
        ));
        assert!(matches!(
            written(Task::Cola, &[class(3, 0), class(3, 1)]),
            Err(Error::RepeatedIndex { index: 3, .. })
        ));
        let mut s = Submission::new();
        s.add(Task::Cola, &[]).unwrap();
        assert!(matches!(
            s.add(Task::Cola, &[]),
            Err(Error::DuplicateTask { task: Task::Cola })
        ));
    }

    #[test]
    fn reads_what_it_writes() {
        let text = written(Task::Qnli, &[class(0, 1), class(1, 0)]).unwrap();
        let back = read_predictions_from(text.as_bytes(), Path::new("p.tsv"), Task::Qnli);
        assert_eq!(back.unwrap(), [class(0, 1), class(1, 0)]);
        let text = "prediction\tindex\r\n-7.5\t4\r\n";
        let back = read_predictions_from(text.as_bytes(), Path::new("p.tsv"), Task::Stsb);
        assert_eq!(
            back.unwrap(),
            [Prediction {
                index: 4,
                label: Target::Score(-7.5)
            }]
        );
    }

    #[test]
    fn prediction_file_errors() {
        for (task, text, message) in [
            (
                Task::Sst2,
                "index\tprediction\n0\t1\n1\tgood\n",
                "p.tsv line 3, field \"prediction\": expected 0 or 1 (or negative or positive), \
                 got \"good\"",
            ),
            (
                Task::Stsb,
                "index\tprediction\n0\tNaN\n",
                "p.tsv line 2, field \"prediction\": expected a finite number, got \"NaN\"",
            ),
            (
                Task::Sst2,
                "index\tprediction\n0\t1\n0\t0\n",
                "p.tsv line 3: index 0 already on line 2",
            ),
            (
                Task::Sst2,
                "index\tlabel\n",
                "p.tsv: no column \"prediction\" in the header (found [\"index\", \"label\"])",
            ),
            (Task::Sst2, "", "p.tsv: empty file, expected a header line"),
        ] {
            let err = read_predictions_from(text.as_bytes(), Path::new("p.tsv"), task);
            assert_eq!(err.unwrap_err().to_string(), message);
        }
    }
}
