//! `cargo xtask data`: the data layout under `$HASHFORMER_DATA` (default: the per-user data
//! directory, `hashformer_files::data_root`, which the `hashformer` binary reads too), checked,
//! imported from a local copy, or fetched from its pinned public sources. Every file is listed
//! with its size and sha256 in [`manifest::MANIFEST`]; every write is a temp file that is checked
//! and then renamed. `docs/data.md` describes the commands, the layout and the sources.
//!
//! ```text
//! cargo xtask data check  [--dir D] [--only LIST] [--quick]
//! cargo xtask data import MIRROR [--dir D] [--only LIST] [--include-unlisted]
//! cargo xtask data fetch  [--dir D] [--only LIST] [--base-url URL]
//! ```

mod check;
mod derive;
mod digest;
mod ensure;
mod fetch;
mod http;
mod import;
pub mod manifest;
mod part_file;
mod progress;
mod report;
mod selection;
#[cfg(test)]
mod test_server;
mod verify;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use manifest::Group;
use report::Report;
use selection::Selection;
use verify::Mode;

/// The environment variable naming a mirror of `raw.githubusercontent.com` for `fetch`.
pub const MIRROR_ENV: &str = "HASHFORMER_DATA_MIRROR";

const USAGE: &str = "\
usage: cargo xtask data <command> [options]

commands:
  check            check every file's size and sha256 against the manifest
  import MIRROR    copy a local copy of the layout (MIRROR/glue/..., ...), checking each file
  fetch            download from the pinned sources, derive, check

options:
  --dir D              the data folder (default: $HASHFORMER_DATA, else the per-user
                       data directory, e.g. ~/.local/share/hashformers on Linux)
  --only LIST          comma-separated groups or datasets: glue, corpus, roberta, CoLA, SST-2, ...
  --quick              check: compare sizes only (no hashing)
  --include-unlisted   import: also copy glue/<TASK>/ files the manifest does not list, unverified
  --base-url URL       fetch: instead of https://raw.githubusercontent.com (or $HASHFORMER_DATA_MIRROR)";

/// Where `fetch` downloads from: `base_url` when given, else `$HASHFORMER_DATA_MIRROR`, else
/// GitHub.
fn fetch_base(base_url: Option<&str>) -> String {
    match base_url {
        Some(url) => url.to_owned(),
        None => std::env::var(MIRROR_ENV).unwrap_or_else(|_| manifest::GITHUB_RAW.to_string()),
    }
}

/// Makes sure the datasets `only` names (an `--only` list) are in `dir` and correct, fetching
/// what is missing or corrupt unless `fetch` is false (see `ensure`). `needed_by` names the
/// command in messages.
///
/// # Errors
/// An unknown dataset; data missing with fetching off; a failed download.
pub fn ensure(dir: &Path, only: &str, fetch: bool, needed_by: &str) -> Result<()> {
    let entries = Selection::parse(only)?.entries(&[])?;
    let base = fetch_base(None);
    let fetching = if fetch {
        ensure::Fetching::From(&base)
    } else {
        ensure::Fetching::Off
    };
    ensure::ensure(dir, &entries, fetching, needed_by)
}

/// The subcommand and its own options.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Check {
        quick: bool,
    },
    Import {
        mirror: PathBuf,
        include_unlisted: bool,
    },
    Fetch {
        base_url: Option<String>,
    },
    Help,
}

/// Parsed arguments.
#[derive(Debug)]
struct Args {
    command: Command,
    dir: Option<PathBuf>,
    only: Selection,
}

/// Runs `cargo xtask data …` with `args` (after `data`); `root` is the workspace root.
///
/// # Errors
/// On bad arguments, and when a file is missing or corrupt (`check`) or could not be made
/// (`import`, `fetch`).
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let args = parse(args)?;
    let dir = match args.dir.clone() {
        Some(dir) => dir,
        None => {
            let data = crate::data_dir(root)?;
            println!("data directory: {data}");
            data.path
        }
    };
    match args.command {
        Command::Help => {
            println!("{USAGE}");
            Ok(())
        }
        Command::Check { quick } => {
            let entries = args.only.entries(&[])?;
            let mode = if quick { Mode::Quick } else { Mode::Full };
            let what = if quick {
                "sizes only"
            } else {
                "sizes and sha256"
            };
            println!("checking {} ({what})", dir.display());
            finish(
                &check::check(&dir, &entries, mode),
                "missing or corrupt",
                &dir,
            )
        }
        Command::Import {
            ref mirror,
            include_unlisted,
        } => {
            let unlisted = if include_unlisted {
                import::unlisted(mirror, &args.only)?
            } else {
                Vec::new()
            };
            let extra: Vec<(Group, &str)> = unlisted
                .iter()
                .map(|(d, _)| (Group::Glue, d.as_str()))
                .collect();
            let entries = args.only.entries(&extra).with_context(|| {
                let hint = if include_unlisted {
                    ""
                } else {
                    " (a GLUE task outside the manifest needs --include-unlisted)"
                };
                format!("data import{hint}")
            })?;
            println!("importing {} into {}", mirror.display(), dir.display());
            let report = import::import(mirror, &dir, &entries, &unlisted)?;
            finish(&report, "not imported", &dir)
        }
        Command::Fetch { ref base_url } => {
            let entries = args.only.entries(&[])?;
            let base = fetch_base(base_url.as_deref());
            println!("fetching into {} from {base}", dir.display());
            finish(&fetch::fetch(&dir, &entries, &base), "not fetched", &dir)
        }
    }
}

/// Prints `report` and fails when a row failed.
fn finish(report: &Report, failed_means: &str, dir: &Path) -> Result<()> {
    print!("{}", report.render());
    let failed: Vec<&str> = report.failures().map(|r| r.path.as_str()).collect();
    println!(
        "{} file(s), {} {failed_means}",
        report.rows().len(),
        failed.len()
    );
    if failed.is_empty() {
        return Ok(());
    }
    bail!(
        "{} file(s) under {} {failed_means}: {}",
        failed.len(),
        dir.display(),
        failed.join(", ")
    )
}

/// Parses the arguments after `data`.
fn parse(args: &[String]) -> Result<Args> {
    let Some((command, rest)) = args.split_first() else {
        bail!("{USAGE}")
    };
    let (mut dir, mut only, mut positional) = (None, Selection::default(), Vec::new());
    let (mut quick, mut include_unlisted, mut base_url) = (false, false, None);
    let mut i = 0;
    while let Some(arg) = rest.get(i) {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || -> Result<String> {
            if let Some(value) = inline.clone() {
                return Ok(value);
            }
            i += 1;
            rest.get(i)
                .cloned()
                .with_context(|| format!("{flag} needs a value\n\n{USAGE}"))
        };
        match flag {
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "--only" => only = Selection::parse(&value()?)?,
            "--base-url" if command == "fetch" => base_url = Some(value()?),
            "--quick" if command == "check" => quick = true,
            "--include-unlisted" if command == "import" => include_unlisted = true,
            "-h" | "--help" => {
                return Ok(Args {
                    command: Command::Help,
                    dir,
                    only,
                })
            }
            _ if flag.starts_with('-') => bail!("data {command}: unknown option {flag}\n\n{USAGE}"),
            _ => positional.push(arg.clone()),
        }
        i += 1;
    }
    let command = match (command.as_str(), &positional[..]) {
        ("check", []) => Command::Check { quick },
        ("import", [mirror]) => Command::Import {
            mirror: PathBuf::from(mirror),
            include_unlisted,
        },
        ("import", _) => bail!("data import needs one MIRROR folder\n\n{USAGE}"),
        ("fetch", []) => Command::Fetch { base_url },
        ("help" | "-h" | "--help", _) => Command::Help,
        (command, []) => bail!("unknown command `data {command}`\n\n{USAGE}"),
        (command, extra) => bail!(
            "data {command}: unexpected argument {:?}\n\n{USAGE}",
            extra[0]
        ),
    };
    Ok(Args { command, dir, only })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::{parse, Command};

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn commands_and_options() {
        let cases = [
            ("check", Command::Check { quick: false }),
            ("check --quick --dir /d", Command::Check { quick: true }),
            (
                "import /m --only glue",
                Command::Import {
                    mirror: PathBuf::from("/m"),
                    include_unlisted: false,
                },
            ),
            (
                "import --include-unlisted /m",
                Command::Import {
                    mirror: PathBuf::from("/m"),
                    include_unlisted: true,
                },
            ),
            (
                "fetch --base-url=http://x",
                Command::Fetch {
                    base_url: Some("http://x".into()),
                },
            ),
            ("fetch --only=roberta", Command::Fetch { base_url: None }),
            ("check --help", Command::Help),
        ];
        for (line, want) in cases {
            assert_eq!(parse(&args(line)).unwrap().command, want, "{line}");
        }
        let parsed = parse(&args("check --dir /d --only corpus")).unwrap();
        assert_eq!(parsed.dir, Some(PathBuf::from("/d")));
        assert!(parsed
            .only
            .matches(super::Group::Corpus, "corpus/enwiki-2014-wikiextractor"));
        assert!(!parsed.only.matches(super::Group::Glue, "glue/CoLA"));
    }

    #[test]
    fn bad_arguments() {
        let cases = [
            ("", "usage: cargo xtask data"),
            ("check --dir", "--dir needs a value"),
            (
                "check --base-url http://x",
                "data check: unknown option --base-url",
            ),
            ("fetch --quick", "data fetch: unknown option --quick"),
            ("import", "data import needs one MIRROR folder"),
            ("import a b", "data import needs one MIRROR folder"),
            ("check extra", "data check: unexpected argument \"extra\""),
            ("download", "unknown command `data download`"),
        ];
        for (line, want) in cases {
            let err = parse(&args(line)).unwrap_err().to_string();
            assert!(err.starts_with(want), "{line:?}: {err}");
        }
    }
}
