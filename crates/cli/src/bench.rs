//! `hashformer bench`: the backend comparison's Rust side. Per model size it times hashing
//! (words per second, CPU), the embedding layer of every variant (forward; forward and
//! backward), encoder inference at batch 1 and 32, and the pre-training step, with the peak
//! resident memory of each. Records have the schema of `tools/bench/torch_bench.py`, which
//! times the same things in PyTorch; `cargo xtask bench` runs both and `bench-report`
//! ([`crate::bench_report`]) tabulates and charts them.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use burn::prelude::Device;
use clap::Args;
use hashformer_hashing::{LshHasher, Md5Hasher, RobertaBpe, Words};
use hashformer_model::{HashformerConfig, Precision};
use hashformer_train::timing::{
    time_embeddings, time_inference, time_train_steps, Passes, Timings,
};
use hashformer_train::PretrainConfig;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::backend::{Backend, PrecisionArg};
use crate::bench_step::step_config;
use crate::data::data_root;
use crate::pretrain::{model_config_for, Size};
use crate::variant::{SchemeArg, VariantArg};

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
    /// The encoder's compute type: `f32`, `bf16` or `f16` (PyTorch: autocast's). Hashing and
    /// the embedding layer run in `f32` whatever the run asks, and their records say so.
    /// Records written before this field existed were all `f32`.
    #[serde(default = "f32_name")]
    pub precision: String,
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

/// What records without a precision were measured in.
fn f32_name() -> String {
    Precision::F32.name().to_owned()
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
    variants: Vec<VariantArg>,
    /// Which benches run (the names of `tools/bench/torch_bench.py`'s, plus `hashing`).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "hashing,embedding_forward,embedding_backward,inference,train_step"
    )]
    benches: Vec<BenchKind>,
    /// The encoder's compute precision for inference and the training step (f32 master
    /// weights; f16 with loss scaling); hashing and the embedding layer stay f32.
    #[arg(long, value_enum, default_value = "f32")]
    precision: PrecisionArg,
    /// Fewer iterations (a smoke run, not a measurement).
    #[arg(long)]
    quick: bool,
    /// Write the JSON here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// One kind of bench.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchKind {
    /// MD5 and LSH words per second (CPU runs only).
    #[value(name = "hashing")]
    Hashing,
    /// The embedding layer's forward pass at 32 × 128.
    #[value(name = "embedding_forward")]
    EmbeddingForward,
    /// The embedding layer's forward and backward pass at 32 × 128.
    #[value(name = "embedding_backward")]
    EmbeddingBackward,
    /// Encoder inference at batch 1 and 32.
    #[value(name = "inference")]
    Inference,
    /// A pre-training step at 16 × 128.
    #[value(name = "train_step")]
    TrainStep,
}

/// The process's peak resident set since the last [`reset_peak`], MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets the peak resident set to the current one (Linux `clear_refs` 5); false if it cannot.
/// Free memory the allocator keeps for reuse is handed back first, so that one bench's peak
/// does not include what an earlier bench of the same process left.
fn reset_peak() -> bool {
    crate::allocator::release_free_memory();
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

/// The device of `backend` as records name it: the processor for the CPU.
fn device_name(backend: Backend) -> String {
    match backend {
        Backend::Cpu => cpu_name(),
        // Burn does not name the adapter; docs/benchmarks.md records the hardware.
        other => format!("{} default device", name(other)),
    }
}

fn name<T: std::fmt::Debug>(v: T) -> String {
    format!("{v:?}").to_lowercase()
}

/// The records of a run so far, and the fields they all share.
struct Recorder {
    base: Record,
    records: Vec<Record>,
}

impl Recorder {
    /// No records yet; the fields every record of a run on `backend` shares.
    fn new(backend: Backend, threads: usize) -> Self {
        Self {
            base: Record {
                implementation: "hashformers (Burn 0.22.1)".into(),
                backend: name(backend),
                device: device_name(backend),
                config: String::new(),
                threads,
                bench: String::new(),
                variant: String::new(),
                precision: f32_name(),
                batch_size: 0,
                seq_len: 0,
                seconds: 0.0,
                tokens_per_s: 0.0,
                peak_rss_mib: None,
                iterations: 0,
            },
            records: Vec::new(),
        }
    }

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
            "{:>7} {:<18} {:<5} {:<4} {:>3}×{:<3} {:>10.3} ms {:>12.0} tok/s",
            record.config,
            bench,
            variant,
            record.precision,
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

/// Seconds of each of `iterations` passes of `f` over `words`.
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
    let precision = Precision::from(args.precision);
    precision.check_device(&device).context("--precision")?;
    let (warmup, iterations) = if args.quick { (1, 3) } else { (3, 10) };
    let mut recorder = Recorder::new(args.backend, thread_count());
    let mut rng = ChaCha8Rng::seed_from_u64(0);

    // Hashing runs on the CPU whatever the backend: measure it with the CPU run only.
    let wants = |kind: BenchKind| args.benches.contains(&kind);
    if matches!(args.backend, Backend::Cpu) && wants(BenchKind::Hashing) {
        bench_hashing(&mut recorder, args.quick, iterations)?;
    }

    for &size in &args.configs {
        recorder.base.config = name(size);
        let heavy = matches!(size, Size::Base);
        let (warmup, iterations) = if heavy { (1, 3) } else { (warmup, iterations) };
        let models = ModelBench {
            size,
            device: &device,
            precision,
            warmup,
            iterations,
        };
        let passes = [BenchKind::EmbeddingForward, BenchKind::EmbeddingBackward]
            .into_iter()
            .filter(|k| wants(*k));
        models.embeddings(&mut recorder, &args.variants, passes.collect(), &mut rng)?;
        for variant in [VariantArg::Proj, VariantArg::Bpe] {
            if wants(BenchKind::Inference) {
                models.inference(&mut recorder, variant, &mut rng)?;
            }
            if wants(BenchKind::TrainStep) {
                models.train_step(&mut recorder, variant)?;
            }
        }
    }
    write_records(&recorder.records, args.out.as_deref())
}

/// CPU threads: `RAYON_NUM_THREADS` when set, else the available parallelism.
fn thread_count() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Times MD5 and (when roberta-base is there) LSH hashing of SST-2's words; a note instead
/// without SST-2.
fn bench_hashing(recorder: &mut Recorder, quick: bool, iterations: usize) -> Result<()> {
    let Some(texts) = hashing_texts() else {
        eprintln!("note: no $HASHFORMER_DATA/glue/SST-2/train.tsv; hashing not timed");
        return Ok(());
    };
    let texts = &texts[..texts.len().min(if quick { 2_000 } else { 20_000 })];
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
    let bpe = crate::data::roberta_dir(None)
        .ok()
        .and_then(|dir| RobertaBpe::from_dir(&dir).ok());
    if let Some(bpe) = bpe {
        let lsh = LshHasher::new(bpe);
        recorder.measure("hashing", "lsh", texts.len(), 0, n, || {
            time_hashing(&words, iterations.min(3), |w| {
                std::hint::black_box(lsh.signature(w)?);
                Ok(())
            })
        })?;
    }
    Ok(())
}

/// The model benches of one size: where they run and how many passes they time.
struct ModelBench<'a> {
    size: Size,
    device: &'a Device,
    /// The encoder's compute type for inference and training (the embeddings run in f32).
    precision: Precision,
    warmup: usize,
    iterations: usize,
}

/// Sequence length of the model benches.
const SEQ_LEN: usize = 128;

impl ModelBench<'_> {
    /// `batch × len` inputs, with this bench's warm-up and timed passes.
    fn passes(&self, batch: usize, len: usize) -> Passes {
        Passes {
            batch,
            len,
            warmup: self.warmup,
            iterations: self.iterations,
        }
    }

    /// The preset of this size for `variant` (MD5 hashing).
    fn config(&self, variant: VariantArg) -> HashformerConfig {
        model_config_for(variant, SchemeArg::Md5, self.size)
    }

    /// The embedding layer of each of `variants` at 32 × 128: the forward pass and/or the
    /// forward and backward pass, as `passes` asks.
    fn embeddings(
        &self,
        recorder: &mut Recorder,
        variants: &[VariantArg],
        passes: Vec<BenchKind>,
        rng: &mut ChaCha8Rng,
    ) -> Result<()> {
        let (batch, len) = (32, SEQ_LEN);
        recorder.base.precision = f32_name();
        for &variant in variants {
            let c = self.config(variant);
            for kind in &passes {
                let backward = *kind == BenchKind::EmbeddingBackward;
                let bench = if backward {
                    "embedding_backward"
                } else {
                    "embedding_forward"
                };
                recorder.measure(
                    bench,
                    &name(variant),
                    batch,
                    len,
                    (batch * len) as f64,
                    || {
                        Ok(time_embeddings(
                            &c,
                            self.device,
                            self.passes(batch, len),
                            backward,
                            rng,
                        )?)
                    },
                )?;
            }
        }
        Ok(())
    }

    /// Encoder inference of `variant` at batch 1 and 32.
    fn inference(
        &self,
        recorder: &mut Recorder,
        variant: VariantArg,
        rng: &mut ChaCha8Rng,
    ) -> Result<()> {
        let c = self.config(variant);
        let len = SEQ_LEN;
        recorder.base.precision = self.precision.name().to_owned();
        for b in [1, 32] {
            recorder.measure(
                "inference",
                &name(variant),
                b,
                len,
                (b * len) as f64,
                || {
                    let passes = self.passes(b, len);
                    Ok(time_inference(
                        &c,
                        self.precision,
                        self.device,
                        passes,
                        rng,
                    )?)
                },
            )?;
        }
        Ok(())
    }

    /// One pre-training step of `variant` at 16 × 128.
    fn train_step(&self, recorder: &mut Recorder, variant: VariantArg) -> Result<()> {
        let len = SEQ_LEN;
        let step = PretrainConfig {
            precision: self.precision,
            ..step_config(self.config(variant), 16, len, 1)
        };
        recorder.base.precision = self.precision.name().to_owned();
        recorder.measure(
            "train_step",
            &name(variant),
            16,
            len,
            (16 * len) as f64,
            || {
                let devices = std::slice::from_ref(self.device);
                let t = time_train_steps(&step, devices, self.warmup.max(1), self.iterations)?;
                Ok(Timings { seconds: t.seconds })
            },
        )
    }
}

/// Writes `{"records": [...]}` to `out`, or prints it.
fn write_records(records: &[Record], out: Option<&Path>) -> Result<()> {
    let json = serde_json::to_string_pretty(&serde_json::json!({ "records": records }))?;
    match out {
        Some(path) => std::fs::write(path, json + "\n")
            .with_context(|| format!("writing {}", path.display()))?,
        None => println!("{json}"),
    }
    Ok(())
}
