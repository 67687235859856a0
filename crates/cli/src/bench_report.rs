//! `hashformer bench-report`: merges the records of `hashformer bench` and
//! `tools/bench/torch_bench.py` into `bench.json`, a Markdown report (`bench.md`, with the
//! ratio against PyTorch on the same device) and PNG bar charts. Several rounds of a
//! measurement (`cargo xtask bench --rounds N`) are merged into their median, and ratios are
//! taken round by round (`bench_rounds`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use serde::Deserialize;

use crate::bench::Record;
use crate::bench_rounds::{self, Ratio};

/// Arguments of `hashformer bench-report`.
#[derive(Debug, Args)]
pub struct BenchReportArgs {
    /// JSON files of `hashformer bench` and `tools/bench/torch_bench.py` (`{"records": …}`).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Directory for bench.json, bench.md and the PNG charts.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Deserialize)]
struct RecordFile {
    records: Vec<Record>,
}

/// `hashformers cpu`, `PyTorch cuda bf16`: who ran it where, and in which precision when
/// not `f32`.
fn runner(r: &Record) -> String {
    let who = if r.implementation.starts_with("PyTorch") {
        "PyTorch"
    } else {
        "hashformers"
    };
    match r.precision.as_str() {
        "f32" => format!("{who} {}", r.backend),
        half => format!("{who} {} {half}", r.backend),
    }
}

/// Which record to look up: who ran it, and what it measured.
struct Key<'a> {
    runner: &'a str,
    config: &'a str,
    bench: &'a str,
    variant: &'a str,
    batch: usize,
}

impl<'a> Key<'a> {
    /// `bench` of `variant` at `batch` in `config`, run by `runner`.
    fn new(
        runner: &'a str,
        config: &'a str,
        bench: &'a str,
        variant: &'a str,
        batch: usize,
    ) -> Self {
        Self {
            runner,
            config,
            bench,
            variant,
            batch,
        }
    }
}

/// Whether `r` is a record of `key`.
fn matches(r: &Record, key: &Key) -> bool {
    runner(r) == key.runner
        && r.config == key.config
        && r.bench == key.bench
        && r.variant == key.variant
        && r.batch_size == key.batch
}

/// The first record matching `key`.
fn find<'a>(records: &'a [Record], key: &Key) -> Option<&'a Record> {
    records.iter().find(|r| matches(r, key))
}

/// Every record matching `key`, in order: its rounds.
fn rounds<'a>(records: &'a [Record], key: &Key) -> Vec<&'a Record> {
    records.iter().filter(|r| matches(r, key)).collect()
}

fn ms(r: Option<&Record>) -> String {
    r.map_or("—".into(), |r| format!("{:.2}", r.seconds * 1e3))
}

fn mib(r: Option<&Record>) -> String {
    r.and_then(|r| r.peak_rss_mib)
        .map_or("—".into(), |m| format!("{m:.0}"))
}

/// The PyTorch runner to compare a hashformers runner with: CPU with CPU, GPUs with CUDA,
/// each in the same precision.
fn reference_runner(ours: &str) -> String {
    let mut words = ours.split(' ').skip(1);
    let device = match words.next() {
        Some("cpu") => "cpu",
        _ => "cuda",
    };
    match words.next() {
        Some(half) => format!("PyTorch {device} {half}"),
        None => format!("PyTorch {device}"),
    }
}

/// The distinct runners, model sizes and variants of the records, in first-seen order.
struct Axes {
    runners: Vec<String>,
    /// Without hashing's `-`.
    configs: Vec<String>,
    variants: Vec<String>,
}

impl Axes {
    /// The axes of `records`.
    fn of(records: &[Record]) -> Self {
        let mut runners: Vec<String> = Vec::new();
        let mut configs: Vec<String> = Vec::new();
        let mut variants: Vec<String> = Vec::new();
        for r in records {
            for (list, v) in [
                (&mut runners, runner(r)),
                (&mut configs, r.config.clone()),
                (&mut variants, r.variant.clone()),
            ] {
                if !list.contains(&v) {
                    list.push(v);
                }
            }
        }
        configs.retain(|c| c != "-");
        Self {
            runners,
            configs,
            variants,
        }
    }
}

/// The records of a report: each measurement once (its rounds merged), and every round.
struct Report<'a> {
    merged: &'a [Record],
    all: &'a [Record],
}

/// The Markdown report.
fn markdown(report: &Report) -> String {
    let records = report.merged;
    let axes = Axes::of(records);
    let mut md = machines_table(records, &axes.runners);
    md.push_str(&rounds_note(report));
    md.push_str(&hashing_table(records));
    for config in &axes.configs {
        md.push_str(&format!("\n## `{config}`\n"));
        md.push_str(&train_step_table(report, &axes.runners, config));
        md.push_str(&inference_table(report, &axes.runners, config));
        md.push_str(&embedding_table(records, &axes, config));
    }
    md
}

/// How the rounds were merged (empty for one round).
fn rounds_note(report: &Report) -> String {
    if report.all.len() == report.merged.len() {
        return String::new();
    }
    let most = report
        .merged
        .iter()
        .map(|m| {
            report
                .all
                .iter()
                .filter(|r| bench_rounds::same_measurement(r, m))
                .count()
        })
        .max()
        .unwrap_or(1);
    format!(
        "\nUp to {most} rounds per measurement, ours and PyTorch in turn: each time is the \
         median of the rounds' medians, each ratio the median of the round-by-round ratios \
         (lowest–highest in brackets).\n"
    )
}

/// `## Machines`: each runner's device and threads.
fn machines_table(records: &[Record], runners: &[String]) -> String {
    let mut md = String::from("## Machines\n\n| runner | device | threads |\n|---|---|---:|\n");
    for name in runners {
        if let Some(r) = records.iter().find(|r| runner(r) == *name) {
            md.push_str(&format!("| {name} | {} | {} |\n", r.device, r.threads));
        }
    }
    md
}

/// `## Hashing`: words per second per scheme (empty without hashing records).
fn hashing_table(records: &[Record]) -> String {
    let hashing: Vec<&Record> = records.iter().filter(|r| r.bench == "hashing").collect();
    let mut md = String::new();
    if !hashing.is_empty() {
        md.push_str("\n## Hashing (words per second, one thread of the CPU run)\n\n| scheme | texts | words/s |\n|---|---:|---:|\n");
        for r in hashing {
            md.push_str(&format!(
                "| {} | {} | {:.0} |\n",
                r.variant, r.batch_size, r.tokens_per_s
            ));
        }
    }
    md
}

/// `### Training step` of `config`: per variant and runner, with the ratio to PyTorch.
fn train_step_table(report: &Report, runners: &[String], config: &str) -> String {
    let mut md = String::from("\n### Training step (16 × 128, Shuffle+Random, AdamW)\n\n| variant | runner | step ms | tokens/s | vs PyTorch on the same device | peak RSS MiB |\n|---|---|---:|---:|---:|---:|\n");
    for variant in ["proj", "bpe"] {
        for name in runners {
            let key = Key::new(name, config, "train_step", variant, 16);
            let Some(r) = find(report.merged, &key) else {
                continue;
            };
            md.push_str(&format!(
                "| {variant} | {name} | {} | {:.0} | {} | {} |\n",
                ms(Some(r)),
                r.tokens_per_s,
                vs_pytorch(report.all, &key),
                mib(Some(r))
            ));
        }
    }
    md
}

/// How many times PyTorch's throughput on the same device the measurement `key` reaches,
/// round by round: `1×` for PyTorch itself, `—` without a record of either.
fn vs_pytorch(all: &[Record], key: &Key) -> String {
    if !key.runner.starts_with("hashformers") {
        return "1×".into();
    }
    let reference_name = reference_runner(key.runner);
    let reference = Key {
        runner: &reference_name,
        ..*key
    };
    bench_rounds::ratio(&rounds(all, key), &rounds(all, &reference))
        .as_ref()
        .map_or("—".into(), Ratio::to_string)
}

/// `### Encoder inference latency` of `config`: batch 1 and 32 per variant and runner.
fn inference_table(report: &Report, runners: &[String], config: &str) -> String {
    let mut md = String::from("\n### Encoder inference latency (ms; seq 128, no head)\n\n| variant | runner | batch 1 | vs PyTorch | batch 32 | vs PyTorch | peak RSS MiB (batch 32) |\n|---|---|---:|---:|---:|---:|---:|\n");
    for variant in ["proj", "bpe"] {
        for name in runners {
            let (one, many) = (
                Key::new(name, config, "inference", variant, 1),
                Key::new(name, config, "inference", variant, 32),
            );
            let (r1, r32) = (find(report.merged, &one), find(report.merged, &many));
            if r1.is_none() && r32.is_none() {
                continue;
            }
            md.push_str(&format!(
                "| {variant} | {name} | {} | {} | {} | {} | {} |\n",
                ms(r1),
                vs_pytorch(report.all, &one),
                ms(r32),
                vs_pytorch(report.all, &many),
                mib(r32)
            ));
        }
    }
    md
}

/// `### Embedding layer` of `config`: a variant per row, a runner (with records in `config`)
/// per column, forward / forward + backward milliseconds in each cell.
fn embedding_table(records: &[Record], axes: &Axes, config: &str) -> String {
    let embedding = |r: &Record| r.config == config && r.bench.starts_with("embedding_");
    if !records.iter().any(embedding) {
        return String::new();
    }
    let mut md = String::from("\n### Embedding layer (ms per 32 × 128 batch: forward / forward + backward)\n\n| variant |");
    let runners: Vec<&String> = axes
        .runners
        .iter()
        .filter(|n| {
            records
                .iter()
                .any(|r| runner(r) == **n && r.config == *config)
        })
        .collect();
    for name in &runners {
        md.push_str(&format!(" {name} |"));
    }
    md.push_str("\n|---|");
    for _ in &runners {
        md.push_str("---:|");
    }
    md.push('\n');
    for variant in &axes.variants {
        let mut row = format!("| {variant} |");
        let mut any = false;
        for name in &runners {
            let f = find(
                records,
                &Key::new(name, config, "embedding_forward", variant, 32),
            );
            let b = find(
                records,
                &Key::new(name, config, "embedding_backward", variant, 32),
            );
            any |= f.is_some() || b.is_some();
            row.push_str(&format!(" {} / {} |", ms(f), ms(b)));
        }
        if any {
            md.push_str(&row);
            md.push('\n');
        }
    }
    md
}

/// The charts: bench, batch, file name and title.
const CHARTS: [(&str, usize, &str, &str); 3] = [
    (
        "train_step",
        16,
        "train_step.png",
        "Training step, 16 × 128",
    ),
    (
        "inference",
        32,
        "inference_b32.png",
        "Encoder inference, batch 32 × 128",
    ),
    (
        "embedding_backward",
        32,
        "embedding_backward.png",
        "Embedding forward + backward, 32 × 128",
    ),
];

/// Bar charts: training-step and batch-32 inference tokens/s per config and variant.
fn charts(records: &[Record], out: &Path) -> Result<Vec<PathBuf>> {
    use hashformer_report::{bar_chart, BarSeries, PlotOptions};
    let mut runners: Vec<String> = Vec::new();
    for r in records {
        if r.bench != "hashing" && !runners.contains(&runner(r)) {
            runners.push(runner(r));
        }
    }
    let mut written = Vec::new();
    for (bench, batch, file, title) in CHARTS {
        let categories = chart_categories(records, bench, batch);
        if categories.is_empty() {
            continue;
        }
        let series: Vec<BarSeries> = runners
            .iter()
            .map(|name| BarSeries {
                label: name.clone(),
                values: categories
                    .iter()
                    .map(|(c, v)| {
                        find(records, &Key::new(name, c, bench, v, batch)).map(|r| r.tokens_per_s)
                    })
                    .collect(),
            })
            .collect();
        let labels: Vec<String> = categories.iter().map(|(c, v)| format!("{c} {v}")).collect();
        let path = out.join(file);
        bar_chart(
            &path,
            title,
            "tokens per second",
            &labels,
            &series,
            &PlotOptions::default(),
        )?;
        written.push(path);
    }
    Ok(written)
}

/// The (config, variant) pairs with a `bench` record at `batch`, in first-seen order.
fn chart_categories(records: &[Record], bench: &str, batch: usize) -> Vec<(String, String)> {
    let mut categories: Vec<(String, String)> = Vec::new();
    for r in records
        .iter()
        .filter(|r| r.bench == bench && r.batch_size == batch)
    {
        let key = (r.config.clone(), r.variant.clone());
        if !categories.contains(&key) {
            categories.push(key);
        }
    }
    categories
}

/// Runs `hashformer bench-report`.
///
/// # Errors
/// Unreadable inputs, unwritable outputs.
pub fn report(args: &BenchReportArgs) -> Result<()> {
    let mut records = Vec::new();
    for path in &args.inputs {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file: RecordFile = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a bench records file", path.display()))?;
        records.extend(file.records);
    }
    let json = serde_json::to_string_pretty(&serde_json::json!({ "records": records }))? + "\n";
    let merged = bench_rounds::merge(&records);
    let md = markdown(&Report {
        merged: &merged,
        all: &records,
    });
    let files: [(&str, &[u8]); 2] = [("bench.json", json.as_bytes()), ("bench.md", md.as_bytes())];
    crate::outputs::write_files(&args.out, &files)?;
    let charts = charts(&merged, &args.out)?;
    print!("{md}");
    for c in charts {
        println!("chart: {}", c.display());
    }
    Ok(())
}
