//! Tests of the prepared corpus: prepare → open round trips, held-out documents, reuse and
//! atomicity, damage detection, progress, epoch orders, and one real-data run.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use hashformer_corpus::Error;
use hashformer_corpus::{
    count_words, prepare, prepare_with_progress, CorpusFormat, CorpusMeta, CorpusReader,
    DataPosition, EpochOrder, PrepareConfig, PreparedCorpus, Split, META_FILE,
};
use hashformer_testkit::{shared_data, TempDir};

fn fixture(name: &str) -> PathBuf {
    hashformer_testkit::manifest_dir!()
        .join("tests/fixtures/corpus")
        .join(name)
}

/// A plain-text corpus of `n` documents whose words name their document (`d7w0 d7w1 …`).
fn numbered_corpus(path: &Path, n: usize) {
    let mut text = String::new();
    for d in 0..n {
        for p in 0..1 + d % 3 {
            let words: Vec<String> = (0..1 + (d * 7 + p * 3) % 9)
                .map(|w| format!("d{d}w{p}{w}"))
                .collect();
            text.push_str(&words.join(" "));
            text.push('\n');
        }
        text.push('\n');
    }
    fs::write(path, text).unwrap();
}

/// The document a chunk came from, read off its words; panics if it mixes documents.
fn chunk_document(chunk: &str) -> u64 {
    let docs: BTreeSet<u64> = chunk
        .split(' ')
        .map(|w| w[1..w.find('w').unwrap()].parse().unwrap())
        .collect();
    assert_eq!(docs.len(), 1, "chunk crosses documents: {chunk:?}");
    docs.into_iter().next().unwrap()
}

fn all_chunks(corpus: &PreparedCorpus, split: Split) -> Vec<String> {
    let mut file = corpus.split(split).unwrap();
    let indices: Vec<u64> = (0..file.len()).collect();
    file.get_many(&indices).unwrap()
}

fn small_config() -> PrepareConfig {
    PrepareConfig {
        max_words: 5,
        min_words: 2,
        valid_every: 4,
        max_valid_chunks: 6,
        ..PrepareConfig::default()
    }
}

#[test]
fn prepare_then_open_round_trip() {
    let tmp = TempDir::new("round-trip");
    let input = tmp.join("docs.txt");
    numbered_corpus(&input, 40);
    let out = tmp.join("prepared");
    let config = small_config();
    let corpus = prepare(std::slice::from_ref(&input), &out, &config).unwrap();
    let reopened = PreparedCorpus::open(&out).unwrap();
    assert_eq!(reopened.meta(), corpus.meta());

    // Expected: pack every document independently, then route whole documents.
    let packer = config.packer().unwrap();
    let (mut train, mut valid) = (Vec::new(), Vec::new());
    for (index, doc) in CorpusReader::new(vec![input.clone()], CorpusFormat::Auto).enumerate() {
        let chunks = packer.pack(&doc.unwrap().paragraphs);
        let to_valid = valid.len() < 6 && index % 4 == 0;
        let room = if to_valid {
            6 - valid.len()
        } else {
            usize::MAX
        };
        let split = if to_valid { &mut valid } else { &mut train };
        split.extend(chunks.into_iter().take(room).map(|c| c.text));
    }
    assert_eq!(all_chunks(&corpus, Split::Train), train);
    assert_eq!(all_chunks(&corpus, Split::Valid), valid);

    let meta = corpus.meta();
    assert_eq!((meta.documents_read, meta.valid.chunks), (40, 6));
    assert!(!meta.reached_max_train_chunks);
    for split in Split::ALL {
        let chunks = all_chunks(&corpus, split);
        let stats = meta.stats(split);
        let words: usize = chunks.iter().map(|c| count_words(c)).sum();
        let bytes: usize = chunks.iter().map(|c| c.len() + 1).sum();
        assert_eq!(
            (stats.chunks, stats.words, stats.bytes),
            (chunks.len() as u64, words as u64, bytes as u64)
        );
        let docs: BTreeSet<u64> = chunks.iter().map(|c| chunk_document(c)).collect();
        assert_eq!(stats.documents, docs.len() as u64);
        assert!(chunks.iter().all(|c| (2..=5).contains(&count_words(c))));
        let idx = fs::read(split.index_path(&out)).unwrap();
        assert_eq!(idx.len() as u64, 8 * (stats.chunks + 1));
        assert_eq!(idx[idx.len() - 8..], stats.bytes.to_le_bytes());
    }
    // get / get_many / out of range.
    let mut file = corpus.split(Split::Train).unwrap();
    assert_eq!(
        file.get_many(&[2, 0, 2]).unwrap(),
        [train[2].as_str(), &train[0], &train[2]]
    );
    let err = file.get(file.len()).unwrap_err();
    assert!(
        matches!(err, Error::ChunkOutOfRange { index, len, .. } if index == len),
        "{err}"
    );
}

#[test]
fn validation_never_shares_a_document_with_training() {
    let tmp = TempDir::new("disjoint");
    let input = tmp.join("docs.txt");
    numbered_corpus(&input, 60);
    let config = PrepareConfig {
        max_words: 3,
        valid_every: 5,
        max_valid_chunks: 7,
        ..small_config()
    };
    let corpus = prepare(&[input], &tmp.join("out"), &config).unwrap();
    let docs = |split| -> BTreeSet<u64> {
        all_chunks(&corpus, split)
            .iter()
            .map(|c| chunk_document(c))
            .collect()
    };
    let (train, valid) = (docs(Split::Train), docs(Split::Valid));
    assert!(train.is_disjoint(&valid), "{train:?} {valid:?}");
    assert_eq!(corpus.meta().valid.chunks, 7);
    assert!(valid.iter().all(|d| d % 5 == 0), "{valid:?}");
}

#[test]
fn max_train_chunks_stops_reading() {
    let tmp = TempDir::new("max-train");
    let input = tmp.join("docs.txt");
    numbered_corpus(&input, 60);
    let config = PrepareConfig {
        max_train_chunks: Some(5),
        ..small_config()
    };
    let corpus = prepare(&[input], &tmp.join("out"), &config).unwrap();
    let meta = corpus.meta();
    assert_eq!(meta.train.chunks, 5);
    assert!(meta.reached_max_train_chunks);
    assert!(meta.documents_read < 60, "{}", meta.documents_read);
}

fn inputs_of(tmp: &TempDir) -> Vec<PathBuf> {
    let input = tmp.join("docs.txt");
    numbered_corpus(&input, 12);
    vec![input]
}

#[test]
fn an_equal_corpus_is_reused_and_a_different_one_is_kept() {
    let tmp = TempDir::new("reuse");
    let inputs = inputs_of(&tmp);
    let out = tmp.join("out");
    let mut calls = 0;
    prepare_with_progress(&inputs, &out, &small_config(), &mut |_| calls += 1).unwrap();
    assert_eq!(calls, 1);
    // Same inputs and config: reused without reading (no progress at all).
    let again = prepare_with_progress(&inputs, &out, &small_config(), &mut |_| calls += 1);
    assert_eq!((again.unwrap().meta().config.max_words, calls), (5, 1));

    let other = PrepareConfig {
        max_words: 4,
        ..small_config()
    };
    let err = prepare(&inputs, &out, &other).unwrap_err();
    assert!(
        matches!(&err, Error::OutputExists { dir, .. } if dir == &out),
        "{err}"
    );
    assert_eq!(CorpusMeta::read(&out).unwrap().config.max_words, 5, "kept");
    // A grown input is a different corpus too.
    fs::OpenOptions::new()
        .append(true)
        .open(&inputs[0])
        .unwrap()
        .write_all(b"more words\n")
        .unwrap();
    assert!(matches!(
        prepare(&inputs, &out, &small_config()),
        Err(Error::OutputExists { .. })
    ));
    // overwrite replaces it.
    let replaced = prepare(
        &inputs,
        &out,
        &PrepareConfig {
            overwrite: true,
            ..other
        },
    )
    .unwrap();
    assert_eq!(replaced.meta().config.max_words, 4);
    assert!(!replaced.meta().config.overwrite);
}

#[test]
fn foreign_directories_are_never_replaced() {
    let tmp = TempDir::new("foreign");
    let inputs = inputs_of(&tmp);
    let out = tmp.join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("notes.txt"), "mine").unwrap();
    let config = PrepareConfig {
        overwrite: true,
        ..small_config()
    };
    assert!(matches!(
        prepare(&inputs, &out, &config),
        Err(Error::OutputExists { .. })
    ));
    assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
    // An empty directory is simply filled.
    let empty = tmp.join("empty");
    fs::create_dir(&empty).unwrap();
    prepare(&inputs, &empty, &small_config()).unwrap();
}

#[test]
fn a_directory_another_process_prepares_is_left_alone() {
    let tmp = TempDir::new("locked");
    let inputs = inputs_of(&tmp);
    let out = tmp.join("out");
    // What another live `prepare` holds: the lock beside `out`, and its temporary directory.
    let held = hashformer_files::DirLock::acquire(&tmp.join(".out.lock"), &out).unwrap();
    fs::create_dir(tmp.join("out.tmp-12345")).unwrap();
    let err = prepare(&inputs, &out, &small_config()).unwrap_err();
    assert!(matches!(err, Error::InUse(_)), "{err}");
    assert!(
        err.to_string().contains("in use by another process"),
        "{err}"
    );
    assert!(
        tmp.join("out.tmp-12345").exists(),
        "its work is not deleted"
    );
    assert!(!out.exists());
    // Once it is gone, its leftover is stale and goes.
    drop(held);
    prepare(&inputs, &out, &small_config()).unwrap();
    assert_eq!(leftovers(&tmp), Vec::<String>::new());
}

fn leftovers(tmp: &TempDir) -> Vec<String> {
    fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

#[test]
fn a_failed_prepare_leaves_nothing_behind() {
    let tmp = TempDir::new("atomic");
    let mut inputs = inputs_of(&tmp);
    let out = tmp.join("out");
    fs::create_dir(tmp.join("out.tmp-4000000000")).unwrap(); // a stale leftover
    inputs.push(fixture("truncated.txt"));
    let err = prepare(&inputs, &out, &small_config()).unwrap_err();
    assert!(matches!(err, Error::Corpus { line: 5, .. }), "{err}");
    assert!(!out.exists());
    assert_eq!(leftovers(&tmp), Vec::<String>::new());
    // With a good corpus in place, a failed overwrite keeps it.
    prepare(&inputs[..1], &out, &small_config()).unwrap();
    let config = PrepareConfig {
        overwrite: true,
        max_words: 3,
        ..small_config()
    };
    assert!(prepare(&inputs, &out, &config).is_err());
    assert_eq!(
        PreparedCorpus::open(&out).unwrap().meta().config.max_words,
        5
    );
    assert_eq!(leftovers(&tmp), Vec::<String>::new());
}

#[test]
fn open_detects_damage() {
    let tmp = TempDir::new("damage");
    let out = tmp.join("out");
    prepare(&inputs_of(&tmp), &out, &small_config()).unwrap();
    let idx = Split::Train.index_path(&out);
    let bytes = fs::read(&idx).unwrap();
    fs::write(&idx, &bytes[..bytes.len() - 8]).unwrap();
    let err = PreparedCorpus::open(&out).unwrap_err();
    assert!(
        matches!(&err, Error::PreparedCorrupt { path, .. } if path == &idx),
        "{err}"
    );
    fs::write(out.join(META_FILE), "{").unwrap();
    assert!(matches!(
        PreparedCorpus::open(&out),
        Err(Error::Json { .. })
    ));
}

#[test]
fn progress_is_reported_every_few_thousand_documents() {
    let tmp = TempDir::new("progress");
    let input = tmp.join("docs.txt");
    fs::write(&input, "w x\n\n".repeat(5000)).unwrap();
    let mut seen = Vec::new();
    prepare_with_progress(&[input], &tmp.join("out"), &small_config(), &mut |p| {
        seen.push((
            p.documents,
            p.train_chunks + p.valid_chunks,
            p.bytes_read,
            p.bytes_total,
        ))
    })
    .unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].0, 4096);
    assert_eq!(seen[1], (5000, 5000, 25000, 25000));
}

#[test]
fn epoch_orders_are_seeded_permutations() {
    let order = EpochOrder::new(42);
    for len in [0, 1, 2, 17, 1000] {
        let mut sorted = order.order(3, len);
        sorted.sort_unstable();
        assert_eq!(sorted, (0..len).collect::<Vec<_>>());
    }
    assert_eq!(order.order(0, 1000), EpochOrder::new(42).order(0, 1000));
    assert_ne!(order.order(0, 1000), order.order(1, 1000));
    assert_ne!(order.order(0, 1000), EpochOrder::new(43).order(0, 1000));
    // Pinned: a change here (e.g. a rand upgrade) changes every resumed run's data order.
    assert_eq!(
        EpochOrder::new(0).order(0, 10),
        [2, 8, 6, 1, 9, 5, 7, 4, 0, 3]
    );
}

#[test]
fn batches_roll_over_into_the_next_epoch() {
    let mut order = EpochOrder::new(5);
    let (e0, e1) = (order.order(0, 10), order.order(1, 10));
    let mut position = DataPosition::default();
    let mut batches = Vec::new();
    for _ in 0..3 {
        let (batch, next) = order.batch_indices(position, 4, 10).unwrap();
        batches.push((batch, next));
        position = next;
    }
    let at = |epoch, offset| DataPosition { epoch, offset };
    assert_eq!(batches[0], (e0[0..4].to_vec(), at(0, 4)));
    assert_eq!(
        batches[1],
        (e0[4..8].to_vec(), at(1, 0)),
        "the last 2 of epoch 0 are skipped"
    );
    assert_eq!(batches[2], (e1[0..4].to_vec(), at(1, 4)));
    // A position past a full batch (another batch size before a resume) rolls over too.
    assert_eq!(
        order.batch_indices(at(1, 8), 4, 10).unwrap().0,
        order.order(2, 10)[..4]
    );
    for (size, len) in [(0, 10), (11, 10), (1, 0)] {
        let err = order.batch_indices(at(0, 0), size, len).unwrap_err();
        assert!(matches!(err, Error::InvalidBatch { .. }), "{err}");
    }
    let json = serde_json::to_string(&at(2, 64)).unwrap();
    assert_eq!(json, r#"{"epoch":2,"offset":64}"#);
    assert_eq!(
        serde_json::from_str::<DataPosition>(&json).unwrap(),
        at(2, 64)
    );
}

/// The real corpus (`$HASHFORMER_DATA/corpus/enwiki-2014-wikiextractor/AA.txt.gz`), cut at
/// 2000 training chunks.
#[test]
fn prepares_the_real_corpus() {
    const AA: &str = "corpus/enwiki-2014-wikiextractor/AA.txt.gz";
    let Some(file) = shared_data(AA).map(|d| d.join(AA)) else {
        return;
    };
    let tmp = TempDir::new("real");
    let config = PrepareConfig {
        max_train_chunks: Some(2000),
        ..PrepareConfig::default()
    };
    let corpus = prepare(&[file], &tmp.join("out"), &config).unwrap();
    let meta = corpus.meta();
    assert_eq!(meta.train.chunks, 2000);
    assert!(meta.reached_max_train_chunks);
    assert!(
        meta.valid.chunks > 0 && meta.valid.documents > 0,
        "{meta:?}"
    );
    let mut train = corpus.split(Split::Train).unwrap();
    for i in [0, 999, 1999] {
        let chunk = train.get(i).unwrap();
        let words = count_words(&chunk);
        assert!((2..=126).contains(&words), "chunk {i}: {words} words");
        assert!(!chunk.contains("<doc") && !chunk.contains('\n'), "{chunk}");
    }
    // Titles are dropped; document 0 ("Koknoghin") is held out, document 1 starts training.
    let mut valid = corpus.split(Split::Valid).unwrap();
    assert!(valid.get(0).unwrap().starts_with("Koknoghin is a village"));
    assert!(train
        .get(0)
        .unwrap()
        .starts_with("Johannes \"Johan\" Gerardus"));
}

#[test]
fn an_input_edited_in_place_to_the_same_size_is_another_corpus() {
    let tmp = TempDir::new("same-size");
    let inputs = inputs_of(&tmp);
    let out = tmp.join("out");
    prepare(&inputs, &out, &small_config()).unwrap();
    // Same length, other bytes: a size check alone would reuse the stale corpus.
    let text = fs::read_to_string(&inputs[0]).unwrap();
    let edited: String = text
        .chars()
        .map(|c| if c == 'w' { 'v' } else { c })
        .collect();
    assert_ne!(edited, text);
    assert_eq!(edited.len(), text.len());
    fs::write(&inputs[0], edited).unwrap();
    let err = prepare(&inputs, &out, &small_config()).unwrap_err();
    assert!(
        err.to_string().contains("prepared from other input files"),
        "{err}"
    );
}
