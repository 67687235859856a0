//! `hashformer collisions`: how many distinct words of a corpus share a hash bucket (what
//! HashFormer-Emb cannot tell apart) and a full 128-bit signature (what Pool/Add/Proj cannot),
//! with the most frequent collisions, for several bucket counts.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use hashformer_corpus::{corpus_files, CorpusFormat, CorpusReader};
use hashformer_hashing::{LshConfig, LshHasher, Md5Hasher, RobertaBpe, Signature, Words};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::data::roberta_dir;
use crate::variant::SchemeArg;

/// Arguments of `hashformer collisions`.
#[derive(Debug, Args)]
pub struct CollisionsArgs {
    /// Corpus files or directories (plain text or WikiExtractor, gzip or not).
    #[arg(long, required = true)]
    corpus: Vec<PathBuf>,
    /// Hashing scheme.
    #[arg(long, value_enum, default_value = "md5")]
    scheme: SchemeArg,
    /// Comma-separated bucket counts.
    #[arg(long, default_value = "50260", value_delimiter = ',')]
    buckets: Vec<u32>,
    /// Stop after this many word occurrences (0: read everything).
    #[arg(long, default_value_t = 0)]
    max_tokens: u64,
    /// How many collisions to list per bucket count.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// HMAC key of the MD5 scheme.
    #[arg(long, default_value = "en")]
    key: String,
    /// roberta-base directory for LSH [default: roberta-base in the data directory: $HASHFORMER_DATA, else the per-user one].
    #[arg(long)]
    roberta: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// A bucket shared by several words.
#[derive(Debug, Serialize)]
pub struct Collision {
    /// The bucket id (5 and up).
    pub bucket: u32,
    /// The words in it, most frequent first, with their counts.
    pub words: Vec<(String, u64)>,
}

/// Collision statistics for one bucket count.
#[derive(Debug, Serialize)]
pub struct BucketReport {
    /// Buckets.
    pub buckets: u32,
    /// Buckets holding at least one word.
    pub used: u64,
    /// What uniform random hashing would use on average, `B·(1 − (1 − 1/B)^W)`.
    pub used_if_random: f64,
    /// Distinct words that share their bucket with another word.
    pub colliding_words: u64,
    /// Share of word occurrences whose word shares its bucket.
    pub colliding_token_share: f64,
    /// Share of occurrences of words that are not the most frequent of their bucket: the
    /// tokens that the model sees as a more frequent word.
    pub shadowed_token_share: f64,
    /// The collisions whose second word is most frequent.
    pub top: Vec<Collision>,
}

/// The whole report.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The scheme.
    pub scheme: &'static str,
    /// Word occurrences read.
    pub tokens: u64,
    /// Distinct words.
    pub distinct_words: u64,
    /// Distinct words whose full 128-bit signature another word also has.
    pub signature_colliding_words: u64,
    /// Per bucket count.
    pub per_bucket_count: Vec<BucketReport>,
}

/// Runs `hashformer collisions`.
///
/// # Errors
/// Unreadable corpus files, bad bucket counts, a missing BPE for LSH.
pub fn run(args: &CollisionsArgs) -> Result<()> {
    if args.buckets.contains(&0) {
        bail!("--buckets: bucket counts must be positive");
    }
    let counts = count_words(args)?;
    let report = report(args, &counts)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        write_text(&mut out, &report)?;
    }
    Ok(())
}

fn count_words(args: &CollisionsArgs) -> Result<HashMap<String, u64>> {
    let files = corpus_files(&args.corpus)?;
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    let bar = (!args.quiet).then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("counting words {bar:30} {bytes}/{total_bytes} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let mut reader = CorpusReader::new(files, CorpusFormat::Auto);
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut tokens = 0u64;
    'docs: while let Some(doc) = reader.next() {
        let doc = doc?;
        for paragraph in &doc.paragraphs {
            for word in Words::new(paragraph).iter() {
                match counts.get_mut(word) {
                    Some(c) => *c += 1,
                    None => {
                        counts.insert(word.to_owned(), 1);
                    }
                }
                tokens += 1;
                if args.max_tokens > 0 && tokens >= args.max_tokens {
                    break 'docs;
                }
            }
        }
        if let Some(bar) = &bar {
            bar.set_position(reader.bytes_read());
            bar.set_message(format!("{tokens} words"));
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if counts.is_empty() {
        bail!("no words in {:?}", args.corpus);
    }
    Ok(counts)
}

/// The report on `counts` for every bucket count of `args`.
fn report(args: &CollisionsArgs, counts: &HashMap<String, u64>) -> Result<Report> {
    let words = by_frequency(counts);
    let tokens: u64 = words.iter().map(|w| w.1).sum();
    let hashes = match args.scheme {
        SchemeArg::Md5 => md5_hashes(args, &words)?,
        SchemeArg::Lsh => lsh_hashes(args, &words)?,
    };
    let per_bucket_count = args
        .buckets
        .iter()
        .zip(hashes.buckets)
        .map(|(&b, list)| bucket_report(b, &words, &list, tokens, args.top))
        .collect();
    Ok(Report {
        scheme: match args.scheme {
            SchemeArg::Md5 => "md5",
            SchemeArg::Lsh => "lsh",
        },
        tokens,
        distinct_words: words.len() as u64,
        signature_colliding_words: signature_colliding_words(&hashes.signatures),
        per_bucket_count,
    })
}

/// The words with their counts, most frequent first, ties by word: a deterministic order
/// for every table of the report.
fn by_frequency(counts: &HashMap<String, u64>) -> Vec<(&str, u64)> {
    let mut words: Vec<(&str, u64)> = counts.iter().map(|(w, &c)| (w.as_str(), c)).collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    words
}

/// Each word's signature and, per bucket count, each word's bucket (in the order of the words).
struct Hashes {
    signatures: Vec<Signature>,
    buckets: Vec<Vec<u32>>,
}

/// [`Hashes`] with the MD5 scheme.
fn md5_hashes(args: &CollisionsArgs, words: &[(&str, u64)]) -> Result<Hashes> {
    let hasher = Md5Hasher::new(args.key.as_bytes(), 1)?;
    let signatures: Vec<Signature> = words.iter().map(|(w, _)| hasher.signature(w)).collect();
    let buckets = args
        .buckets
        .iter()
        .map(|&b| signatures.iter().map(|s| s.bucket(b)).collect())
        .collect();
    Ok(Hashes {
        signatures,
        buckets,
    })
}

/// [`Hashes`] with the LSH scheme (a hasher per bucket count), with progress bars.
fn lsh_hashes(args: &CollisionsArgs, words: &[(&str, u64)]) -> Result<Hashes> {
    let dir = roberta_dir(args.roberta.as_deref())?;
    let hasher = LshHasher::new(load_bpe(&dir)?);
    let progress = progress_bar(args.quiet, words.len(), "LSH signatures");
    let signatures = hash_each(words, progress.as_ref(), |w| Ok(hasher.signature(w)?))?;
    let mut buckets = Vec::new();
    for &b in &args.buckets {
        let hasher = LshHasher::with_config(
            load_bpe(&dir)?,
            LshConfig {
                num_buckets: b,
                ..LshConfig::default()
            },
        )?;
        let progress = progress_bar(args.quiet, words.len(), &format!("LSH buckets ({b})"));
        buckets.push(hash_each(words, progress.as_ref(), |w| {
            Ok(hasher.bucket(w)?)
        })?);
    }
    Ok(Hashes {
        signatures,
        buckets,
    })
}

/// roberta-base's BPE from `dir`.
fn load_bpe(dir: &Path) -> Result<RobertaBpe> {
    RobertaBpe::from_dir(dir)
        .with_context(|| format!("loading roberta-base from {}", dir.display()))
}

/// A bar over `len` words labelled `what` (none when `quiet`).
fn progress_bar(quiet: bool, len: usize, what: &str) -> Option<ProgressBar> {
    (!quiet).then(|| {
        let bar = ProgressBar::new(len as u64);
        bar.set_style(
            ProgressStyle::with_template(&format!("{what} {{bar:30}} {{pos}}/{{len}} words"))
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    })
}

/// `hash` of each word in order, advancing `progress` by one per word.
fn hash_each<T>(
    words: &[(&str, u64)],
    progress: Option<&ProgressBar>,
    hash: impl Fn(&str) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(words.len());
    for (w, _) in words {
        out.push(hash(w)?);
        if let Some(p) = progress {
            p.inc(1);
        }
    }
    Ok(out)
}

/// Distinct words whose signature another word also has.
fn signature_colliding_words(signatures: &[Signature]) -> u64 {
    let mut per_signature: HashMap<Signature, u64> = HashMap::new();
    for s in signatures {
        *per_signature.entry(*s).or_default() += 1;
    }
    signatures.iter().filter(|s| per_signature[s] > 1).count() as u64
}

/// `words` are sorted most frequent first, so each bucket's list is too.
fn bucket_report(
    buckets: u32,
    words: &[(&str, u64)],
    list: &[u32],
    tokens: u64,
    top: usize,
) -> BucketReport {
    let mut members: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, &b) in list.iter().enumerate() {
        members.entry(b).or_default().push(i);
    }
    let (mut colliding_words, mut colliding_tokens, mut shadowed_tokens) = (0u64, 0u64, 0u64);
    let mut shared: Vec<(u32, &Vec<usize>)> = Vec::new();
    for (&bucket, m) in &members {
        if m.len() > 1 {
            colliding_words += m.len() as u64;
            colliding_tokens += m.iter().map(|&i| words[i].1).sum::<u64>();
            shadowed_tokens += m[1..].iter().map(|&i| words[i].1).sum::<u64>();
            shared.push((bucket, m));
        }
    }
    // The most harmful collisions: the most frequent shadowed word; ties by bucket.
    shared.sort_by(|a, b| words[b.1[1]].1.cmp(&words[a.1[1]].1).then(a.0.cmp(&b.0)));
    let w = words.len() as f64;
    let n = f64::from(buckets);
    BucketReport {
        buckets,
        used: members.len() as u64,
        used_if_random: n * (1.0 - (1.0 - 1.0 / n).powf(w)),
        colliding_words,
        colliding_token_share: colliding_tokens as f64 / tokens as f64,
        shadowed_token_share: shadowed_tokens as f64 / tokens as f64,
        top: shared
            .into_iter()
            .take(top)
            .map(|(bucket, m)| Collision {
                bucket,
                words: m
                    .iter()
                    .take(5)
                    .map(|&i| (words[i].0.to_owned(), words[i].1))
                    .collect(),
            })
            .collect(),
    }
}

fn write_text(out: &mut impl Write, r: &Report) -> Result<()> {
    writeln!(
        out,
        "{} word occurrences, {} distinct words, scheme {}",
        r.tokens, r.distinct_words, r.scheme
    )?;
    writeln!(
        out,
        "full 128-bit signatures (Pool/Add/Proj): {} distinct words share theirs with another word",
        r.signature_colliding_words
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:>9} {:>9} {:>14} {:>16} {:>15} {:>15}",
        "buckets", "used", "used (random)", "colliding words", "colliding tok %", "shadowed tok %"
    )?;
    for b in &r.per_bucket_count {
        writeln!(
            out,
            "{:>9} {:>9} {:>14.0} {:>16} {:>15.2} {:>15.2}",
            b.buckets,
            b.used,
            b.used_if_random,
            b.colliding_words,
            100.0 * b.colliding_token_share,
            100.0 * b.shadowed_token_share
        )?;
    }
    for b in &r.per_bucket_count {
        if b.top.is_empty() {
            continue;
        }
        writeln!(
            out,
            "\nmost frequent collisions with {} buckets:",
            b.buckets
        )?;
        for c in &b.top {
            let words: Vec<String> = c.words.iter().map(|(w, n)| format!("{w} ({n})")).collect();
            writeln!(out, "  bucket {:>6}: {}", c.bucket, words.join(", "))?;
        }
    }
    Ok(())
}
