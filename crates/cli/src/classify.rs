//! `hashformer classify`: label texts with a fine-tuned classifier.

use std::io::Write;

use anyhow::{bail, Result};
use clap::Args;
use serde_json::json;

use crate::model_dir::InferenceArgs;

/// Arguments of `hashformer classify`.
#[derive(Debug, Args)]
pub struct ClassifyArgs {
    #[command(flatten)]
    input: InferenceArgs,
    /// One JSON object per text (label, score, every label's probability).
    #[arg(long)]
    json: bool,
}

/// Runs `hashformer classify`: one line per text, `LABEL<TAB>SCORE<TAB>TEXT` (the score is
/// the label's probability, or the predicted value of a regression model), or JSON lines.
///
/// # Errors
/// A missing or unsuitable model directory, hashing errors, output errors.
pub fn run(args: &ClassifyArgs) -> Result<()> {
    let (device, loaded, texts, examples) = args.input.prepare()?;
    if !loaded.is_classifier {
        bail!(
            "{} holds a pre-trained encoder without a trained classification head; fine-tune \
             it first (`hashformer glue --model {} --tasks sst2 --out OUT`, then use \
             OUT/SST-2/seed-0/best), or use `hashformer embed` for sentence vectors",
            args.input.model.display(),
            args.input.model.display()
        );
    }
    let scores = hashformer_train::predict_scores(
        &loaded.model,
        loaded.config.embedding_type,
        &loaded.encoder,
        &examples,
        args.input.batch_size,
        &device,
    )?;
    let names: Vec<String> = match loaded.config.id2label.len() {
        0 => (0..loaded.config.num_labels)
            .map(|i| format!("LABEL_{i}"))
            .collect(),
        _ => loaded.config.id2label.clone(),
    };
    let mut out = std::io::stdout().lock();
    for (text, s) in texts.iter().zip(&scores) {
        let (label, score) = if s.len() == 1 {
            (names.first().map_or("score", String::as_str), s[0])
        } else {
            let best = s
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i);
            (names[best].as_str(), s[best])
        };
        if args.json {
            let all: serde_json::Map<String, serde_json::Value> = names
                .iter()
                .zip(s)
                .map(|(n, v)| (n.clone(), json!(v)))
                .collect();
            let line = if s.len() == 1 {
                json!({"text": text, "label": label, "score": score})
            } else {
                json!({"text": text, "label": label, "score": score, "scores": all})
            };
            writeln!(out, "{line}")?;
        } else {
            writeln!(out, "{label}\t{score:.4}\t{text}")?;
        }
    }
    Ok(())
}
