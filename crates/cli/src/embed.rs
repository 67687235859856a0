//! `hashformer embed`: sentence vectors from a checkpoint's encoder.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use hashformer_train::Pooling;
use serde_json::json;

use crate::backend::Backend;
use crate::model_dir::{example, load, texts};

/// How a vector is read off the last layer.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PoolingArg {
    /// Mean over the text's tokens (padding excluded).
    Mean,
    /// The `<s>` token's state (what the classification head reads).
    First,
}

/// Arguments of `hashformer embed`.
#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// A checkpoint directory (pre-trained or fine-tuned).
    #[arg(long)]
    model: PathBuf,
    /// Texts to embed; without any, one text per line of stdin.
    texts: Vec<String>,
    /// Read `A<TAB>B` as a sentence pair.
    #[arg(long)]
    pairs: bool,
    /// Pooling.
    #[arg(long, value_enum, default_value = "mean")]
    pooling: PoolingArg,
    /// Scale each vector to unit length (cosine similarity becomes a dot product).
    #[arg(long)]
    normalize: bool,
    /// Texts per batch.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Sequence length (words beyond it are cut).
    #[arg(long, default_value_t = 128)]
    max_length: usize,
    /// Backend.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
    /// roberta-base directory for LSH and BPE models [default: $HASHFORMER_DATA/roberta-base].
    #[arg(long)]
    roberta: Option<PathBuf>,
}

/// Runs `hashformer embed`: one JSON object per text, `{"text": …, "vector": [...]}`.
///
/// # Errors
/// A missing model directory, hashing errors, output errors.
pub fn run(args: &EmbedArgs) -> Result<()> {
    let device = args.backend.device()?;
    let loaded = load(
        &args.model,
        args.roberta.as_deref(),
        args.max_length,
        &device,
    )?;
    let texts = texts(&args.texts)?;
    let examples: Vec<_> = texts.iter().map(|t| example(t, args.pairs)).collect();
    let pooling = match args.pooling {
        PoolingArg::Mean => Pooling::Mean,
        PoolingArg::First => Pooling::First,
    };
    let vectors = hashformer_train::embed(
        &loaded.model.roberta,
        loaded.config.embedding_type,
        &loaded.encoder,
        &examples,
        pooling,
        args.batch_size,
        &device,
    )?;
    let mut out = std::io::stdout().lock();
    for (text, mut v) in texts.iter().zip(vectors) {
        if args.normalize {
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                v.iter_mut().for_each(|x| *x /= norm);
            }
        }
        writeln!(out, "{}", json!({"text": text, "vector": v}))?;
    }
    Ok(())
}
