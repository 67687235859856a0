//! Where the data lives: one location for the `hashformer` binary, `cargo xtask` and the
//! tests. `$HASHFORMER_DATA` when it is set, otherwise the per-user data directory of the
//! platform (`$XDG_DATA_HOME/hashformers` or `~/.local/share/hashformers` on Linux,
//! `~/Library/Application Support/hashformers` on macOS, `%APPDATA%\hashformers` on Windows),
//! so that data fetched once is found from any working directory.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

/// The environment variable that chooses the data directory.
pub const DATA_VAR: &str = "HASHFORMER_DATA";

/// The folder under the platform's user data directory.
const APP_DIR: &str = "hashformers";

/// Why the data directory is where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataSource {
    /// `$HASHFORMER_DATA` names it.
    Variable,
    /// The per-user default (the variable is not set).
    UserDefault,
}

/// The data directory and why it is that one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRoot {
    /// The directory (it may not exist yet).
    pub path: PathBuf,
    /// Where the choice came from.
    pub source: DataSource,
}

impl DataRoot {
    /// `relative` under the data directory.
    pub fn join(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.path.join(relative)
    }
}

impl fmt::Display for DataRoot {
    /// The path and its origin, for messages: `/d (from $HASHFORMER_DATA)` or
    /// `/home/u/.local/share/hashformers (the per-user default; $HASHFORMER_DATA chooses another)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.source {
            DataSource::Variable => write!(f, "{} (from ${DATA_VAR})", self.path.display()),
            DataSource::UserDefault => write!(
                f,
                "{} (the per-user default; ${DATA_VAR} chooses another)",
                self.path.display()
            ),
        }
    }
}

/// No data directory could be chosen.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DataRootError {
    /// `$HASHFORMER_DATA` is set but empty.
    #[error("${DATA_VAR} is set but empty: unset it or name the data directory")]
    EmptyVariable,
    /// The variable is not set and the platform has no per-user data directory (no home).
    #[error(
        "${DATA_VAR} is not set and this system has no per-user data directory (no home \
         directory): set ${DATA_VAR} to the data directory"
    )]
    NoUserDirectory,
}

/// The data directory: `$HASHFORMER_DATA` if set, else the per-user default.
///
/// # Errors
/// The variable is set but empty, or unset on a system without a per-user data directory.
pub fn data_root() -> Result<DataRoot, DataRootError> {
    resolve(std::env::var_os(DATA_VAR), dirs::data_dir())
}

/// [`data_root`] from the variable's value and the platform's user data directory.
fn resolve(
    variable: Option<OsString>,
    user_data: Option<PathBuf>,
) -> Result<DataRoot, DataRootError> {
    match variable {
        Some(v) if v.is_empty() => Err(DataRootError::EmptyVariable),
        Some(v) => Ok(DataRoot {
            path: PathBuf::from(v),
            source: DataSource::Variable,
        }),
        None => user_data
            .map(|d| DataRoot {
                path: d.join(APP_DIR),
                source: DataSource::UserDefault,
            })
            .ok_or(DataRootError::NoUserDirectory),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_wins_over_the_user_default() {
        let home = Some(PathBuf::from("/home/u/.local/share"));
        let root = resolve(Some("/data".into()), home.clone()).unwrap();
        assert_eq!(root.path, Path::new("/data"));
        assert_eq!(root.source, DataSource::Variable);
        assert_eq!(root.to_string(), "/data (from $HASHFORMER_DATA)");
        let root = resolve(None, home).unwrap();
        assert_eq!(root.path, Path::new("/home/u/.local/share/hashformers"));
        assert_eq!(root.source, DataSource::UserDefault);
        assert!(root.to_string().contains("per-user default"), "{root}");
        assert_eq!(
            root.join("glue"),
            Path::new("/home/u/.local/share/hashformers/glue")
        );
    }

    #[test]
    fn no_directory_is_an_error_not_the_working_directory() {
        assert_eq!(
            resolve(Some(OsString::new()), None),
            Err(DataRootError::EmptyVariable)
        );
        assert_eq!(resolve(None, None), Err(DataRootError::NoUserDirectory));
    }
}
