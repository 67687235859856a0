//! Files for the targets whose code under test reads a path: one folder per process and
//! thread under the system temp dir, rewritten by every input.

use std::path::PathBuf;

/// This thread's scratch folder (created on first use).
///
/// # Panics
/// When the folder cannot be created: the fuzzing run cannot go on.
pub(crate) fn dir() -> PathBuf {
    let thread = format!("{:?}", std::thread::current().id());
    let digits: String = thread.chars().filter(char::is_ascii_digit).collect();
    let dir = std::env::temp_dir().join(format!("hashformer-fuzz-{}-{digits}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the fuzz scratch folder can be created");
    dir
}

/// Writes `bytes` to `name` in this thread's scratch folder; its path.
///
/// # Panics
/// When the file cannot be written.
pub(crate) fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir().join(name);
    std::fs::write(&path, bytes).expect("the fuzz scratch file can be written");
    path
}
