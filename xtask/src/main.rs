//! `cargo xtask`: project automation as a Rust binary (no Burn; of the workspace only
//! `hashformer-files`, for the data directory it shares with the `hashformer` binary).
//!
//! - `cargo xtask quickstart [--minutes M]`: the README's main job (pre-train a tiny
//!   HashFormer-Proj_MD5, fine-tune it on SST-2, classify examples).
//! - `cargo xtask tidy`: house rules as a check (also run as a test).
//! - `cargo xtask golden`: regenerate the hashing golden vectors with the independent
//!   Python implementation in `tools/golden/`.
//! - `cargo xtask data <check | import MIRROR | fetch>`: the data layout under `$HASHFORMER_DATA`
//!   checked against its manifest, imported from a local copy, or fetched from its pinned
//!   sources (`docs/data.md`).
//! - `cargo xtask bench [--quick] [--backends …] [--configs …]`: hashing, embeddings, inference
//!   and training steps per backend next to PyTorch, into `docs/bench/` (JSON, Markdown, PNG).
//! - `cargo xtask bench-hashing`: hashing benchmarks plus the Python reference baseline.
//! - `cargo xtask fuzz [--minutes N] [--targets …]`: coverage-guided fuzzing of every input
//!   path with libFuzzer (`crates/fuzz`, `fuzz/`, `docs/reliability.md`).
//! - `cargo xtask pretrain …`, `cargo xtask glue …`: `hashformer pretrain` / `glue` with the
//!   backend's cargo feature.

mod bench;
mod cli;
mod data;
mod fuzz;
mod golden;
mod quickstart;
mod tidy;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use hashformer_files::{DataRoot, DataSource};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("tidy") => tidy::run(&project_root()),
        Some("golden") => golden::run(&project_root()),
        Some("data") => data::run(&project_root(), &args[1..]),
        Some("fuzz") => fuzz::run(&project_root(), &args[1..]),
        Some("quickstart") => quickstart::run(&project_root(), &args[1..]),
        Some("bench") => bench::backends(&project_root(), &args[1..]),
        Some("bench-hashing") => bench::hashing(&project_root(), &args[1..]),
        Some(sub @ ("pretrain" | "glue")) => cli::run(&project_root(), sub, &args[1..]),
        _ => bail!(
            "usage: cargo xtask <quickstart [--minutes M] | tidy | golden | data <check|import|fetch> … | bench [--quick] [--backends cpu,wgpu,cuda] [--configs tiny,small,base] | bench-hashing [--quick] | fuzz [--minutes N] [--targets a,b] | \
             pretrain ARGS… | glue ARGS…>\n\
             (`cargo xtask data --help`, `cargo xtask pretrain --help` and `cargo xtask glue --help` \
             list the options)"
        ),
    }
}

/// The workspace root (the parent of `xtask/`).
///
/// `cargo xtask` (= `cargo run -p xtask`) sets `CARGO_MANIFEST_DIR` for the process, naming
/// the checkout it was run in; that wins over the path compiled in. Two checkouts sharing one
/// target dir (as CI's clean clones do) can reuse each other's xtask binary, and the compiled
/// path would then send every command to the other checkout's sources.
fn project_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.join("src/main.rs").is_file() && dir.join("Cargo.toml").is_file())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// The data directory, shared with the `hashformer` binary: `$HASHFORMER_DATA`, else the
/// per-user default (`hashformer_files::data_root`). When the default does not exist yet but
/// the checkout has a `data/` folder (the default before), a note says how to use it.
///
/// # Errors
/// No data directory can be chosen (the variable is empty, or there is no home directory).
fn data_dir(root: &std::path::Path) -> Result<DataRoot> {
    let data = hashformer_files::data_root()?;
    let old = root.join("data");
    if data.source == DataSource::UserDefault && !data.path.exists() && old.is_dir() {
        eprintln!(
            "note: the data directory {} does not exist, but {} does (the checkout's data \
             folder, the default before): move it there, or set HASHFORMER_DATA={}",
            data.path.display(),
            old.display(),
            old.display()
        );
    }
    Ok(data)
}
