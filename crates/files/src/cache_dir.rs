//! Where derived files that can be rebuilt are kept (prepared corpora): `$HASHFORMER_CACHE`
//! when it is set, otherwise the platform's per-user cache directory (`$XDG_CACHE_HOME/
//! hashformers` or `~/.cache/hashformers` on Linux, `~/Library/Caches/hashformers` on macOS,
//! `%LOCALAPPDATA%\hashformers` on Windows). Deleting it loses nothing but time.

use std::ffi::OsString;
use std::path::PathBuf;

/// The environment variable that chooses the cache directory.
pub const CACHE_VAR: &str = "HASHFORMER_CACHE";

/// No cache directory could be chosen.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CacheRootError {
    /// `$HASHFORMER_CACHE` is set but empty.
    #[error("${CACHE_VAR} is set but empty: unset it or name the cache directory")]
    EmptyVariable,
    /// The variable is not set and the platform has no per-user cache directory (no home).
    #[error(
        "${CACHE_VAR} is not set and this system has no per-user cache directory (no home \
         directory): set ${CACHE_VAR} to a directory for prepared corpora"
    )]
    NoUserDirectory,
}

/// The cache directory (it may not exist yet): `$HASHFORMER_CACHE` if set, else the
/// per-user default.
///
/// # Errors
/// The variable is set but empty, or unset on a system without a per-user cache directory.
pub fn cache_root() -> Result<PathBuf, CacheRootError> {
    resolve(std::env::var_os(CACHE_VAR), dirs::cache_dir())
}

/// [`cache_root`] from the variable's value and the platform's user cache directory.
fn resolve(
    variable: Option<OsString>,
    user_cache: Option<PathBuf>,
) -> Result<PathBuf, CacheRootError> {
    match variable {
        Some(v) if v.is_empty() => Err(CacheRootError::EmptyVariable),
        Some(v) => Ok(PathBuf::from(v)),
        None => user_cache
            .map(|d| d.join("hashformers"))
            .ok_or(CacheRootError::NoUserDirectory),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_wins_over_the_user_default() {
        let home = Some(PathBuf::from("/home/u/.cache"));
        assert_eq!(
            resolve(Some("/c".into()), home.clone()),
            Ok(PathBuf::from("/c"))
        );
        assert_eq!(
            resolve(None, home),
            Ok(PathBuf::from("/home/u/.cache/hashformers"))
        );
    }

    #[test]
    fn an_empty_variable_or_no_home_is_an_error() {
        assert_eq!(
            resolve(Some("".into()), None),
            Err(CacheRootError::EmptyVariable)
        );
        assert_eq!(resolve(None, None), Err(CacheRootError::NoUserDirectory));
        let message = CacheRootError::NoUserDirectory.to_string();
        assert!(message.contains(CACHE_VAR), "{message}");
    }
}
