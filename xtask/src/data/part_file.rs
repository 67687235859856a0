//! Atomic writes: a file is written as `.NAME.part-PID` beside its destination, checked, then
//! renamed over it. A `PartFile` dropped before [`PartFile::persist`] removes its temp file, so an
//! error or a checksum mismatch never leaves a partial file behind.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A temp file next to `dest`, renamed onto it by [`PartFile::persist`].
pub struct PartFile {
    tmp: PathBuf,
    dest: PathBuf,
    file: Option<File>,
    persisted: bool,
}

impl PartFile {
    /// Creates the temp file for `dest` (and `dest`'s folder).
    ///
    /// # Errors
    /// When the folder or the file cannot be created.
    pub fn create(dest: &Path) -> Result<Self> {
        let dir = dest.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let name = dest
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let tmp = dir.join(format!(".{name}.part-{}", std::process::id()));
        let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        Ok(Self {
            tmp,
            dest: dest.to_path_buf(),
            file: Some(file),
            persisted: false,
        })
    }

    /// The temp file's path (to check it once [`PartFile::close`]d).
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// The open temp file.
    ///
    /// # Errors
    /// After [`PartFile::close`].
    pub fn writer(&mut self) -> Result<&mut File> {
        let tmp = &self.tmp;
        self.file
            .as_mut()
            .with_context(|| format!("{} is already closed", tmp.display()))
    }

    /// Flushes the temp file to disk and closes it; the file stays until `persist` or drop.
    ///
    /// # Errors
    /// When flushing fails.
    pub fn close(&mut self) -> Result<()> {
        if let Some(mut file) = self.file.take() {
            file.flush()
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing {}", self.tmp.display()))?;
        }
        Ok(())
    }

    /// Closes the temp file and renames it onto the destination.
    ///
    /// # Errors
    /// When closing or renaming fails (the temp file is then removed).
    pub fn persist(mut self) -> Result<()> {
        self.close()?;
        std::fs::rename(&self.tmp, &self.dest).with_context(|| {
            format!("renaming {} to {}", self.tmp.display(), self.dest.display())
        })?;
        self.persisted = true;
        Ok(())
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if !self.persisted {
            self.file = None;
            // Best effort: the file may not exist if creating it raced with something else.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::PartFile;
    use hashformer_testkit::TempDir as TestDir;

    #[test]
    fn persist_renames_and_drop_removes() {
        let dir = TestDir::new("part-file");
        let dest = dir.path().join("sub/out.txt");
        let mut part = PartFile::create(&dest).unwrap();
        part.writer().unwrap().write_all(b"abc").unwrap();
        assert!(part.path().exists());
        assert!(!dest.exists());
        part.persist().unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"abc");

        let mut part = PartFile::create(&dest).unwrap();
        part.writer().unwrap().write_all(b"partial").unwrap();
        let tmp = part.path().to_path_buf();
        drop(part);
        assert!(!tmp.exists());
        assert_eq!(
            std::fs::read(&dest).unwrap(),
            b"abc",
            "destination untouched"
        );
        assert_eq!(dir.files(), vec!["sub/out.txt".to_string()]);
    }
}
