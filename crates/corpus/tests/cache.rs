//! The shared cache of prepared corpora: one entry per input content and packing config.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;

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

/// For a cache nobody else uses: waiting would be a bug.
fn no_wait(holder: &str) {
    panic!("waited for {holder}");
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
        &mut no_wait,
    )
    .unwrap();
    assert_eq!(reads, 1);
    assert!(made.dir().starts_with(cache.join(CORPORA_DIR)));
    // The copy elsewhere, with the same packing: the same entry, opened without reading.
    let shared = prepare_cached(
        &[copy],
        &cache,
        &config(5),
        &mut |_| reads += 1,
        &mut no_wait,
    )
    .unwrap();
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
        &mut no_wait,
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
        &mut no_wait,
    )
    .unwrap();
    fs::OpenOptions::new()
        .append(true)
        .open(&input)
        .unwrap()
        .write_all(b"one more document at the end\n")
        .unwrap();
    let after = prepare_cached(&[input], &cache, &config(5), &mut |_| (), &mut no_wait).unwrap();
    assert_ne!(before.dir(), after.dir());
    assert!(after.meta().documents_read > before.meta().documents_read);
}

#[test]
fn a_run_that_finds_the_entry_held_waits_for_it_then_opens_it() {
    let tmp = TempDir::new("corpus-cache-wait");
    let cache = tmp.join("cache");
    let input = corpus_in(&tmp.join("a"));
    let made = prepare_cached(
        std::slice::from_ref(&input),
        &cache,
        &config(5),
        &mut |_| (),
        &mut no_wait,
    )
    .unwrap();
    // Another process checking (or preparing) the entry holds its lock.
    let name = made
        .dir()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let lock_file = cache.join(CORPORA_DIR).join(format!(".{name}.lock"));
    let held = hashformer_files::DirLock::acquire(&lock_file, made.dir()).unwrap();
    let (told_tx, told_rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let mut reads = 0;
        let mut on_wait = |holder: &str| told_tx.send(holder.to_owned()).unwrap();
        let opened = prepare_cached(
            &[input],
            &cache,
            &config(5),
            &mut |_| reads += 1,
            &mut on_wait,
        );
        (opened.map(|c| c.dir().to_owned()), reads)
    });
    let holder = told_rx.recv().unwrap();
    assert!(
        holder.starts_with(&format!("PID {}:", std::process::id())),
        "{holder}"
    );
    drop(held);
    let (opened, reads) = waiter.join().unwrap();
    assert_eq!((opened.unwrap(), reads), (made.dir().to_owned(), 0));
}

#[test]
fn two_runs_started_together_share_one_entry_and_neither_fails() {
    let tmp = TempDir::new("corpus-cache-race");
    let cache = tmp.join("cache");
    let input = corpus_in(&tmp.join("a"));
    let start = Arc::new(Barrier::new(2));
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let (cache, input, start) = (cache.clone(), input.clone(), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                prepare_cached(&[input], &cache, &config(5), &mut |_| (), &mut |_| ())
                    .map(|c| (c.dir().to_owned(), c.meta().documents_read))
            })
        })
        .collect();
    let results: Vec<_> = runs
        .into_iter()
        .map(|r| r.join().unwrap().unwrap())
        .collect();
    assert_eq!(results[0], results[1]);
    assert_eq!(entries(&cache).len(), 1);
}
