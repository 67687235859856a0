#![doc = include_str!("../README.md")]

mod classifier;
mod embedder;
mod error;
mod model_dir;
mod options;
mod run;

pub use classifier::{Classifier, Prediction};
pub use embedder::{Embedder, Pooling};
pub use error::{Error, Result};
pub use hashformer_hashing::{RobertaBpe, TextInput};
pub use hashformer_model::Precision;
pub use model_dir::ModelDir;
pub use options::InferenceOptions;
