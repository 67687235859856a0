//! Shared helpers of the glue integration tests.

use std::path::PathBuf;

/// `$HASHFORMER_DATA/glue`, if `HASHFORMER_DATA` is set and holds `glue/`. With `CI=true` a
/// missing directory is a failure, not a skip.
pub fn glue_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("HASHFORMER_DATA").map(|d| PathBuf::from(d).join("glue"));
    match dir {
        Some(d) if d.is_dir() => Some(d),
        other => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(
                !ci,
                "CI=true but {other:?} ($HASHFORMER_DATA/glue) is not a directory"
            );
            eprintln!("note: HASHFORMER_DATA not set or has no glue/; skipping the real-data test");
            None
        }
    }
}
