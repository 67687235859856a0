//! `hashformer evaluate`: a task's GLUE metrics for a prediction file against a gold file
//! (method §8). Predictions are matched to gold rows by index: the 0-based row number of the
//! gold (dev) file, as in GLUE test files' `index` column.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use hashformer_glue::{evaluate, read_file, read_predictions, Split, Task};

/// Arguments of `hashformer evaluate`.
#[derive(Args)]
pub struct EvaluateArgs {
    /// GLUE task: cola, sst-2, mrpc, sts-b, qqp, mnli-m (or mnli), mnli-mm, qnli, rte, wnli.
    #[arg(long)]
    task: Task,
    /// Gold labels: a dev (or train) file of the task in its official GLUE layout.
    #[arg(long)]
    gold: PathBuf,
    /// Predictions: header `index<TAB>prediction`, one row per gold row, labels as in GLUE
    /// submissions (0/1, entailment/…, or an STS-B score).
    #[arg(long)]
    predictions: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs `hashformer evaluate`.
pub fn run(args: &EvaluateArgs) -> Result<()> {
    let gold = read_file(&args.gold, args.task, Split::Dev).context("reading the gold labels")?;
    let predictions =
        read_predictions(&args.predictions, args.task).context("reading the predictions")?;
    let metrics = evaluate(args.task, &gold, &predictions).with_context(|| {
        format!(
            "matching {} to {}",
            args.predictions.display(),
            args.gold.display()
        )
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&metrics)?);
    } else {
        println!("{} ({} examples)", metrics.task(), metrics.examples());
        for (metric, value) in metrics.values() {
            println!("  {:<10}{value:.4}", metric.key());
        }
        println!("  {:<10}{:.4}", "score", metrics.score());
    }
    Ok(())
}
