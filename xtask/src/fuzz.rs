//! `cargo xtask fuzz [--minutes N] [--targets a,b]`: coverage-guided fuzzing of every target in
//! `crates/fuzz` with libFuzzer, on the stable toolchain.
//!
//! The binary in `fuzz/` is built with `tools/fuzz/rustc-wrapper.sh` as `RUSTC_WRAPPER`, which
//! adds SanitizerCoverage (stable `-C passes=sancov-module` and LLVM options) to our crates
//! only, into its own target directory under the cache directory. Each target (a folder of
//! `fuzz/seeds/`) then runs for an equal share of the minutes, growing a working corpus in the
//! cache directory from the checked-in seeds (which it never writes). A crash stops with the
//! input saved and the command that replays it; copy it into `fuzz/regressions/TARGET/` with
//! the fix. The table at the end (executions, coverage) goes into `docs/reliability.md`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The libFuzzer binary's name (fuzz/Cargo.toml).
const BINARY: &str = "hashformer-fuzz";
/// The variable the binary reads its target from.
const TARGET_VAR: &str = "HASHFORMER_FUZZ_TARGET";
/// Memory per fuzzing process before libFuzzer calls it a leak or a bomb.
const RSS_LIMIT_MB: u32 = 4096;
/// Largest input libFuzzer generates (the checkpoint seed is larger and stays whole).
const MAX_LEN: u32 = 16_384;

/// The options of `cargo xtask fuzz`.
#[derive(Debug, PartialEq)]
struct Options {
    minutes: f64,
    targets: Option<Vec<String>>,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options {
        minutes: 8.0,
        targets: None,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--minutes" => {
                let text = value()?;
                options.minutes = text
                    .parse()
                    .ok()
                    .filter(|m: &f64| m.is_finite() && *m > 0.0)
                    .with_context(|| format!("--minutes: {text:?} is not a positive number"))?;
            }
            "--targets" => {
                options.targets = Some(value()?.split(',').map(str::to_owned).collect());
            }
            other => {
                bail!("unknown option {other:?}: cargo xtask fuzz [--minutes N] [--targets a,b]")
            }
        }
    }
    Ok(options)
}

/// Runs `cargo xtask fuzz`.
///
/// # Errors
/// Bad options, a failed build, an unknown target, or a target that crashed.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let options = parse(args)?;
    let all = targets(&root.join("fuzz/seeds"))?;
    let chosen = match &options.targets {
        None => all,
        Some(names) => {
            for name in names {
                if !all.contains(name) {
                    bail!(
                        "unknown fuzz target {name:?}; the targets are {}",
                        all.join(", ")
                    );
                }
            }
            names.clone()
        }
    };
    let bpe = hashformer_files::data_root()?.join("roberta-base/vocab.json");
    if chosen.iter().any(|n| n == "lsh") && !bpe.is_file() {
        bail!(
            "the lsh target needs roberta-base's BPE files ({} is missing): \
             `cargo xtask data fetch --only roberta-base`, or leave it out with --targets",
            bpe.display()
        );
    }
    let cache = hashformer_files::cache_root()?;
    let binary = build(root, &cache.join("fuzz-target"))?;
    let seconds = (options.minutes * 60.0 / chosen.len() as f64)
        .max(1.0)
        .round() as u64;
    let mut rows = Vec::new();
    for name in &chosen {
        eprintln!("fuzzing {name} for {seconds} s");
        let run = fuzz_one(root, &binary, &cache, name, seconds)?;
        rows.push((name.clone(), run));
    }
    println!("{}", table(&rows, seconds));
    let crashed: Vec<&str> = rows
        .iter()
        .filter(|(_, r)| r.crash.is_some())
        .map(|(n, _)| n.as_str())
        .collect();
    if !crashed.is_empty() {
        bail!("crashes in {}: see the inputs above", crashed.join(", "));
    }
    Ok(())
}

/// The target names: the folders of `seeds`.
fn targets(seeds: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(seeds).with_context(|| format!("listing {}", seeds.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// Builds the instrumented binary into `target_dir`; its path.
fn build(root: &Path, target_dir: &Path) -> Result<PathBuf> {
    let wrapper = root.join("tools/fuzz/rustc-wrapper.sh");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root.join("fuzz"))
        .args(["build", "--bin", BINARY])
        .env("CARGO_TARGET_DIR", target_dir)
        .env("RUSTC_WRAPPER", &wrapper)
        .status()
        .context("running cargo build for fuzz/")?;
    if !status.success() {
        bail!(
            "building the fuzzing binary failed ({status}); it needs a C++ compiler for libFuzzer"
        );
    }
    Ok(target_dir.join("debug").join(BINARY))
}

/// What one target's run reached.
#[derive(Debug, Default, PartialEq)]
struct FuzzRun {
    executions: u64,
    coverage: u64,
    features: u64,
    corpus: u64,
    crash: Option<String>,
}

/// Fuzzes `name` for `seconds` from its seeds into the working corpus under `cache`.
fn fuzz_one(root: &Path, binary: &Path, cache: &Path, name: &str, seconds: u64) -> Result<FuzzRun> {
    let work = cache.join("fuzz-corpus").join(name);
    let artifacts = cache.join("fuzz-artifacts").join(name);
    for dir in [&work, &artifacts] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let out = Command::new(binary)
        .current_dir(root)
        .env(TARGET_VAR, name)
        .arg(&work)
        .arg(root.join("fuzz/seeds").join(name))
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-rss_limit_mb={RSS_LIMIT_MB}"))
        .arg(format!("-max_len={MAX_LEN}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg("-print_final_stats=1")
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    let log = String::from_utf8_lossy(&out.stderr);
    let mut run = parse_log(&log);
    if !out.status.success() {
        let input = log
            .lines()
            .find_map(|l| l.split("Test unit written to ").nth(1))
            .unwrap_or("(no input saved)");
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        eprintln!("{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        eprintln!(
            "{name} crashed on {input}; replay: {TARGET_VAR}={name} {} {input}",
            binary.display()
        );
        run.crash = Some(input.to_owned());
    }
    Ok(run)
}

/// The figures in libFuzzer's output: executions from the final stats, coverage, features and
/// corpus size from the last status line (`#N ... cov: C ft: F corp: K/…`).
fn parse_log(log: &str) -> FuzzRun {
    let mut run = FuzzRun::default();
    let number = |line: &str, key: &str| -> Option<u64> {
        let rest = line.split(key).nth(1)?;
        rest.split(|c: char| !c.is_ascii_digit())
            .find(|s| !s.is_empty())?
            .parse()
            .ok()
    };
    for line in log.lines() {
        if line.contains(" cov: ") {
            run.coverage = number(line, " cov: ").unwrap_or(run.coverage);
            run.features = number(line, " ft: ").unwrap_or(run.features);
            run.corpus = number(line, " corp: ").unwrap_or(run.corpus);
        }
        if let Some(n) = number(line, "stat::number_of_executed_units:") {
            run.executions = n;
        }
    }
    run
}

/// The Markdown table of the runs.
fn table(rows: &[(String, FuzzRun)], seconds: u64) -> String {
    let mut out = String::from(
        "| target | seconds | executions | per second | coverage (edges) | features | corpus | result |\n\
         |---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for (name, r) in rows {
        let result = r
            .crash
            .as_deref()
            .map_or("no crash".to_owned(), |c| format!("crash: {c}"));
        out.push_str(&format!(
            "| `{name}` | {seconds} | {} | {} | {} | {} | {} | {result} |\n",
            r.executions,
            r.executions / seconds.max(1),
            r.coverage,
            r.features,
            r.corpus
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options_parse_and_bad_ones_are_refused() {
        let o = parse(&args(&["--minutes", "2.5", "--targets", "words,lsh"])).unwrap();
        assert_eq!(o.minutes, 2.5);
        assert_eq!(o.targets.unwrap(), ["words", "lsh"]);
        assert_eq!(parse(&[]).unwrap().minutes, 8.0);
        for bad in [
            &["--minutes", "nan"][..],
            &["--minutes", "-1"],
            &["--minutes"],
            &["--x"],
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn libfuzzer_output_is_read() {
        let log = "INFO: Seed: 1\n\
                   #2\tINITED cov: 120 ft: 130 corp: 5/100b exec/s: 0 rss: 40Mb\n\
                   #4096\tpulse  cov: 300 ft: 700 corp: 40/2Kb lim: 40 exec/s: 2048 rss: 50Mb\n\
                   Done 5000 runs in 2 second(s)\n\
                   stat::number_of_executed_units: 5000\n\
                   stat::average_exec_per_sec:     2500\n";
        let run = parse_log(log);
        assert_eq!(
            run,
            FuzzRun {
                executions: 5000,
                coverage: 300,
                features: 700,
                corpus: 40,
                crash: None
            }
        );
        assert!(table(&[("words".into(), run)], 2)
            .contains("| `words` | 2 | 5000 | 2500 | 300 | 700 | 40 | no crash |"));
    }

    #[test]
    fn every_seed_folder_is_a_target() {
        let root = crate::project_root();
        let names = targets(&root.join("fuzz/seeds")).unwrap();
        for name in ["words", "lsh", "glue_tsv", "checkpoint", "corpus"] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
    }
}
