//! A GLUE submission zip written atomically and read back.

use std::io::Read;

use hashformer_glue::{Prediction, Submission, Target, Task};
use hashformer_testkit::TempDir;

fn predictions(task: Task) -> Vec<Prediction> {
    (0..3u64)
        .rev()
        .map(|index| Prediction {
            index,
            label: match task {
                Task::Stsb => Target::Score(index as f32 * 2.4),
                _ => Target::Class(index as usize % task.label_kind().num_labels()),
            },
        })
        .collect()
}

#[test]
fn zip_holds_every_task_file() {
    let dir = TempDir::new("glue-zip");
    let path = dir.join("submission.zip");
    std::fs::write(&path, b"an older file").unwrap();
    let mut submission = Submission::new();
    for task in Task::ALL {
        submission.add(task, &predictions(task)).unwrap();
    }
    assert!(submission.missing().is_empty());
    submission.write_zip(&path).unwrap();

    let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let names: Vec<String> = zip.file_names().map(str::to_owned).collect();
    let mut expected: Vec<&str> = Task::ALL.iter().map(|t| t.submission_file()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected);
    let mut read = |name: &str| {
        let mut text = String::new();
        zip.by_name(name)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    };
    assert_eq!(read("CoLA.tsv"), "index\tprediction\n0\t0\n1\t1\n2\t0\n");
    assert_eq!(
        read("STS-B.tsv"),
        "index\tprediction\n0\t0.000\n1\t2.400\n2\t4.800\n"
    );
    assert_eq!(
        read("MNLI-mm.tsv"),
        "index\tprediction\n0\tentailment\n1\tneutral\n2\tcontradiction\n"
    );
    assert_eq!(
        read("AX.tsv"),
        "index\tprediction\n0\tentailment\n1\tneutral\n2\tcontradiction\n"
    );
    assert_eq!(
        read("QNLI.tsv"),
        "index\tprediction\n0\tentailment\n1\tnot_entailment\n2\tentailment\n"
    );

    // Same predictions, same bytes; no temporary file left behind.
    let first = std::fs::read(&path).unwrap();
    submission.write_zip(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), first);
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["submission.zip"]);
}

#[test]
fn unwritable_destination_is_an_error() {
    let dir = TempDir::new("glue-nodir");
    let path = dir.join("missing").join("submission.zip");
    let err = Submission::new().write_zip(&path).unwrap_err();
    assert!(err.to_string().contains("submission.zip"), "{err}");
}

#[test]
fn predictions_may_use_the_class_names_a_classifier_prints() {
    let read = |text: &str| {
        hashformer_glue::read_predictions_from(
            text.as_bytes(),
            std::path::Path::new("p.tsv"),
            Task::Sst2,
        )
    };
    let named = read("index\tprediction\n0\tpositive\n1\tnegative\n").unwrap();
    let numbered = read("index\tprediction\n0\t1\n1\t0\n").unwrap();
    assert_eq!(named, numbered);
    let err = read("index\tprediction\n0\tgood\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("0 or 1 (or negative or positive)"), "{err}");
}
