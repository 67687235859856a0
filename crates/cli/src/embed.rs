//! `hashformer embed`: sentence vectors from a checkpoint's encoder.

use std::io::Write;

use anyhow::Result;
use clap::{Args, ValueEnum};
use hashformer_train::Pooling;
use serde_json::json;

use crate::model_dir::InferenceArgs;

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
    #[command(flatten)]
    input: InferenceArgs,
    /// Pooling.
    #[arg(long, value_enum, default_value = "mean")]
    pooling: PoolingArg,
    /// Scale each vector to unit length (cosine similarity becomes a dot product).
    #[arg(long)]
    normalize: bool,
}

/// Runs `hashformer embed`: one JSON object per text, `{"text": …, "vector": [...]}`.
///
/// # Errors
/// A missing model directory, hashing errors, output errors.
pub fn run(args: &EmbedArgs) -> Result<()> {
    let (device, loaded, texts, examples) = args.input.prepare()?;
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
        args.input.batch_size,
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
