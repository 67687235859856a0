//! Every checked-in seed (`fuzz/seeds/TARGET/`) and every crash found by fuzzing
//! (`fuzz/regressions/TARGET/`) goes through its target: none may panic. A crash found by
//! `cargo xtask fuzz` is kept in `fuzz/regressions/` with its fix, so it stays fixed.

use std::path::{Path, PathBuf};

use hashformer_fuzz::TARGETS;

fn fuzz_dir() -> PathBuf {
    hashformer_testkit::manifest_dir!().join("../../fuzz")
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.map(|e| e.expect("a listing").path()).collect();
    files.sort();
    files
}

#[test]
fn every_seed_and_regression_runs_without_a_panic() {
    // The LSH target needs roberta-base's BPE files; under CI=true their absence fails here.
    let lsh_data = hashformer_testkit::shared_data("roberta-base/vocab.json").is_some();
    let mut failures = Vec::new();
    for target in TARGETS {
        let seeds = inputs(&fuzz_dir().join("seeds").join(target.name));
        assert!(!seeds.is_empty(), "no seeds for {}", target.name);
        if target.name == "lsh" && !lsh_data {
            continue;
        }
        let regressions = inputs(&fuzz_dir().join("regressions").join(target.name));
        for file in seeds.iter().chain(&regressions) {
            let data = std::fs::read(file).expect("a seed reads");
            if std::panic::catch_unwind(|| (target.run)(&data)).is_err() {
                failures.push(file.display().to_string());
            }
        }
    }
    assert!(failures.is_empty(), "inputs that panic: {failures:#?}");
}

/// `cargo xtask fuzz` and the libFuzzer binary find targets by name.
#[test]
fn targets_are_named_uniquely_and_found_by_name() {
    for target in TARGETS {
        assert_eq!(
            hashformer_fuzz::target(target.name).map(|t| t.name),
            Some(target.name)
        );
    }
    let mut names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), TARGETS.len());
    assert!(hashformer_fuzz::target("no-such-target").is_none());
}
