#![doc = include_str!("../README.md")]

mod files;
mod scratch;
mod text;
mod weights;

/// A fuzz target: any bytes in; it returns normally (an error is a fine answer) or panics,
/// which is a bug — a crash, or a broken invariant asserted by the target.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Its name: the libFuzzer binary `fuzz/fuzz_targets/NAME.rs` and the seed folder
    /// `fuzz/seeds/NAME/`.
    pub name: &'static str,
    /// What it feeds the bytes to.
    pub about: &'static str,
    /// Runs one input.
    pub run: fn(&[u8]),
}

/// Every target, in the order `cargo xtask fuzz` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "words",
        about: "pre-tokeniser (Python lower + \\w+|[^\\w\\s]+) and HMAC-MD5 buckets/bits",
        run: text::words,
    },
    Target {
        name: "lsh",
        about: "LSH features, 128-bit SimHash and the Emb_LSH rotator bucket (roberta-base BPE)",
        run: text::lsh,
    },
    Target {
        name: "glue_tsv",
        about: "GLUE task files, every task and split (first byte picks them)",
        run: files::glue_tsv,
    },
    Target {
        name: "predictions_tsv",
        about: "prediction files that `evaluate` reads, every task",
        run: files::predictions_tsv,
    },
    Target {
        name: "metrics_jsonl",
        about: "metrics logs (JSON lines) as resume and plotting read them",
        run: files::metrics_jsonl,
    },
    Target {
        name: "corpus",
        about: "corpus files (WikiExtractor or blank-line documents, gzip by magic) and packing",
        run: files::corpus,
    },
    Target {
        name: "config_json",
        about: "config.json as save_pretrained (ours or the reference's) writes it",
        run: weights::config_json,
    },
    Target {
        name: "checkpoint",
        about: "a checkpoint directory: config.json and model.safetensors, loaded on the CPU",
        run: weights::checkpoint,
    },
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}
