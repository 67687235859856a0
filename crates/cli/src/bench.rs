//! `hashformer bench`: the backend comparison's Rust side. Per model size it times hashing
//! (words per second, CPU), the embedding layer of every variant (forward; forward and
//! backward), encoder inference at batch 1 and 32, and the pre-training step, with the peak
//! resident memory of each. Records have the schema of `tools/bench/torch_bench.py`, which
//! times the same things in PyTorch; `cargo xtask bench` runs both and `bench-report` tabulates
//! and charts them.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use hashformer_hashing::{LshHasher, Md5Hasher, RobertaBpe, Words};
use hashformer_model::HashformerConfig;
use hashformer_train::timing::{time_embeddings, time_inference, time_train_steps, Timings};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::bench_step::step_config;
use crate::data::data_root;
use crate::pretrain::{model_config_for, Size};
use crate::variant::{Scheme, Variant};

/// One measurement (the schema shared with `tools/bench/torch_bench.py`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// `hashformers (Burn 0.22.1)` or `PyTorch <version> eager`.
    pub implementation: String,
    /// `cpu`, `wgpu` or `cuda`.
    pub backend: String,
    /// The processor or GPU.
    pub device: String,
    /// `tiny`, `small` or `base`.
    pub config: String,
    /// CPU threads.
    pub threads: usize,
    /// `hashing`, `embedding_forward`, `embedding_backward`, `inference` or `train_step`.
    pub bench: String,
    /// The embedding variant (`md5`/`lsh` for hashing).
    pub variant: String,
    /// Sequences per pass (texts for hashing).
    pub batch_size: usize,
    /// Tokens per sequence (0 for hashing).
    pub seq_len: usize,
    /// Median seconds per pass.
    pub seconds: f64,
    /// Tokens (words for hashing) per second at the median.
    pub tokens_per_s: f64,
    /// Peak resident memory of the process during the bench, MiB (Linux; else null).
    pub peak_rss_mib: Option<f64>,
    /// Timed passes.
    pub iterations: usize,
}

/// Arguments of `hashformer bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Backend.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
    /// Model sizes.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "tiny,small")]
    configs: Vec<Size>,
    /// Variants for the embedding benches (inference and training use proj and bpe).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "proj,add,pool,emb,bpe"
    )]
    variants: Vec<Variant>,
    /// Fewer iterations (a smoke run, not a measurement).
    #[arg(long)]
    quick: bool,
    /// Write the JSON here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The process's peak resident set since the last [`reset_peak`], MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets the peak resident set to the current one (Linux `clear_refs` 5); false if it cannot.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}

fn name<T: std::fmt::Debug>(v: T) -> String {
    format!("{v:?}").to_lowercase()
}

struct Recorder {
    base: Record,
    records: Vec<Record>,
}

impl Recorder {
    /// Times `f` (which returns its timings) with the peak memory reset before it.
    fn measure(
        &mut self,
        bench: &str,
        variant: &str,
        batch_size: usize,
        seq_len: usize,
        tokens: f64,
        f: impl FnOnce() -> Result<Timings>,
    ) -> Result<()> {
        let resettable = reset_peak();
        let timings = f().with_context(|| format!("{bench} {variant}"))?;
        let seconds = timings.median();
        let record = Record {
            bench: bench.to_owned(),
            variant: variant.to_owned(),
            batch_size,
            seq_len,
            seconds,
            tokens_per_s: tokens / seconds,
            peak_rss_mib: if resettable { peak_rss_mib() } else { None },
            iterations: timings.seconds.len(),
            ..self.base.clone()
        };
        eprintln!(
            "{:>7} {:<18} {:<5} {:>3}×{:<3} {:>10.3} ms {:>12.0} tok/s",
            record.config,
            bench,
            variant,
            batch_size,
            seq_len,
            seconds * 1e3,
            record.tokens_per_s
        );
        self.records.push(record);
        Ok(())
    }
}

/// Texts for the hashing bench: SST-2's training sentences when the data is there.
fn hashing_texts() -> Option<Vec<String>> {
    let path = data_root().ok()?.join("glue/SST-2/train.tsv");
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .skip(1)
            .filter_map(|l| l.split('\t').next().map(str::to_owned))
            .collect(),
    )
}

fn time_hashing(
    words: &[&str],
    iterations: usize,
    f: impl Fn(&str) -> Result<()>,
) -> Result<Timings> {
    let mut seconds = Vec::new();
    for _ in 0..iterations {
        let start = Instant::now();
        for w in words {
            f(w)?;
        }
        seconds.push(start.elapsed().as_secs_f64());
    }
    Ok(Timings { seconds })
}

/// Runs `hashformer bench`: `{"records": [...]}` as JSON.
///
/// # Errors
/// An unavailable backend, a failing bench, an unwritable output.
pub fn run(args: &BenchArgs) -> Result<()> {
    let device = args.backend.device()?;
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let (warmup, iterations) = if args.quick { (1, 3) } else { (3, 10) };
    let mut recorder = Recorder {
        base: Record {
            implementation: "hashformers (Burn 0.22.1)".into(),
            backend: name(args.backend),
            device: match args.backend {
                Backend::Cpu => cpu_name(),
                // Burn does not name the adapter; docs/benchmarks.md records the hardware.
                other => format!("{} default device", name(other)),
            },
            config: String::new(),
            threads,
            bench: String::new(),
            variant: String::new(),
            batch_size: 0,
            seq_len: 0,
            seconds: 0.0,
            tokens_per_s: 0.0,
            peak_rss_mib: None,
            iterations: 0,
        },
        records: Vec::new(),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(0);

    // Hashing runs on the CPU whatever the backend: measure it with the CPU run only.
    if matches!(args.backend, Backend::Cpu) {
        match hashing_texts() {
            Some(texts) => {
                let texts = &texts[..texts.len().min(if args.quick { 2_000 } else { 20_000 })];
                let words: Vec<String> = texts
                    .iter()
                    .flat_map(|t| Words::new(t).iter().map(str::to_owned).collect::<Vec<_>>())
                    .collect();
                let words: Vec<&str> = words.iter().map(String::as_str).collect();
                recorder.base.config = "-".into();
                let md5 = Md5Hasher::default();
                let n = words.len() as f64;
                recorder.measure("hashing", "md5", texts.len(), 0, n, || {
                    time_hashing(&words, iterations.min(5), |w| {
                        std::hint::black_box(md5.signature(w));
                        Ok(())
                    })
                })?;
                if let Ok(bpe) = RobertaBpe::from_dir(&crate::data::roberta_dir(None)?) {
                    let lsh = LshHasher::new(bpe);
                    recorder.measure("hashing", "lsh", texts.len(), 0, n, || {
                        time_hashing(&words, iterations.min(3), |w| {
                            std::hint::black_box(lsh.signature(w)?);
                            Ok(())
                        })
                    })?;
                }
            }
            None => eprintln!("note: no $HASHFORMER_DATA/glue/SST-2/train.tsv; hashing not timed"),
        }
    }

    for &size in &args.configs {
        recorder.base.config = name(size);
        let heavy = matches!(size, Size::Base);
        let (w, it) = if heavy { (1, 3) } else { (warmup, iterations) };
        let config = |v: Variant| -> HashformerConfig { model_config_for(v, Scheme::Md5, size) };
        let (batch, len) = (32, 128);
        for &variant in &args.variants {
            let c = config(variant);
            for (bench, backward) in [("embedding_forward", false), ("embedding_backward", true)] {
                recorder.measure(
                    bench,
                    &name(variant),
                    batch,
                    len,
                    (batch * len) as f64,
                    || {
                        Ok(time_embeddings(
                            &c, &device, batch, len, backward, w, it, &mut rng,
                        )?)
                    },
                )?;
            }
        }
        for variant in [Variant::Proj, Variant::Bpe] {
            let c = config(variant);
            for b in [1, 32] {
                recorder.measure(
                    "inference",
                    &name(variant),
                    b,
                    len,
                    (b * len) as f64,
                    || Ok(time_inference(&c, &device, b, len, w, it, &mut rng)?),
                )?;
            }
            let step = step_config(config(variant), 16, len, 1);
            recorder.measure(
                "train_step",
                &name(variant),
                16,
                len,
                (16 * len) as f64,
                || {
                    let t = time_train_steps(&step, std::slice::from_ref(&device), w.max(1), it)?;
                    Ok(Timings { seconds: t.seconds })
                },
            )?;
        }
    }
    let json = serde_json::to_string_pretty(&serde_json::json!({ "records": recorder.records }))?;
    match &args.out {
        Some(path) => std::fs::write(path, json + "\n")
            .with_context(|| format!("writing {}", path.display()))?,
        None => println!("{json}"),
    }
    Ok(())
}

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

/// `hashformers cpu`, `PyTorch cpu`: who ran it where.
fn runner(r: &Record) -> String {
    let who = if r.implementation.starts_with("PyTorch") {
        "PyTorch"
    } else {
        "hashformers"
    };
    format!("{who} {}", r.backend)
}

fn find<'a>(
    records: &'a [Record],
    runner_name: &str,
    config: &str,
    bench: &str,
    variant: &str,
    batch: usize,
) -> Option<&'a Record> {
    records.iter().find(|r| {
        runner(r) == runner_name
            && r.config == config
            && r.bench == bench
            && r.variant == variant
            && r.batch_size == batch
    })
}

fn ms(r: Option<&Record>) -> String {
    r.map_or("—".into(), |r| format!("{:.2}", r.seconds * 1e3))
}

fn mib(r: Option<&Record>) -> String {
    r.and_then(|r| r.peak_rss_mib)
        .map_or("—".into(), |m| format!("{m:.0}"))
}

/// The PyTorch runner to compare a hashformers runner with: CPU with CPU, GPUs with CUDA.
fn reference_runner(ours: &str) -> &'static str {
    if ours.ends_with(" cpu") {
        "PyTorch cpu"
    } else {
        "PyTorch cuda"
    }
}

/// The Markdown report.
fn markdown(records: &[Record]) -> String {
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
    let mut md = String::from("## Machines\n\n| runner | device | threads |\n|---|---|---:|\n");
    for name in &runners {
        if let Some(r) = records.iter().find(|r| runner(r) == *name) {
            md.push_str(&format!("| {name} | {} | {} |\n", r.device, r.threads));
        }
    }
    let hashing: Vec<&Record> = records.iter().filter(|r| r.bench == "hashing").collect();
    if !hashing.is_empty() {
        md.push_str("\n## Hashing (words per second, one thread of the CPU run)\n\n| scheme | texts | words/s |\n|---|---:|---:|\n");
        for r in hashing {
            md.push_str(&format!(
                "| {} | {} | {:.0} |\n",
                r.variant, r.batch_size, r.tokens_per_s
            ));
        }
    }
    for config in &configs {
        md.push_str(&format!("\n## `{config}`\n"));
        md.push_str("\n### Training step (16 × 128, Shuffle+Random, AdamW)\n\n| variant | runner | step ms | tokens/s | vs PyTorch on the same device | peak RSS MiB |\n|---|---|---:|---:|---:|---:|\n");
        for variant in ["proj", "bpe"] {
            for name in &runners {
                let Some(r) = find(records, name, config, "train_step", variant, 16) else {
                    continue;
                };
                let ratio = if name.starts_with("hashformers") {
                    find(
                        records,
                        reference_runner(name),
                        config,
                        "train_step",
                        variant,
                        16,
                    )
                    .map_or("—".into(), |p| {
                        format!("{:.2}×", r.tokens_per_s / p.tokens_per_s)
                    })
                } else {
                    "1×".into()
                };
                md.push_str(&format!(
                    "| {variant} | {name} | {} | {:.0} | {ratio} | {} |\n",
                    ms(Some(r)),
                    r.tokens_per_s,
                    mib(Some(r))
                ));
            }
        }
        md.push_str("\n### Encoder inference latency (ms; seq 128, no head)\n\n| variant | runner | batch 1 | batch 32 | peak RSS MiB (batch 32) |\n|---|---|---:|---:|---:|\n");
        for variant in ["proj", "bpe"] {
            for name in &runners {
                let (one, many) = (
                    find(records, name, config, "inference", variant, 1),
                    find(records, name, config, "inference", variant, 32),
                );
                if one.is_none() && many.is_none() {
                    continue;
                }
                md.push_str(&format!(
                    "| {variant} | {name} | {} | {} | {} |\n",
                    ms(one),
                    ms(many),
                    mib(many)
                ));
            }
        }
        md.push_str("\n### Embedding layer (ms per 32 × 128 batch: forward / forward + backward)\n\n| variant |");
        let runners: Vec<&String> = runners
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
        for variant in &variants {
            let mut row = format!("| {variant} |");
            let mut any = false;
            for name in &runners {
                let f = find(records, name, config, "embedding_forward", variant, 32);
                let b = find(records, name, config, "embedding_backward", variant, 32);
                any |= f.is_some() || b.is_some();
                row.push_str(&format!(" {} / {} |", ms(f), ms(b)));
            }
            if any {
                md.push_str(&row);
                md.push('\n');
            }
        }
    }
    md
}

/// Bar charts: training-step and batch-32 inference tokens/s per config and variant.
fn charts(records: &[Record], out: &std::path::Path) -> Result<Vec<PathBuf>> {
    use hashformer_report::{bar_chart, BarSeries, PlotOptions};
    let mut runners: Vec<String> = Vec::new();
    for r in records {
        if r.bench != "hashing" && !runners.contains(&runner(r)) {
            runners.push(runner(r));
        }
    }
    let mut written = Vec::new();
    for (bench, batch, file, title) in [
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
    ] {
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
        if categories.is_empty() {
            continue;
        }
        let series: Vec<BarSeries> = runners
            .iter()
            .map(|name| BarSeries {
                label: name.clone(),
                values: categories
                    .iter()
                    .map(|(c, v)| find(records, name, c, bench, v, batch).map(|r| r.tokens_per_s))
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
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let json = serde_json::to_string_pretty(&serde_json::json!({ "records": records }))?;
    let write = |name: &str, bytes: &[u8]| {
        let path = args.out.join(name);
        hashformer_files::write_atomic(&path, bytes)
            .with_context(|| format!("writing {}", path.display()))
    };
    write("bench.json", (json + "\n").as_bytes())?;
    let md = markdown(&records);
    write("bench.md", md.as_bytes())?;
    let charts = charts(&records, &args.out)?;
    print!("{md}");
    for c in charts {
        println!("chart: {}", c.display());
    }
    Ok(())
}
