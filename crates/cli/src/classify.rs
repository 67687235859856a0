//! `hashformer classify`: label texts with a fine-tuned classifier.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use hashformer_infer::Classifier;
use serde_json::json;

use crate::inference::InferenceArgs;

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
    let run = args.input.prepare()?;
    let classifier =
        Classifier::from_pretrained_with(run.model.path(), run.options.clone(), &run.device)?;
    let predictions = classifier.classify_inputs(&run.inputs(args.input.pairs))?;
    let mut out = std::io::stdout().lock();
    for (text, p) in run.texts.iter().zip(&predictions) {
        if !args.json {
            writeln!(out, "{}\t{:.4}\t{text}", p.label, p.score)?;
            continue;
        }
        let line = if classifier.is_regression() {
            json!({"text": text, "label": p.label, "score": p.score})
        } else {
            let all: serde_json::Map<String, serde_json::Value> = classifier
                .labels()
                .iter()
                .zip(&p.scores)
                .map(|(n, v)| (n.clone(), json!(v)))
                .collect();
            json!({"text": text, "label": p.label, "score": p.score, "scores": all})
        };
        writeln!(out, "{line}")?;
    }
    Ok(())
}
