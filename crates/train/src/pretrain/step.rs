//! One optimizer step: forward, loss at the labelled positions, backward over the
//! micro-batches (on one device or several), then AdamW; with optional timing per phase.

use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use hashformer_model::EncodedBatch;
use serde::Serialize;

use crate::collator::Labels;
use crate::error::{Error, Result};
use crate::loss_scale::{optimizer_step, LossScale};
use crate::optim::{AdamW, StepStats};
use crate::pretrain::config::{Objective, PretrainConfig};
use crate::pretrain::counts::ClassCounts;
use crate::pretrain::objective::{loss_and_predictions, read_predictions, targets, PretrainModel};
use crate::seed::{derived_seed, SEED_DROPOUT};

/// The optimizer and where a run's steps execute.
pub(crate) struct Trainer<'a> {
    /// AdamW with its moments.
    pub(crate) optimizer: AdamW,
    /// The loss scale of `f16` training (`None` in `f32` and `bf16`).
    pub(crate) loss_scale: Option<LossScale>,
    /// The run's settings.
    pub(crate) config: &'a PretrainConfig,
    /// Autodiff devices; the first holds the model and the optimizer.
    pub(crate) devices: &'a [Device],
}

/// The micro-batches of one step.
#[derive(Clone, Copy)]
pub(crate) struct Work<'a> {
    /// Collated micro-batches with their labels.
    pub(crate) micro: &'a [(EncodedBatch, Labels)],
    /// Steps done before this one (0-based step index).
    pub(crate) step: u64,
    /// The learning rate.
    pub(crate) lr: f64,
}

/// One optimizer step over the micro-batches of `step`: forward, loss at the labelled
/// positions, backward (gradients accumulated, each micro-batch's loss divided by their
/// number, as HF does; in `f16` also multiplied by the loss scale), then AdamW (a step whose
/// scaled gradients overflowed is skipped and halves the scale). Returns the model, the mean loss and the optimizer's stats;
/// predictions are counted into `counts`.
///
/// With several `devices` (data parallelism), micro-batch `i` runs on a replica of the model
/// on device `i mod n` (Burn's `Module::fork`, same parameter ids), its gradients are moved to
/// the first device (`GradientsParams::to_device`) and summed there, and the optimizer updates
/// the model on the first device. All work, the AdamW update included, is queued before any value is read back, so GPU
/// devices compute their micro-batches concurrently. Each micro-batch uses the same dropout
/// seed on whichever device runs it, so on backends with one random stream per device the
/// result does not depend on the number of devices.
pub(crate) fn train_step(
    model: PretrainModel,
    trainer: &mut Trainer<'_>,
    work: &Work<'_>,
    counts: &mut ClassCounts,
    mut phases: Option<&mut Phases>,
) -> Result<(PretrainModel, f64, StepStats)> {
    let Trainer {
        optimizer,
        loss_scale,
        config,
        devices,
    } = trainer;
    let factor = LossScale::factor(loss_scale.as_ref());
    let (config, devices): (&PretrainConfig, &[Device]) = (config, devices);
    let Work { micro, step, lr } = *work;
    let mut clock = PhaseClock::start(phases.is_some(), devices);
    let per_class = matches!(config.objective, Objective::ShuffleRandom { .. });
    let main = &devices[0];
    let replicas: Vec<PretrainModel> = devices[1..]
        .iter()
        .take(micro.len().saturating_sub(1))
        .map(|d| model.clone().fork(d))
        .collect();
    let mut accumulator = GradientsAccumulator::<PretrainModel>::new();
    let parts = micro.len() as f64;
    let mut pending = Vec::with_capacity(micro.len());
    for (i, (encoded, labels)) in micro.iter().enumerate() {
        let t = targets(encoded, labels);
        if t.rows.is_empty() {
            continue;
        }
        let slot = i % devices.len();
        let (replica, device) = match slot {
            0 => (&model, main),
            _ => (&replicas[slot - 1], &devices[slot]),
        };
        device.seed(derived_seed(config.seed, SEED_DROPOUT, step, i as u64));
        let rows = Tensor::<1, Int>::from_data(TensorData::new(t.rows, [t.labels.len()]), device);
        let logits = replica.logits(encoded, rows, device);
        let (loss, predictions) = loss_and_predictions(logits, &t.labels, device);
        clock.lap(&mut phases, |p| &mut p.forward);
        let grads = GradientsParams::from_grads(
            loss.clone().div_scalar(parts / factor).backward(),
            replica,
        );
        clock.lap(&mut phases, |p| &mut p.backward);
        let grads = if slot == 0 {
            grads
        } else {
            grads.to_device(main, replica)
        };
        accumulator.accumulate(&model, grads);
        pending.push((loss.detach(), predictions, t.labels));
    }
    // Queue the update before reading anything back, so that the device goes from the
    // backward pass to the update without waiting for the host.
    let stepped = optimizer_step(
        optimizer,
        loss_scale.as_mut(),
        lr,
        model,
        accumulator.grads(),
        step,
    );
    clock.lap(&mut phases, |p| &mut p.optimizer);
    let step_loss = read_back(pending, parts, step, counts, per_class)?;
    clock.lap(&mut phases, |p| &mut p.read_back);
    let stepped = stepped?;
    Ok((stepped.model, step_loss, stepped.stats))
}

/// A micro-batch's loss, predictions (on the device) and labels.
type Pending = (Tensor<1>, Tensor<1, Int>, Vec<i64>);

/// Reads back the micro-batches' losses and predictions (counted into `counts`): step
/// `step + 1`'s loss, each micro-batch's divided by `parts`, their number.
///
/// # Errors
/// [`Error::NonFinite`] for a NaN or infinite loss.
fn read_back(
    pending: Vec<Pending>,
    parts: f64,
    step: u64,
    counts: &mut ClassCounts,
    per_class: bool,
) -> Result<f64> {
    let mut step_loss = 0.0;
    for (loss, predictions, labels) in pending {
        let loss_value = f64::from(loss.into_scalar::<f32>());
        if !loss_value.is_finite() {
            return Err(Error::NonFinite {
                step: step + 1,
                what: "loss".into(),
                value: loss_value,
            });
        }
        step_loss += loss_value / parts;
        counts.add(&labels, &read_predictions(predictions), per_class);
    }
    Ok(step_loss)
}

/// Seconds spent per phase of the timed steps (device synchronised at each boundary).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Phases {
    /// Forward pass and loss.
    pub forward: f64,
    /// Backward pass (and moving gradients to the first device).
    pub backward: f64,
    /// Reading losses and predictions back.
    pub read_back: f64,
    /// Gradient norm, clipping and the AdamW update.
    pub optimizer: f64,
}

/// Phase timer: a no-op unless asked for, since synchronising costs GPU overlap.
struct PhaseClock<'a> {
    devices: &'a [Device],
    last: Option<Instant>,
}

impl<'a> PhaseClock<'a> {
    fn start(enabled: bool, devices: &'a [Device]) -> Self {
        Self {
            devices,
            last: enabled.then(Instant::now),
        }
    }

    fn lap(&mut self, phases: &mut Option<&mut Phases>, field: fn(&mut Phases) -> &mut f64) {
        if let (Some(last), Some(p)) = (self.last, phases.as_deref_mut()) {
            for d in self.devices {
                let _ = d.sync();
            }
            let now = Instant::now();
            *field(p) += (now - last).as_secs_f64();
            self.last = Some(now);
        }
    }
}
