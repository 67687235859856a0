//! Learning-rate schedules with linear warm-up, as pure functions of the step (HF
//! `get_linear_schedule_with_warmup` and `get_cosine_with_hard_restarts_schedule_with_warmup`).
//! A pure function of the step needs no state to save: resuming at step `k` gives `lr(k)`.

/// The shape of the schedule after warm-up.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Decay {
    /// Linear decay to 0 at the last step.
    Linear,
    /// Cosine decay to 0 with `cycles` hard restarts (the reference's GLUE schedule: 5).
    CosineHardRestarts {
        /// Number of cosine cycles.
        cycles: f64,
    },
    /// Constant after warm-up.
    Constant,
}

/// A warm-up + decay schedule over `total_steps` optimizer steps.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LrSchedule {
    /// Peak learning rate, reached at the end of warm-up.
    pub peak: f64,
    /// Warm-up steps (linear from 0).
    pub warmup_steps: u64,
    /// Total optimizer steps.
    pub total_steps: u64,
    /// What follows warm-up.
    pub decay: Decay,
}

impl LrSchedule {
    /// The learning rate of the update made at `step` (0-based), as HF's `LambdaLR` gives it.
    pub fn lr(&self, step: u64) -> f64 {
        let step = step as f64;
        let warmup = self.warmup_steps as f64;
        let total = self.total_steps as f64;
        if step < warmup {
            return self.peak * step / warmup.max(1.0);
        }
        let factor = match self.decay {
            Decay::Constant => 1.0,
            Decay::Linear => ((total - step) / (total - warmup).max(1.0)).max(0.0),
            Decay::CosineHardRestarts { cycles } => {
                let progress = (step - warmup) / (total - warmup).max(1.0);
                if progress >= 1.0 {
                    0.0
                } else {
                    let phase = (cycles * progress) % 1.0;
                    (0.5 * (1.0 + (std::f64::consts::PI * phase).cos())).max(0.0)
                }
            }
        };
        self.peak * factor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(schedule: LrSchedule, expected: &[(u64, f64)]) {
        for &(step, lr) in expected {
            let got = schedule.lr(step);
            assert!((got - lr).abs() < 1e-12, "step {step}: {got} != {lr}");
        }
    }

    #[test]
    fn linear_warmup_then_decay() {
        let s = LrSchedule {
            peak: 1.0,
            warmup_steps: 10,
            total_steps: 110,
            decay: Decay::Linear,
        };
        check(
            s,
            &[
                (0, 0.0),
                (5, 0.5),
                (10, 1.0),
                (60, 0.5),
                (110, 0.0),
                (200, 0.0),
            ],
        );
    }

    #[test]
    fn cosine_with_hard_restarts_matches_hf() {
        // Values of transformers' get_cosine_with_hard_restarts_schedule_with_warmup(
        // warmup=6, total=106, num_cycles=5): every 20 steps the cosine restarts.
        let s = LrSchedule {
            peak: 2.0,
            warmup_steps: 6,
            total_steps: 106,
            decay: Decay::CosineHardRestarts { cycles: 5.0 },
        };
        check(
            s,
            &[
                (3, 1.0),
                (6, 2.0),
                (16, 1.0),
                (26, 2.0),
                (36, 1.0),
                (106, 0.0),
            ],
        );
    }

    #[test]
    fn constant_and_no_warmup() {
        let s = LrSchedule {
            peak: 0.3,
            warmup_steps: 0,
            total_steps: 5,
            decay: Decay::Constant,
        };
        check(s, &[(0, 0.3), (4, 0.3), (9, 0.3)]);
    }
}
