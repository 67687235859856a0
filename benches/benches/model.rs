//! Criterion benchmarks of the Burn model on the CPU backend (Flex): each embedding variant
//! and the `small` encoder (4 layers × 256, 4 heads, feed-forward 1024), forward and
//! forward + backward, on a batch of 16 × 128 tokens. Throughput is in tokens.
//!
//! Inputs are random but valid for each variant (ids, bits or chunk indices, 10% padding).
//! The device is synchronised before each timed iteration ends.
//!
//! ```text
//! cargo bench -p hashformer-benches --bench model [-- --quick]
//! ```

use std::time::Duration;

use burn::prelude::*;
use burn::tensor::Distribution;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use hashformer_embeddings::{EmbeddingInput, EmbeddingKind, TokenInput, Variant};
use hashformer_hashing::HashKind;
use hashformer_model::HashformerConfig;

/// The allocator of the `hashformer` binary, so these numbers match what it does (glibc's
/// faults freed tensor memory back in page by page; see `docs/benchmarks.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 16;
const SEQ: usize = 128;

const VARIANTS: [(EmbeddingKind, &str); 5] = [
    (EmbeddingKind::Emb, "emb"),
    (EmbeddingKind::Pool, "pool"),
    (EmbeddingKind::Add, "add"),
    (EmbeddingKind::Proj, "proj"),
    (EmbeddingKind::Bpe, "vocab"),
];

fn config(kind: EmbeddingKind) -> HashformerConfig {
    let hash = (kind != EmbeddingKind::Bpe).then_some(HashKind::Md5);
    HashformerConfig::small(Variant::new(kind, hash).expect("a valid variant"))
}

/// A batch whose last 10% of every row is padding.
fn batch(kind: EmbeddingKind, vocab: usize, device: &Device) -> EmbeddingInput {
    let real = SEQ - SEQ / 10;
    let mask: Vec<i64> = (0..BATCH * SEQ)
        .map(|i| i64::from(i % SEQ < real))
        .collect();
    let attention_mask = Tensor::<2, Int>::from_data(TensorData::new(mask, [BATCH, SEQ]), device);
    let spec = || Tensor::<2, Int>::full([BATCH, SEQ], 5, device);
    let tokens = match kind {
        EmbeddingKind::Emb | EmbeddingKind::Bpe => TokenInput::Ids(
            Tensor::<2>::random(
                [BATCH, SEQ],
                Distribution::Uniform(5.0, vocab as f64),
                device,
            )
            .int(),
        ),
        EmbeddingKind::Pool => TokenInput::Chunks {
            spec_ids: spec(),
            pool_ids: Tensor::<3>::random(
                [BATCH, SEQ, 13],
                Distribution::Uniform(1.0, 256.0),
                device,
            )
            .int(),
        },
        EmbeddingKind::Add | EmbeddingKind::Proj => TokenInput::Bits {
            spec_ids: spec(),
            hash_bits: Tensor::random([BATCH, SEQ, 128], Distribution::Bernoulli(0.5), device),
        },
    };
    EmbeddingInput {
        tokens,
        attention_mask,
    }
}

fn sync(device: &Device) {
    device.sync().expect("the CPU backend syncs");
}

fn bench(c: &mut Criterion) {
    let cpu = Device::flex();
    let train = Device::flex().autodiff();
    cpu.seed(0);
    train.seed(0);

    let mut group = c.benchmark_group("embeddings");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements((BATCH * SEQ) as u64));
    for (kind, name) in VARIANTS {
        let config = config(kind);
        let model = config.embeddings().init(&cpu);
        let input = batch(kind, config.vocab_size(), &cpu);
        group.bench_function(format!("{name}/forward"), |b| {
            b.iter(|| {
                let out = model.forward(input.clone());
                sync(&cpu);
                out
            })
        });
        let model = config.embeddings().init(&train);
        let input = batch(kind, config.vocab_size(), &train);
        group.bench_function(format!("{name}/forward_backward"), |b| {
            b.iter(|| {
                let grads = model.forward(input.clone()).sum().backward();
                sync(&train);
                grads
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("small_encoder");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements((BATCH * SEQ) as u64));
    let config = config(EmbeddingKind::Proj);
    let model = config.init_pretraining(&cpu).valid();
    let input = batch(EmbeddingKind::Proj, 0, &cpu);
    group.bench_function("proj/forward", |b| {
        b.iter(|| {
            let out = model.forward(input.clone());
            sync(&cpu);
            out
        })
    });
    let model = config.init_pretraining(&train);
    let input = batch(EmbeddingKind::Proj, 0, &train);
    group.bench_function("proj/forward_backward", |b| {
        b.iter(|| {
            let grads = model.forward(input.clone()).sum().backward();
            sync(&train);
            grads
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
