//! `hashformer size`: parameter and memory breakdown of a model configuration.

use anyhow::Result;
use clap::Args;
use hashformer_embeddings::{EmbeddingKind, Variant};
use hashformer_model::HashformerConfig;
use hashformer_report::group_digits;
use serde_json::json;

use crate::variant::{SchemeArg, VariantArg};

/// Arguments of `hashformer size`.
#[derive(Args)]
pub struct SizeArgs {
    /// Embedding variant.
    #[arg(long, value_enum)]
    variant: VariantArg,
    /// Hashing scheme (ignored for `bpe`).
    #[arg(long, value_enum, default_value = "md5")]
    scheme: SchemeArg,
    /// Model width.
    #[arg(long, default_value_t = 768, value_parser = crate::args::width)]
    hidden: usize,
    /// Encoder layers.
    #[arg(long, default_value_t = 12, value_parser = crate::args::count)]
    layers: usize,
    /// Attention heads [default: hidden / 64, at least 1].
    #[arg(long, value_parser = crate::args::count)]
    heads: Option<usize>,
    /// Feed-forward width [default: 4 × hidden].
    #[arg(long, value_parser = crate::args::width)]
    intermediate: Option<usize>,
    /// Emb buckets.
    #[arg(long, default_value_t = 50_260, value_parser = crate::args::buckets)]
    buckets: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

fn config(args: &SizeArgs) -> Result<HashformerConfig> {
    let variant = args.variant.with_scheme(args.scheme);
    let heads = args.heads.unwrap_or((args.hidden / 64).max(1));
    let intermediate = args.intermediate.unwrap_or(4 * args.hidden);
    let config = HashformerConfig::new(variant, args.hidden, args.layers, heads, intermediate)
        .with_num_buckets(args.buckets);
    config.validate()?;
    Ok(config)
}

fn token_part_name(kind: EmbeddingKind) -> &'static str {
    match kind {
        EmbeddingKind::Emb => "bucket table",
        EmbeddingKind::Bpe => "BPE vocabulary table",
        EmbeddingKind::Pool => "component table + adaptive weights",
        EmbeddingKind::Add => "W1 + W2",
        EmbeddingKind::Proj => "projection",
    }
}

/// Runs `hashformer size`.
pub fn run(args: &SizeArgs) -> Result<()> {
    let config = config(args)?;
    let p = config.parameters();
    let baseline = HashformerConfig::new(Variant::Bpe, args.hidden, args.layers, 1, 1).parameters();
    let e = p.embeddings;
    if args.json {
        let value = json!({
            "embedding_type": config.variant.kind(),
            "hash_type": config.variant.scheme(),
            "hidden_size": config.hidden_size,
            "num_hidden_layers": config.num_hidden_layers,
            "num_attention_heads": config.num_attention_heads,
            "intermediate_size": config.intermediate_size,
            "embeddings": e,
            "token_and_special": e.token_and_special(),
            "embeddings_total": e.total(),
            "encoder": p.encoder,
            "pretraining_head": p.pretraining_head,
            "classification_head": p.classification_head,
            "backbone": p.backbone(),
            "backbone_bytes_f32": p.backbone_bytes_f32(),
            "vocabulary_baseline_token_table": baseline.embeddings.token,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let row = |name: &str, n: usize| println!("  {name:<36} {n:>14}", n = group_digits(n));
    println!(
        "{:?}{} — hidden {}, {} layers, {} heads, feed-forward {}",
        config.variant.kind(),
        config
            .variant
            .scheme()
            .map(|h| format!(" ({h:?})"))
            .unwrap_or_default(),
        config.hidden_size,
        config.num_hidden_layers,
        config.num_attention_heads,
        config.intermediate_size
    );
    row(
        &format!("token part ({})", token_part_name(config.variant.kind())),
        e.token,
    );
    row("special-token table", e.special);
    row("position embeddings", e.position);
    row("token-type embeddings", e.token_type);
    row("embedding LayerNorm", e.layer_norm);
    row("embeddings total", e.total());
    row("encoder", p.encoder);
    row("backbone (embeddings + encoder)", p.backbone());
    row("pre-training head", p.pretraining_head);
    row("classification head", p.classification_head);
    println!(
        "  {:<36} {:>10.1} MiB",
        "backbone memory (f32)",
        p.backbone_bytes_f32() as f64 / (1 << 20) as f64
    );
    println!(
        "  token part + specials: {} vs the vocabulary baseline's {} ({:.1}x smaller)",
        group_digits(e.token_and_special()),
        group_digits(baseline.embeddings.token),
        baseline.embeddings.token as f64 / e.token_and_special() as f64
    );
    Ok(())
}
