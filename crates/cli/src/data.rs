//! Where data lives: `$HASHFORMER_DATA`, else the per-user data directory
//! (`hashformer_files::data_root`, shared with `cargo xtask data`), so that data fetched once
//! is found from any working directory. A default that is missing fails with a message naming
//! the flag and the variable that point elsewhere and the command that fetches it.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use hashformer_files::DataRoot;

/// The data root: `$HASHFORMER_DATA`, or the per-user default when it is not set.
///
/// # Errors
/// The variable is empty, or unset on a system without a home directory.
pub fn data_root() -> Result<DataRoot> {
    Ok(hashformer_files::data_root()?)
}

/// A part of the data layout that a command takes by default.
#[derive(Debug, Clone, Copy)]
pub struct DataPart {
    /// Path under the data root (`glue`, `roberta-base`, …).
    pub relative: &'static str,
    /// What it is, for messages (`the GLUE data`).
    pub what: &'static str,
    /// The flag that names another place (`--glue`).
    pub flag: &'static str,
    /// The `--only` selection of `cargo xtask data fetch` that gets it.
    pub fetch: &'static str,
}

/// The GLUE tasks (`glue/<TASK>/…`).
pub const GLUE: DataPart = DataPart {
    relative: "glue",
    what: "the GLUE data",
    flag: "--glue",
    fetch: "glue",
};

/// The pre-training corpus.
pub const CORPUS: DataPart = DataPart {
    relative: "corpus/enwiki-2014-wikiextractor",
    what: "the pre-training corpus",
    flag: "--corpus",
    fetch: "corpus",
};

/// roberta-base's BPE files.
pub const ROBERTA: DataPart = DataPart {
    relative: "roberta-base",
    what: "the roberta-base BPE files",
    flag: "--roberta",
    fetch: "roberta",
};

/// `given` when the user named a place, else `default` under the data root, which must exist.
///
/// # Errors
/// No data root, or the default is missing (the message says where it looked and the ways out).
pub fn resolve(given: Option<&Path>, default: DataPart) -> Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path.to_owned());
    }
    let root = data_root()?;
    let path = root.join(default.relative);
    if !path.exists() {
        bail!("{}", missing_message(&path, &looked_in(&root), default));
    }
    Ok(path)
}

/// The GLUE directory (`given`, else [`GLUE`] under the data root), holding each of `files`:
/// `(task folder, file)` pairs such as `("SST-2", "train.tsv")`.
///
/// # Errors
/// As [`resolve`]; a file missing, named with the way to get its task.
pub fn resolve_glue(
    given: Option<&Path>,
    files: &[(&'static str, &'static str)],
) -> Result<PathBuf> {
    let dir = resolve(given, GLUE)?;
    for &(task, file) in files {
        let path = dir.join(task).join(file);
        if !path.is_file() {
            let looked = match given {
                Some(_) => "in the --glue directory".to_owned(),
                None => looked_in(&data_root()?),
            };
            let part = DataPart {
                relative: task,
                what: "a file of the GLUE task",
                fetch: task,
                ..GLUE
            };
            bail!("{}", missing_message(&path, &looked, part));
        }
    }
    Ok(dir)
}

/// `in the data directory … (from $HASHFORMER_DATA)`.
fn looked_in(root: &DataRoot) -> String {
    format!("in the data directory {root}")
}

/// What a missing part says: where it looked, and the three ways out.
fn missing_message(path: &Path, looked: &str, part: DataPart) -> String {
    let DataPart {
        what, flag, fetch, ..
    } = part;
    format!(
        "{what} is not at {}\n  looked {looked}\n  \
         get it: `cargo xtask data fetch --only {fetch}` (or `cargo xtask data import DIR` \
         from a copy)\n  or point {flag} (or ${}) at it",
        path.display(),
        hashformer_files::DATA_VAR
    )
}

/// The roberta-base directory: `dir` when given, else `roberta-base` under the data root.
///
/// # Errors
/// As [`resolve`].
pub fn roberta_dir(dir: Option<&Path>) -> Result<PathBuf> {
    resolve(dir, ROBERTA)
}

/// The roberta-base BPE that `config` needs (the BPE baseline, or LSH hashing), read from
/// [`roberta_dir`]; `None` for models that need none.
///
/// # Errors
/// Missing or malformed BPE files, naming the directory.
pub fn bpe_for(
    config: &hashformer_model::HashformerConfig,
    dir: Option<&Path>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use hashformer_files::DataSource;

    #[test]
    fn a_missing_default_names_every_way_out() {
        let root = DataRoot {
            path: PathBuf::from("/d"),
            source: DataSource::UserDefault,
        };
        let msg = missing_message(Path::new("/d/glue"), &looked_in(&root), GLUE);
        for needed in [
            "the GLUE data is not at /d/glue",
            "per-user default",
            "cargo xtask data fetch --only glue",
            "cargo xtask data import DIR",
            "--glue",
            "$HASHFORMER_DATA",
        ] {
            assert!(msg.contains(needed), "{needed:?} in {msg}");
        }
    }

    #[test]
    fn a_missing_glue_task_is_named() {
        let dir = hashformer_testkit::TempDir::new("glue-tasks");
        std::fs::create_dir_all(dir.join("CoLA")).unwrap();
        std::fs::create_dir_all(dir.join("SST-2")).unwrap();
        std::fs::write(dir.join("CoLA/dev.tsv"), "").unwrap();
        let cola = ("CoLA", "dev.tsv");
        assert_eq!(resolve_glue(Some(dir.path()), &[cola]).unwrap(), dir.path());
        // An empty task folder (a failed download's) is not the task.
        let msg = resolve_glue(Some(dir.path()), &[cola, ("SST-2", "train.tsv")])
            .unwrap_err()
            .to_string();
        for needed in [
            "a file of the GLUE task is not at",
            "SST-2/train.tsv",
            "in the --glue directory",
            "cargo xtask data fetch --only SST-2",
        ] {
            assert!(msg.contains(needed), "{needed:?} in {msg}");
        }
    }

    #[test]
    fn a_given_path_is_taken_as_it_is() {
        let p = Path::new("/nowhere/at/all");
        assert_eq!(resolve(Some(p), CORPUS).unwrap(), p);
    }
}
