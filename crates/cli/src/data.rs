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

/// The roberta-base directory: `dir` when given, else `$HASHFORMER_DATA/roberta-base`.
///
/// # Errors
/// As [`data_root`].
pub fn roberta_dir(dir: Option<&std::path::Path>) -> Result<PathBuf> {
    Ok(match dir {
        Some(d) => d.to_owned(),
        None => data_root()?.join("roberta-base"),
    })
}

/// The roberta-base BPE that `config` needs (the BPE baseline, or LSH hashing), read from
/// [`roberta_dir`]; `None` for models that need none.
///
/// # Errors
/// Missing or malformed BPE files, naming the directory.
pub fn bpe_for(
    config: &hashformer_model::HashformerConfig,
    dir: Option<&std::path::Path>,
) -> Result<Option<hashformer_hashing::RobertaBpe>> {
    use anyhow::Context;
    if !config.needs_bpe() {
        return Ok(None);
    }
    let dir = roberta_dir(dir)?;
    let bpe = hashformer_hashing::RobertaBpe::from_dir(&dir).with_context(|| {
        format!(
            "this model needs the roberta-base BPE; loading it from {} (set --roberta or \
             HASHFORMER_DATA)",
            dir.display()
        )
    })?;
    Ok(Some(bpe))
}
