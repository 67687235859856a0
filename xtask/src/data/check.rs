//! `cargo xtask data check`: every selected file's size and sha256 against the manifest.

use std::path::Path;

use super::manifest::Entry;
use super::report::Report;
use super::verify::{verify, Mode};

/// Checks `entries` under `dir`: one row per file, failed when it is missing or corrupt.
pub fn check(dir: &Path, entries: &[&Entry], mode: Mode) -> Report {
    let mut report = Report::default();
    for entry in entries {
        let status = verify(&dir.join(entry.path), &entry.expected, mode, entry.path);
        report.add(
            entry.dataset,
            entry.path,
            status.to_string(),
            !status.is_ok(),
        );
    }
    report
}
