//! `hashformer pretrain` and `bench-step` end to end: the smoke run CI uses (`--config tiny
//! --steps 60` on the real Wikipedia corpus), resuming it further, the BPE baseline, and the
//! errors a user meets first.

use std::path::Path;
use std::process::Command;

use hashformer_testkit::{capture, shared_data, TempDir};
use serde_json::Value;

/// `hashformer ARGS` with its cache beside `--out` and `HASHFORMER_DATA` set to `data`.
fn command(args: &[&str], data: Option<&Path>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hashformer"));
    cmd.args(args);
    if let Some(cache) = hashformer_testkit::cache_beside_out(args) {
        cmd.env(hashformer_testkit::CACHE_VAR, cache);
    }
    if let Some(d) = data {
        cmd.env("HASHFORMER_DATA", d);
    }
    cmd
}

fn hashformer(args: &[&str], data: Option<&Path>) -> (i32, String, String) {
    capture(&mut command(args, data), None)
}

fn records(run: &Path) -> Vec<Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A small slice of the real corpus, prepared once per test.
const SMOKE: &[&str] = &[
    "--max-train-sequences",
    "3000",
    "--eval-every",
    "20",
    "--eval-batches",
    "4",
    "--checkpoint-every",
    "20",
    "--quiet",
];

#[test]
fn tiny_smoke_run_then_resume_further() {
    let Some(data) = shared_data("corpus/enwiki-2014-wikiextractor") else {
        return;
    };
    let dir = TempDir::new("pretrain-smoke");
    let out = dir.join("run");
    let out_s = out.to_str().unwrap();
    let mut args = vec!["pretrain", "--variant", "proj", "--config", "tiny"];
    args.extend(["--steps", "60", "--out", out_s]);
    args.extend(SMOKE);
    let (code, stdout, stderr) = hashformer(&args, Some(&data));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("finished at step 60/60"), "{stdout}");
    let recs = records(&out);
    let train: Vec<&Value> = recs.iter().filter(|r| r["split"] == "train").collect();
    let valid: Vec<&Value> = recs.iter().filter(|r| r["split"] == "valid").collect();
    assert_eq!(train.len(), 6, "one record per 10 steps");
    assert_eq!(valid.len(), 3, "evaluations at 20, 40, 60");
    for r in &train {
        for key in [
            "loss",
            "accuracy",
            "acc_original",
            "acc_shuffled",
            "acc_random",
            "lr",
        ] {
            assert!(r[key].is_number(), "{key} in {r}");
        }
        assert!(r["tokens_per_s"].as_f64().unwrap() > 0.0);
    }
    // The loss falls from the uniform 3-way start (ln 3 ≈ 1.10).
    let first = train[0]["loss"].as_f64().unwrap();
    let last = train[5]["loss"].as_f64().unwrap();
    assert!(last < first && last < 1.0, "{first} → {last}");
    assert!(out.join("metrics.png").exists());
    assert!(out.join("model/model.safetensors").exists());

    // The same run, extended to 80 steps with --resume, continues from step 60.
    let mut more = vec!["pretrain", "--variant", "proj", "--config", "tiny"];
    more.extend(["--steps", "80", "--out", out_s, "--resume"]);
    more.extend(SMOKE);
    let (code, stdout, stderr) = hashformer(&more, Some(&data));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("finished at step 80/80"), "{stdout}");
    let steps: Vec<u64> = records(&out)
        .iter()
        .filter(|r| r["split"] == "train")
        .map(|r| r["step"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, [10, 20, 30, 40, 50, 60, 70, 80]);

    // Resuming a finished run evaluates its checkpoint and logs nothing new.
    let lines = records(&out).len();
    let (code, stdout, stderr) = hashformer(&more, Some(&data));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("step 80: held-out loss"), "{stderr}");
    assert!(stderr.contains("prior loss"), "{stderr}");
    assert!(stdout.contains("finished at step 80/80"), "{stdout}");
    assert_eq!(records(&out).len(), lines);

    // Without --resume the directory is refused.
    let (code, _, stderr) = hashformer(&args, Some(&data));
    assert_eq!(code, 2);
    assert!(stderr.contains("--resume"), "{stderr}");
}

#[test]
fn the_bpe_baseline_pretrains_on_roberta_ids() {
    let Some(data) = shared_data("corpus/enwiki-2014-wikiextractor") else {
        return;
    };
    let dir = TempDir::new("pretrain-bpe");
    let out = dir.join("run");
    let mut args = vec![
        "pretrain",
        "--variant",
        "bpe",
        "--config",
        "tiny",
        "--steps",
        "4",
    ];
    args.extend(["--log-every", "2", "--out", out.to_str().unwrap()]);
    args.extend(SMOKE);
    let (code, stdout, stderr) = hashformer(&args, Some(&data));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("finished at step 4/4"), "{stdout}");
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("model/config.json")).unwrap())
            .unwrap();
    assert_eq!(config["vocab_size"], 50265, "{config}");
}

/// A prepared corpus records its inputs' paths: after the corpus moves (as it does between
/// CI clones), reusing the old prepared directory is refused with the way out named, and
/// `--replace-prepared` (which quickstart passes for its own directory) rebuilds it.
#[test]
fn a_moved_corpus_needs_replace_prepared() {
    let dir = TempDir::new("pretrain-moved");
    let text: String = (0..120)
        .map(|d| {
            format!("Document {d} says the quick brown fox jumps over the lazy dog {d} times.\n\n")
        })
        .collect();
    let first = dir.join("first");
    std::fs::create_dir_all(&first).unwrap();
    std::fs::write(first.join("corpus.txt"), &text).unwrap();
    let prepared = dir.join("prepared");
    let run = |corpus: &Path, out: &str, extra: &[&str]| {
        let mut args = vec!["pretrain", "--variant", "proj", "--config", "tiny"];
        args.extend(["--steps", "1", "--batch-size", "2", "--quiet"]);
        args.extend(["--corpus", corpus.to_str().unwrap()]);
        args.extend(["--prepared", prepared.to_str().unwrap()]);
        let out = dir.join(out);
        args.extend(["--out", out.to_str().unwrap()]);
        args.extend(extra);
        hashformer(&args, None)
    };
    let (code, _, stderr) = run(&first, "run-1", &[]);
    assert_eq!(code, 0, "{stderr}");

    let moved = dir.join("moved");
    std::fs::rename(&first, &moved).unwrap();
    let (code, _, stderr) = run(&moved, "run-2", &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("other input files"), "{stderr}");
    assert!(stderr.contains("--replace-prepared"), "{stderr}");

    let (code, _, stderr) = run(&moved, "run-3", &["--replace-prepared"]);
    assert_eq!(code, 0, "{stderr}");
    let meta = std::fs::read_to_string(prepared.join("meta.json")).unwrap();
    assert!(meta.contains("moved"), "{meta}");
}

/// Without `--prepared`, runs share one prepared corpus per corpus content and packing, in
/// `$HASHFORMER_CACHE/corpora` (each run prepared its own `OUT/corpus`, 227 MB for the
/// Wikipedia corpus); a copy of the corpus elsewhere finds it too. A run that prepared its
/// own corpus before the cache existed resumes with that one.
#[test]
fn runs_share_a_cached_prepared_corpus_by_default() {
    let dir = TempDir::new("pretrain-cache");
    let text: String = (0..120)
        .map(|d| format!("Document {d} tells how the small red fox ran {d} miles home.\n\n"))
        .collect();
    let (a, b) = (dir.join("a"), dir.join("b"));
    for corpus in [&a, &b] {
        std::fs::create_dir_all(corpus).unwrap();
        std::fs::write(corpus.join("corpus.txt"), &text).unwrap();
    }
    let run = |corpus: &Path, out: &str, extra: &[&str]| {
        let mut args = vec!["pretrain", "--variant", "proj", "--config", "tiny"];
        args.extend(["--batch-size", "2", "--quiet"]);
        args.extend(["--corpus", corpus.to_str().unwrap()]);
        let out = dir.join(out);
        args.extend(["--out", out.to_str().unwrap()]);
        args.extend(extra);
        let (code, _, stderr) = hashformer(&args, None);
        assert_eq!(code, 0, "{stderr}");
        let line = stderr.lines().find(|l| l.starts_with("corpus ")).unwrap();
        line.split(':').next().unwrap().to_owned()
    };
    let first = run(&a, "run-1", &["--steps", "1"]);
    let second = run(&b, "run-2", &["--steps", "1"]);
    assert_eq!(first, second);
    let corpora = dir.join("cache/corpora");
    assert!(first.contains(corpora.to_str().unwrap()), "{first}");
    let entries = |d: &Path| {
        std::fs::read_dir(d)
            .unwrap()
            .filter(|e| {
                !e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('.')
            })
            .count()
    };
    assert_eq!(entries(&corpora), 1);
    assert!(!dir.join("run-1/corpus").exists() && !dir.join("run-2/corpus").exists());

    // A run with its own OUT/corpus (the layout before the cache) resumes with it.
    let own = dir.join("run-3/corpus");
    run(
        &a,
        "run-3",
        &["--steps", "1", "--prepared", own.to_str().unwrap()],
    );
    let resumed = run(&a, "run-3", &["--steps", "2", "--resume"]);
    assert!(resumed.ends_with("run-3/corpus"), "{resumed}");
    assert_eq!(entries(&corpora), 1);
}

#[test]
fn clear_errors_for_missing_corpus_and_backend() {
    let dir = TempDir::new("pretrain-errors");
    let out = dir.join("run");
    let missing = dir.join("no-such-corpus");
    let (code, _, stderr) = hashformer(
        &[
            "pretrain",
            "--config",
            "tiny",
            "--out",
            out.to_str().unwrap(),
            "--corpus",
            missing.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("no-such-corpus"), "{stderr}");
    assert!(
        !stderr.contains("--replace-prepared"),
        "not that error: {stderr}"
    );
    #[cfg(not(feature = "wgpu"))]
    {
        let (code, _, stderr) = hashformer(
            &["bench-step", "--config", "tiny", "--backend", "wgpu"],
            None,
        );
        assert_eq!(code, 2);
        assert!(stderr.contains("--features wgpu"), "{stderr}");
    }
    #[cfg(not(feature = "vulkan"))]
    {
        let (code, _, stderr) = hashformer(
            &["bench-step", "--config", "tiny", "--backend", "vulkan"],
            None,
        );
        assert_eq!(code, 2);
        assert!(stderr.contains("--features vulkan"), "{stderr}");
    }
}

#[test]
fn bench_step_reports_tokens_per_second() {
    let (code, stdout, stderr) = hashformer(
        &[
            "bench-step",
            "--config",
            "tiny",
            "--warmup",
            "1",
            "--steps",
            "2",
            "--seq-len",
            "32",
        ],
        None,
    );
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["step_s"].as_array().unwrap().len(), 2);
    assert!(v["tokens_per_s"].as_f64().unwrap() > 0.0, "{v}");
}

/// Kills the child process if the test fails before it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The first SIGTERM (as the first Ctrl-C) stops a run after the step under way, with a
/// checkpoint at that step and exit status 0, and `--resume` continues from it.
#[cfg(unix)]
#[test]
fn a_signal_stops_the_run_with_a_checkpoint_that_resumes() {
    use std::time::{Duration, Instant};
    let Some(data) = shared_data("corpus/enwiki-2014-wikiextractor") else {
        return;
    };
    let dir = TempDir::new("pretrain-signal");
    let out = dir.join("run");
    let out_s = out.to_str().unwrap();
    let mut args = vec!["pretrain", "--variant", "proj", "--config", "tiny"];
    args.extend(["--steps", "1000000", "--out", out_s]);
    args.extend(SMOKE);
    let (stdout, stderr) = (dir.join("stdout"), dir.join("stderr"));
    let mut cmd = command(&args, Some(&data));
    cmd.stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap());
    let mut child = KillOnDrop(cmd.spawn().unwrap());
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    let started = Instant::now();
    // Training is under way once a training record is written.
    while !read(&out.join("metrics.jsonl")).contains(r#""split":"train""#) {
        assert!(child.0.try_wait().unwrap().is_none(), "{}", read(&stderr));
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no training record"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = child.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(420),
            "no stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let printed = read(&stdout);
    assert!(status.success(), "{status}: {}", read(&stderr));
    let step: u64 = printed
        .split("stopped (interrupted; --resume continues) at step ")
        .nth(1)
        .and_then(|rest| rest.split('/').next()?.parse().ok())
        .unwrap_or_else(|| panic!("{printed}"));
    assert!(out.join(format!("checkpoints/step-{step:08}")).is_dir());

    let mut more = vec!["pretrain", "--variant", "proj", "--config", "tiny"];
    let until = (step + 2).to_string();
    more.extend([
        "--steps",
        "1000000",
        "--stop-after",
        &until,
        "--out",
        out_s,
        "--resume",
    ]);
    more.extend(SMOKE);
    let (code, printed, stderr) = hashformer(&more, Some(&data));
    assert_eq!(code, 0, "{stderr}");
    assert!(printed.contains(&format!("at step {until}/")), "{printed}");
}
