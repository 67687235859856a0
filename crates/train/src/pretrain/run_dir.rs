//! The run directory: `run.json` (what the run is), atomic checkpoints (weights, optimizer
//! moments, step and data position) keeping the last K, and the checks that keep a resumed
//! run the same run. One process at a time holds a run directory (`.lock`, released when the
//! process ends); a new run never silently replaces another's files, and a resume never
//! silently starts afresh.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;
use hashformer_corpus::DataPosition;
use hashformer_files::{write_atomic, DirLock};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::loss_scale::LossScale;
use crate::optim::AdamW;
use crate::pretrain::config::PretrainConfig;
use crate::pretrain::objective::PretrainModel;
use crate::seed::{derived_seed, SEED_INIT};

/// What `state.json` of a checkpoint holds besides weights and optimizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ResumeState {
    pub(crate) step: u64,
    pub(crate) data: DataPosition,
    pub(crate) elapsed_s: f64,
    /// The `f16` loss scale (absent in `f32` and `bf16`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) loss_scale: Option<LossScale>,
}

/// The checkpoints' folder in a run directory.
pub(crate) const CHECKPOINTS_DIR: &str = "checkpoints";
const RUN_FILE: &str = "run.json";
const STATE_FILE: &str = "state.json";
const OPTIMIZER_FILE: &str = "optimizer.safetensors";
pub(crate) const METRICS_FILE: &str = "metrics.jsonl";
/// The plot of the metrics log.
pub(crate) const METRICS_PLOT: &str = "metrics.png";
/// The final model's folder.
pub(crate) const MODEL_DIR: &str = "model";
/// The lock file of a run directory.
const LOCK_FILE: &str = ".lock";
/// What a run writes into its directory: what `overwrite` deletes, and nothing else (a
/// prepared corpus beside them, `OUT/corpus` by default, stays).
const RUN_ENTRIES: [&str; 5] = [
    RUN_FILE,
    METRICS_FILE,
    METRICS_PLOT,
    CHECKPOINTS_DIR,
    MODEL_DIR,
];

/// Creates `run_dir` if needed and locks it for this process.
///
/// # Errors
/// [`Error::InUse`] naming the process that holds it; [`Error::Io`].
pub(crate) fn lock_run_dir(run_dir: &Path) -> Result<DirLock> {
    std::fs::create_dir_all(run_dir).map_err(Error::io(run_dir))?;
    Ok(DirLock::acquire(&run_dir.join(LOCK_FILE), run_dir)?)
}

/// Deletes the checkpoint temporaries (`.step-N.tmp-PID`) that killed processes left behind.
/// Only call it holding the run's lock: then no live process writes one.
///
/// # Errors
/// [`Error::Io`] if one cannot be deleted.
pub(crate) fn remove_stale_temporaries(checkpoints: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(checkpoints) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".step-") && name.contains(".tmp-") {
            let path = entry.path();
            std::fs::remove_dir_all(&path).map_err(Error::io(&path))?;
        }
    }
    Ok(())
}

/// Makes `run_dir` ready for a fresh run: refuses when it holds a run's files, unless
/// `overwrite`, which deletes them.
///
/// # Errors
/// [`Error::RunExists`] naming what was found; [`Error::Io`].
pub(crate) fn clear_for_fresh_run(run_dir: &Path, overwrite: bool) -> Result<()> {
    let found: Vec<&str> = RUN_ENTRIES
        .into_iter()
        .filter(|name| std::fs::symlink_metadata(run_dir.join(name)).is_ok())
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    if !overwrite {
        return Err(Error::RunExists {
            run_dir: run_dir.to_owned(),
            found: found.join(", "),
        });
    }
    for name in found {
        let path = run_dir.join(name);
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(Error::io(&path))?;
    }
    Ok(())
}

/// The run description stored as `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunFile {
    pub(crate) config: PretrainConfig,
    pub(crate) corpus: PathBuf,
}

/// The prepared corpus directory that the run in `run_dir` reads, as its `run.json` records
/// it; `None` when `run_dir` holds no run yet.
///
/// # Errors
/// [`Error::Io`] or [`Error::Json`] naming `run.json` when it exists but cannot be read.
pub fn recorded_corpus(run_dir: &Path) -> Result<Option<PathBuf>> {
    let path = run_dir.join(RUN_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(Error::Io { path, source }),
    };
    let run: RunFile = serde_json::from_str(&text).map_err(Error::json(&path))?;
    Ok(Some(run.corpus))
}

fn checkpoint_name(step: u64) -> String {
    format!("step-{step:08}")
}

/// Writes a checkpoint directory atomically (a temporary directory renamed into place) and
/// removes all but the newest `keep_checkpoints`.
pub(crate) fn save_checkpoint(
    checkpoints: &Path,
    model: &PretrainModel,
    optimizer: &AdamW,
    state: &ResumeState,
    config: &PretrainConfig,
) -> Result<PathBuf> {
    refuse_non_finite(model, state.step)?;
    std::fs::create_dir_all(checkpoints).map_err(Error::io(checkpoints))?;
    let name = checkpoint_name(state.step);
    let dir = checkpoints.join(&name);
    let tmp = checkpoints.join(format!(".{name}.tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(Error::io(&tmp))?;
    }
    model.save(&config.model, &tmp)?;
    let path = tmp.join(OPTIMIZER_FILE);
    write_atomic(&path, &optimizer.to_safetensors()?).map_err(Error::io(&path))?;
    let path = tmp.join(STATE_FILE);
    let json = serde_json::to_string_pretty(state).map_err(Error::json(&path))?;
    write_atomic(&path, json.as_bytes()).map_err(Error::io(&path))?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(Error::io(&dir))?;
    }
    std::fs::rename(&tmp, &dir).map_err(Error::io(&dir))?;
    hashformer_files::sync_dir(checkpoints).map_err(Error::io(checkpoints))?;
    let mut all = list_checkpoints(checkpoints)?;
    let keep = config.keep_checkpoints.max(1);
    if all.len() > keep {
        all.sort();
        for (_, old) in &all[..all.len() - keep] {
            std::fs::remove_dir_all(old).map_err(Error::io(old))?;
        }
    }
    Ok(dir)
}

/// [`Error::NonFinite`] when a weight of `model` is NaN or infinite after `step` (an update
/// that overflowed while the loss and gradients were still finite): such weights are never
/// written, so the last checkpoint kept is a good one.
pub(crate) fn refuse_non_finite(model: &PretrainModel, step: u64) -> Result<()> {
    if hashformer_model::parameters_are_finite(model) {
        return Ok(());
    }
    Err(Error::NonFinite {
        step,
        what: "weight update".into(),
        value: f64::NAN,
    })
}

/// Complete checkpoints (`step-N` directories; temporary ones start with a dot).
fn list_checkpoints(checkpoints: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let entries = match std::fs::read_dir(checkpoints) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::Io {
                path: checkpoints.to_owned(),
                source,
            })
        }
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(step) = name
            .strip_prefix("step-")
            .and_then(|s| s.parse::<u64>().ok())
        {
            if entry.path().join(STATE_FILE).exists() {
                out.push((step, entry.path()));
            }
        }
    }
    Ok(out)
}

/// The newest complete checkpoint of a run, if any.
///
/// # Errors
/// [`Error::Io`] if the directory cannot be listed.
pub fn latest_checkpoint(checkpoints: &Path) -> Result<Option<PathBuf>> {
    Ok(list_checkpoints(checkpoints)?
        .into_iter()
        .max_by_key(|(step, _)| *step)
        .map(|(_, dir)| dir))
}

/// Writes `run.json` (for a fresh run, after [`clear_for_fresh_run`]), or checks that a
/// resumed run is the same run. Only `steps` (and the schedule's `total_steps` and
/// `warmup_steps` with it) may change on resume.
pub(crate) fn check_run_file(run_dir: &Path, run: &RunFile, resuming: bool) -> Result<()> {
    let path = run_dir.join(RUN_FILE);
    if resuming {
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let old: RunFile = serde_json::from_str(&text).map_err(Error::json(&path))?;
        // Growing (or shrinking) the number of steps is allowed, and with it the warm-up
        // length (commonly a share of the steps): it reshapes the schedule from here on.
        // Everything else must match.
        let same_except_length = |a: &RunFile, b: &RunFile| {
            let norm = |r: &RunFile| {
                let mut r = r.clone();
                r.config.steps = 0;
                r.config.schedule.total_steps = 0;
                r.config.schedule.warmup_steps = 0;
                r
            };
            norm(a) == norm(b)
        };
        if !same_except_length(&old, run) {
            return Err(Error::OtherRun { path });
        }
        if old != *run {
            // Record the new length so that the next resume compares against it.
            let json = serde_json::to_string_pretty(run).map_err(Error::json(&path))?;
            write_atomic(&path, json.as_bytes()).map_err(Error::io(&path))?;
        }
        return Ok(());
    }
    let json = serde_json::to_string_pretty(run).map_err(Error::json(&path))?;
    write_atomic(&path, json.as_bytes()).map_err(Error::io(&path))?;
    Ok(())
}

/// Where a run starts: the model, the optimizer and the state of its newest checkpoint, or a
/// fresh model initialised on the CPU (so that a seed gives the same initial weights on every
/// backend, whose random streams differ) with a new optimizer at step 0.
///
/// # Errors
/// Unreadable checkpoint files, or an optimizer whose step count disagrees with the state.
pub(crate) fn start_state(
    checkpoint: Option<&Path>,
    config: &PretrainConfig,
    device: &Device,
) -> Result<(PretrainModel, AdamW, ResumeState)> {
    let train_device = &device.clone().autodiff();
    let Some(dir) = checkpoint else {
        let cpu = Device::flex().autodiff();
        cpu.seed(derived_seed(config.seed, SEED_INIT, 0, 0));
        let model = PretrainModel::init(config, &cpu)?.fork(train_device);
        let state = ResumeState {
            step: 0,
            data: DataPosition::default(),
            elapsed_s: 0.0,
            loss_scale: LossScale::for_precision(config.precision),
        };
        return Ok((model, AdamW::new(config.optimizer), state));
    };
    let model = PretrainModel::load(config, dir, train_device)?;
    let path = dir.join(OPTIMIZER_FILE);
    let bytes = std::fs::read(&path).map_err(Error::io(&path))?;
    let optimizer = AdamW::from_safetensors(&bytes, &path, &device.clone().inner())?;
    let path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
    let mut state: ResumeState = serde_json::from_str(&text).map_err(Error::json(&path))?;
    if config.precision.needs_loss_scaling() && state.loss_scale.is_none() {
        return Err(Error::Checkpoint(format!(
            "{}: an f16 run's state has no loss scale",
            dir.display()
        )));
    }
    if !config.precision.needs_loss_scaling() {
        state.loss_scale = None;
    }
    // Steps skipped for overflowing f16 gradients did not step the optimizer.
    let skipped = state.loss_scale.map_or(0, |s| s.skipped);
    if optimizer.steps() + skipped != state.step {
        return Err(Error::Checkpoint(format!(
            "{}: the optimizer has {} steps ({skipped} skipped) but the state says {}",
            dir.display(),
            optimizer.steps(),
            state.step
        )));
    }
    Ok((model, optimizer, state))
}
