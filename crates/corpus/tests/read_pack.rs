//! Tests of reading the corpus (plain, gzip, WikiExtractor, directories, errors naming file
//! and line) and of packing paragraphs into chunks.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use flate2::write::GzEncoder;
use flate2::Compression;
use hashformer_corpus::Error;
use hashformer_corpus::{
    corpus_files, count_words, Chunk, CorpusFormat, CorpusProblem, CorpusReader, Packer,
};
use hashformer_testkit::TempDir;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn fixture(name: &str) -> PathBuf {
    hashformer_testkit::manifest_dir!()
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
