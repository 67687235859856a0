//! The one loop skeleton of pre-training and fine-tuning: run an optimizer step, then write
//! the training metrics, evaluate and checkpoint when each is due, until the last step or an
//! early stop. Each run plugs in what its steps, evaluations and checkpoints are through
//! [`Training`]; the order of the phases, and so what a run computes, is fixed here.

use crate::error::Result;
use crate::schedule::LrSchedule;

/// What is due after a step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Due {
    /// Write the training metrics of the steps since the last log.
    pub(crate) log: bool,
    /// Evaluate on held-out data.
    pub(crate) evaluate: bool,
    /// Write a checkpoint.
    pub(crate) checkpoint: bool,
}

/// One training run, as the loop drives it. Steps are counted from 1: `done` is the number of
/// optimizer steps finished.
pub(crate) trait Training {
    /// Runs optimizer step `done + 1` at learning rate `lr`, returning its loss.
    fn step(&mut self, done: u64, lr: f64) -> Result<f64>;
    /// What is due after step `done`; `last` when the run stops after it.
    fn due(&self, done: u64, last: bool) -> Due;
    /// Writes the training metrics of the steps since the last log.
    fn log(&mut self, done: u64, lr: f64) -> Result<()>;
    /// Evaluates the model on held-out data.
    fn evaluate(&mut self, done: u64) -> Result<()>;
    /// Writes a checkpoint.
    fn checkpoint(&mut self, done: u64) -> Result<()>;
    /// Whether to stop early after step `done` (a time limit, a requested stop).
    fn should_stop(&self, _done: u64) -> bool {
        false
    }
    /// Called after each step with its loss (progress display).
    fn on_step(&mut self, _done: u64, _loss: f64) {}
}

/// How far a run got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    /// Optimizer steps done.
    pub(crate) done: u64,
    /// Whether the run reached its last step (false: it stopped early).
    pub(crate) finished: bool,
}

/// Runs `training` from step `start` (steps already done) up to step `end`, or until
/// [`Training::should_stop`] says so after a step; step `s` runs at `schedule.lr(s - 1)`.
///
/// # Errors
/// The first error of a step, log, evaluation or checkpoint.
pub(crate) fn run(
    training: &mut impl Training,
    schedule: &LrSchedule,
    start: u64,
    end: u64,
) -> Result<Progress> {
    let mut done = start;
    while done < end {
        let lr = schedule.lr(done);
        let loss = training.step(done, lr)?;
        done += 1;
        training.on_step(done, loss);
        let stop = training.should_stop(done);
        let due = training.due(done, done >= end || stop);
        if due.log {
            training.log(done, lr)?;
        }
        if due.evaluate {
            training.evaluate(done)?;
        }
        if due.checkpoint {
            training.checkpoint(done)?;
        }
        if stop {
            break;
        }
    }
    Ok(Progress {
        done,
        finished: done >= end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Decay;

    /// Records the calls the loop makes.
    #[derive(Default)]
    struct Recorder {
        calls: Vec<String>,
        stop_at: Option<u64>,
    }

    impl Training for Recorder {
        fn step(&mut self, done: u64, _lr: f64) -> Result<f64> {
            self.calls.push(format!("step {}", done + 1));
            Ok(0.5)
        }
        fn due(&self, done: u64, last: bool) -> Due {
            Due {
                log: done.is_multiple_of(2) || last,
                evaluate: last,
                checkpoint: done == 3,
            }
        }
        fn log(&mut self, done: u64, _lr: f64) -> Result<()> {
            self.calls.push(format!("log {done}"));
            Ok(())
        }
        fn evaluate(&mut self, done: u64) -> Result<()> {
            self.calls.push(format!("eval {done}"));
            Ok(())
        }
        fn checkpoint(&mut self, done: u64) -> Result<()> {
            self.calls.push(format!("checkpoint {done}"));
            Ok(())
        }
        fn should_stop(&self, done: u64) -> bool {
            self.stop_at == Some(done)
        }
    }

    fn schedule(total_steps: u64) -> LrSchedule {
        LrSchedule {
            peak: 1.0,
            warmup_steps: 0,
            total_steps,
            decay: Decay::Constant,
        }
    }

    #[test]
    fn phases_run_in_order_and_the_last_step_is_marked() {
        let mut r = Recorder::default();
        let progress = run(&mut r, &schedule(3), 0, 3).unwrap();
        assert_eq!(
            progress,
            Progress {
                done: 3,
                finished: true
            }
        );
        assert_eq!(
            r.calls,
            [
                "step 1",
                "step 2",
                "log 2",
                "step 3",
                "log 3",
                "eval 3",
                "checkpoint 3"
            ]
        );
    }

    #[test]
    fn a_resumed_run_starts_after_its_steps_and_a_stop_ends_it_early() {
        let mut r = Recorder {
            stop_at: Some(3),
            ..Recorder::default()
        };
        let progress = run(&mut r, &schedule(5), 2, 5).unwrap();
        assert_eq!(
            progress,
            Progress {
                done: 3,
                finished: false
            }
        );
        assert_eq!(r.calls, ["step 3", "log 3", "eval 3", "checkpoint 3"]);
        // Nothing left to do.
        let mut r = Recorder::default();
        assert_eq!(run(&mut r, &schedule(2), 2, 2).unwrap().done, 2);
        assert!(r.calls.is_empty());
    }
}
