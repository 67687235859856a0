//! Tests of the corpus data path: reading (plain, gzip, WikiExtractor, errors), packing,
//! prepare → open round trips, reuse and atomicity, epoch orders, and one real-data run.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use hashformer_corpus::Error;
use hashformer_corpus::{
    corpus_files, count_words, prepare, prepare_with_progress, Chunk, CorpusFormat, CorpusMeta,
    CorpusProblem, CorpusReader, DataPosition, EpochOrder, Packer, PrepareConfig, PreparedCorpus,
    Split, META_FILE,
};
use hashformer_testkit::{shared_data, TempDir};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus")
        .join(name)
}

fn gzip(members: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for member in members {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(member).unwrap();
        out.extend(encoder.finish().unwrap());
    }
    out
}

/// `(file index, line, paragraphs)` of every document.
type Docs = Vec<(usize, u64, Vec<String>)>;

fn read_all(files: &[PathBuf], format: CorpusFormat) -> hashformer_corpus::Result<Docs> {
    CorpusReader::new(files.to_vec(), format)
        .map(|doc| doc.map(|d| (d.source.file, d.source.line, d.paragraphs)))
        .collect()
}

fn check_docs(files: &[PathBuf], format: CorpusFormat, expected: &[(usize, u64, &[&str])]) {
    let docs = read_all(files, format).unwrap();
    let expected: Docs = expected
        .iter()
        .map(|(f, l, p)| (*f, *l, p.iter().map(|s| s.to_string()).collect()))
        .collect();
    assert_eq!(docs, expected, "{files:?}");
}

const WIKI_DOCS: &[(usize, u64, &[&str])] = &[
    (
        0,
        1,
        &[
            "Alpha Beta is a test article. It has two sentences.",
            "A second paragraph, directly after the first.",
        ],
    ),
    (
        0,
        8,
        &[
            "İSTANBUL and STRAẞE: lower-casing changes the byte lengths.",
            "ΟΔΟΣ ΣΑΣ",
        ],
    ),
    (
        0,
        18,
        &["Indented paragraph with trailing spaces.", "Last one."],
    ),
];

#[test]
fn wikiextractor_documents() {
    check_docs(&[fixture("wiki.txt")], CorpusFormat::Auto, WIKI_DOCS);
    check_docs(
        &[fixture("wiki.txt")],
        CorpusFormat::WikiExtractor,
        WIKI_DOCS,
    );
}

#[test]
fn plain_text_documents() {
    let expected: &[(usize, u64, &[&str])] = &[
        (
            0,
            2,
            &[
                "First document, first paragraph.",
                "First document, second paragraph.",
            ],
        ),
        (0, 7, &["Second document."]),
        (0, 9, &["Third document, after a line of spaces."]),
    ];
    check_docs(&[fixture("plain.txt")], CorpusFormat::Auto, expected);
    check_docs(&[fixture("plain.txt")], CorpusFormat::PlainText, expected);
    // Forcing WikiExtractor on plain text fails at its first line of text.
    let err = read_all(&[fixture("plain.txt")], CorpusFormat::WikiExtractor).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Corpus {
                line: 2,
                problem: CorpusProblem::TextOutsideDoc,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn gzip_is_detected_by_magic_and_reads_the_same() {
    let tmp = TempDir::new("gzip");
    let text = fs::read(fixture("wiki.txt")).unwrap();
    let single = tmp.join("single.txt");
    fs::write(&single, gzip(&[&text])).unwrap();
    // Two members, split at a line boundary mid-file (MultiGzDecoder reads both).
    let cut = text.iter().position(|&b| b == b'<').unwrap() + 150;
    let cut = cut + text[cut..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let multi = tmp.join("multi");
    fs::write(&multi, gzip(&[&text[..cut], &text[cut..]])).unwrap();
    let plain = read_all(&[fixture("wiki.txt")], CorpusFormat::Auto).unwrap();
    for file in [single, multi] {
        assert_eq!(
            read_all(std::slice::from_ref(&file), CorpusFormat::Auto).unwrap(),
            plain,
            "{file:?}"
        );
    }
    // A file that merely ends in .gz is read as text.
    let fake = tmp.join("fake.txt.gz");
    fs::copy(fixture("plain.txt"), &fake).unwrap();
    assert_eq!(read_all(&[fake], CorpusFormat::Auto).unwrap().len(), 3);
}

#[test]
fn malformed_input_names_file_and_line() {
    let check = |name: &str, line: u64, problem: CorpusProblem| {
        let err = read_all(&[fixture(name)], CorpusFormat::Auto).unwrap_err();
        match &err {
            Error::Corpus {
                path,
                line: l,
                problem: p,
            } => {
                assert_eq!(
                    (path.as_path(), *l, p),
                    (fixture(name).as_path(), line, &problem)
                );
                assert!(
                    err.to_string().contains(&format!("{name} line {line}:")),
                    "{err}"
                );
            }
            other => panic!("{name}: expected a corpus error, got {other}"),
        }
    };
    check(
        "truncated.txt",
        5,
        CorpusProblem::UnterminatedDoc { eof_line: 7 },
    );
    check("nested.txt", 4, CorpusProblem::NestedDoc { outer_line: 1 });
    check(
        "invalid_utf8.txt",
        4,
        CorpusProblem::InvalidUtf8 { byte: 4 },
    );
    // The documents before the error are still delivered, then the error, then the end.
    let mut reader = CorpusReader::new(vec![fixture("truncated.txt")], CorpusFormat::Auto);
    assert_eq!(reader.next().unwrap().unwrap().paragraphs, ["Closed."]);
    assert!(reader.next().unwrap().is_err());
    assert!(reader.next().is_none());
    // A gzip file reports its decompressed line numbers.
    let tmp = TempDir::new("bad-gzip");
    let gz = tmp.join("truncated");
    fs::write(&gz, gzip(&[&fs::read(fixture("truncated.txt")).unwrap()])).unwrap();
    let err = read_all(&[gz], CorpusFormat::Auto).unwrap_err();
    assert!(matches!(err, Error::Corpus { line: 5, .. }), "{err}");
}

#[test]
fn directories_are_sorted_and_skip_documentation() {
    let tmp = TempDir::new("dir");
    let dir = tmp.join("corpus");
    fs::create_dir(&dir).unwrap();
    fs::copy(fixture("plain.txt"), dir.join("b.txt")).unwrap();
    fs::write(
        dir.join("a.txt"),
        gzip(&[&fs::read(fixture("wiki.txt")).unwrap()]),
    )
    .unwrap();
    fs::write(dir.join("SOURCES.txt"), "# not a corpus\n").unwrap();
    fs::write(dir.join(".hidden"), "x\n").unwrap();
    fs::create_dir(dir.join("sub")).unwrap();
    let files = corpus_files(&[dir.clone(), fixture("nested.txt")]).unwrap();
    assert_eq!(
        files,
        [dir.join("a.txt"), dir.join("b.txt"), fixture("nested.txt")]
    );
    let docs = read_all(&files[..2], CorpusFormat::Auto).unwrap();
    let sources: Vec<(usize, u64)> = docs.iter().map(|d| (d.0, d.1)).collect();
    assert_eq!(sources, [(0, 1), (0, 8), (0, 18), (1, 2), (1, 7), (1, 9)]);
}

fn check_pack(paragraphs: &[&str], max_words: usize, min_words: usize, expected: &[&str]) {
    let chunks = Packer::new(max_words, min_words).unwrap().pack(paragraphs);
    let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        texts, expected,
        "{paragraphs:?} max {max_words} min {min_words}"
    );
    for chunk in &chunks {
        assert_eq!(count_words(&chunk.text), chunk.words, "{chunk:?}");
        assert!(
            chunk.words <= max_words && chunk.words >= min_words,
            "{chunk:?}"
        );
    }
}

#[test]
fn packing_is_greedy_and_exact() {
    // "a." is 2 words, "b c" 2, "d" 1.
    check_pack(&["a.", "b c", "d"], 5, 1, &["a. b c d"]);
    check_pack(&["a.", "b c", "d"], 4, 1, &["a. b c", "d"]);
    check_pack(&["a.", "b c", "d"], 4, 2, &["a. b c"]);
    check_pack(&["a.", "b c", "d"], 3, 1, &["a.", "b c d"]);
    // A long paragraph is cut where word 4 starts; the original text is kept between words.
    check_pack(
        &["x", "One, two  three...four five"],
        3,
        1,
        &["x", "One, two", "three...four", "five"],
    );
    // The last piece of a cut paragraph shares a chunk with the next paragraph.
    check_pack(&["a b c d e", "f"], 2, 1, &["a b", "c d", "e f"]);
    // Unicode: 'ẞ' shrinks and 'İ' grows when lower-cased; cuts land in the original text.
    check_pack(&["ẞẞ İstanbul ẞ x"], 3, 1, &["ẞẞ İ", "stanbul ẞ x"]);
    check_pack(&["AİB ẞ"], 2, 1, &["Aİ", "B ẞ"]);
    // The cut falls inside the lower case of 'İ' ("xi" + U+0307): the word "xi" is cut short.
    check_pack(&["yy xİ z"], 2, 1, &["yy x", "İ", "z"]);
    // Line breaks inside a paragraph become spaces; blank paragraphs vanish.
    check_pack(&["a\r\nb", "  ", "c"], 9, 1, &["a  b c"]);
    check_pack(&[], 4, 1, &[]);
}

#[test]
fn packer_rejects_bad_limits() {
    for (max, min, field) in [(1, 0, "max_words"), (4, 5, "min_words")] {
        let err = Packer::new(max, min).unwrap_err();
        assert!(
            matches!(err, Error::InvalidConfig { field: f, .. } if f == field),
            "{err}"
        );
    }
}

/// Random paragraphs over an alphabet where lower-casing changes lengths and word classes.
fn random_paragraph(rng: &mut ChaCha8Rng) -> String {
    const ALPHABET: &[&str] = &[
        "a", "B", "İ", "ẞ", "Σ", "ς", "\u{301}", " ", " ", "  ", ",", "...", "7", "_", "\u{a0}",
        "é", "ǅ", "\n", "\u{2028}", "Ⅻ",
    ];
    let len = rng.random_range(0..60);
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())])
        .collect()
}

fn without_space(text: &str) -> String {
    text.chars()
        .filter(|&c| !hashformer_hashing::is_py_space(c))
        .collect()
}

#[test]
fn packing_invariants_on_random_text() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for round in 0..400 {
        let paragraphs: Vec<String> = (0..rng.random_range(1..5))
            .map(|_| random_paragraph(&mut rng))
            .collect();
        let max_words = rng.random_range(2..9);
        let chunks: Vec<Chunk> = Packer::new(max_words, 0).unwrap().pack(&paragraphs);
        for chunk in &chunks {
            assert_eq!(
                count_words(&chunk.text),
                chunk.words,
                "round {round}: {chunk:?}"
            );
            assert!(
                (1..=max_words).contains(&chunk.words),
                "round {round}: {chunk:?}"
            );
            assert!(
                !chunk.text.contains(['\n', '\r']),
                "round {round}: {chunk:?}"
            );
        }
        // Nothing but whitespace is lost, added or reordered.
        let packed: String = chunks.iter().map(|c| without_space(&c.text)).collect();
        let original: String = paragraphs.iter().map(|p| without_space(p)).collect();
        assert_eq!(
            packed, original,
            "round {round}: max {max_words} {paragraphs:?}"
        );
    }
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
