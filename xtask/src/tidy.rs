//! House rules as a check: every Rust file opens with `//!` (or `#![doc`), and no
//! `todo`/`unimplemented` macros, `should_panic` or `ignore` test attributes or trailing whitespace lands.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Runs every rule over the workspace's Rust sources and fails listing the violations.
pub fn run(root: &Path) -> Result<()> {
    let problems = check(root)?;
    if problems.is_empty() {
        println!("tidy: ok");
        return Ok(());
    }
    for p in &problems {
        eprintln!("{p}");
    }
    bail!("tidy: {} problem(s)", problems.len())
}

fn check(root: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "benches"] {
        collect_rs(&root.join(dir), &mut files)?;
    }
    let mut problems = Vec::new();
    let banned = [
        concat!("todo", "!("),
        concat!("unimplemented", "!("),
        concat!("#[should", "_panic"),
        concat!("#[ig", "nore"),
    ];
    for file in files {
        let text = std::fs::read_to_string(&file).with_context(|| file.display().to_string())?;
        let shown = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let first = text.lines().next().unwrap_or("");
        if !(first.starts_with("//!") || first.starts_with("#![doc")) {
            problems.push(format!("{shown}: does not open with a `//!` doc comment"));
        }
        for (i, line) in text.lines().enumerate() {
            if line.ends_with(' ') || line.ends_with('\t') {
                problems.push(format!("{shown}:{}: trailing whitespace", i + 1));
            }
            for b in banned {
                if line.contains(b) {
                    problems.push(format!("{shown}:{}: `{b}` is not allowed", i + 1));
                }
            }
        }
    }
    Ok(problems)
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            collect_rs(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn workspace_is_tidy() {
        let problems = super::check(&crate::project_root()).unwrap();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
