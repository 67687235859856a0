//! Atomic file writes for the log and the charts: a temporary file in the same directory,
//! flushed to disk, then renamed over the target.
//!
//! The same rule as `hashformer_model::write_atomic` (same temporary name, same cleanup).
//! It is repeated here, not imported, because that crate brings Burn and this one must not;
//! the workspace's helper could move down into a small Burn-free crate that both use.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed to
/// disk, then renamed over `path`. A crash leaves the old file or the new one, never half.
/// On failure the temporary file is removed (best effort).
///
/// # Errors
/// The I/O error of the create, write, sync or rename; callers name `path` in their error.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let write = || -> io::Result<()> {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    };
    write().inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = hashformer_testkit::TempDir::new("atomic");
        let path = dir.join("a.txt");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(dir.files(), ["a.txt"]);
        let err = write_atomic(&dir.join("no/b.txt"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(dir.files(), ["a.txt"]);
    }
}
