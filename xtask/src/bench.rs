//! `cargo xtask bench-hashing`: criterion benchmarks of the hashing crate, then the Python
//! reference baseline on the same text, side by side.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Runs `cargo bench -p hashformer-benches --bench hashing` and `tools/bench/python_hashing.py`.
pub fn hashing(root: &Path, args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let data = crate::data_dir(root);
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .args([
            "bench",
            "-p",
            "hashformer-benches",
            "--bench",
            "hashing",
            "--",
        ])
        .env("HASHFORMER_DATA", &data)
        .current_dir(root);
    if quick {
        cargo.arg("--quick");
    }
    let status = cargo.status().context("running cargo bench")?;
    if !status.success() {
        bail!("cargo bench failed ({status})");
    }
    let python = root.join("tools/golden/.venv/bin/python");
    let python = if python.exists() {
        python
    } else {
        "python3".into()
    };
    let status = Command::new(&python)
        .arg(root.join("tools/bench/python_hashing.py"))
        .env("HASHFORMER_DATA", &data)
        .current_dir(root)
        .status()
        .with_context(|| format!("running {}", python.display()))?;
    if !status.success() {
        bail!("python baseline failed ({status})");
    }
    Ok(())
}
