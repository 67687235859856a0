//! Dynamic loss scaling for `f16` training, with `torch.cuda.amp.GradScaler`'s defaults, and
//! the optimizer step both trainers take through it.
//!
//! `f16` flushes gradients below 6e-8 to zero, so the loss is multiplied by a large factor
//! before the backward pass and the gradients are divided by it in the AdamW update. A step
//! whose gradients overflowed (a non-finite norm) changes nothing but the scale, which
//! halves; after 2,000 finite steps in a row the scale doubles. The scale is part of a
//! pre-training checkpoint, so a resumed run continues bit-exactly.

use burn::module::Module;
use burn::optim::GradientsParams;
use hashformer_model::Precision;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::optim::{AdamW, StepStats};

/// The loss scale and its history.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossScale {
    /// The factor the loss is multiplied by before the backward pass.
    pub scale: f64,
    /// Finite steps since the scale last changed.
    pub good_steps: u64,
    /// Steps skipped because their gradients overflowed, over the whole run.
    pub skipped: u64,
}

impl LossScale {
    /// The first scale, 2¹⁶.
    pub const INITIAL: f64 = 65_536.0;
    /// Finite steps in a row after which the scale doubles.
    pub const GROWTH_INTERVAL: u64 = 2_000;

    /// A new scale at [`INITIAL`](Self::INITIAL).
    pub fn new() -> Self {
        Self {
            scale: Self::INITIAL,
            good_steps: 0,
            skipped: 0,
        }
    }

    /// The scale a run in `precision` starts with: one for `f16`, none otherwise.
    pub fn for_precision(precision: Precision) -> Option<Self> {
        precision.needs_loss_scaling().then(Self::new)
    }

    /// The factor the loss is multiplied by: `scale`'s, or 1 without one.
    pub(crate) fn factor(scale: Option<&Self>) -> f64 {
        scale.map_or(1.0, |s| s.scale)
    }

    /// Records a step whose gradients were finite.
    fn finite_step(&mut self) {
        self.good_steps += 1;
        if self.good_steps == Self::GROWTH_INTERVAL {
            self.scale *= 2.0;
            self.good_steps = 0;
        }
    }

    /// Records a skipped step: halves the scale. `false` when the scale was already 1, where
    /// an overflow is no longer the scale's doing.
    fn overflowed(&mut self) -> bool {
        if self.scale <= 1.0 {
            return false;
        }
        self.scale = (self.scale / 2.0).max(1.0);
        self.good_steps = 0;
        self.skipped += 1;
        true
    }
}

impl Default for LossScale {
    fn default() -> Self {
        Self::new()
    }
}

/// The outcome of [`optimizer_step`].
pub(crate) struct Stepped<M> {
    /// The updated module (unchanged when the step was skipped).
    pub(crate) model: M,
    /// The step's statistics; a skipped step's gradient norm is not finite.
    pub(crate) stats: StepStats,
}

/// One AdamW step on gradients of a loss multiplied by `scale`'s factor (1 without
/// scaling). With a scale, gradients that overflowed skip the step and halve it; without one,
/// or at scale 1, they are an error, as in `f32`.
///
/// # Errors
/// [`Error::NonFinite`] naming step `done + 1` when the gradient norm is NaN or infinite and
/// the scale cannot take the blame.
pub(crate) fn optimizer_step<M: Module>(
    optimizer: &mut AdamW,
    scale: Option<&mut LossScale>,
    lr: f64,
    model: M,
    grads: GradientsParams,
    done: u64,
) -> Result<Stepped<M>> {
    let factor = LossScale::factor(scale.as_deref());
    let (model, stats) = optimizer.step_scaled(lr, model, grads, factor);
    let finite = stats.grad_norm.is_finite();
    let accepted = match scale {
        Some(scale) if finite => {
            scale.finite_step();
            true
        }
        Some(scale) => scale.overflowed(),
        None => finite,
    };
    if !accepted {
        return Err(Error::NonFinite {
            step: done + 1,
            what: "gradient norm".into(),
            value: stats.grad_norm,
        });
    }
    Ok(Stepped { model, stats })
}

#[cfg(test)]
mod tests {
    use burn::module::Param;
    use burn::prelude::*;

    use super::*;
    use crate::optim::AdamWConfig;

    #[derive(Module, Debug)]
    struct One {
        weight: Param<Tensor<1>>,
    }

    fn one() -> One {
        let device = Device::flex();
        One {
            weight: Param::from_tensor(Tensor::from_floats([0.5, -1.0, 2.0], &device)),
        }
    }

    fn grads(model: &One, values: [f32; 3]) -> GradientsParams {
        let mut grads = GradientsParams::new();
        grads.register(
            model.weight.id,
            Tensor::<1>::from_floats(values, &Device::flex()),
        );
        grads
    }

    fn weights(model: &One) -> Vec<f32> {
        model.weight.val().into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn a_scaled_step_equals_the_unscaled_one() {
        let g = [0.3, -2.0, 0.7];
        let mut plain = AdamW::new(AdamWConfig::default());
        let model = one();
        let plain_grads = grads(&model, g);
        let (want, plain_stats) = plain.step(1e-2, model, plain_grads);
        let mut adamw = AdamW::new(AdamWConfig::default());
        let mut scale = LossScale::new();
        let model = one();
        let scaled = grads(&model, g.map(|x| x * 1024.0));
        scale.scale = 1024.0;
        let got = optimizer_step(&mut adamw, Some(&mut scale), 1e-2, model, scaled, 0).unwrap();
        assert_eq!(weights(&got.model), weights(&want));
        assert_eq!(got.stats.grad_norm, plain_stats.grad_norm);
        assert_eq!((scale.good_steps, adamw.steps()), (1, 1));
    }

    #[test]
    fn an_overflow_skips_the_step_with_a_scale_and_fails_without_one() {
        let model = one();
        let before = weights(&model);
        let mut adamw = AdamW::new(AdamWConfig::default());
        let mut scale = LossScale::new();
        let g = grads(&model, [f32::INFINITY, 0.0, 1.0]);
        let got = optimizer_step(&mut adamw, Some(&mut scale), 1e-2, model, g, 41).unwrap();
        assert_eq!(weights(&got.model), before);
        assert!(!got.stats.grad_norm.is_finite());
        assert_eq!(
            (scale.scale, scale.skipped, adamw.steps()),
            (32_768.0, 1, 0)
        );

        let model = got.model;
        let g = grads(&model, [f32::NAN, 0.0, 1.0]);
        match optimizer_step(&mut adamw, None, 1e-2, model, g, 41) {
            Err(Error::NonFinite { step: 42, .. }) => {}
            Err(e) => panic!("wrong error: {e}"),
            Ok(_) => panic!("a NaN gradient without a loss scale must fail"),
        }
    }

    #[test]
    fn the_scale_halves_on_overflow_and_doubles_after_the_interval() {
        let mut s = LossScale::new();
        assert!(s.overflowed());
        assert_eq!((s.scale, s.good_steps, s.skipped), (32_768.0, 0, 1));
        for _ in 0..LossScale::GROWTH_INTERVAL - 1 {
            s.finite_step();
        }
        assert_eq!((s.scale, s.good_steps), (32_768.0, 1_999));
        s.finite_step();
        assert_eq!((s.scale, s.good_steps, s.skipped), (65_536.0, 0, 1));
        // An overflow resets the count of good steps.
        s.finite_step();
        assert!(s.overflowed());
        assert_eq!((s.scale, s.good_steps, s.skipped), (32_768.0, 0, 2));
    }

    #[test]
    fn at_scale_one_an_overflow_is_not_the_scales() {
        let mut s = LossScale {
            scale: 2.0,
            good_steps: 7,
            skipped: 0,
        };
        assert!(s.overflowed());
        assert_eq!(s.scale, 1.0);
        assert!(!s.overflowed());
        assert_eq!((s.scale, s.skipped), (1.0, 1));
    }

    #[test]
    fn round_trips_through_json() {
        let s = LossScale {
            scale: 1024.0,
            good_steps: 3,
            skipped: 5,
        };
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<LossScale>(&json).unwrap(), s);
    }
}
