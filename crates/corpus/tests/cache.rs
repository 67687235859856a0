//! The shared cache of prepared corpora: one entry per input content and packing config.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use hashformer_corpus::{prepare_cached, PrepareConfig, CORPORA_DIR};
use hashformer_testkit::TempDir;

fn config(max_words: usize) -> PrepareConfig {
    PrepareConfig {
        max_words,
        valid_every: 3,
        max_valid_chunks: 4,
        ..PrepareConfig::default()
    }
}

/// Writes a small plain-text corpus to `dir/docs.txt`.
fn corpus_in(dir: &Path) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let path = dir.join("docs.txt");
    let mut text = String::new();
    for d in 0..12 {
        text.push_str(&format!("document {d} has a few words in it\n\n"));
    }
    fs::write(&path, text).unwrap();
    path
}

fn entries(cache: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(cache.join(CORPORA_DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

#[test]
fn two_copies_of_one_corpus_share_an_entry_and_another_packing_gets_its_own() {
    let tmp = TempDir::new("corpus-cache");
    let cache = tmp.join("cache");
    let first = corpus_in(&tmp.join("a"));
    let copy = corpus_in(&tmp.join("b"));
    let mut reads = 0;
    let made = prepare_cached(
        std::slice::from_ref(&first),
        &cache,
        &config(5),
        &mut |_| reads += 1,
    )
    .unwrap();
    assert_eq!(reads, 1);
    assert!(made.dir().starts_with(cache.join(CORPORA_DIR)));
    // The copy elsewhere, with the same packing: the same entry, opened without reading.
    let shared = prepare_cached(&[copy], &cache, &config(5), &mut |_| reads += 1).unwrap();
    assert_eq!((shared.dir(), reads), (made.dir(), 1));
    assert_eq!(
        shared.meta().inputs[0].path,
        fs::canonicalize(&first).unwrap()
    );
    // Another max_words (another model length) is another entry; the first stays.
    let other = prepare_cached(
        std::slice::from_ref(&first),
        &cache,
        &config(4),
        &mut |_| (),
    )
    .unwrap();
    assert_ne!(other.dir(), made.dir());
    assert_eq!(entries(&cache).len(), 2);
    assert_eq!(shared.meta().config.max_words, 5);
}

#[test]
fn an_edited_input_is_a_new_entry_not_a_stale_hit() {
    let tmp = TempDir::new("corpus-cache-edit");
    let cache = tmp.join("cache");
    let input = corpus_in(&tmp.join("a"));
    let before = prepare_cached(
        std::slice::from_ref(&input),
        &cache,
        &config(5),
        &mut |_| (),
    )
    .unwrap();
    fs::OpenOptions::new()
        .append(true)
        .open(&input)
        .unwrap()
        .write_all(b"one more document at the end\n")
        .unwrap();
    let after = prepare_cached(&[input], &cache, &config(5), &mut |_| ()).unwrap();
    assert_ne!(before.dir(), after.dir());
    assert!(after.meta().documents_read > before.meta().documents_read);
}
