//! `hashformer convert`: checkpoints between our directories and the official code's
//! (the format logic is `hashformer_model::{from_reference, to_reference}`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use hashformer_model::{from_reference, to_reference, Error, ReferenceScheme};

/// The format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// Ours: the reference's config plus the hashing fields (`hash_type`, …).
    Ours,
    /// The official code's: its `config.json` (`save_pretrained` fields only) and the weights.
    Reference,
}

/// How the reference checkpoint's inputs are made (its config does not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemeArg {
    /// HMAC-MD5 (hashformer-md-* checkpoints).
    Md5,
    /// Locality-sensitive hashing (hashformer-lsh-* checkpoints).
    Lsh,
    /// No hashing: the BPE RoBERTa baseline (a table of roberta-base ids).
    Bpe,
}

/// Arguments of `hashformer convert`.
#[derive(Args)]
pub struct ConvertArgs {
    /// The checkpoint directory to read (config.json + model.safetensors).
    input: PathBuf,
    /// The directory to write (new or empty).
    #[arg(long)]
    out: PathBuf,
    /// The format to write: `ours` reads a reference checkpoint, `reference` one of ours.
    #[arg(long, value_enum)]
    to: Target,
    /// The hashing scheme of a reference checkpoint (with `--to ours`; needed unless its
    /// config.json records one).
    #[arg(long, value_enum)]
    scheme: Option<SchemeArg>,
}

/// Runs `hashformer convert`.
///
/// # Errors
/// Any conversion error, with the directories involved.
pub fn run(args: &ConvertArgs) -> Result<()> {
    let converted = match args.to {
        Target::Ours => {
            let scheme = args.scheme.map(|s| match s {
                SchemeArg::Md5 => ReferenceScheme::Md5,
                SchemeArg::Lsh => ReferenceScheme::Lsh,
                SchemeArg::Bpe => ReferenceScheme::Bpe,
            });
            from_reference(&args.input, &args.out, scheme).map_err(|e| match e {
                Error::SchemeNeeded { .. } => {
                    anyhow::Error::new(e).context("pass --scheme md5, lsh or bpe")
                }
                e => e.into(),
            })
        }
        Target::Reference => {
            if args.scheme.is_some() {
                anyhow::bail!(
                    "--scheme is for --to ours (our config.json records the scheme already)"
                );
            }
            to_reference(&args.input, &args.out).map_err(Into::into)
        }
    }
    .with_context(|| {
        format!(
            "converting {} to {}",
            args.input.display(),
            args.out.display()
        )
    })?;
    let format = match args.to {
        Target::Ours => "our format",
        Target::Reference => "the reference's format",
    };
    eprintln!(
        "wrote {} in {format} to {} (architectures: {})",
        converted.config.variant,
        args.out.display(),
        converted.architectures.join(", "),
    );
    for note in &converted.notes {
        eprintln!("note: {note}");
    }
    Ok(())
}
