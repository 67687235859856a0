//! A temporary folder for tests, removed on drop (unit tests only).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh folder under the system temp dir.
pub struct TestDir(PathBuf);

impl TestDir {
    /// Creates `hashformers-xtask-<tag>-<pid>-<n>`.
    pub fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "hashformers-xtask-{tag}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Every file under the folder (temp files included), relative, with `/`, sorted.
    pub fn files(&self) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else {
                    let rel = path.strip_prefix(root).unwrap();
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &self.0, &mut out);
        out.sort();
        out
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `$HASHFORMER_DATA` for tests that read the real data. When it is not set or not a folder, the
/// test fails under `CI=true` and is skipped (with a note) otherwise.
pub fn shared_data(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("HASHFORMER_DATA").map(PathBuf::from);
    match dir {
        Some(dir) if dir.is_dir() => Some(dir),
        _ => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(
                !ci,
                "{test}: HASHFORMER_DATA is not set to the data folder (CI=true)"
            );
            eprintln!("{test}: skipped, HASHFORMER_DATA is not set to the data folder");
            None
        }
    }
}
