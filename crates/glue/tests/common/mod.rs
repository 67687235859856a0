//! Shared helpers of the glue integration tests.

use std::path::PathBuf;

/// `$HASHFORMER_DATA/glue`, under the project's rule for real-data tests (a failure when it is
/// missing and `CI=true`, a skip otherwise): see [`hashformer_testkit::shared_data`].
#[track_caller]
pub fn glue_dir() -> Option<PathBuf> {
    hashformer_testkit::shared_data("glue").map(|d| d.join("glue"))
}
