//! `cargo xtask quickstart [--minutes M] [--out DIR] [--no-fetch]`: the README's main job, on
//! the CPU.
//!
//! 1. Checks that the data it uses is in the data directory (SST-2 and the pre-training
//!    corpus, checksummed), and fetches what is missing (as `cargo xtask data fetch --only
//!    SST-2,corpus` does: 257 MB downloaded, 95 MB on disk) unless `--no-fetch`.
//! 2. Times a few pre-training steps of a tiny HashFormer-Proj_MD5 (2 layers × 32) and
//!    pre-trains it with Shuffle+Random for about 45 % of the budget (`hashformer pretrain`).
//! 3. Fine-tunes it on SST-2, the reference's recipe over the full training set
//!    (`hashformer glue`), and prints the dev accuracy.
//! 4. Prints its embedding parameters next to the vocabulary baseline's (`hashformer size`).
//! 5. Classifies a few sentences with the fine-tuned model (`hashformer classify`).
//!
//! Everything is written under `--out` (default `runs/quickstart`); rerunning reuses the
//! prepared corpus and the finished fine-tuning.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// Sentences the fine-tuned model classifies at the end.
const EXAMPLES: [&str; 4] = [
    "a gorgeous , witty , seductive movie .",
    "the plot is tedious and the acting is wooden .",
    "an engrossing and moving portrait of a family .",
    "it 's a dull , lifeless mess .",
];

/// Share of the budget for pre-training; fine-tuning, evaluation and the build take the rest.
const PRETRAIN_SHARE: f64 = 0.45;

struct Options {
    minutes: f64,
    out: PathBuf,
    /// Download missing data (on unless `--no-fetch`).
    fetch: bool,
}

/// The datasets the quickstart reads (an `--only` list): MD5 hashing needs no BPE files.
const NEEDS: &str = "SST-2,corpus";

const USAGE: &str = "usage: cargo xtask quickstart [--minutes M (default 10)] \
    [--out DIR (default runs/quickstart)] [--no-fetch (never download missing data)]";

fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options {
        minutes: 10.0,
        out: PathBuf::from("runs/quickstart"),
        fetch: true,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .with_context(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--minutes" => {
                let v = value("--minutes")?;
                options.minutes = v
                    .parse()
                    .ok()
                    .filter(|m: &f64| m.is_finite() && *m >= 1.0)
                    .with_context(|| format!("--minutes: expected a number ≥ 1, got {v:?}"))?;
            }
            "--out" => options.out = PathBuf::from(value("--out")?),
            "--no-fetch" => options.fetch = false,
            "-h" | "--help" => bail!("{USAGE}"),
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    Ok(options)
}

/// `hashformer <args…>` through `cargo run` (the CPU build), in the project root.
fn hashformer(root: &Path, args: &[String]) -> Result<Command> {
    let (subcommand, rest) = args.split_first().context("no hashformer subcommand")?;
    crate::cli::command(root, subcommand, rest)
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Runs with inherited output (progress bars show); fails naming the step.
fn run_step(root: &Path, step: &str, args: &[String]) -> Result<()> {
    let status = hashformer(root, args)?
        .status()
        .with_context(|| format!("{step}: running cargo"))?;
    if !status.success() {
        bail!("{step} failed ({status})");
    }
    Ok(())
}

/// Runs and returns stdout.
fn capture(root: &Path, step: &str, args: &[String]) -> Result<String> {
    let out = hashformer(root, args)?
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("{step}: running cargo"))?;
    if !out.status.success() {
        bail!("{step} failed ({})", out.status);
    }
    String::from_utf8(out.stdout).with_context(|| format!("{step}: output is not UTF-8"))
}

/// The model flags of every step: tiny HashFormer-Proj_MD5.
const MODEL: [&str; 6] = ["--variant", "proj", "--scheme", "md5", "--config", "tiny"];

/// Runs the quickstart.
///
/// # Errors
/// Missing data (with the command that fetches it), a failing step.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let options = parse(args)?;
    let started = Instant::now();
    let data = crate::data_dir(root)?;
    println!("data directory: {data}");
    crate::data::ensure(&data.path, NEEDS, options.fetch, "the quickstart")?;
    let out = if options.out.is_absolute() {
        options.out.clone()
    } else {
        root.join(&options.out)
    };

    println!("== 1/4 build and time a pre-training step (tiny HashFormer-Proj_MD5, 2 × 32)");
    let plan = plan_pretraining(root, options.minutes)?;

    println!("== 2/4 pre-train with Shuffle+Random");
    let run_dir = out.join("pretrain");
    // A fresh run each time (the prepared corpus beside it is reused).
    let _ = std::fs::remove_dir_all(&run_dir);
    run_step(root, "pretrain", &pretrain_args(&plan, &out, &run_dir))?;

    println!("== 3/4 fine-tune on SST-2 (full training set, 3 epochs) and evaluate on dev");
    let glue_dir = out.join("sst2");
    let accuracy = fine_tune(root, &run_dir.join("model"), &glue_dir)?;

    println!("== 4/4 size and predictions");
    let (proj, bpe) = (embedding_size(root, "proj")?, embedding_size(root, "bpe")?);
    let best = glue_dir.join("SST-2/seed-0/best");
    let mut classify = strings(&["classify", "--model"]);
    classify.push(path_arg(&best));
    classify.extend(strings(&EXAMPLES));
    let predictions = capture(root, "classify", &classify)?;

    print_results(&Results {
        accuracy,
        proj,
        bpe,
        predictions,
        best,
        started,
    });
    Ok(())
}

/// `p` as a command-line argument.
fn path_arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// How long pre-training may take and how many steps fit in it.
struct Plan {
    budget_s: f64,
    steps: u64,
}

/// Times a pre-training step (`hashformer bench-step`) and plans the steps that fit in the
/// pre-training share of `minutes`.
fn plan_pretraining(root: &Path, minutes: f64) -> Result<Plan> {
    let mut bench = strings(&["bench-step", "--warmup", "3", "--steps", "10"]);
    bench.extend(strings(&MODEL));
    let timing: Value = serde_json::from_str(capture(root, "bench-step", &bench)?.trim())
        .context("reading bench-step's JSON")?;
    let step_s = timing["median_step_s"]
        .as_f64()
        .filter(|s| *s > 0.0)
        .context("bench-step gave no median_step_s")?;
    let budget_s = minutes * 60.0 * PRETRAIN_SHARE;
    // Real steps also hash text and evaluate: plan for about 80 % of the synthetic rate; the
    // time limit stops the run (with its model saved) if that is still optimistic.
    let steps = ((budget_s / step_s) * 0.8).max(20.0) as u64;
    println!(
        "   {:.0} ms per 16 × 128 step → {steps} steps in about {:.1} min",
        step_s * 1e3,
        budget_s / 60.0
    );
    Ok(Plan { budget_s, steps })
}

/// `hashformer pretrain` for `plan` into `run_dir`, preparing the corpus in `out/corpus`.
fn pretrain_args(plan: &Plan, out: &Path, run_dir: &Path) -> Vec<String> {
    let mut args = strings(&["pretrain"]);
    args.extend(strings(&MODEL));
    args.extend(strings(&[
        "--batch-size",
        "16",
        "--max-length",
        "128",
        "--lr",
        "1e-3",
        "--warmup",
    ]));
    args.push((plan.steps / 20).max(1).to_string());
    args.extend(strings(&["--steps"]));
    args.push(plan.steps.to_string());
    args.extend(strings(&["--minutes"]));
    args.push(format!("{:.2}", plan.budget_s / 60.0));
    args.extend(strings(&[
        "--max-train-sequences",
        "200000",
        "--eval-batches",
        "20",
    ]));
    // Quickstart owns OUT/corpus: reuse it when it matches, replace it when the data moved.
    args.extend(["--prepared".to_owned(), path_arg(&out.join("corpus"))]);
    args.push("--replace-prepared".to_owned());
    args.extend(["--out".to_owned(), path_arg(run_dir)]);
    args
}

/// Fine-tunes `model` on SST-2 into `glue_dir` (`hashformer glue`, afresh); the median dev
/// accuracy.
fn fine_tune(root: &Path, model: &Path, glue_dir: &Path) -> Result<f64> {
    let mut glue = strings(&["glue", "--tasks", "sst2", "--seeds", "1", "--epochs", "3"]);
    glue.extend(strings(&[
        "--lr",
        "1e-3",
        "--batch-size",
        "32",
        "--max-length",
        "64",
    ]));
    glue.extend(["--model".to_owned(), path_arg(model)]);
    glue.extend(["--out".to_owned(), path_arg(glue_dir)]);
    let _ = std::fs::remove_dir_all(glue_dir);
    run_step(root, "glue", &glue)?;
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(glue_dir.join("results.json"))
            .context("reading the fine-tuning results")?,
    )?;
    results["tasks"][0]["median"]["accuracy"]
        .as_f64()
        .context("no SST-2 accuracy in results.json")
}

/// `hashformer size --json` of `variant` at the tiny shape.
fn embedding_size(root: &Path, variant: &str) -> Result<Value> {
    let args = strings(&[
        "size",
        "--variant",
        variant,
        "--hidden",
        "32",
        "--layers",
        "2",
        "--heads",
        "2",
        "--intermediate",
        "64",
        "--json",
    ]);
    Ok(serde_json::from_str(&capture(root, "size", &args)?)?)
}

/// What the quickstart prints at the end.
struct Results {
    /// SST-2 dev accuracy.
    accuracy: f64,
    /// `hashformer size --json` of Proj and of the BPE baseline.
    proj: Value,
    bpe: Value,
    /// `hashformer classify`'s lines for [`EXAMPLES`].
    predictions: String,
    /// The fine-tuned model.
    best: PathBuf,
    /// When the run started.
    started: Instant,
}

/// Prints the accuracy, the embedding sizes, the predictions and where the model is.
fn print_results(r: &Results) {
    let count = |v: &Value, key: &str| v[key].as_u64().unwrap_or(0);
    println!();
    println!("SST-2 dev accuracy: {:.2} %", 100.0 * r.accuracy);
    println!(
        "token-embedding parameters: HashFormer-Proj_MD5 {} (Proj matrix {} + special tokens {}), \
         vocabulary baseline {} ({}× more)",
        count(&r.proj, "token_and_special"),
        count(&r.proj["embeddings"], "token"),
        count(&r.proj["embeddings"], "special"),
        count(&r.bpe, "token_and_special"),
        count(&r.bpe, "token_and_special") / count(&r.proj, "token_and_special").max(1)
    );
    println!("predictions (label, probability, text):");
    for line in r.predictions.lines() {
        println!("  {line}");
    }
    println!(
        "\nfinished in {:.1} min; the model is in {} (try `cargo run -p hashformer-cli -- classify --model {} \"your text\"`)",
        r.started.elapsed().as_secs_f64() / 60.0,
        r.best.display(),
        r.best.display()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_and_reject_nonsense() {
        let o = parse(&strings(&["--minutes", "3", "--out", "x"])).unwrap();
        assert_eq!((o.minutes, o.out), (3.0, PathBuf::from("x")));
        assert_eq!(parse(&[]).unwrap().minutes, 10.0);
        assert!(parse(&[]).unwrap().fetch);
        assert!(!parse(&strings(&["--no-fetch"])).unwrap().fetch);
        assert!(parse(&strings(&["--minutes", "0.5"])).is_err());
        assert!(parse(&strings(&["--minutes"])).is_err());
        assert!(parse(&strings(&["--fast"])).is_err());
    }
}
