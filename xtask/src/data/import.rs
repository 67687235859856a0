//! `cargo xtask data import MIRROR`: copies a local copy of the layout into the data folder.
//! Each file is copied to a temp file beside its destination, checked against the manifest, and
//! only then renamed into place; files already present and valid are skipped. With
//! `include_unlisted`, files under `MIRROR/glue/<TASK>/` that the manifest does not list (QQP,
//! MNLI train, … from the official GLUE download) are copied too, unverified, never over an
//! existing file.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::manifest::{Entry, Group, MANIFEST};
use super::part_file::PartFile;
use super::progress;
use super::report::Report;
use super::selection::Selection;
use super::verify::{verify, Mode, Status};

/// Imports the files of `entries` from `mirror` into `dir`, then the `unlisted` files (from
/// [`unlisted`]; `(dataset, path)` pairs).
///
/// A file missing from the mirror is reported and not a failure (a mirror may hold a part of the
/// layout; `check` tells what is still missing); a mirror file that is corrupt is.
///
/// # Errors
/// When `mirror` is not a folder or holds none of the selected files.
pub fn import(
    mirror: &Path,
    dir: &Path,
    entries: &[&Entry],
    unlisted: &[(String, String)],
) -> Result<Report> {
    if !mirror.is_dir() {
        bail!("{} is not a folder", mirror.display());
    }
    if unlisted.is_empty() && !entries.iter().any(|e| mirror.join(e.path).is_file()) {
        bail!(
            "{} holds none of the selected files (expected the data layout: glue/<TASK>/*.tsv, \
             corpus/enwiki-2014-wikiextractor/, roberta-base/)",
            mirror.display()
        );
    }
    let mut report = Report::default();
    for entry in entries {
        let (outcome, failed) = match import_one(mirror, dir, entry) {
            Ok(outcome) => (outcome, false),
            Err(err) => (format!("FAILED: {err:#}"), true),
        };
        report.add(entry.dataset, entry.path, outcome, failed);
    }
    import_unlisted(mirror, dir, unlisted, &mut report);
    Ok(report)
}

fn import_one(mirror: &Path, dir: &Path, entry: &Entry) -> Result<String> {
    let dest = dir.join(entry.path);
    let before = verify(&dest, &entry.expected, Mode::Full, entry.path);
    if before.is_ok() {
        return Ok("present".into());
    }
    let source = mirror.join(entry.path);
    if !source.is_file() {
        return Ok(format!("{before}, not in the mirror"));
    }
    let part = copy_to_part(&source, &dest)?;
    let status = verify(part.path(), &entry.expected, Mode::Full, entry.path);
    if !status.is_ok() {
        bail!("{} is corrupt: {status}; not imported", source.display());
    }
    part.persist()?;
    Ok(match (before, status) {
        (Status::Missing, Status::Ok { note: None }) => "imported".into(),
        (Status::Missing, Status::Ok { note: Some(note) }) => format!("imported ({note})"),
        (before, _) => format!("replaced (was {before})"),
    })
}

/// Copies `source` into a closed [`PartFile`] for `dest` (new file, default permissions).
fn copy_to_part(source: &Path, dest: &Path) -> Result<PartFile> {
    let mut from = File::open(source).with_context(|| format!("opening {}", source.display()))?;
    let len = from.metadata().map(|m| m.len()).unwrap_or(0);
    let mut part = PartFile::create(dest)?;
    let bar = progress::bytes_if_big(len, &format!("copying {}", source.display()));
    io::copy(&mut bar.wrap_read(&mut from), part.writer()?)
        .with_context(|| format!("copying {}", source.display()))?;
    bar.finish_and_clear();
    part.close()?;
    Ok(part)
}

/// The `glue/<TASK>/<file>` paths under `mirror` that the manifest does not list and `selection`
/// picks, sorted.
///
/// # Errors
/// When `mirror/glue` cannot be listed.
pub fn unlisted(mirror: &Path, selection: &Selection) -> Result<Vec<(String, String)>> {
    let glue = mirror.join("glue");
    let mut found = Vec::new();
    if !glue.is_dir() {
        return Ok(found);
    }
    for task in read_dir_sorted(&glue)? {
        let Some(task_name) = file_name(&task) else {
            continue;
        };
        let dataset = format!("glue/{task_name}");
        if !task.is_dir() || !selection.matches(Group::Glue, &dataset) {
            continue;
        }
        for file in read_dir_sorted(&task)? {
            let Some(name) = file_name(&file) else {
                continue;
            };
            let path = format!("{dataset}/{name}");
            if file.is_file() && !name.starts_with('.') && !MANIFEST.iter().any(|e| e.path == path)
            {
                found.push((dataset.clone(), path));
            }
        }
    }
    Ok(found)
}

/// Copies the unlisted files into `dir`, unverified, never over an existing file.
fn import_unlisted(mirror: &Path, dir: &Path, files: &[(String, String)], report: &mut Report) {
    for (dataset, path) in files {
        let dest = dir.join(path);
        let outcome = if dest.exists() {
            match same_bytes(&mirror.join(path), &dest) {
                Ok(true) => "present (unverified: not in the manifest)".to_string(),
                Ok(false) => {
                    "kept the existing file, which differs from the mirror's (unverified)".into()
                }
                Err(err) => format!("kept the existing file ({err:#})"),
            }
        } else {
            match copy_to_part(&mirror.join(path), &dest).and_then(PartFile::persist) {
                Ok(()) => "imported, unverified (not in the manifest)".into(),
                Err(err) => {
                    report.add(dataset, path, format!("FAILED: {err:#}"), true);
                    continue;
                }
            }
        };
        report.add(dataset, path, outcome, false);
    }
}

fn same_bytes(a: &Path, b: &Path) -> Result<bool> {
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    Ok(read(a)? == read(b)?)
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<Vec<_>>>()
        .with_context(|| format!("listing {}", dir.display()))?;
    paths.sort();
    Ok(paths)
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::{import, unlisted};
    use crate::data::manifest::{Entry, Expected, Group, Remote, Source};
    use crate::data::report::Report;
    use crate::data::selection::Selection;
    use hashformer_testkit::TempDir as TestDir;

    const HELLO: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    fn entry(path: &'static str) -> Entry {
        Entry {
            path,
            dataset: "glue/T",
            group: Group::Glue,
            expected: Expected::Plain {
                bytes: 6,
                sha256: HELLO,
            },
            source: Source::Copy(Remote {
                repo: "o/r",
                commit: "c",
                path: "p",
            }),
        }
    }

    fn outcomes(report: &Report) -> Vec<(String, bool)> {
        report
            .rows()
            .iter()
            .map(|r| (r.outcome.clone(), r.failed))
            .collect()
    }

    #[test]
    fn copies_checks_and_skips() {
        let (mirror, dir) = (TestDir::new("import-mirror"), TestDir::new("import-dest"));
        let [good, bad, absent] = [
            entry("glue/T/good.tsv"),
            entry("glue/T/bad.tsv"),
            entry("glue/T/absent.tsv"),
        ];
        std::fs::create_dir_all(mirror.path().join("glue/T")).unwrap();
        std::fs::write(mirror.path().join(good.path), "hello\n").unwrap();
        std::fs::write(mirror.path().join(bad.path), "HELLO\n").unwrap();
        let report = import(mirror.path(), dir.path(), &[&good, &bad, &absent], &[]).unwrap();
        let rows = outcomes(&report);
        assert_eq!(rows[0], ("imported".to_string(), false));
        assert!(
            rows[1].1 && rows[1].0.contains("bad.tsv is corrupt: WRONG SHA256"),
            "{rows:?}"
        );
        assert_eq!(rows[2], ("MISSING, not in the mirror".to_string(), false));
        assert_eq!(
            dir.files(),
            ["glue/T/good.tsv"],
            "nothing partial left behind"
        );

        // Again: present. A corrupt destination is replaced.
        std::fs::write(dir.path().join(bad.path), "hellO\n").unwrap();
        std::fs::write(mirror.path().join(bad.path), "hello\n").unwrap();
        let rows = outcomes(&import(mirror.path(), dir.path(), &[&good, &bad], &[]).unwrap());
        assert_eq!(rows[0], ("present".to_string(), false));
        assert!(
            rows[1].0.starts_with("replaced (was WRONG SHA256"),
            "{rows:?}"
        );
        assert_eq!(
            std::fs::read(dir.path().join(bad.path)).unwrap(),
            b"hello\n"
        );

        let empty = TestDir::new("import-empty");
        assert!(import(empty.path(), dir.path(), &[&good], &[]).is_err());
    }

    #[test]
    fn unlisted_glue_files_are_copied_unverified() {
        let (mirror, dir) = (
            TestDir::new("import-unlisted"),
            TestDir::new("import-unlisted-dest"),
        );
        for path in [
            "glue/QQP/train.tsv",
            "glue/QQP/dev.tsv",
            "glue/CoLA/train.tsv",
            "glue/RTE/test.tsv",
        ] {
            std::fs::create_dir_all(mirror.path().join(path).parent().unwrap()).unwrap();
            std::fs::write(mirror.path().join(path), path).unwrap();
        }
        let only_qqp = Selection::parse("qqp").unwrap();
        let files = unlisted(mirror.path(), &only_qqp).unwrap();
        let paths: Vec<&str> = files.iter().map(|(_, p)| p.as_str()).collect();
        assert_eq!(paths, ["glue/QQP/dev.tsv", "glue/QQP/train.tsv"]);
        let all = unlisted(mirror.path(), &Selection::default()).unwrap();
        let paths: Vec<&str> = all.iter().map(|(_, p)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "glue/QQP/dev.tsv",
                "glue/QQP/train.tsv",
                "glue/RTE/test.tsv"
            ],
            "CoLA/train.tsv is listed"
        );

        std::fs::create_dir_all(dir.path().join("glue/QQP")).unwrap();
        std::fs::write(dir.path().join("glue/QQP/dev.tsv"), "mine").unwrap();
        // Only unlisted files selected (`--only qqp`): no listed entry, still an import.
        let report = import(mirror.path(), dir.path(), &[], &files).unwrap();
        let rows = outcomes(&report);
        assert!(rows[0].0.starts_with("kept the existing file"), "{rows:?}");
        assert_eq!(
            rows[1],
            (
                "imported, unverified (not in the manifest)".to_string(),
                false
            )
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("glue/QQP/dev.tsv")).unwrap(),
            "mine"
        );
        assert_eq!(dir.files(), ["glue/QQP/dev.tsv", "glue/QQP/train.tsv"]);
    }
}
