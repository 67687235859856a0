//! Test support shared by the hashformers test suites (a dev-dependency only).
//!
//! - [`shared_data`]: the real data folder, `$HASHFORMER_DATA`, under the project's rule: a
//!   test that needs data **fails** when it is missing and `CI=true`, and is skipped with a
//!   note otherwise (so `cargo test` works on a machine without the data).
//! - [`TempDir`]: a fresh folder per test, removed on drop.
//! - [`manifest_dir!`]: the tested package's folder, for its checked-in fixtures.
//! - [`capture`]: runs a command (the `hashformer` binary in the CLI tests) to the end and
//!   returns its exit code, stdout and stderr.
//!
//! ```
//! let Some(data) = hashformer_testkit::shared_data("glue/SST-2") else { return };
//! assert!(data.join("glue/SST-2").is_dir());
//! let tmp = hashformer_testkit::TempDir::new("doc");
//! std::fs::write(tmp.join("a.txt"), "x").unwrap();
//! assert_eq!(tmp.files(), ["a.txt"]);
//! assert!(hashformer_testkit::manifest_dir!().join("Cargo.toml").is_file());
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The folder of the package whose test calls it: `CARGO_MANIFEST_DIR` as cargo sets it when
/// it runs the test, else the folder the test was compiled in.
///
/// Read at run time because checkouts that share one target directory (CI's build cache)
/// can run a test binary compiled in another checkout, which may since be gone; a path
/// compiled in (`env!`) would then name that checkout's fixtures.
#[macro_export]
macro_rules! manifest_dir {
    () => {
        ::std::env::var_os("CARGO_MANIFEST_DIR")
            .map(::std::path::PathBuf::from)
            .unwrap_or_else(|| ::std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
    };
}

/// The environment variable naming the data folder (the layout of `../shared/data`).
pub const DATA_VAR: &str = "HASHFORMER_DATA";

/// `$HASHFORMER_DATA`, when it is set and holds `needs` (a path relative to it; `""` asks only
/// for the folder itself).
///
/// Otherwise the test cannot run: with `CI=true` this panics, naming what is missing (the
/// test fails); without it, it prints a note and returns `None` (the caller returns early).
///
/// # Panics
/// When the data is missing and `CI=true`.
#[track_caller]
pub fn shared_data(needs: &str) -> Option<PathBuf> {
    let missing = match std::env::var_os(DATA_VAR).map(PathBuf::from) {
        Some(root) if root.join(needs).exists() => return Some(root),
        Some(root) => format!("{} does not exist", root.join(needs).display()),
        None => format!("{DATA_VAR} is not set"),
    };
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !ci,
        "CI=true and this test needs the data: {missing} (set {DATA_VAR} to the shared data folder)"
    );
    eprintln!("note: skipping the parts that need data: {missing}");
    None
}

/// The environment variable naming the cache directory (prepared corpora).
pub const CACHE_VAR: &str = "HASHFORMER_CACHE";

/// The cache directory a test's `hashformer` command should use so that it never touches the
/// user's cache: `cache` beside the command's `--out` (inside the test's [`TempDir`]), or
/// `None` when `args` have no `--out`. Set it as `HASHFORMER_CACHE` ([`CACHE_VAR`]).
pub fn cache_beside_out(args: &[&str]) -> Option<PathBuf> {
    let out = args.iter().position(|a| *a == "--out")?;
    let run = Path::new(args.get(out + 1)?);
    Some(run.parent().unwrap_or(Path::new(".")).join("cache"))
}

/// Runs `cmd` to the end with `stdin` as its input (none when `None`) and returns its exit
/// code (-1 when a signal ended it), stdout and stderr.
///
/// # Panics
/// When the command cannot start, or its output is not UTF-8.
pub fn capture(cmd: &mut Command, stdin: Option<&str>) -> (i32, String, String) {
    let input = if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    let mut child = cmd
        .stdin(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // The pipe closes when `pipe` drops, so the command sees the end of its input.
        pipe.write_all(text.as_bytes())
            .expect("the command reads its input");
    }
    let out = child.wait_with_output().expect("the command finishes");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    )
}

/// A fresh, empty folder under the system temp dir, removed (with everything in it) on drop.
/// It dereferences to its [`Path`].
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `hashformer-test-<tag>-<pid>-<n>`, unique within the process.
    ///
    /// # Panics
    /// When the folder cannot be created.
    pub fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("hashformer-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        Self(path)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Every file below the folder, relative, with `/` separators, sorted.
    ///
    /// # Panics
    /// When a folder below cannot be read.
    pub fn files(&self) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
            let entries =
                std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else if let Ok(rel) = path.strip_prefix(root) {
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

/// A `TempDir` is used where a `&Path` is wanted (`dir.join(..)`, `fs::write(&*dir, ..)`).
impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dirs_are_fresh_distinct_and_removed() {
        let a = TempDir::new("kit");
        let b = TempDir::new("kit");
        assert_ne!(a.path(), b.path());
        std::fs::create_dir_all(a.join("x/y")).unwrap();
        std::fs::write(a.join("x/y/z.txt"), "z").unwrap();
        std::fs::write(a.join("b.txt"), "b").unwrap();
        assert_eq!(a.files(), ["b.txt", "x/y/z.txt"]);
        assert!(b.files().is_empty());
        let kept = a.path().to_owned();
        drop(a);
        assert!(!kept.exists());
    }

    #[cfg(unix)]
    #[test]
    fn capture_feeds_stdin_and_returns_code_and_both_streams() {
        let script = "read line; echo \"out:$line\"; echo err >&2; exit 3";
        let (code, out, err) = capture(Command::new("sh").args(["-c", script]), Some("hi\n"));
        assert_eq!((code, out.as_str(), err.as_str()), (3, "out:hi\n", "err\n"));
        let (code, out, _) = capture(Command::new("sh").args(["-c", "cat; echo done"]), None);
        assert_eq!((code, out.as_str()), (0, "done\n"));
    }
}
