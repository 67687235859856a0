//! `hashformer hash`: the release-check contract of the hashing crate.
//!
//! Input: JSON lines `{"text": "...", "text_b": "..."}` (`text_b` optional).
//! Output, one object per line: `tokens`, `md5_hex`, `md5_bucket`, `pool`; with `--lsh` also
//! `lsh_hex`, `lsh_bucket`; the same with suffix `_b` for `text_b`; with `--max-length N`
//! also `input_ids` and `attention_mask` of the Emb_MD5 sequence of the text or pair.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use hashformer_hashing::{
    pre_tokenize, CachedHasher, LshHasher, Md5Hasher, RobertaBpe, SequenceEncoder, TextInput,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Lines hashed in parallel at a time (bounds memory on endless input).
const CHUNK_LINES: usize = 4096;

/// Arguments of `hashformer hash`.
#[derive(Args)]
pub struct HashArgs {
    /// Also compute the LSH signature and Emb_LSH bucket of every token.
    #[arg(long)]
    lsh: bool,
    /// Directory with roberta-base `tokenizer.json` or `vocab.json` + `merges.txt`
    /// [default: roberta-base in the data directory: $HASHFORMER_DATA, else the per-user one].
    #[arg(long, value_name = "DIR")]
    bpe_dir: Option<PathBuf>,
    /// Also emit `input_ids` and `attention_mask` of the Emb_MD5 sequence at this length.
    #[arg(long, value_name = "N", value_parser = crate::args::max_length)]
    max_length: Option<usize>,
}

/// One input line; other keys are ignored, so annotated files can be piped in as they are.
#[derive(Deserialize)]
struct Record {
    text: String,
    #[serde(default)]
    text_b: Option<String>,
}

#[derive(Serialize)]
struct TextHashes {
    tokens: Vec<String>,
    md5_hex: Vec<String>,
    md5_bucket: Vec<u32>,
    pool: Vec<[u16; 13]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lsh_hex: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lsh_bucket: Option<Vec<u32>>,
}

#[derive(Serialize)]
struct Output {
    #[serde(flatten)]
    a: TextHashes,
    #[serde(
        flatten,
        serialize_with = "suffixed_b",
        skip_serializing_if = "Option::is_none"
    )]
    b: Option<TextHashes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_ids: Option<Vec<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attention_mask: Option<Vec<u8>>,
}

fn suffixed_b<S: serde::Serializer>(b: &Option<TextHashes>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let value = serde_json::to_value(b).map_err(serde::ser::Error::custom)?;
    let mut map = s.serialize_map(None)?;
    if let serde_json::Value::Object(fields) = value {
        for (k, v) in fields {
            map.serialize_entry(&format!("{k}_b"), &v)?;
        }
    }
    map.end()
}

struct Hashers {
    md5: Md5Hasher,
    lsh: Option<CachedHasher<LshHasher>>,
    encoder: Option<SequenceEncoder<Md5Hasher>>,
}

impl Hashers {
    fn text(&self, text: &str) -> Result<TextHashes> {
        let tokens = pre_tokenize(text);
        let mut sigs = Vec::with_capacity(tokens.len());
        self.md5.signatures_into(&tokens, &mut sigs);
        let (lsh_hex, lsh_bucket) = match &self.lsh {
            Some(lsh) => {
                use hashformer_hashing::TokenHasher;
                let hex = tokens
                    .iter()
                    .map(|t| Ok(lsh.signature(t)?.to_hex()))
                    .collect::<Result<_>>()?;
                let buckets = tokens
                    .iter()
                    .map(|t| Ok(lsh.bucket(t)?))
                    .collect::<Result<_>>()?;
                (Some(hex), Some(buckets))
            }
            None => (None, None),
        };
        Ok(TextHashes {
            md5_hex: sigs.iter().map(|s| s.to_hex()).collect(),
            md5_bucket: sigs
                .iter()
                .map(|s| s.bucket(self.md5.num_buckets()))
                .collect(),
            pool: sigs.iter().map(|s| s.pool_indices()).collect(),
            tokens,
            lsh_hex,
            lsh_bucket,
        })
    }

    fn record(&self, r: &Record) -> Result<Output> {
        let (input_ids, attention_mask) = match &self.encoder {
            Some(enc) => {
                let seq = enc.encode_ids(TextInput {
                    text: &r.text,
                    text_b: r.text_b.as_deref(),
                })?;
                (Some(seq.input_ids), Some(seq.attention_mask))
            }
            None => (None, None),
        };
        Ok(Output {
            a: self.text(&r.text)?,
            b: r.text_b.as_deref().map(|t| self.text(t)).transpose()?,
            input_ids,
            attention_mask,
        })
    }
}

/// Runs `hashformer hash` over stdin.
pub fn run(args: &HashArgs) -> Result<()> {
    let lsh = if args.lsh {
        let default = crate::data::DataPart {
            flag: "--bpe-dir",
            ..crate::data::ROBERTA
        };
        let dir = crate::data::resolve(args.bpe_dir.as_deref(), default)?;
        let bpe = RobertaBpe::from_dir(&dir)
            .with_context(|| format!("loading BPE for --lsh from {}", dir.display()))?;
        Some(CachedHasher::new(LshHasher::new(bpe)))
    } else {
        None
    };
    let encoder = args
        .max_length
        .map(|n| SequenceEncoder::new(Md5Hasher::default(), n))
        .transpose()?;
    let hashers = Hashers {
        md5: Md5Hasher::default(),
        lsh,
        encoder,
    };

    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let result = hash_lines(&hashers, stdin.lines(), &mut out);
    // The lines before a bad one are written either way.
    out.flush()?;
    result
}

/// Hashes JSON `lines` in parallel chunks, writing each output line in order; stops at the
/// first bad line (unreadable, not JSON, or not hashable) after writing every line before it.
/// A UTF-8 byte order mark before the first line is skipped.
fn hash_lines(
    hashers: &Hashers,
    lines: impl Iterator<Item = std::io::Result<String>>,
    out: &mut impl Write,
) -> Result<()> {
    let mut lines = lines.enumerate().peekable();
    while lines.peek().is_some() {
        let mut chunk: Vec<(usize, String)> = Vec::with_capacity(CHUNK_LINES);
        let mut failure = None;
        for (i, line) in lines.by_ref().take(CHUNK_LINES) {
            match line {
                Ok(mut line) => {
                    if i == 0 && line.starts_with('\u{feff}') {
                        line.drain(..'\u{feff}'.len_utf8());
                    }
                    chunk.push((i + 1, line));
                }
                Err(e) => {
                    failure = Some(anyhow::Error::new(e).context(format!("stdin line {}", i + 1)));
                    break;
                }
            }
        }
        let outputs: Vec<Result<Option<String>>> = chunk
            .par_iter()
            .map(|(n, line)| hash_line(hashers, *n, line))
            .collect();
        for output in outputs {
            if let Some(line) = output? {
                writeln!(out, "{line}")?;
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
    }
    Ok(())
}

/// The output line of input line `n` (`None` for a blank one).
fn hash_line(hashers: &Hashers, n: usize, line: &str) -> Result<Option<String>> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let record: Record = serde_json::from_str(line)
        .with_context(|| format!("stdin line {n}: expected {{\"text\": ..., \"text_b\": ...}}"))?;
    let output = hashers
        .record(&record)
        .with_context(|| format!("stdin line {n}"))?;
    Ok(Some(serde_json::to_string(&output)?))
}
