//! Errors of the inference crate.

use std::path::PathBuf;

/// Everything that can go wrong loading a checkpoint for inference or running it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model directory does not exist.
    #[error(
        "no model directory at {}: give a checkpoint directory, e.g. runs/NAME/model from \
         `hashformer pretrain` or OUT/<task>/seed-0/best from `hashformer glue`",
        dir.display()
    )]
    NoModelDir {
        /// The path given.
        dir: PathBuf,
    },
    /// The directory lacks `config.json` or `model.safetensors`.
    #[error(
        "{} has no {file}: not a hashformers checkpoint (expected config.json and \
         model.safetensors)",
        dir.display()
    )]
    MissingFile {
        /// The directory.
        dir: PathBuf,
        /// The missing file's name.
        file: &'static str,
    },
    /// The checkpoint holds a pre-trained encoder, not a fine-tuned classifier.
    #[error(
        "{} holds a pre-trained encoder without a trained classification head; fine-tune \
         it first (`hashformer glue --model {} --tasks sst2 --out OUT`, then use \
         OUT/SST-2/seed-0/best), or use `hashformer embed` for sentence vectors",
        dir.display(),
        dir.display()
    )]
    NotAClassifier {
        /// The directory.
        dir: PathBuf,
    },
    /// The checkpoint does not load, or a text cannot be encoded for it.
    #[error("{}", match dir { Some(d) => format!("loading the model in {}", d.display()), None => "running the model".to_owned() })]
    Model {
        /// The model directory, when loading.
        dir: Option<PathBuf>,
        /// The cause.
        #[source]
        source: hashformer_model::Error,
    },
}

impl Error {
    /// A model-crate error while running (not loading) a model.
    pub(crate) fn running(source: hashformer_model::Error) -> Self {
        Self::Model { dir: None, source }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
