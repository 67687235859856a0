//! `cargo xtask data fetch`: downloads each file from its pinned source (see
//! [`Source`]), applies the derivation the manifest names, checks the result's sha256 and
//! renames it into place. Files already present and valid are skipped; a file that fails its
//! check is never left behind.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use flate2::write::GzEncoder;
use flate2::Compression;

use super::derive::{corpus_pieces, delete_once, jsonl_to_tsv, merge_by_index};
use super::digest::git_blob_sha1;
use super::http::Downloader;
use super::manifest::{Entry, Remote, Source, MANIFEST};
use super::part_file::PartFile;
use super::progress;
use super::report::Report;
use super::verify::{verify, Mode, Status};

/// Fetches `entries` into `dir` from `base` (`https://raw.githubusercontent.com` or a mirror with
/// its paths). Inputs of a derivation must come before it in `entries`, as in the manifest.
pub fn fetch(dir: &Path, entries: &[&Entry], base: &str) -> Report {
    let fetcher = Fetcher {
        dl: Downloader::new(base),
        dir,
        entries,
    };
    let mut report = Report::default();
    for entry in entries {
        let (outcome, failed) = match fetcher.fetch_one(entry) {
            Ok(outcome) => (outcome, false),
            Err(err) => (format!("FAILED: {err:#}"), true),
        };
        report.add(entry.dataset, entry.path, outcome, failed);
    }
    report
}

struct Fetcher<'a> {
    dl: Downloader,
    dir: &'a Path,
    /// What this run fetches (a derivation's input is looked up here, then in the manifest).
    entries: &'a [&'a Entry],
}

impl Fetcher<'_> {
    fn fetch_one(&self, entry: &Entry) -> Result<String> {
        let dest = self.dir.join(entry.path);
        let before = verify(&dest, &entry.expected, Mode::Full, entry.path);
        if before.is_ok() {
            return Ok("present".into());
        }
        let mut part = PartFile::create(&dest)?;
        self.make(entry, &mut part)?;
        part.close()?;
        let status = verify(part.path(), &entry.expected, Mode::Full, entry.path);
        let Status::Ok { note } = status else {
            bail!("{status} (made from {}); not written", self.describe(entry));
        };
        part.persist()?;
        let note = note.map(|n| format!(" ({n})")).unwrap_or_default();
        Ok(match before {
            Status::Missing => format!("fetched{note}"),
            before => format!("replaced (was {before}){note}"),
        })
    }

    /// Writes the content of `entry` into `part`.
    fn make(&self, entry: &Entry, part: &mut PartFile) -> Result<()> {
        let label = entry.path;
        let bytes = match entry.source {
            Source::Copy(remote) => self.dl.get(&remote, Some(label))?,
            Source::MergeByIndex(parts) => {
                let a = self.dl.get_pinned(&parts[0], Some(label))?;
                let b = self.dl.get_pinned(&parts[1], Some(label))?;
                merge_by_index(&[&a, &b]).context("merging by index")?
            }
            Source::JsonlToTsv { jsonl } => jsonl_to_tsv(&self.read_input(jsonl)?)
                .with_context(|| format!("converting {jsonl}"))?,
            Source::DeleteOnce { from, needle } => {
                delete_once(&self.dl.get_pinned(&from, Some(label))?, needle)
                    .with_context(|| format!("editing {}", self.dl.url(&from.remote)))?
            }
            Source::Concatenate {
                repo,
                commit,
                sources,
            } => {
                return self.concatenate(entry, (repo, commit), sources, part);
            }
            Source::Bundled(text) => text.as_bytes().to_vec(),
        };
        part.writer()?.write_all(&bytes).context("writing")
    }

    /// A file of this layout that a derivation reads, checked first.
    fn read_input(&self, path: &str) -> Result<Vec<u8>> {
        let listed = self.entries.iter().copied().chain(MANIFEST);
        let Some(input) = listed.into_iter().find(|e| e.path == path) else {
            bail!("{path} is not in the manifest");
        };
        let status = verify(&self.dir.join(path), &input.expected, Mode::Full, path);
        if !status.is_ok() {
            bail!("needs {path}, which is {status}");
        }
        std::fs::read(self.dir.join(path)).with_context(|| format!("reading {path}"))
    }

    /// A corpus chunk: its pieces, each checked by git blob id, concatenated and gzipped.
    fn concatenate(
        &self,
        entry: &Entry,
        at: (&'static str, &'static str),
        sources: &'static str,
        part: &mut PartFile,
    ) -> Result<()> {
        let (repo, commit) = at;
        let name = entry.path.rsplit('/').next().unwrap_or(entry.path);
        let pieces = corpus_pieces(sources, name)?;
        let bar = progress::bytes(entry.expected.content().0, entry.path);
        let mut gz = GzEncoder::new(part.writer()?, Compression::best());
        for (i, piece) in pieces.iter().enumerate() {
            bar.set_message(format!("{} ({}/{})", entry.path, i + 1, pieces.len()));
            let remote = Remote {
                repo,
                commit,
                path: piece.path,
            };
            let bytes = self.dl.get(&remote, None)?;
            let blob = git_blob_sha1(&bytes);
            if blob != piece.blob {
                bail!(
                    "{}: git blob {blob}, expected {}",
                    self.dl.url(&remote),
                    piece.blob
                );
            }
            gz.write_all(&bytes).context("compressing")?;
            bar.inc(bytes.len() as u64);
        }
        gz.finish().context("compressing")?;
        bar.finish_and_clear();
        Ok(())
    }

    /// Where `entry` comes from, for error messages.
    fn describe(&self, entry: &Entry) -> String {
        match entry.source {
            Source::Copy(remote) => self.dl.url(&remote),
            Source::MergeByIndex(parts) => {
                format!(
                    "{} + {}",
                    self.dl.url(&parts[0].remote),
                    self.dl.url(&parts[1].remote)
                )
            }
            Source::JsonlToTsv { jsonl } => format!("{jsonl}, converted"),
            Source::DeleteOnce { from, .. } => format!("{}, edited", self.dl.url(&from.remote)),
            Source::Concatenate { repo, commit, .. } => {
                format!("the pieces in SOURCES.txt from {repo} @ {commit}")
            }
            Source::Bundled(_) => "the copy bundled in xtask".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::GzDecoder;

    use super::fetch;
    use crate::data::digest::{git_blob_sha1, sha256_hex};
    use crate::data::manifest::{Entry, Expected, Group, Pinned, Remote, Source};
    use crate::data::report::Report;
    use crate::data::test_server::TestServer;
    use hashformer_testkit::TempDir as TestDir;

    const HELLO: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    fn plain(path: &'static str, bytes: u64, sha256: &'static str, source: Source) -> Entry {
        Entry {
            path,
            dataset: "glue/T",
            group: Group::Glue,
            expected: Expected::Plain { bytes, sha256 },
            source,
        }
    }

    fn copy(path: &'static str, from: &'static str) -> Entry {
        plain(
            path,
            6,
            HELLO,
            Source::Copy(Remote {
                repo: "o/r",
                commit: "c1",
                path: from,
            }),
        )
    }

    fn outcomes(report: &Report) -> Vec<(&str, bool)> {
        report
            .rows()
            .iter()
            .map(|r| (r.outcome.as_str(), r.failed))
            .collect()
    }

    #[test]
    fn download_verify_rename() {
        let server = TestServer::start(vec![
            ("/o/r/c1/a.tsv".into(), b"hello\n".to_vec()),
            ("/o/r/c1/wrong.tsv".into(), b"HELLO\n".to_vec()),
        ]);
        let dir = TestDir::new("fetch");
        let (good, wrong, absent) = (
            copy("glue/T/a.tsv", "a.tsv"),
            copy("glue/T/b.tsv", "wrong.tsv"),
            copy("glue/T/c.tsv", "nope.tsv"),
        );
        let report = fetch(dir.path(), &[&good, &wrong, &absent], &server.base);
        let rows = outcomes(&report);
        assert_eq!(rows[0], ("fetched", false));
        assert!(
            rows[1].1 && rows[1].0.starts_with("FAILED: WRONG SHA256"),
            "{rows:?}"
        );
        assert!(
            rows[1].0.contains("/o/r/c1/wrong.tsv"),
            "names the source: {rows:?}"
        );
        assert!(rows[2].1 && rows[2].0.contains("404"), "{rows:?}");
        // Only the good file, and no temp file, is left.
        assert_eq!(dir.files(), ["glue/T/a.tsv"]);
        assert_eq!(
            std::fs::read(dir.path().join("glue/T/a.tsv")).unwrap(),
            b"hello\n"
        );

        // Valid files are not downloaded again; a corrupt one is replaced.
        let requests = server.requests().len();
        assert_eq!(
            outcomes(&fetch(dir.path(), &[&good], &server.base)),
            [("present", false)]
        );
        assert_eq!(server.requests().len(), requests);
        std::fs::write(dir.path().join("glue/T/a.tsv"), b"hell\n").unwrap();
        let rows = fetch(dir.path(), &[&good], &format!("{}/", server.base));
        assert_eq!(
            outcomes(&rows),
            [("replaced (was WRONG SIZE: 5 bytes, expected 6)", false)]
        );
    }

    // The derivation test's remote files and the files it derives from them.
    const A: &[u8] = b"i\tx\n2\tb\n";
    const B: &[u8] = b"i\tx\n1\ta\n";
    const JSONL: &[u8] = b"{\"premise\": \"p\", \"hypothesis\": \"h\", \"label\": \"neutral\"}\n";
    const TOK: &[u8] = b"{\"v\":1, \"x\":2}";
    const MERGED: &[u8] = b"i\tx\n1\ta\n2\tb\n";
    const TSV: &[u8] = b"index\tsentence1\tsentence2\tgold_label\n0\tp\th\tneutral\n";

    /// `path` of the test repository `o/r` at `c1`, pinned to the sha256 of `bytes`.
    fn pin(path: &'static str, bytes: &[u8]) -> Pinned {
        Pinned {
            remote: Remote {
                repo: "o/r",
                commit: "c1",
                path,
            },
            sha256: leak(sha256_hex(bytes)),
        }
    }

    /// One entry per kind of derivation (merge, copy, JSONL to TSV, edit), then a merge with
    /// a part pinned to the wrong sha256.
    fn derived_entries() -> [Entry; 5] {
        [
            plain(
                "glue/T/m.tsv",
                MERGED.len() as u64,
                leak(sha256_hex(MERGED)),
                Source::MergeByIndex([pin("a.tsv", A), pin("b.tsv", B)]),
            ),
            plain(
                "glue/T/d.jsonl",
                JSONL.len() as u64,
                leak(sha256_hex(JSONL)),
                Source::Copy(Remote {
                    repo: "o/r",
                    commit: "c1",
                    path: "d.jsonl",
                }),
            ),
            plain(
                "glue/T/d.tsv",
                TSV.len() as u64,
                leak(sha256_hex(TSV)),
                Source::JsonlToTsv {
                    jsonl: "glue/T/d.jsonl",
                },
            ),
            plain(
                "glue/T/tok.json",
                7,
                leak(sha256_hex(b"{\"v\":1}")),
                Source::DeleteOnce {
                    from: pin("tok.json", TOK),
                    needle: ", \"x\":2",
                },
            ),
            // A pinned part whose sha256 differs: an error naming the URL.
            plain(
                "glue/T/bad.tsv",
                MERGED.len() as u64,
                leak(sha256_hex(MERGED)),
                Source::MergeByIndex([pin("a.tsv", B), pin("b.tsv", B)]),
            ),
        ]
    }

    /// The four derivations succeeded, the bad pin failed naming its URL, and only the
    /// derived files are in `dir`.
    fn check_derivations(report: &Report, dir: &TestDir) {
        let rows = outcomes(report);
        assert_eq!(rows[0], ("fetched", false));
        assert_eq!(rows[1], ("fetched", false));
        assert_eq!(rows[2], ("fetched", false));
        assert_eq!(rows[3], ("fetched", false));
        assert!(
            rows[4].1 && rows[4].0.contains("/o/r/c1/a.tsv: sha256"),
            "{rows:?}"
        );
        assert_eq!(
            std::fs::read(dir.path().join("glue/T/m.tsv")).unwrap(),
            MERGED
        );
        assert_eq!(std::fs::read(dir.path().join("glue/T/d.tsv")).unwrap(), TSV);
        let files = [
            "glue/T/d.jsonl",
            "glue/T/d.tsv",
            "glue/T/m.tsv",
            "glue/T/tok.json",
        ];
        assert_eq!(dir.files(), files);
    }

    #[test]
    fn derivations_over_http() {
        let server = TestServer::start(vec![
            ("/o/r/c1/a.tsv".into(), A.to_vec()),
            ("/o/r/c1/b.tsv".into(), B.to_vec()),
            ("/o/r/c1/d.jsonl".into(), JSONL.to_vec()),
            ("/o/r/c1/tok.json".into(), TOK.to_vec()),
        ]);
        let entries = derived_entries();
        let dir = TestDir::new("fetch-derive");
        let refs: Vec<&Entry> = entries.iter().collect();
        let report = fetch(dir.path(), &refs, &server.base);
        check_derivations(&report, &dir);
    }

    #[test]
    fn corpus_chunk_from_pieces() {
        let pieces: [&[u8]; 3] = [b"hel", b"", b"lo\n"];
        let mut routes = Vec::new();
        let mut sources = String::from("# comment\n");
        for (i, piece) in pieces.iter().enumerate() {
            routes.push((format!("/w/p/c2/data/XX/wiki_{i:02}"), piece.to_vec()));
            sources.push_str(&format!(
                "XX.txt.gz {} data/XX/wiki_{i:02}\n",
                git_blob_sha1(piece)
            ));
        }
        // YY's second piece has a wrong blob id.
        sources.push_str(&format!(
            "YY.txt.gz {} data/XX/wiki_00\n",
            git_blob_sha1(b"hel")
        ));
        sources.push_str(&format!(
            "YY.txt.gz {} data/XX/wiki_02\n",
            git_blob_sha1(b"lo")
        ));
        let server = TestServer::start(routes);
        let sources = leak(sources);
        let chunk = |path| Entry {
            path,
            dataset: "corpus/c",
            group: Group::Corpus,
            expected: Expected::Gzip {
                bytes: 6,
                sha256: HELLO,
                gz_bytes: 1,
                gz_sha256: HELLO,
            },
            source: Source::Concatenate {
                repo: "w/p",
                commit: "c2",
                sources,
            },
        };
        let (xx, yy) = (chunk("corpus/c/XX.txt.gz"), chunk("corpus/c/YY.txt.gz"));
        let dir = TestDir::new("fetch-corpus");
        let report = fetch(dir.path(), &[&xx, &yy], &server.base);
        let rows = outcomes(&report);
        assert!(
            !rows[0].1
                && rows[0]
                    .0
                    .starts_with("fetched (content matches; gzip bytes differ"),
            "{rows:?}"
        );
        assert!(
            rows[1].1 && rows[1].0.contains("/w/p/c2/data/XX/wiki_02: git blob"),
            "{rows:?}"
        );
        let mut text = String::new();
        GzDecoder::new(std::fs::File::open(dir.path().join(xx.path)).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "hello\n");
        assert_eq!(dir.files(), ["corpus/c/XX.txt.gz"]);
    }
}
