//! Where the report commands (`glue-compare`, `pretrain-compare`, `bench-report`) find their
//! inputs and how they write their files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// `dir/name`, or `dir` itself if it is a file: a command may be given a run's directory or
/// the file of it that it reads.
pub fn file_in(dir: &Path, name: &str) -> PathBuf {
    if dir.is_file() {
        dir.to_owned()
    } else {
        dir.join(name)
    }
}

/// Creates the folder `out` (and its parents) and writes each `(name, bytes)` into it,
/// atomically, in order.
///
/// # Errors
/// The folder cannot be created or a file cannot be written (naming it).
pub fn write_files(out: &Path, files: &[(&str, &[u8])]) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for (name, bytes) in files {
        let path = out.join(name);
        hashformer_files::write_atomic(&path, bytes)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
