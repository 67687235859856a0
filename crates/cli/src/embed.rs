//! `hashformer embed`: sentence vectors from a checkpoint's encoder.

use std::io::Write;

use anyhow::Result;
use clap::{Args, ValueEnum};
use hashformer_infer::{Embedder, Pooling};
use serde_json::json;

use crate::inference::InferenceArgs;

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
    let run = args.input.prepare()?;
    let pooling = match args.pooling {
        PoolingArg::Mean => Pooling::Mean,
        PoolingArg::First => Pooling::First,
    };
    let embedder =
        Embedder::from_pretrained_with(run.model.path(), run.options.clone(), &run.device)?
            .with_pooling(pooling)
            .with_normalize(args.normalize);
    let vectors = embedder.embed_inputs(&run.inputs(args.input.pairs))?;
    let mut out = std::io::stdout().lock();
    for (text, v) in run.texts.iter().zip(vectors) {
        writeln!(out, "{}", json!({"text": text, "vector": v}))?;
    }
    Ok(())
}
