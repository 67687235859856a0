//! Criterion benchmarks of `hashformer-hashing` on real text.
//!
//! The text is the first 2,000 non-markup lines of
//! `$HASHFORMER_DATA/corpus/enwiki-2014-wikiextractor/AA.txt.gz` (lines starting with `<doc`
//! or `</doc>` and blank lines are skipped; only the start of the file is decompressed).
//! `tools/bench/python_hashing.py` times the Python reference on exactly the same lines, so
//! the two can be compared per token. Every group reports `Throughput::Elements` in
//! pre-tokenised tokens (words), so criterion prints tokens/s.
//!
//! Groups (single-threaded unless the name says otherwise):
//!
//! - `pretokenize/pre_tokenize`: [`pre_tokenize`] (a `String` per word, like Python's
//!   `re.findall`) over every line; `pretokenize/words`: [`Words::new`], the allocation-light
//!   form the encoders use.
//! - `md5/signature`: [`Md5Hasher::signature`] over every token (tokens prepared untimed).
//! - `md5/signatures_into`: [`Md5Hasher::signatures_into`] over the same tokens in one call:
//!   the multi-lane batch path (several short tokens hashed side by side, same values) that
//!   `encode_ids` uses.
//! - `md5/memo_buckets`: [`WordMemo::buckets_into`] over the same tokens, memo warmed: the
//!   per-token cost of a bucket on Zipfian text once the frequent words are known.
//! - `md5/encode_ids`: [`SequenceEncoder::encode_ids`] at `max_length` 128 over every line,
//!   end to end (pre-tokenise + hash the kept words + layout), with the word cache off.
//!   Throughput counts all tokens of the lines, as the Python end-to-end baseline does,
//!   although only the first 126 words of a line are hashed.
//! - `md5/encode_ids_cached`: the same with the encoder's default per-worker word memo,
//!   warmed (the production configuration).
//! - `lsh/cold/signature`, `lsh/cold/bucket`: [`LshHasher`] over the first 300 distinct words;
//!   `lsh/cold/features` and `lsh/cold/argmax` split the bucket: [`LshHasher::features`]
//!   alone, then [`LshHasher::bucket_of`] alone over the same words' features (computed
//!   outside the timed loop): the Emb_LSH argmax.
//! - `lsh/cached/signature`, `lsh/cached/bucket`: a warmed `CachedHasher<&LshHasher>` over
//!   every token of the first 200 lines.
//! - `batch/encode_ids_rayon`: [`SequenceEncoder::encode_ids_batch`] over every line, on
//!   rayon's pool, i.e. **all cores** of the machine (the only multi-threaded benchmark).
//!
//! Run (`HASHFORMER_DATA` is required; `cargo xtask bench-hashing` sets it):
//!
//! ```text
//! HASHFORMER_DATA=/path/to/data cargo bench -p hashformer-benches --bench hashing [-- --quick]
//! ```

use std::collections::HashSet;
use std::fs::File;
use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use flate2::read::GzDecoder;
use hashformer_hashing::{
    pre_tokenize, CachedHasher, Feature, LshHasher, Md5Hasher, RobertaBpe, SequenceEncoder,
    TextInput, TokenHasher, WordMemo, Words, DEFAULT_CACHE_CAPACITY,
};

/// The corpus file, relative to `$HASHFORMER_DATA`.
const CORPUS: &str = "corpus/enwiki-2014-wikiextractor/AA.txt.gz";
/// Number of non-markup lines benchmarked (the Python baseline uses the same number).
const NUM_LINES: usize = 2_000;
/// Padded sequence length of the `encode_ids` benchmarks (GLUE's 128).
const MAX_LENGTH: usize = 128;
/// Distinct words hashed by the cold LSH benchmarks.
const LSH_COLD_WORDS: usize = 300;
/// Lines whose tokens the cached LSH benchmarks hash.
const LSH_CACHED_LINES: usize = 200;

/// `$HASHFORMER_DATA`, the data root holding `corpus/` and `roberta-base/`.
fn data_dir() -> PathBuf {
    match std::env::var_os("HASHFORMER_DATA") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => panic!(
            "HASHFORMER_DATA is not set: point it at the data root (the folder holding \
             corpus/enwiki-2014-wikiextractor/ and roberta-base/), e.g. \
             `HASHFORMER_DATA=/work/shared/data cargo bench -p hashformer-benches --bench hashing`, \
             or run `cargo xtask bench-hashing`, which sets it"
        ),
    }
}

/// A line wikiextractor emitted as markup or spacing, not text. Blank means empty or only
/// whitespace (Python: `not line.strip()`).
fn is_skipped(line: &str) -> bool {
    line.starts_with("<doc") || line.starts_with("</doc>") || line.trim().is_empty()
}

/// The first `n` text lines of the gzipped corpus, without their `\n`. Stops decompressing
/// as soon as it has them.
fn read_lines(n: usize) -> Vec<String> {
    let path = data_dir().join(CORPUS);
    let file = File::open(&path)
        .unwrap_or_else(|e| panic!("cannot open the corpus {}: {e}", path.display()));
    let mut reader = BufReader::new(GzDecoder::new(file));
    let mut lines = Vec::with_capacity(n);
    let mut buf = String::new();
    while lines.len() < n {
        buf.clear();
        let read = reader
            .read_line(&mut buf)
            .unwrap_or_else(|e| panic!("cannot read {} (gzip, UTF-8): {e}", path.display()));
        if read == 0 {
            break;
        }
        // Only `\n` ends a line, as in the Python baseline (`newline="\n"`).
        let line = buf.strip_suffix('\n').unwrap_or(&buf);
        if !is_skipped(line) {
            lines.push(line.to_owned());
        }
    }
    assert_eq!(
        lines.len(),
        n,
        "{} has fewer than {n} text lines",
        path.display()
    );
    lines
}

/// Number of tokens as a criterion element count.
fn elements(n: usize) -> Throughput {
    Throughput::Elements(u64::try_from(n).expect("a token count fits in u64"))
}

/// A group for benchmarks whose single iteration takes milliseconds: flat sampling (the
/// same iteration count per sample) keeps criterion from needing thousands of iterations.
fn slow_group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group.sampling_mode(SamplingMode::Flat);
    group
}

fn hashing(c: &mut Criterion) {
    let lines = read_lines(NUM_LINES);
    let line_tokens: Vec<Vec<String>> = lines.iter().map(|l| pre_tokenize(l)).collect();
    let tokens: Vec<&str> = line_tokens.iter().flatten().map(String::as_str).collect();
    let num_tokens = tokens.len();
    let hashed: usize = line_tokens
        .iter()
        .map(|t| t.len().min(MAX_LENGTH - 2))
        .sum();
    eprintln!(
        "hashing bench: {NUM_LINES} lines, {num_tokens} tokens ({hashed} within max_length \
         {MAX_LENGTH}), {} bytes of text, from $HASHFORMER_DATA/{CORPUS}",
        lines.iter().map(String::len).sum::<usize>()
    );

    // Pre-tokeniser alone.
    {
        let mut group = slow_group(c, "pretokenize");
        group.throughput(elements(num_tokens));
        group.bench_function("pre_tokenize", |b| {
            b.iter(|| {
                for line in &lines {
                    black_box(pre_tokenize(black_box(line)));
                }
            });
        });
        // The path the encoders take: one lower-cased copy and word ranges per line, no
        // allocation per word.
        group.bench_function("words", |b| {
            b.iter(|| {
                for line in &lines {
                    black_box(Words::new(black_box(line)));
                }
            });
        });
        group.finish();
    }

    // MD5: the hash alone, then end to end.
    {
        let mut group = slow_group(c, "md5");
        group.throughput(elements(num_tokens));
        let md5 = Md5Hasher::default();
        group.bench_function("signature", |b| {
            b.iter(|| {
                for token in &tokens {
                    black_box(md5.signature(black_box(token)));
                }
            });
        });

        // The batched path that `encode_ids` uses: short tokens hashed several at a time.
        let mut signatures = Vec::with_capacity(num_tokens);
        group.bench_function("signatures_into", |b| {
            b.iter(|| {
                signatures.clear();
                md5.signatures_into(black_box(&tokens), &mut signatures);
                black_box(&signatures);
            });
        });

        let mut memo = WordMemo::new(DEFAULT_CACHE_CAPACITY);
        let token_refs: &[&str] = &tokens;
        let mut warm = Vec::new();
        memo.buckets_into(&md5, token_refs, &mut warm)
            .expect("MD5 hashing does not fail");
        group.bench_function("memo_buckets", |b| {
            b.iter(|| {
                let mut buckets = Vec::with_capacity(token_refs.len());
                memo.buckets_into(&md5, black_box(token_refs), &mut buckets)
                    .expect("MD5 hashing does not fail");
                black_box(&buckets);
            });
        });

        let encoder = SequenceEncoder::new(Md5Hasher::default(), MAX_LENGTH)
            .expect("max_length 128 is valid")
            .with_cache_capacity(0);
        group.bench_function("encode_ids", |b| {
            b.iter(|| {
                for line in &lines {
                    let ids = encoder
                        .encode_ids(TextInput::single(black_box(line)))
                        .expect("MD5 encoding does not fail");
                    black_box(ids);
                }
            });
        });

        let cached = SequenceEncoder::new(Md5Hasher::default(), MAX_LENGTH)
            .expect("max_length 128 is valid");
        for line in &lines {
            cached
                .encode_ids(TextInput::single(line))
                .expect("MD5 encoding does not fail");
        }
        group.bench_function("encode_ids_cached", |b| {
            b.iter(|| {
                for line in &lines {
                    let ids = cached
                        .encode_ids(TextInput::single(black_box(line)))
                        .expect("MD5 encoding does not fail");
                    black_box(ids);
                }
            });
        });
        group.finish();
    }

    // LSH. The hasher (BPE + 50,260-wide rotator) is built once, untimed.
    {
        let roberta = data_dir().join("roberta-base");
        let bpe = RobertaBpe::from_dir(&roberta).unwrap_or_else(|e| {
            panic!(
                "cannot load the roberta-base BPE from {}: {e}",
                roberta.display()
            )
        });
        let lsh = LshHasher::new(bpe);

        let mut seen = HashSet::new();
        let cold_words: Vec<&str> = tokens
            .iter()
            .copied()
            .filter(|t| seen.insert(*t))
            .take(LSH_COLD_WORDS)
            .collect();
        // "Cold" means no per-word cache: every iteration runs the BPE and the projection.
        // LshHasher does memoise the Gaussian row of each BPE piece id on first use (a
        // deterministic memo inside the hasher), so after criterion's warm-up the signature
        // timings exclude drawing those rows (128 MT19937 normals per new piece id). The
        // bucket (a 50,260-wide circulant projection per feature) has no such memo. The
        // `tokenizers` BPE model also keeps its own bounded cache of pre-tokenised pieces, so
        // the BPE part runs warm as well; a word never seen before costs somewhat more.
        let mut group = slow_group(c, "lsh/cold");
        group.throughput(elements(cold_words.len()));
        group.bench_function("signature", |b| {
            b.iter(|| {
                for word in &cold_words {
                    black_box(lsh.signature(black_box(word)).expect("LSH signature"));
                }
            });
        });
        group.bench_function("bucket", |b| {
            b.iter(|| {
                for word in &cold_words {
                    black_box(lsh.bucket(black_box(word)).expect("LSH bucket"));
                }
            });
        });
        // The bucket split in two: the features (BPE of the variant string) alone, then the
        // argmax alone over features computed once, outside the timed loop.
        group.bench_function("features", |b| {
            b.iter(|| {
                for word in &cold_words {
                    black_box(lsh.features(black_box(word)).expect("LSH features"));
                }
            });
        });
        let cold_features: Vec<Vec<Feature>> = cold_words
            .iter()
            .map(|word| lsh.features(word).expect("LSH features"))
            .collect();
        group.bench_function("argmax", |b| {
            b.iter(|| {
                for features in &cold_features {
                    black_box(lsh.bucket_of(black_box(features)));
                }
            });
        });
        group.finish();

        let cached_tokens: Vec<&str> = line_tokens[..LSH_CACHED_LINES]
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let cached = CachedHasher::new(&lsh);
        for word in &cached_tokens {
            cached.signature(word).expect("LSH signature");
            cached.bucket(word).expect("LSH bucket");
        }
        let mut group = slow_group(c, "lsh/cached");
        group.throughput(elements(cached_tokens.len()));
        group.bench_function("signature", |b| {
            b.iter(|| {
                for word in &cached_tokens {
                    black_box(cached.signature(black_box(word)).expect("LSH signature"));
                }
            });
        });
        group.bench_function("bucket", |b| {
            b.iter(|| {
                for word in &cached_tokens {
                    black_box(cached.bucket(black_box(word)).expect("LSH bucket"));
                }
            });
        });
        group.finish();
    }

    // The parallel batch path: rayon over all cores (the only multi-threaded benchmark).
    {
        let encoder = SequenceEncoder::new(Md5Hasher::default(), MAX_LENGTH)
            .expect("max_length 128 is valid");
        let inputs: Vec<TextInput<'_>> = lines.iter().map(|l| TextInput::single(l)).collect();
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        eprintln!("batch/encode_ids_rayon: rayon over all cores ({cores} available)");
        let mut group = slow_group(c, "batch");
        group.throughput(elements(num_tokens));
        group.bench_function("encode_ids_rayon", |b| {
            b.iter(|| {
                black_box(
                    encoder
                        .encode_ids_batch(black_box(&inputs))
                        .expect("MD5 encoding does not fail"),
                )
            });
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    // Every benchmark iterates over thousands of tokens (milliseconds per iteration): 20
    // samples over 4 s each keep the whole run near a minute; `--quick` shortens it further.
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = hashing
}
criterion_main!(benches);
