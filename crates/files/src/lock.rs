//! Directory locks: one process at a time writes a run directory or a prepared corpus. The
//! lock is the operating system's advisory lock on a lock file (`flock` on Unix, `LockFileEx`
//! on Windows, through `std::fs::File::try_lock`): it is released when the process ends,
//! however it ends, so a crash never leaves a stale lock behind. The file also names its
//! holder (process id and command line), for the message of whoever is refused or waits.
//! [`DirLock::acquire`] refuses a held lock; [`DirLock::acquire_waiting`] waits for it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A held lock; dropping it (or the process ending) releases it. The lock file stays.
#[derive(Debug)]
pub struct DirLock {
    /// Open and locked for as long as this value lives.
    _file: File,
    path: PathBuf,
}

/// A lock that could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another live process holds it.
    #[error(
        "{} is in use by another process ({holder}); wait for it to finish or stop it",
        locked.display()
    )]
    Held {
        /// What the lock guards (the directory).
        locked: PathBuf,
        /// Who holds it, as recorded in the lock file (`PID 123: hashformer pretrain …`).
        holder: String,
    },
    /// The lock file cannot be created, locked or written.
    #[error("locking {}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

impl DirLock {
    /// Takes the lock file `lock_file` (created, with its folder, if needed), which guards
    /// `locked`, without waiting, and records this process as its holder.
    ///
    /// # Errors
    /// [`LockError::Held`] when another process holds it; [`LockError::Io`] when the file
    /// cannot be created, locked or written.
    pub fn acquire(lock_file: &Path, locked: &Path) -> Result<Self, LockError> {
        let file = open(lock_file)?;
        match file.try_lock() {
            Ok(()) => Self::hold(file, lock_file),
            Err(TryLockError::WouldBlock) => Err(LockError::Held {
                locked: locked.to_owned(),
                holder: holder_of(lock_file),
            }),
            Err(TryLockError::Error(e)) => Err(io_error(lock_file, e)),
        }
    }

    /// Takes the lock file `lock_file` as [`DirLock::acquire`] does, but where another process
    /// holds it, calls `on_wait` with that holder (`PID 123: hashformer pretrain …`, or
    /// `holder unknown`) and waits until it lets go, however long that takes. For work
    /// another process may be doing for both, such as an entry of a shared cache.
    ///
    /// # Errors
    /// [`LockError::Io`] when the file cannot be created, locked or written.
    pub fn acquire_waiting(
        lock_file: &Path,
        on_wait: impl FnOnce(&str),
    ) -> Result<Self, LockError> {
        let file = open(lock_file)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                on_wait(&holder_of(lock_file));
                file.lock().map_err(|e| io_error(lock_file, e))?;
            }
            Err(TryLockError::Error(e)) => return Err(io_error(lock_file, e)),
        }
        Self::hold(file, lock_file)
    }

    /// Records this process as the holder of the locked `file`.
    fn hold(mut file: File, lock_file: &Path) -> Result<Self, LockError> {
        let io = |source| io_error(lock_file, source);
        file.set_len(0).map_err(io)?;
        file.write_all(holder_line().as_bytes()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(Self {
            _file: file,
            path: lock_file.to_owned(),
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens (creating it and its folder if needed) the lock file `lock_file`.
fn open(lock_file: &Path) -> Result<File, LockError> {
    let io = |source| io_error(lock_file, source);
    if let Some(dir) = lock_file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(lock_file)
        .map_err(io)
}

/// The holder recorded in `lock_file`, or `holder unknown` (it is written just after the
/// lock is taken, so a reader can find it empty).
fn holder_of(lock_file: &Path) -> String {
    std::fs::read_to_string(lock_file)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "holder unknown".into())
}

fn io_error(lock_file: &Path, source: io::Error) -> LockError {
    LockError::Io {
        path: lock_file.to_owned(),
        source,
    }
}

/// `PID 123: hashformer pretrain --out run` for this process.
fn holder_line() -> String {
    let command: Vec<String> = std::env::args().collect();
    format!("PID {}: {}\n", std::process::id(), command.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_named_until_it_lets_go() {
        let dir = hashformer_testkit::TempDir::new("lock");
        let file = dir.join("run/.lock");
        let first = DirLock::acquire(&file, &dir.join("run")).unwrap();
        assert_eq!(first.path(), file);
        // A second open file description conflicts, as another process's would.
        let err = DirLock::acquire(&file, &dir.join("run")).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("is in use by another process"),
            "{message}"
        );
        assert!(
            message.contains(&format!("PID {}", std::process::id())),
            "{message}"
        );
        drop(first);
        let again = DirLock::acquire(&file, &dir.join("run")).unwrap();
        drop(again);
    }

    #[test]
    fn a_waiting_holder_is_told_who_holds_it_and_gets_it_once_they_let_go() {
        let dir = hashformer_testkit::TempDir::new("lock-wait");
        let file = dir.join("entry.lock");
        // Free: taken at once, nobody to wait for.
        let free = DirLock::acquire_waiting(&file, |h| panic!("waited for {h}")).unwrap();
        drop(free);
        let (tx, rx) = std::sync::mpsc::channel();
        let holder = std::thread::spawn({
            let file = file.clone();
            let first = DirLock::acquire(&file, dir.path()).unwrap();
            move || {
                // Let go only once the other is waiting.
                let told: String = rx.recv().unwrap();
                drop(first);
                told
            }
        });
        let second = DirLock::acquire_waiting(&file, |h| tx.send(h.to_owned()).unwrap()).unwrap();
        let told = holder.join().unwrap();
        assert!(
            told.starts_with(&format!("PID {}:", std::process::id())),
            "{told}"
        );
        // The waiter now holds it: a third is refused.
        assert!(matches!(
            DirLock::acquire(&file, dir.path()),
            Err(LockError::Held { .. })
        ));
        drop(second);
    }

    #[test]
    fn an_unwritable_place_is_an_io_error_naming_the_file() {
        let dir = hashformer_testkit::TempDir::new("lock-io");
        std::fs::write(dir.join("file"), "").unwrap();
        // A lock file under a regular file cannot be created.
        let err = DirLock::acquire(&dir.join("file/.lock"), dir.path()).unwrap_err();
        assert!(matches!(err, LockError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("file/.lock"), "{err}");
    }
}
