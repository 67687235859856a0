//! The pre-training loop on the CPU backend with a tiny model: exact resume (N steps, stop,
//! resume, N more = 2N uninterrupted, bit for bit), run-directory safety, masked LM, and that
//! the artefacts (metrics, plot, checkpoints, final model) are written.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use burn::prelude::*;
use hashformer_corpus::{prepare, CorpusFormat, PrepareConfig};
use hashformer_embeddings::Variant;
use hashformer_hashing::HashKind;
use hashformer_model::{HashformerConfig, HashformerForPretraining, Precision, TextEncoder};
use hashformer_report::read_metrics;
use hashformer_train::{
    pretrain, AdamWConfig, Decay, Error, LrSchedule, Objective, PretrainConfig, RunOptions,
};
use rand::{Rng, SeedableRng};

/// Burn's CPU backend has one random stream per process (dropout draws from it), so two
/// trainings running at once in this test binary would interleave their draws and neither
/// would be reproducible. Every test that trains holds this lock.
static TRAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn training_lock() -> std::sync::MutexGuard<'static, ()> {
    TRAINING.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fresh directory under the system temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "hashformer-train-{name}-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A synthetic corpus of 120 blank-line separated documents, prepared for `max_length` 32.
fn corpus(dir: &Path) -> PathBuf {
    const WORDS: &[&str] = &[
        "the", "a", "cat", "dog", "sat", "on", "mat", "river", "city", "old", "new", "green",
        "runs", "sees", "and", "of", "in", "house", "music", "band", "played", "north", ".", ",",
    ];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut text = String::new();
    for _ in 0..120 {
        for _ in 0..rng.random_range(1..4) {
            let n = rng.random_range(5..40);
            let line: Vec<&str> = (0..n)
                .map(|_| WORDS[rng.random_range(0..WORDS.len())])
                .collect();
            text.push_str(&line.join(" "));
            text.push('\n');
        }
        text.push('\n');
    }
    let file = dir.join("corpus.txt");
    std::fs::write(&file, text).unwrap();
    let out = dir.join("prepared");
    prepare(
        &[file],
        &out,
        &PrepareConfig {
            max_words: 30,
            valid_every: 10,
            max_valid_chunks: 16,
            format: CorpusFormat::Auto,
            ..PrepareConfig::default()
        },
    )
    .unwrap();
    out
}

fn config(variant: Variant, objective: Objective) -> PretrainConfig {
    let steps = 6;
    PretrainConfig {
        // A small table for Emb (the masked-LM test); Proj stores no bucket count.
        model: match variant {
            Variant::Emb(_) => HashformerConfig::tiny(variant).with_num_buckets(97),
            _ => HashformerConfig::tiny(variant),
        },
        objective,
        max_length: 32,
        batch_size: 4,
        grad_accum: 2,
        steps,
        schedule: LrSchedule {
            peak: 1e-3,
            warmup_steps: 2,
            total_steps: steps,
            decay: Decay::Linear,
        },
        optimizer: AdamWConfig::default(),
        seed: 5,
        log_every: 1,
        eval_every: 3,
        eval_batches: 2,
        checkpoint_every: 2,
        keep_checkpoints: 2,
        precision: Precision::F32,
    }
}

const SHUFFLE_RANDOM: Objective = Objective::ShuffleRandom {
    manipulate_prob: 0.15,
};

fn run(
    config: &PretrainConfig,
    corpus: &Path,
    out: &Path,
    options: &RunOptions,
) -> Result<hashformer_train::RunSummary, Error> {
    run_on(config, corpus, out, options, &[Device::flex()])
}

fn run_on(
    config: &PretrainConfig,
    corpus: &Path,
    out: &Path,
    options: &RunOptions,
    devices: &[Device],
) -> Result<hashformer_train::RunSummary, Error> {
    let encoder = TextEncoder::new(&config.model, config.max_length, None).unwrap();
    pretrain(config, corpus, encoder, out, devices, options, &mut ())
}

/// `(step, loss)` of every training record.
fn train_losses(run_dir: &Path) -> Vec<(u64, f64)> {
    read_metrics(&run_dir.join("metrics.jsonl"))
        .unwrap()
        .iter()
        .filter(|r| r["split"] == "train")
        .map(|r| (r["step"].as_u64().unwrap(), r["loss"].as_f64().unwrap()))
        .collect()
}

/// Every tensor of the two checkpoints is bit-identical (the file bytes may differ in header
/// order).
fn assert_same_weights(a: &Path, b: &Path) {
    let (a, b) = (
        std::fs::read(a.join("model.safetensors")).unwrap(),
        std::fs::read(b.join("model.safetensors")).unwrap(),
    );
    let (a, b) = (
        safetensors::SafeTensors::deserialize(&a).unwrap(),
        safetensors::SafeTensors::deserialize(&b).unwrap(),
    );
    let mut names = a.names();
    names.sort();
    let mut names_b = b.names();
    names_b.sort();
    assert_eq!(names, names_b);
    for name in names {
        let (x, y) = (a.tensor(name).unwrap(), b.tensor(name).unwrap());
        assert_eq!(x.shape(), y.shape(), "{name}");
        assert!(x.data() == y.data(), "tensor {name} differs");
    }
}

#[test]
fn stopping_and_resuming_reproduces_the_uninterrupted_run_exactly() {
    let _guard = training_lock();
    let dir = temp_dir("resume");
    let corpus = corpus(&dir);
    let config = config(Variant::Proj(HashKind::Md5), SHUFFLE_RANDOM);

    let whole = dir.join("whole");
    let summary = run(&config, &corpus, &whole, &RunOptions::default()).unwrap();
    assert!(summary.finished);
    assert_eq!(summary.step, 6);

    let split = dir.join("split");
    let first = RunOptions {
        stop_after: Some(3),
        ..RunOptions::default()
    };
    let summary = run(&config, &corpus, &split, &first).unwrap();
    assert!(!summary.finished);
    assert_eq!(summary.step, 3);
    let resume = RunOptions {
        resume: true,
        ..RunOptions::default()
    };
    let summary = run(&config, &corpus, &split, &resume).unwrap();
    assert!(summary.finished);
    assert_eq!(summary.step, 6);

    let (a, b) = (train_losses(&whole), train_losses(&split));
    assert_eq!(a.len(), 6, "{a:?}");
    // Positions computed include padding: at least the real tokens, at most batch × length.
    for r in read_metrics(&whole.join("metrics.jsonl")).unwrap() {
        if r["split"] == "train" {
            let (tokens, positions) = (r["tokens_per_s"].as_f64(), r["positions_per_s"].as_f64());
            assert!(positions >= tokens && tokens > Some(0.0), "{r:?}");
            assert!(r.get("loss_scale").is_none(), "{r:?}");
        }
    }
    assert_eq!(a, b, "losses of the resumed run differ");
    assert!(a.iter().all(|(_, l)| l.is_finite() && *l > 0.0));
    assert_same_weights(&whole.join("model"), &split.join("model"));

    // Artefacts: the last two checkpoints, a loadable final model, the plot.
    let mut kept: Vec<String> = std::fs::read_dir(whole.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    kept.sort();
    assert_eq!(kept, ["step-00000004", "step-00000006"]);
    let (model, loaded) =
        HashformerForPretraining::from_pretrained(&whole.join("model"), &Device::flex()).unwrap();
    assert_eq!(loaded, config.model);
    drop(model);
    assert!(whole.join("metrics.png").exists());
    let valid = read_metrics(&whole.join("metrics.jsonl"))
        .unwrap()
        .into_iter()
        .filter(|r| r["split"] == "valid")
        .count();
    assert_eq!(valid, 2, "evaluations at steps 3 and 6");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A requested stop (the flag `hashformer pretrain` sets on Ctrl-C or SIGTERM) ends the run
/// after the step under way, with a checkpoint, and a resume continues it exactly.
#[test]
fn a_requested_stop_checkpoints_and_the_resume_continues_exactly() {
    let _guard = training_lock();
    let dir = temp_dir("stop-flag");
    let corpus = corpus(&dir);
    let config = config(Variant::Proj(HashKind::Md5), SHUFFLE_RANDOM);
    let whole = dir.join("whole");
    run(&config, &corpus, &whole, &RunOptions::default()).unwrap();

    let split = dir.join("split");
    let first = RunOptions {
        stop: Some(Arc::new(AtomicBool::new(true))),
        ..RunOptions::default()
    };
    let summary = run(&config, &corpus, &split, &first).unwrap();
    assert!(!summary.finished);
    assert_eq!(summary.step, 1, "stops after the step under way");
    assert!(split.join("checkpoints/step-00000001").is_dir());
    let resume = RunOptions {
        resume: true,
        ..RunOptions::default()
    };
    assert!(run(&config, &corpus, &split, &resume).unwrap().finished);
    assert_eq!(train_losses(&whole), train_losses(&split));
    assert_same_weights(&whole.join("model"), &split.join("model"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Mixed precision: a `bf16` or `f16` run stops and resumes exactly as an `f32` one does
/// (the `f16` loss scale travels in the checkpoint), computes something else than `f32`,
/// and saves `f32` weights.
#[test]
fn half_precision_runs_resume_exactly_and_save_f32_weights() {
    let _guard = training_lock();
    let dir = temp_dir("precision");
    let corpus = corpus(&dir);
    let f32_config = config(Variant::Proj(HashKind::Md5), SHUFFLE_RANDOM);
    run(
        &f32_config,
        &corpus,
        &dir.join("f32"),
        &RunOptions::default(),
    )
    .unwrap();
    let f32_losses = train_losses(&dir.join("f32"));
    for precision in [Precision::Bf16, Precision::F16] {
        let config = PretrainConfig {
            precision,
            ..f32_config.clone()
        };
        let whole = dir.join(format!("{precision}-whole"));
        run(&config, &corpus, &whole, &RunOptions::default()).unwrap();
        let split = dir.join(format!("{precision}-split"));
        let first = RunOptions {
            stop_after: Some(3),
            ..RunOptions::default()
        };
        run(&config, &corpus, &split, &first).unwrap();
        let resume = RunOptions {
            resume: true,
            ..RunOptions::default()
        };
        run(&config, &corpus, &split, &resume).unwrap();
        let (a, b) = (train_losses(&whole), train_losses(&split));
        assert_eq!(a, b, "{precision}: losses of the resumed run differ");
        assert!(a.iter().all(|(_, l)| l.is_finite() && *l > 0.0), "{a:?}");
        assert_ne!(a, f32_losses, "{precision}: the same losses as f32");
        assert_same_weights(&whole.join("model"), &split.join("model"));
        let bytes = std::fs::read(whole.join("model/model.safetensors")).unwrap();
        let weights = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        for (name, tensor) in weights.tensors() {
            assert_eq!(
                tensor.dtype(),
                safetensors::Dtype::F32,
                "{precision}: {name}"
            );
        }
        let state = std::fs::read_to_string(whole.join("checkpoints/step-00000006/state.json"));
        let state: serde_json::Value = serde_json::from_str(&state.unwrap()).unwrap();
        let scale = &state["loss_scale"];
        match precision {
            Precision::F16 => assert!(scale["scale"].as_f64().unwrap() >= 1.0, "{state}"),
            _ => assert!(scale.is_null(), "{precision}: {state}"),
        }
        let records = read_metrics(&whole.join("metrics.jsonl")).unwrap();
        for r in records.iter().filter(|r| r["split"] == "train") {
            let logged = r.get("loss_scale").and_then(|s| s.as_f64());
            match precision {
                Precision::F16 => assert!(logged.is_some_and(|s| s >= 1.0), "{r:?}"),
                _ => assert!(logged.is_none(), "{r:?}"),
            }
        }
        let run_json = std::fs::read_to_string(whole.join("run.json")).unwrap();
        assert!(run_json.contains(&format!("\"precision\": \"{precision}\"")));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_run_directory_is_never_taken_over_by_another_run() {
    let _guard = training_lock();
    let dir = temp_dir("guard");
    let corpus = corpus(&dir);
    let config = config(Variant::Proj(HashKind::Md5), SHUFFLE_RANDOM);
    let out = dir.join("run");
    let options = RunOptions {
        stop_after: Some(2),
        ..RunOptions::default()
    };
    run(&config, &corpus, &out, &options).unwrap();
    // Starting over in a directory with checkpoints needs --resume.
    let err = run(&config, &corpus, &out, &RunOptions::default()).unwrap_err();
    assert!(err.to_string().contains("--resume"), "{err}");
    // Resuming with other settings is refused.
    let mut other = config.clone();
    other.seed = 6;
    let resume = RunOptions {
        resume: true,
        ..RunOptions::default()
    };
    let err = run(&other, &corpus, &out, &resume).unwrap_err();
    assert!(err.to_string().contains("different run"), "{err}");

    // Its checkpoints deleted, the run's other files still refuse a fresh start…
    std::fs::remove_dir_all(out.join("checkpoints")).unwrap();
    let err = run(&config, &corpus, &out, &RunOptions::default()).unwrap_err();
    assert!(
        matches!(&err, Error::RunExists { found, .. } if found.contains("metrics.jsonl")),
        "{err}"
    );
    // …and --resume does not quietly start afresh.
    let err = run(&config, &corpus, &out, &resume).unwrap_err();
    assert!(matches!(err, Error::NothingToResume { .. }), "{err}");
    // --overwrite does, logging from the first step again.
    let overwrite = RunOptions {
        overwrite: true,
        stop_after: Some(2),
        ..RunOptions::default()
    };
    run(&config, &corpus, &out, &overwrite).unwrap();
    assert_eq!(train_losses(&out).first().map(|(s, _)| *s), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn one_process_at_a_time_and_no_stale_checkpoint_temporaries() {
    let _guard = training_lock();
    let dir = temp_dir("locked");
    let corpus = corpus(&dir);
    let config = config(Variant::Proj(HashKind::Md5), SHUFFLE_RANDOM);
    let out = dir.join("run");
    let first = RunOptions {
        stop_after: Some(2),
        ..RunOptions::default()
    };
    run(&config, &corpus, &out, &first).unwrap();
    // What a killed save leaves behind.
    let stale = out.join("checkpoints/.step-00000003.tmp-4000000000");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("model.safetensors"), b"half").unwrap();
    // Another live process holds the run: refused, naming it, nothing touched.
    let held = hashformer_files::DirLock::acquire(&out.join(".lock"), &out).unwrap();
    let resume = RunOptions {
        resume: true,
        ..RunOptions::default()
    };
    let err = run(&config, &corpus, &out, &resume).unwrap_err();
    assert!(matches!(err, Error::InUse(_)), "{err}");
    let message = err.to_string();
    assert!(message.contains("in use by another process"), "{message}");
    assert!(
        message.contains(&format!("PID {}", std::process::id())),
        "{message}"
    );
    assert!(stale.exists());
    // Once it is gone, the resume runs and the stale temporary goes.
    drop(held);
    let summary = run(&config, &corpus, &out, &resume).unwrap();
    assert!(summary.finished);
    assert!(!stale.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn masked_lm_trains_the_id_variants_and_is_refused_for_hash_inputs() {
    let _guard = training_lock();
    let dir = temp_dir("mlm");
    let corpus = corpus(&dir);
    let mlm = Objective::MaskedLm { mask_prob: 0.15 };
    let mut emb = config(Variant::Emb(HashKind::Md5), mlm);
    emb.steps = 2;
    emb.schedule.total_steps = 2;
    let summary = run(&emb, &corpus, &dir.join("emb"), &RunOptions::default()).unwrap();
    assert!(summary.finished);
    assert!(summary.last_eval_loss.is_some_and(f64::is_finite));
    let losses = train_losses(&dir.join("emb"));
    // Masked LM over 102 rows starts near ln(102) ≈ 4.6.
    assert!((3.5..6.0).contains(&losses[0].1), "{losses:?}");

    let proj = PretrainConfig {
        objective: mlm,
        ..config(Variant::Proj(HashKind::Md5), SHUFFLE_RANDOM)
    };
    let err = run(&proj, &corpus, &dir.join("proj"), &RunOptions::default()).unwrap_err();
    assert!(err.to_string().contains("masked LM"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn data_parallel_steps_equal_accumulated_steps_on_one_device() {
    let _guard = training_lock();
    // Two device handles (replicas forked, gradients moved to the first and summed) must
    // compute what two accumulated micro-batches on one device compute. On a GPU machine the
    // same code path runs one replica per GPU.
    let dir = temp_dir("parallel");
    let corpus = corpus(&dir);
    let mut config = config(Variant::Proj(HashKind::Md5), SHUFFLE_RANDOM);
    config.steps = 3;
    config.schedule.total_steps = 3;
    let (one, two) = (dir.join("one"), dir.join("two"));
    run_on(
        &config,
        &corpus,
        &one,
        &RunOptions::default(),
        &[Device::flex()],
    )
    .unwrap();
    let devices = [Device::flex(), Device::flex()];
    run_on(&config, &corpus, &two, &RunOptions::default(), &devices).unwrap();
    assert_eq!(train_losses(&one), train_losses(&two));
    assert_same_weights(&one.join("model"), &two.join("model"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_diverging_run_stops_with_a_clear_error_and_keeps_its_last_good_checkpoint() {
    let _guard = training_lock();
    let dir = temp_dir("nan");
    let corpus = corpus(&dir);
    let mut config = config(Variant::Proj(HashKind::Md5), SHUFFLE_RANDOM);
    // A learning rate no model survives: the weights overflow within a few steps.
    config.schedule.peak = 1e38;
    config.schedule.warmup_steps = 0;
    config.optimizer.max_grad_norm = None;
    config.checkpoint_every = 1;
    config.keep_checkpoints = 100;
    let out = dir.join("run");
    let err = run(&config, &corpus, &out, &RunOptions::default()).unwrap_err();
    let Error::NonFinite { step, .. } = err else {
        panic!("expected a non-finite stop, got {err}");
    };
    assert!(err_message_names_step(&out, step));
    // Every checkpoint left is from before the failing step, and loads.
    let latest = hashformer_train::latest_checkpoint(&out.join("checkpoints")).unwrap();
    if let Some(latest) = latest {
        let name = latest.file_name().unwrap().to_string_lossy().into_owned();
        let saved: u64 = name.trim_start_matches("step-").parse().unwrap();
        assert!(
            saved < step,
            "checkpoint {saved} written at or after the bad step {step}"
        );
        HashformerForPretraining::from_pretrained(&latest, &Device::flex()).unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The metrics log holds no record after the failing step (the step's own loss is logged
/// when it was finite and only the update overflowed).
fn err_message_names_step(run_dir: &Path, step: u64) -> bool {
    train_losses(run_dir).iter().all(|(s, _)| *s <= step)
}
