//! `hashformer pretrain-compare`: pre-training runs side by side at one step, as a Markdown
//! table ranked by held-out loss, JSON, and a PNG of their held-out curves.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use hashformer_report::{plot_runs, read_metrics, PlotOptions, Record};
use hashformer_train::{compare_runs, held_out_evaluations};
use serde_json::Value;

/// The metrics log's name in a run directory.
const METRICS: &str = "metrics.jsonl";

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

/// A run's metrics log: DIR/metrics.jsonl, or DIR itself if it is a file.
fn metrics_file(dir: &Path) -> PathBuf {
    if dir.is_file() {
        dir.to_owned()
    } else {
        dir.join(METRICS)
    }
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
        let path = metrics_file(dir);
        let records = read_metrics(&path).with_context(|| format!("reading run {label}"))?;
        logs.push((label.clone(), records));
    }
    let evaluations: Vec<_> = logs
        .iter()
        .map(|(label, records)| (label.clone(), held_out_evaluations(records)))
        .collect();
    let comparison = compare_runs(&evaluations, args.at)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let markdown = comparison.to_markdown();
    let write = |name: &str, bytes: &[u8]| {
        let path = args.out.join(name);
        hashformer_files::write_atomic(&path, bytes)
            .with_context(|| format!("writing {}", path.display()))
    };
    write("comparison.md", markdown.as_bytes())?;
    write(
        "comparison.json",
        serde_json::to_string_pretty(&comparison)?.as_bytes(),
    )?;
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
