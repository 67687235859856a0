//! `hashformer`: the user-facing command line of hashformers.

mod allocator;
mod args;
mod backend;
mod bench;
mod bench_report;
mod bench_rounds;
mod bench_step;
mod classify;
mod collisions;
mod convert;
mod data;
mod embed;
mod evaluate;
mod glue;
mod glue_compare;
mod hash;
mod inference;
mod interrupt;
mod outputs;
mod pretrain;
mod pretrain_compare;
#[cfg(feature = "wgpu")]
mod runtime_dir;
mod size;
mod variant;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Vocabulary-free transformers (HashFormers): pre-train, fine-tune on GLUE and run models whose
/// words get their input from a hash, not a vocabulary.
#[derive(Parser)]
#[command(
    name = "hashformer",
    version,
    long_about = None,
    after_help = AFTER_HELP,
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The workflow and where data comes from, under the command list of `--help`.
const AFTER_HELP: &str = "\
A first model, in order:
  hashformer pretrain --variant proj --minutes 60 --out ~/runs/proj
  hashformer glue --model ~/runs/proj/model --tasks sst2 --out ~/runs/proj-glue
  hashformer classify --model ~/runs/proj-glue/SST-2/seed-0/best \"a fine film\"
(`cargo xtask quickstart` runs all three on a small budget.)

Data (GLUE, the Wikipedia corpus, roberta-base BPE files) is read from $HASHFORMER_DATA, else
the per-user data directory (~/.local/share/hashformers on Linux); `cargo xtask data fetch`
gets it. `hashformer <COMMAND> --help` describes each command's options.";

#[derive(Subcommand)]
enum Command {
    /// Pre-train a HashFormer (or the BPE baseline) on a text corpus with Shuffle+Random,
    /// resumable, with progress, JSONL metrics and a PNG plot in the run directory. Ctrl-C (or
    /// SIGTERM) stops after the step under way with a checkpoint; a second one exits at once.
    Pretrain(Box<pretrain::PretrainArgs>),
    /// Compare pre-training runs at one step: a table ranked by held-out loss (accuracy above
    /// the majority rate, recall per class) and a chart of their held-out curves.
    PretrainCompare(pretrain_compare::PretrainCompareArgs),
    /// Fine-tune a checkpoint (or a random model) on GLUE tasks with several seeds.
    Glue(Box<glue::GlueArgs>),
    /// Label texts (arguments or stdin lines) with a fine-tuned classifier.
    Classify(classify::ClassifyArgs),
    /// Sentence vectors (JSON lines) from a checkpoint's encoder.
    Embed(embed::EmbedArgs),
    /// Compute a GLUE task's metrics for a predictions file against a gold (dev) file.
    Evaluate(evaluate::EvaluateArgs),
    /// Combine the results.json of several `glue` runs of one model (e.g. seeds run apart).
    GlueMerge(glue::MergeArgs),
    /// Compare models on GLUE over several pre-training runs each: a table (mean and range
    /// per task, the average, the difference from a baseline) and a chart against parameters.
    GlueCompare(glue_compare::CompareArgs),
    /// Hash JSON lines `{"text": …, "text_b": …}` from stdin into tokens, MD5/LSH hashes,
    /// buckets and Pool indices (one JSON object per line on stdout).
    Hash(hash::HashArgs),
    /// Convert a checkpoint between our format and the official code's (either way).
    Convert(convert::ConvertArgs),
    /// Print the parameter and memory breakdown of a model configuration.
    Size(size::SizeArgs),
    /// How many distinct words of a corpus share a hash bucket, per bucket count.
    Collisions(collisions::CollisionsArgs),
    /// Time hashing, embeddings, inference and training steps on a backend (JSON records for
    /// `cargo xtask bench`).
    Bench(bench::BenchArgs),
    /// Merge bench records (ours and PyTorch's) into bench.json, bench.md and PNG charts.
    BenchReport(bench_report::BenchReportArgs),
    /// Time pre-training steps of a model on synthetic batches (JSON on stdout).
    BenchStep(bench_step::BenchStepArgs),
}

fn main() -> ExitCode {
    allocator::keep_freed_memory();
    // Before any thread starts: the environment is read unsynchronised by other threads.
    #[cfg(feature = "wgpu")]
    runtime_dir::ensure();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Hash(args) => hash::run(&args),
        Command::Size(args) => size::run(&args),
        Command::Pretrain(args) => pretrain::run(&args),
        Command::PretrainCompare(args) => pretrain_compare::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::BenchReport(args) => bench_report::report(&args),
        Command::BenchStep(args) => bench_step::run(&args),
        Command::Glue(args) => glue::run(&args),
        Command::GlueMerge(args) => glue::merge(&args),
        Command::GlueCompare(args) => glue_compare::run(&args),
        Command::Evaluate(args) => evaluate::run(&args),
        Command::Classify(args) => classify::run(&args),
        Command::Embed(args) => embed::run(&args),
        Command::Collisions(args) => collisions::run(&args),
        Command::Convert(args) => convert::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
