//! `cargo xtask golden`: regenerates `crates/hashing/tests/golden/*.jsonl` with the
//! independent Python implementation (never from our Rust code).

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Creates the pinned Python venv and runs the generator.
pub fn run(root: &Path) -> Result<()> {
    let golden = root.join("tools/golden");
    let status = Command::new("bash")
        .arg(golden.join("setup.sh"))
        .status()
        .context("running tools/golden/setup.sh")?;
    if !status.success() {
        bail!("tools/golden/setup.sh failed ({status})");
    }
    let python = golden.join(".venv/bin/python");
    let status = Command::new(&python)
        .arg(golden.join("make_golden.py"))
        .arg("--out")
        .arg(root.join("crates/hashing/tests/golden"))
        .env("HASHFORMER_DATA", crate::data_dir(root)?.path)
        .current_dir(root)
        .status()
        .with_context(|| format!("running {}", python.display()))?;
    if !status.success() {
        bail!("make_golden.py failed ({status})");
    }
    println!("golden vectors regenerated: review `git diff crates/hashing/tests/golden` (a change is a breaking change)");
    Ok(())
}
