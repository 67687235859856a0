//! `cargo xtask bench`: the backend comparison (ours on each backend and PyTorch, reported
//! under `docs/bench/`); `cargo xtask bench-hashing`: criterion benchmarks of the hashing
//! crate, then the Python reference baseline on the same text, side by side.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Runs `cargo bench -p hashformer-benches --bench hashing` and `tools/bench/python_hashing.py`.
pub fn hashing(root: &Path, args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let data = crate::data_dir(root)?.path;
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .args([
            "bench",
            "-p",
            "hashformer-benches",
            "--bench",
            "hashing",
            "--",
        ])
        .env("HASHFORMER_DATA", &data)
        .current_dir(root);
    if quick {
        cargo.arg("--quick");
    }
    let status = cargo.status().context("running cargo bench")?;
    if !status.success() {
        bail!("cargo bench failed ({status})");
    }
    let python = root.join("tools/golden/.venv/bin/python");
    let python = if python.exists() {
        python
    } else {
        "python3".into()
    };
    let status = Command::new(&python)
        .arg(root.join("tools/bench/python_hashing.py"))
        .env("HASHFORMER_DATA", &data)
        .current_dir(root)
        .status()
        .with_context(|| format!("running {}", python.display()))?;
    if !status.success() {
        bail!("python baseline failed ({status})");
    }
    Ok(())
}

/// What `cargo xtask bench` runs.
#[derive(Debug, PartialEq)]
struct BenchOptions {
    quick: bool,
    /// Times ours and PyTorch run, in turn (the report pairs them round by round).
    rounds: usize,
    /// Which benches run (`None`: all).
    benches: Option<String>,
    backends: Vec<String>,
    configs: Vec<String>,
    /// The encoder's compute types (`f32`, `bf16`, `f16`); each is its own runner.
    precisions: Vec<String>,
    out: PathBuf,
}

impl BenchOptions {
    /// The `--benches` list of a run in `precision`, or `None` for all of them; `Some("")`
    /// when nothing is left. Half precisions run inference and the training step only: the
    /// hashing and embedding benches compute in f32 whatever the encoder does, so the f32
    /// run measures them.
    fn benches_in(&self, precision: &str) -> Option<String> {
        if precision == "f32" {
            return self.benches.clone();
        }
        let asked = self.benches.as_deref().unwrap_or("inference,train_step");
        let half: Vec<&str> = asked
            .split(',')
            .filter(|b| matches!(*b, "inference" | "train_step"))
            .collect();
        Some(half.join(","))
    }
}

/// The benches `--benches` may name: `hashformer bench`'s (PyTorch has all but `hashing`).
const BENCHES: [&str; 5] = [
    "hashing",
    "embedding_forward",
    "embedding_backward",
    "inference",
    "train_step",
];

fn parse_bench(args: &[String]) -> Result<BenchOptions> {
    let mut options = BenchOptions {
        quick: false,
        rounds: 3,
        benches: None,
        backends: vec!["cpu".into()],
        configs: vec!["tiny".into(), "small".into()],
        precisions: vec!["f32".into()],
        out: PathBuf::from("docs/bench"),
    };
    let mut rounds_given = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut list = |name: &str, allowed: &[&str]| -> Result<Vec<String>> {
            let v = it.next().with_context(|| format!("{name} needs a value"))?;
            let items: Vec<String> = v.split(',').map(|s| s.trim().to_owned()).collect();
            if let Some(bad) = items.iter().find(|i| !allowed.contains(&i.as_str())) {
                bail!("{name}: unknown {bad:?} (expected {})", allowed.join(", "));
            }
            Ok(items)
        };
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--rounds" => {
                rounds_given = true;
                let v = it.next().context("--rounds needs a value")?;
                options.rounds = match v.parse::<usize>() {
                    Ok(n) if (1..=20).contains(&n) => n,
                    _ => bail!("--rounds: {v:?} is not a whole number from 1 to 20"),
                };
            }
            "--benches" => options.benches = Some(list("--benches", &BENCHES)?.join(",")),
            "--backends" => {
                options.backends = list("--backends", &["cpu", "wgpu", "vulkan", "cuda"])?
            }
            "--configs" => options.configs = list("--configs", &["tiny", "small", "base"])?,
            "--precisions" => options.precisions = list("--precisions", &["f32", "bf16", "f16"])?,
            "--out" => {
                options.out = PathBuf::from(it.next().context("--out needs a value")?);
            }
            other => bail!(
                "unknown argument {other:?}; usage: cargo xtask bench [--quick] [--rounds 3] \
                 [--benches {}] [--backends cpu,wgpu,vulkan,cuda] [--configs tiny,small,base] \
                 [--precisions f32,bf16,f16] [--out docs/bench]",
                BENCHES.join(",")
            ),
        }
    }
    if options.quick && !rounds_given {
        options.rounds = 1;
    }
    Ok(options)
}

/// `cargo xtask bench`: `hashformer bench` on each backend (built with its feature), the same
/// benches in PyTorch (`tools/bench/torch_bench.py`: CPU, and CUDA when a GPU backend is asked
/// for and PyTorch sees one), each in every `--precisions` (default f32; PyTorch's half runs
/// use autocast), then `hashformer bench-report` into `--out` (JSON, Markdown, PNG charts). Ours and PyTorch take turns `--rounds` times (3 by default, 1 with `--quick`
/// unless given), so that a shared machine's drift hits both alike; the report takes the
/// median of the round-by-round ratios.
///
/// # Errors
/// A failing build or bench; a report that cannot be written.
pub fn backends(root: &Path, args: &[String]) -> Result<()> {
    let options = parse_bench(args)?;
    let scratch = root.join("target/bench-runs");
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let runs = Runs {
        root,
        options: &options,
        scratch,
        threads: std::thread::available_parallelism().map_or(1, usize::from),
    };
    let python = python(root);
    let devices = torch_devices(&options, &python);
    let binaries = options
        .backends
        .iter()
        .map(|backend| crate::cli::build(root, backend))
        .collect::<Result<Vec<_>>>()?;
    let mut inputs = Vec::new();
    for round in 1..=options.rounds {
        eprintln!("== round {round} of {}", options.rounds);
        for precision in &options.precisions {
            for (backend, binary) in options.backends.iter().zip(&binaries) {
                inputs.extend(runs.hashformers(backend, binary, round, precision)?);
            }
            for device in &devices {
                for config in &options.configs {
                    inputs.extend(runs.pytorch(&python, device, config, round, precision)?);
                }
            }
        }
    }
    runs.report(&inputs)
}

/// The Python with PyTorch: the parity tools' virtual environment, else `python3`.
fn python(root: &Path) -> PathBuf {
    let python = root.join("tools/parity/.venv/bin/python");
    if python.exists() {
        python
    } else {
        PathBuf::from("python3")
    }
}

/// PyTorch's devices to bench: the CPU when ours runs there, CUDA when ours runs on a GPU
/// backend and PyTorch sees a CUDA GPU (else a note).
fn torch_devices(options: &BenchOptions, python: &Path) -> Vec<&'static str> {
    let mut devices = Vec::new();
    if options.backends.iter().any(|b| b == "cpu") {
        devices.push("cpu");
    }
    if options.backends.iter().any(|b| b != "cpu") {
        let cuda = Command::new(python)
            .args([
                "-c",
                "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)",
            ])
            .status()
            .is_ok_and(|s| s.success());
        if cuda {
            devices.push("cuda");
        } else {
            eprintln!("note: PyTorch sees no CUDA GPU; the GPU backends have no PyTorch reference");
        }
    }
    devices
}

/// What the bench runs of one `cargo xtask bench` share.
struct Runs<'a> {
    root: &'a Path,
    options: &'a BenchOptions,
    /// Where the records files go (`target/bench-runs`).
    scratch: PathBuf,
    /// CPU threads for ours and PyTorch alike.
    threads: usize,
}

impl Runs<'_> {
    /// `hashformer bench` on `backend` in `precision` in round `round`; its records file
    /// (`None` when no asked bench runs in that precision).
    fn hashformers(
        &self,
        backend: &str,
        binary: &Path,
        round: usize,
        precision: &str,
    ) -> Result<Option<PathBuf>> {
        let file = self.scratch.join(format!(
            "hashformers-{backend}-{precision}-round{round}.json"
        ));
        let mut args: Vec<String> = vec![
            "--backend".into(),
            backend.to_owned(),
            "--configs".into(),
            self.options.configs.join(","),
            "--precision".into(),
            precision.to_owned(),
            "--out".into(),
            file.to_string_lossy().into_owned(),
        ];
        if self.options.quick {
            args.push("--quick".into());
        }
        match self.options.benches_in(precision) {
            Some(benches) if benches.is_empty() => return Ok(None),
            Some(benches) => args.extend(["--benches".into(), benches]),
            None => {}
        }
        let mut cmd = crate::cli::built_command(self.root, binary, "bench", &args);
        cmd.env("RAYON_NUM_THREADS", self.threads.to_string());
        eprintln!("== hashformers on {backend}, {precision}");
        let status = cmd.status().context("running cargo")?;
        if !status.success() {
            bail!("hashformer bench --backend {backend} --precision {precision} failed ({status})");
        }
        Ok(Some(file))
    }

    /// `tools/bench/torch_bench.py` of `config` on `device` in `precision` in round `round`;
    /// its records file, or `None` when no asked bench runs in that precision, or (with a
    /// note) when the PyTorch bench fails.
    fn pytorch(
        &self,
        python: &Path,
        device: &str,
        config: &str,
        round: usize,
        precision: &str,
    ) -> Result<Option<PathBuf>> {
        let file = self.scratch.join(format!(
            "pytorch-{device}-{config}-{precision}-round{round}.json"
        ));
        let mut cmd = Command::new(python);
        cmd.arg(self.root.join("tools/bench/torch_bench.py"))
            .args([
                "--config",
                config,
                "--device",
                device,
                "--precision",
                precision,
            ])
            .arg("--threads")
            .arg(self.threads.to_string())
            .current_dir(self.root);
        if self.options.quick {
            cmd.arg("--quick");
        }
        if let Some(benches) = &self.options.benches_in(precision) {
            let theirs: Vec<&str> = benches
                .split(',')
                .filter(|b| !b.is_empty() && *b != "hashing")
                .collect();
            if theirs.is_empty() {
                return Ok(None);
            }
            cmd.args(["--benches", &theirs.join(",")]);
        }
        eprintln!("== PyTorch on {device}, {config}, {precision}");
        let out = cmd
            .stderr(std::process::Stdio::inherit())
            .output()
            .with_context(|| format!("running {}", python.display()))?;
        if !out.status.success() {
            eprintln!(
                "note: the PyTorch bench failed ({}); is torch installed? \
                 (`bash tools/parity/setup.sh`) — continuing without it",
                out.status
            );
            return Ok(None);
        }
        std::fs::write(&file, &out.stdout)
            .with_context(|| format!("writing {}", file.display()))?;
        Ok(Some(file))
    }

    /// `hashformer bench-report` of `inputs` into `--out`.
    fn report(&self, inputs: &[PathBuf]) -> Result<()> {
        let out = if self.options.out.is_absolute() {
            self.options.out.clone()
        } else {
            self.root.join(&self.options.out)
        };
        let mut args: Vec<String> = inputs
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        args.extend(["--out".into(), out.to_string_lossy().into_owned()]);
        let status = crate::cli::command(self.root, "bench-report", &args)?
            .status()
            .context("running cargo")?;
        if !status.success() {
            bail!("hashformer bench-report failed ({status})");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn bench_options_parse_and_reject_unknown_values() {
        let o = parse_bench(&strings(&[
            "--quick",
            "--backends",
            "cpu,wgpu",
            "--configs",
            "small",
        ]))
        .unwrap();
        assert!(o.quick);
        assert_eq!(o.rounds, 1);
        assert_eq!(o.backends, ["cpu", "wgpu"]);
        assert_eq!(o.configs, ["small"]);
        assert_eq!(parse_bench(&[]).unwrap().configs, ["tiny", "small"]);
        assert_eq!(parse_bench(&[]).unwrap().rounds, 3);
        let some = parse_bench(&strings(&["--benches", "inference,train_step"])).unwrap();
        assert_eq!(some.benches.as_deref(), Some("inference,train_step"));
        assert!(parse_bench(&strings(&["--benches", "speed"])).is_err());
        let five = parse_bench(&strings(&["--quick", "--rounds", "5"])).unwrap();
        assert_eq!(five.rounds, 5);
        for bad in ["0", "21", "two", "-1"] {
            assert!(parse_bench(&strings(&["--rounds", bad])).is_err(), "{bad}");
        }
        assert!(parse_bench(&strings(&["--backends", "tpu"])).is_err());
        assert_eq!(parse_bench(&[]).unwrap().precisions, ["f32"]);
        let half = parse_bench(&strings(&["--precisions", "f32,bf16"])).unwrap();
        assert_eq!(half.precisions, ["f32", "bf16"]);
        assert_eq!(half.benches_in("f32"), None);
        assert_eq!(
            half.benches_in("bf16").as_deref(),
            Some("inference,train_step")
        );
        assert_eq!(
            some.benches_in("f16").as_deref(),
            Some("inference,train_step")
        );
        let hashing = parse_bench(&strings(&["--benches", "hashing,inference"])).unwrap();
        assert_eq!(
            hashing.benches_in("f32").as_deref(),
            Some("hashing,inference")
        );
        assert_eq!(hashing.benches_in("bf16").as_deref(), Some("inference"));
        let embeddings = parse_bench(&strings(&["--benches", "embedding_forward"])).unwrap();
        assert_eq!(embeddings.benches_in("bf16").as_deref(), Some(""));
        assert!(parse_bench(&strings(&["--precisions", "f64"])).is_err());
        assert!(parse_bench(&strings(&["--configs"])).is_err());
        assert!(parse_bench(&strings(&["--fast"])).is_err());
    }
}
