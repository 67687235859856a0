//! Where data lives: `$HASHFORMER_DATA`, else `./data` (the layout of `cargo xtask data`).

use std::path::PathBuf;

use anyhow::Result;

/// The data root: `$HASHFORMER_DATA`, or `./data` when it is not set.
///
/// # Errors
/// Never today; a `Result` so that callers stay unchanged if resolving learns to fail.
pub fn data_root() -> Result<PathBuf> {
    Ok(std::env::var_os("HASHFORMER_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("data")))
}
