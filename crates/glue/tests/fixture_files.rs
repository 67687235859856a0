//! Small checked-in files: a good one with every quirk GLUE files have, and bad ones, each
//! with its exact error.

use std::path::PathBuf;

use hashformer_glue::{read_file, read_predictions, Error, Split, Target, Task};

fn fixture(name: &str) -> PathBuf {
    hashformer_testkit::manifest_dir!()
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn bom_crlf_quotes_and_no_final_newline() {
    let examples = read_file(&fixture("good/mrpc_bom_crlf.tsv"), Task::Mrpc, Split::Dev).unwrap();
    assert_eq!(examples.len(), 2);
    assert_eq!(examples[0].text_a, "He called \"the witness\", of course.");
    assert_eq!(
        examples[0].text_b.as_deref(),
        Some("\"The witness\" was called.")
    );
    assert_eq!(examples[0].target, Some(Target::Class(1)));
    assert_eq!(examples[1].index, 1);
    assert_eq!(examples[1].text_b.as_deref(), Some("B."));
}

#[test]
fn bad_files_name_file_line_and_field() {
    for (name, task, message) in [
        (
            "bad/ragged.tsv",
            Task::Rte,
            "line 3: expected 4 tab-separated fields, got 3",
        ),
        (
            "bad/invalid_utf8.tsv",
            Task::Sst2,
            "line 3: not valid UTF-8",
        ),
        (
            "bad/cola_label.tsv",
            Task::Cola,
            "line 2, field \"label\": expected 0 or 1 (or unacceptable or acceptable), got \"x\"",
        ),
    ] {
        let path = fixture(name);
        let err = read_file(&path, task, Split::Train).unwrap_err();
        assert_eq!(err.to_string(), format!("{} {message}", path.display()));
    }
    let path = fixture("bad/ragged.tsv");
    let err = read_file(&path, Task::Rte, Split::Dev).unwrap_err();
    assert!(matches!(
        err,
        Error::FieldCount { at, expected: 4, got: 3 } if at.line == 3 && at.file == path
    ));
}

#[test]
fn bad_prediction_file() {
    let path = fixture("bad/stsb_predictions.tsv");
    let err = read_predictions(&path, Task::Stsb).unwrap_err();
    let Error::BadField {
        at,
        field,
        expected,
        got,
    } = err
    else {
        panic!("expected BadField, got {err:?}");
    };
    assert_eq!(
        (at.line, field.as_str(), got.as_str()),
        (3, "prediction", "inf")
    );
    assert_eq!(expected, "a finite number");
}

#[test]
fn missing_file_is_an_io_error() {
    let path = fixture("absent.tsv");
    let err = read_file(&path, Task::Sst2, Split::Dev).unwrap_err();
    assert!(
        matches!(&err, Error::Io { path: p, .. } if *p == path),
        "{err}"
    );
}
