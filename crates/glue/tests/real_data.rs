//! Every GLUE file under `$HASHFORMER_DATA/glue` reads, with the official row counts.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use hashformer_glue::{read_split, Split, Target, Task};

/// Data rows of a TSV file as `wc -l` counts them, plus an unterminated last line, minus the
/// header (CoLA's train and dev files have none).
fn rows_by_wc(path: &Path, header: bool) -> usize {
    let bytes = std::fs::read(path).unwrap();
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
    let unterminated = usize::from(bytes.last().is_some_and(|&b| b != b'\n'));
    newlines + unterminated - usize::from(header)
}

/// The official GLUE split sizes (shared/data/README.md; MNLI dev_matched here is a reduced
/// 4-column copy with all 9815 rows).
const EXPECTED: [(Task, Split, usize); 14] = [
    (Task::Cola, Split::Train, 8551),
    (Task::Cola, Split::Dev, 1043),
    (Task::Sst2, Split::Train, 67349),
    (Task::Sst2, Split::Dev, 872),
    (Task::Mrpc, Split::Train, 3668),
    (Task::Mrpc, Split::Dev, 408),
    (Task::Stsb, Split::Train, 5749),
    (Task::Stsb, Split::Dev, 1500),
    (Task::MnliMatched, Split::Dev, 9815),
    (Task::Qnli, Split::Dev, 5463),
    (Task::Rte, Split::Train, 2490),
    (Task::Rte, Split::Dev, 277),
    (Task::Wnli, Split::Train, 635),
    (Task::Wnli, Split::Dev, 71),
];

#[test]
fn every_glue_file_reads() {
    let Some(glue) = common::glue_dir() else {
        return;
    };
    let mut found = Vec::new();
    for task in Task::ALL {
        for split in [Split::Train, Split::Dev, Split::Test] {
            let Some(name) = task.file_name(split) else {
                continue;
            };
            let path = glue.join(task.dir_name()).join(name);
            if !path.is_file() {
                continue;
            }
            let examples =
                read_split(&glue, task, split).unwrap_or_else(|e| panic!("{task} {split:?}: {e}"));
            let header = !(task == Task::Cola && split != Split::Test);
            assert_eq!(
                examples.len(),
                rows_by_wc(&path, header),
                "{}",
                path.display()
            );
            for (row, ex) in examples.iter().enumerate() {
                assert_eq!(ex.index, row as u64);
                assert!(!ex.text_a.is_empty(), "{} row {row}", path.display());
                assert_eq!(ex.text_b.is_some(), task.text_columns().b.is_some());
                assert_eq!(ex.target.is_some(), split != Split::Test);
            }
            found.push((task, split, examples.len()));
        }
    }
    assert_eq!(found, EXPECTED);
}

#[test]
fn dev_index_columns_equal_row_numbers() {
    // The convention `evaluate` relies on: a GLUE dev file's own `index` column, where it has
    // one, is the 0-based row number.
    let Some(glue) = common::glue_dir() else {
        return;
    };
    for (task, file) in [
        (Task::Stsb, "dev.tsv"),
        (Task::Rte, "dev.tsv"),
        (Task::Wnli, "dev.tsv"),
        (Task::Qnli, "dev.tsv"),
        (Task::MnliMatched, "dev_matched.tsv"),
    ] {
        let text = std::fs::read_to_string(glue.join(task.dir_name()).join(file)).unwrap();
        for (row, line) in text.lines().skip(1).enumerate() {
            assert_eq!(
                line.split('\t').next(),
                Some(row.to_string().as_str()),
                "{task}"
            );
        }
    }
}

#[test]
fn label_counts_match_glue() {
    let Some(glue) = common::glue_dir() else {
        return;
    };
    let counts = |task, split| {
        let mut c = BTreeMap::new();
        for ex in read_split(&glue, task, split).unwrap() {
            let Some(Target::Class(k)) = ex.target else {
                panic!("{task}: not a class");
            };
            *c.entry(k).or_insert(0) += 1;
        }
        c.into_values().collect::<Vec<usize>>()
    };
    // entailment, neutral, contradiction (shared/data/README.md)
    assert_eq!(counts(Task::MnliMatched, Split::Dev), [3479, 3123, 3213]);
    assert_eq!(counts(Task::Wnli, Split::Train), [323, 312]);
    let stsb = read_split(&glue, Task::Stsb, Split::Dev).unwrap();
    assert_eq!(stsb[0].target, Some(Target::Score(5.0)));
    assert!(stsb
        .iter()
        .all(|e| matches!(e.target, Some(Target::Score(s)) if (0.0..=5.0).contains(&s))));
}
