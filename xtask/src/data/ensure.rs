//! Fetch on demand: a command that needs some datasets (the quickstart: SST-2 and the corpus)
//! checks them, and downloads what is missing or corrupt through the same verified code as
//! `cargo xtask data fetch`, saying first what and how much. Without fetching (`--no-fetch`),
//! or when a download fails, it stops with one message that names the ways out; `fetch` never
//! leaves a file that failed its check behind.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Result};

use super::fetch::fetch;
use super::manifest::{Entry, Expected, Group};
use super::verify::{verify, Mode};

/// Whether a missing file may be downloaded, and from where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fetching<'a> {
    /// From this base URL (`https://raw.githubusercontent.com` or a mirror).
    From(&'a str),
    /// Never: missing data is an error.
    Off,
}

/// Bytes a download of `expected` transfers (corpus chunks come as plain text) and the bytes
/// it takes on disk (gzip for those).
fn sizes(expected: &Expected) -> (u64, u64) {
    match *expected {
        Expected::Plain { bytes, .. } => (bytes, bytes),
        Expected::Gzip {
            bytes, gz_bytes, ..
        } => (bytes, gz_bytes),
    }
}

/// `n` bytes for people: `94.9 kB`, `50.8 MB`.
pub fn human(n: u64) -> String {
    let n = n as f64;
    match n {
        n if n >= 1e9 => format!("{:.2} GB", n / 1e9),
        n if n >= 1e6 => format!("{:.1} MB", n / 1e6),
        n if n >= 1e3 => format!("{:.1} kB", n / 1e3),
        n => format!("{n:.0} B"),
    }
}

/// Makes sure every one of `entries` is in `dir` and correct (sha256), fetching the others
/// when `fetching` allows. `needed_by` names the command in messages (`the quickstart`).
///
/// # Errors
/// Files missing with fetching off, or a download that failed or did not verify; the message
/// lists them and the ways out (fetch, import, `$HASHFORMER_DATA`).
pub fn ensure(dir: &Path, entries: &[&Entry], fetching: Fetching, needed_by: &str) -> Result<()> {
    let missing: Vec<&Entry> = entries
        .iter()
        .copied()
        .filter(|e| !verify(&dir.join(e.path), &e.expected, Mode::Full, e.path).is_ok())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let (download, disk) = missing.iter().fold((0, 0), |(a, b), e| {
        let (d, s) = sizes(&e.expected);
        (a + d, b + s)
    });
    let only = selection(&missing);
    let base = match fetching {
        Fetching::From(base) => base,
        Fetching::Off => bail!(
            "{needed_by} needs {} file(s) that are missing or corrupt in {}: {}\n{}",
            missing.len(),
            dir.display(),
            missing
                .iter()
                .map(|e| e.path)
                .collect::<Vec<_>>()
                .join(", "),
            ways_out(&only, dir)
        ),
    };
    println!(
        "{needed_by} needs {} file(s) that {} lacks ({only}): downloading {} from {base} \
         ({} on disk)",
        missing.len(),
        dir.display(),
        human(download),
        human(disk)
    );
    let new_dirs = absent_dirs(dir, &missing);
    let report = fetch(dir, &missing, base);
    print!("{}", report.render());
    let failed: Vec<&str> = report.failures().map(|r| r.path.as_str()).collect();
    if !failed.is_empty() {
        // Folders the failed run made and left empty go too (best effort: `remove_dir` leaves
        // a folder with anything in it).
        for d in new_dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
        bail!(
            "could not fetch {} file(s) into {}: {} (nothing unverified was written)\n{}",
            failed.len(),
            dir.display(),
            failed.join(", "),
            ways_out(&only, dir)
        );
    }
    Ok(())
}

/// The folders under `dir` (and `dir` itself) that `entries`' files would be written into and
/// that do not exist yet, parents first.
fn absent_dirs(dir: &Path, entries: &[&Entry]) -> Vec<std::path::PathBuf> {
    let mut absent = Vec::new();
    if !dir.exists() {
        absent.push(dir.to_owned());
    }
    for e in entries {
        let mut path = dir.to_owned();
        let parts: Vec<&str> = e.path.split('/').collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            path.push(part);
            if !path.exists() && !absent.contains(&path) {
                absent.push(path.clone());
            }
        }
    }
    absent
}

/// The `--only` list for `entries`, in order: a GLUE task by name, the corpus and roberta-base
/// by group.
fn selection(entries: &[&Entry]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for e in entries {
        let name = match e.group {
            Group::Glue => e.dataset_name(),
            group => group.name(),
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.join(",")
}

/// What a user can do about missing data.
fn ways_out(only: &str, dir: &Path) -> String {
    let mut s = String::from("ways out:\n");
    let _ = writeln!(
        s,
        "  - fetch it when online: `cargo xtask data fetch --only {only}`"
    );
    let _ = writeln!(
        s,
        "  - copy it from a local copy of the layout: `cargo xtask data import DIR --only {only}`"
    );
    let _ = write!(
        s,
        "  - or point $HASHFORMER_DATA at a directory that has it (now: {})",
        dir.display()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::digest::sha256_hex;
    use crate::data::manifest::{Remote, Source};
    use crate::data::test_server::TestServer;
    use hashformer_testkit::TempDir;

    const HELLO: &[u8] = b"hello\n";

    fn entry(path: &'static str, sha256: &'static str, from: &'static str) -> Entry {
        Entry {
            path,
            dataset: "glue/SST-2",
            group: Group::Glue,
            expected: Expected::Plain {
                bytes: HELLO.len() as u64,
                sha256,
            },
            source: Source::Copy(Remote {
                repo: "o/r",
                commit: "c1",
                path: from,
            }),
        }
    }

    fn hello_sha() -> &'static str {
        Box::leak(sha256_hex(HELLO).into_boxed_str())
    }

    #[test]
    fn missing_data_is_fetched_verified_and_then_left_alone() {
        let server = TestServer::start(vec![("/o/r/c1/train.tsv".into(), HELLO.to_vec())]);
        let dir = TempDir::new("ensure");
        let train = entry("glue/SST-2/train.tsv", hello_sha(), "train.tsv");
        ensure(dir.path(), &[&train], Fetching::From(&server.base), "q").unwrap();
        assert_eq!(
            std::fs::read(dir.join("glue/SST-2/train.tsv")).unwrap(),
            HELLO
        );
        assert_eq!(server.requests(), ["/o/r/c1/train.tsv"]);
        // Present and correct: nothing is downloaded again.
        ensure(dir.path(), &[&train], Fetching::From(&server.base), "q").unwrap();
        assert_eq!(server.requests().len(), 1);
    }

    #[test]
    fn a_corrupt_download_is_refused_and_not_written() {
        let server = TestServer::start(vec![("/o/r/c1/train.tsv".into(), b"HELLO\n".to_vec())]);
        let dir = TempDir::new("ensure-corrupt");
        let train = entry("glue/SST-2/train.tsv", hello_sha(), "train.tsv");
        let err = ensure(dir.path(), &[&train], Fetching::From(&server.base), "q")
            .unwrap_err()
            .to_string();
        for needed in [
            "could not fetch 1 file(s)",
            "glue/SST-2/train.tsv",
            "cargo xtask data import DIR --only SST-2",
            "$HASHFORMER_DATA",
        ] {
            assert!(err.contains(needed), "{needed:?} in {err}");
        }
        // Neither the file nor the folders made for it are left.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn without_fetching_missing_data_is_an_error_and_nothing_is_requested() {
        let server = TestServer::start(vec![("/o/r/c1/train.tsv".into(), HELLO.to_vec())]);
        let dir = TempDir::new("ensure-off");
        let train = entry("glue/SST-2/train.tsv", hello_sha(), "train.tsv");
        let err = ensure(dir.path(), &[&train], Fetching::Off, "the quickstart")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("the quickstart needs 1 file(s)"), "{err}");
        assert!(err.contains("cargo xtask data fetch --only SST-2"), "{err}");
        assert!(server.requests().is_empty());
        // A corrupt file counts as missing.
        std::fs::create_dir_all(dir.join("glue/SST-2")).unwrap();
        std::fs::write(dir.join("glue/SST-2/train.tsv"), b"HELLO\n").unwrap();
        assert!(ensure(dir.path(), &[&train], Fetching::Off, "q").is_err());
    }

    #[test]
    fn sizes_read_for_people() {
        assert_eq!(human(94_931), "94.9 kB");
        assert_eq!(human(50_769_616), "50.8 MB");
        assert_eq!(human(12), "12 B");
    }
}
