//! `hashformer`: the user-facing command line of hashformers.

mod hash;
mod size;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Vocabulary-free transformers: hash text the HashFormers way.
#[derive(Parser)]
#[command(name = "hashformer", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Hash JSON lines `{"text": …, "text_b": …}` from stdin into tokens, MD5/LSH hashes,
    /// buckets and Pool indices (one JSON object per line on stdout).
    Hash(hash::HashArgs),
    /// Print the parameter and memory breakdown of a model configuration.
    Size(size::SizeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Hash(args) => hash::run(&args),
        Command::Size(args) => size::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
