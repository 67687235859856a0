//! Timing building blocks for benchmarks (`hashformer bench`, `hashformer bench-step`),
//! apart from the training loop: synthetic full-length batches of any variant, the embedding
//! and encoder passes, and whole training steps, timed the way `tools/bench/torch_bench.py`
//! times PyTorch's: the inputs are built once, outside the timed passes (as PyTorch's are),
//! and each pass reads its result back or synchronises the device.

use std::time::Instant;

use burn::prelude::*;
use hashformer_hashing::{HashSequence, IdSequence, Signature, SpecialToken};
use hashformer_model::{EncodedBatch, HashformerConfig, Precision};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::collator::{Labels, IGNORE_LABEL};
use crate::error::{Error, Result};
use crate::loss_scale::LossScale;
use crate::optim::AdamW;
use crate::pretrain::{
    train_step, ClassCounts, Objective, Phases, PretrainConfig, PretrainModel, Trainer, Work,
};

/// `batch` sequences of `len` tokens (`<s>` … `</s>`, every position attended) with random
/// ids (Emb, BPE) or random signatures (Pool, Add, Proj): what an encoder produces for
/// full-length text.
///
/// # Panics
/// Never: the form (ids or signatures) is chosen from the variant, so the batch accepts it.
pub fn synthetic_batch(
    model: &HashformerConfig,
    batch: usize,
    len: usize,
    rng: &mut impl Rng,
) -> EncodedBatch {
    let len = len.max(2);
    let rows = u32::try_from(model.vocab_size()).unwrap_or(u32::MAX);
    let mask = vec![1u8; len];
    let positions = hashformer_hashing::position_ids(&mask);
    let kind = model.variant.kind();
    // The form is picked from `kind` itself, so neither constructor can refuse it.
    if kind.takes_ids() {
        let ids = (0..batch)
            .map(|_| {
                let mut ids: Vec<u32> =
                    (0..len).map(|_| rng.random_range(5..rows.max(6))).collect();
                ids[0] = SpecialToken::Bos.id();
                ids[len - 1] = SpecialToken::Eos.id();
                IdSequence {
                    input_ids: ids,
                    attention_mask: mask.clone(),
                    position_ids: positions.clone(),
                }
            })
            .collect();
        EncodedBatch::from_ids(kind, ids).expect("an id variant")
    } else {
        let hashes = (0..batch)
            .map(|_| {
                let mut spec_ids = vec![hashformer_hashing::ORDINARY_TOKEN_SPEC; len];
                spec_ids[0] = SpecialToken::Bos.id();
                spec_ids[len - 1] = SpecialToken::Eos.id();
                HashSequence {
                    spec_ids,
                    signatures: (0..len).map(|_| Signature(rng.random())).collect(),
                    attention_mask: mask.clone(),
                    position_ids: positions.clone(),
                }
            })
            .collect();
        EncodedBatch::from_hashes(kind, hashes).expect("a hash variant")
    }
}

/// The synthetic input of a timed pass and how many passes run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passes {
    /// Sequences per pass.
    pub batch: usize,
    /// Tokens per sequence (`<s>` and `</s>` included, every one attended).
    pub len: usize,
    /// Untimed passes first.
    pub warmup: usize,
    /// Timed passes.
    pub iterations: usize,
}

/// Seconds of each timed iteration of a benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Timings {
    /// One entry per timed iteration, after the warm-up.
    pub seconds: Vec<f64>,
}

impl Timings {
    /// The median.
    pub fn median(&self) -> f64 {
        hashformer_report::median(&mut self.seconds.clone())
    }
}

fn sync(device: &Device) -> Result<()> {
    device
        .sync()
        .map_err(|e| Error::DeviceSync(format!("{e:?}")))
}

fn time(passes: Passes, device: &Device, mut f: impl FnMut()) -> Result<Timings> {
    let Passes {
        warmup, iterations, ..
    } = passes;
    let mut seconds = Vec::with_capacity(iterations);
    for i in 0..warmup + iterations {
        let start = Instant::now();
        f();
        sync(device)?;
        if i >= warmup {
            seconds.push(start.elapsed().as_secs_f64());
        }
    }
    Ok(Timings { seconds })
}

/// The embedding layer of `config` (token part, positions, token types, LayerNorm) on a
/// synthetic `passes.batch × passes.len` input: without `backward`, the forward pass without autodiff or
/// dropout; with it, the forward pass with dropout plus the backward pass of the output's sum.
/// Each pass ends by synchronising the device.
///
/// # Errors
/// An invalid config, a failing device sync.
pub fn time_embeddings(
    config: &HashformerConfig,
    device: &Device,
    passes: Passes,
    backward: bool,
    rng: &mut impl Rng,
) -> Result<Timings> {
    config.validate()?;
    let input = synthetic_batch(config, passes.batch, passes.len, rng);
    if !backward {
        let module = config.embeddings().init(device);
        let input = input.to_input(device);
        return time(passes, device, || {
            drop(module.forward(input.clone()).into_data());
        });
    }
    // Parameters track gradients when built on an autodiff device.
    let train_device = device.clone().autodiff();
    let module = config.embeddings().init(&train_device);
    let input = input.to_input(&train_device);
    time(passes, device, || {
        drop(module.forward(input.clone()).sum().backward());
    })
}

/// The encoder (embeddings + transformer, no head) of `config` without autodiff or dropout,
/// computing in `precision`, on a synthetic `passes.batch × passes.len` input: inference
/// latency, the output read back each time.
///
/// # Errors
/// An invalid config, a precision the device does not compute in, a failing device sync.
pub fn time_inference(
    config: &HashformerConfig,
    precision: Precision,
    device: &Device,
    passes: Passes,
    rng: &mut impl Rng,
) -> Result<Timings> {
    config.validate()?;
    precision.check_device(device)?;
    let input = synthetic_batch(config, passes.batch, passes.len, rng);
    let mut model = config.init_model(device);
    model.precision = precision;
    let input = input.to_input(device);
    time(passes, device, || {
        drop(model.forward(input.clone()).into_data());
    })
}

/// Wall time of training steps on synthetic full-length batches (every sequence
/// `max_length` real tokens), for speed comparisons with other implementations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepTiming {
    /// Seconds of each timed step (the device synchronised at the end of each).
    pub seconds: Vec<f64>,
    /// Tokens per optimizer step (`grad_accum · batch_size · max_length`).
    pub tokens_per_step: usize,
    /// Mean seconds per phase over the timed steps.
    pub phases: Phases,
}

impl StepTiming {
    /// Median seconds per step.
    pub fn median(&self) -> f64 {
        let mut s = self.seconds.clone();
        s.sort_by(f64::total_cmp);
        s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
    }

    /// Tokens per second at the median step time.
    pub fn tokens_per_s(&self) -> f64 {
        self.tokens_per_step as f64 / self.median()
    }
}

/// Times `steps` pre-training steps (after `warmup` untimed ones) of `config`'s model on
/// `devices` (see [`pretrain`](crate::pretrain)), on random full-length inputs with random Shuffle+Random labels: the same work per
/// step as [`pretrain`](crate::pretrain) minus data loading, which runs on its own thread there.
///
/// # Errors
/// [`Error::Config`] for an invalid config, [`Error::NoDevice`] without devices,
/// [`Error::NonFinite`] if the loss diverges, [`Error::DeviceSync`].
pub fn time_train_steps(
    config: &PretrainConfig,
    devices: &[Device],
    warmup: usize,
    steps: usize,
) -> Result<StepTiming> {
    use rand::Rng;
    config.check_run(devices)?;
    let devices: Vec<Device> = devices.iter().map(|d| d.clone().autodiff()).collect();
    let device = devices[0].clone();
    device.seed(config.seed);
    let mut model = PretrainModel::init(config, &device)?;
    let mut trainer = Trainer {
        optimizer: AdamW::new(config.optimizer),
        loss_scale: LossScale::for_precision(config.precision),
        config,
        devices: &devices,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let len = config.max_length;
    let rows = u32::try_from(config.model.vocab_size()).unwrap_or(u32::MAX);
    let mut micro = Vec::new();
    for _ in 0..config.grad_accum {
        let encoded = synthetic_batch(&config.model, config.batch_size, len, &mut rng);
        let classes: i64 = match config.objective {
            Objective::ShuffleRandom { .. } => 3,
            Objective::MaskedLm { .. } => i64::from(rows),
        };
        let labels: Labels = (0..config.batch_size)
            .map(|_| {
                (0..len)
                    .map(|i| {
                        if i == 0 || i == len - 1 {
                            IGNORE_LABEL
                        } else {
                            rng.random_range(0..classes)
                        }
                    })
                    .collect()
            })
            .collect();
        micro.push((encoded, labels));
    }
    let mut seconds = Vec::with_capacity(steps);
    let mut counts = ClassCounts::default();
    let mut phases = Phases::default();
    for step in 0..(warmup + steps) {
        let start = Instant::now();
        let mut step_phases = Phases::default();
        let work = Work {
            micro: &micro,
            step: step as u64,
            lr: 1e-4,
        };
        let phases_now = Some(&mut step_phases);
        let (updated, _, _) = train_step(model, &mut trainer, &work, &mut counts, phases_now)?;
        model = updated;
        for device in &devices {
            device
                .sync()
                .map_err(|e| Error::DeviceSync(format!("{e:?}")))?;
        }
        if step >= warmup {
            seconds.push(start.elapsed().as_secs_f64());
            phases.forward += step_phases.forward / steps as f64;
            phases.backward += step_phases.backward / steps as f64;
            phases.read_back += step_phases.read_back / steps as f64;
            phases.optimizer += step_phases.optimizer / steps as f64;
        }
    }
    Ok(StepTiming {
        seconds,
        tokens_per_step: config.grad_accum * config.batch_size * len,
        phases,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hashformer_embeddings::{EmbeddingKind, Variant};
    use hashformer_hashing::HashKind;

    #[test]
    fn every_variant_times_its_embeddings_and_encoder() {
        let device = Device::flex();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        for (kind, hash) in [
            (EmbeddingKind::Proj, Some(HashKind::Md5)),
            (EmbeddingKind::Pool, Some(HashKind::Md5)),
            (EmbeddingKind::Bpe, None),
        ] {
            let config = HashformerConfig::tiny(Variant::new(kind, hash).expect("a valid variant"))
                .with_num_buckets(100);
            let config = if kind == EmbeddingKind::Bpe {
                config.with_bpe_vocab_size(100)
            } else {
                config
            };
            let passes = |batch, len, warmup, iterations| Passes {
                batch,
                len,
                warmup,
                iterations,
            };
            let fwd = time_embeddings(&config, &device, passes(2, 8, 1, 2), false, &mut rng);
            let bwd = time_embeddings(&config, &device, passes(2, 8, 1, 2), true, &mut rng);
            let (fwd, bwd) = (fwd.unwrap(), bwd.unwrap());
            assert_eq!((fwd.seconds.len(), bwd.seconds.len()), (2, 2));
            assert!(fwd.median() > 0.0 && bwd.median() > 0.0);
            for precision in [Precision::F32, Precision::Bf16] {
                let inf = time_inference(&config, precision, &device, passes(1, 8, 0, 3), &mut rng);
                assert_eq!(inf.unwrap().seconds.len(), 3);
            }
        }
        let batch = synthetic_batch(
            &HashformerConfig::tiny(Variant::Emb(HashKind::Md5)),
            3,
            5,
            &mut rng,
        );
        assert_eq!(batch.len(), 3);
        assert_eq!(batch.real_tokens(), 15);
        assert_eq!(
            Timings {
                seconds: vec![3.0, 1.0, 2.0, 10.0]
            }
            .median(),
            2.5
        );
    }
}
