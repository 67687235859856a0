//! File readers: GLUE TSV, prediction files, metrics logs and corpora. Each takes the input
//! as a file's bytes (the first byte choosing a task, split or format where there is a
//! choice); an error naming the file is the expected answer to bad bytes.

use std::io::Cursor;
use std::path::Path;

use hashformer_corpus::{count_words, CorpusFormat, CorpusReader, Packer};
use hashformer_glue::{read_from, read_predictions_from, Split, Task};
use hashformer_report::{read_metrics, MetricsLog};

use crate::scratch;

/// Documents read per corpus input (the reader streams; more adds nothing but time).
const CORPUS_DOCUMENTS: usize = 64;

/// The task (and a second choice, 0..=255 / 11) the first byte picks; the rest of the input.
fn pick_task(data: &[u8]) -> (Task, u8, &[u8]) {
    let (&first, rest) = data.split_first().unwrap_or((&0, &[]));
    let task = Task::ALL[usize::from(first) % Task::ALL.len()];
    (task, first / 11, rest)
}

/// A GLUE task file of any task and split.
pub(crate) fn glue_tsv(data: &[u8]) {
    let (task, choice, file) = pick_task(data);
    let split = [Split::Train, Split::Dev, Split::Test][usize::from(choice) % 3];
    let path = Path::new("fuzz.tsv");
    if let Ok(examples) = read_from(Cursor::new(file), path, task, split) {
        let lines = file.split(|&b| b == b'\n').count();
        assert!(
            examples.len() <= lines,
            "{} examples from {lines} lines",
            examples.len()
        );
    }
}

/// A predictions file (`index<TAB>prediction`) of any task.
pub(crate) fn predictions_tsv(data: &[u8]) {
    let (task, _, file) = pick_task(data);
    let _ = read_predictions_from(Cursor::new(file), Path::new("fuzz.tsv"), task);
}

/// A metrics log: read whole, then truncated for a resume at the step the first byte names.
pub(crate) fn metrics_jsonl(data: &[u8]) {
    let path = scratch::file("metrics.jsonl", data);
    if read_metrics(&path).is_ok() {
        let step = u64::from(data.first().copied().unwrap_or(0));
        if MetricsLog::resume(&path, step).is_ok() {
            let kept = read_metrics(&path).expect("a resumed log reads back");
            assert!(
                kept.iter()
                    .all(|r| r.get("step").and_then(serde_json::Value::as_u64) <= Some(step)),
                "a record after step {step} kept"
            );
        }
    }
}

/// A corpus file in the format the first byte picks, its documents packed into chunks of
/// at most the words the second byte picks.
pub(crate) fn corpus(data: &[u8]) {
    let (format, max_words, file) = match data {
        [f, w, rest @ ..] => {
            let format = [
                CorpusFormat::Auto,
                CorpusFormat::WikiExtractor,
                CorpusFormat::PlainText,
            ][usize::from(*f) % 3];
            (format, usize::from(*w % 64) + 2, rest)
        }
        _ => (CorpusFormat::Auto, 8, data),
    };
    let path = scratch::file("corpus.txt", file);
    let packer = Packer::new(max_words, 2).expect("2 ≤ min ≤ max words");
    for document in CorpusReader::new(vec![path], format).take(CORPUS_DOCUMENTS) {
        let Ok(document) = document else { break };
        for chunk in packer.pack(&document.paragraphs) {
            assert!(
                chunk.words <= max_words,
                "{} > {max_words} words",
                chunk.words
            );
            assert_eq!(chunk.words, count_words(&chunk.text));
            assert!(!chunk.text.contains(['\n', '\r']));
        }
    }
}
