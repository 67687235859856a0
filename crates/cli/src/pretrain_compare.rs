//! `hashformer pretrain-compare`: pre-training runs side by side at one step, as a Markdown
//! table ranked by held-out loss, JSON, and a PNG of their held-out curves.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use hashformer_report::{plot_runs, read_metrics, PlotOptions, Record};
use hashformer_train::{compare_runs, held_out_evaluations};
use serde_json::Value;

use crate::outputs::{file_in, write_files};

/// Arguments of `hashformer pretrain-compare`.
#[derive(Debug, Args)]
pub struct PretrainCompareArgs {
    /// `LABEL=DIR`: a `hashformer pretrain` run directory (or its metrics.jsonl) under a
    /// label. Give two or more.
    #[arg(long = "run", required = true, value_parser = crate::args::labelled_path)]
    runs: Vec<(String, PathBuf)>,
    /// Compare at this step (default: the last step at which every run was evaluated).
    #[arg(long)]
    at: Option<u64>,
    /// Title of the chart.
    #[arg(long, default_value = "Pre-training runs, held-out")]
    title: String,
    /// Where to write comparison.md, comparison.json and comparison.png.
    #[arg(long)]
    out: PathBuf,
}

/// `records` up to and including `step`, so the chart ends where the runs are compared.
fn up_to(records: Vec<Record>, step: u64) -> Vec<Record> {
    let within = |r: &Record| {
        r.get("step")
            .and_then(Value::as_u64)
            .is_some_and(|s| s <= step)
    };
    records.into_iter().filter(within).collect()
}

/// Runs `hashformer pretrain-compare`.
///
/// # Errors
/// Unreadable metrics logs, runs that cannot be compared at the step, write errors.
pub fn run(args: &PretrainCompareArgs) -> Result<()> {
    let mut logs = Vec::with_capacity(args.runs.len());
    for (label, dir) in &args.runs {
        let path = file_in(dir, "metrics.jsonl");
        let records = read_metrics(&path).with_context(|| format!("reading run {label}"))?;
        logs.push((label.clone(), records));
    }
    let evaluations: Vec<_> = logs
        .iter()
        .map(|(label, records)| (label.clone(), held_out_evaluations(records)))
        .collect();
    let comparison = compare_runs(&evaluations, args.at)?;
    let markdown = comparison.to_markdown();
    let json = serde_json::to_string_pretty(&comparison)?;
    let files: [(&str, &[u8]); 2] = [
        ("comparison.md", markdown.as_bytes()),
        ("comparison.json", json.as_bytes()),
    ];
    write_files(&args.out, &files)?;
    let curves: Vec<_> = logs
        .into_iter()
        .map(|(label, records)| (label, up_to(records, comparison.step)))
        .collect();
    let options = PlotOptions::new(&args.title).size(1200, 1200);
    plot_runs(&curves, &args.out.join("comparison.png"), &options)?;
    print!("{markdown}");
    println!("comparison: {}", args.out.join("comparison.md").display());
    Ok(())
}
