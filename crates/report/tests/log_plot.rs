//! Metrics log and chart, end to end through files: create, append, resume after a crash,
//! read back, and draw a PNG.

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use hashformer_report::{
    plot_metrics, plot_runs, read_metrics, LogError, MetricsLog, PlotError, PlotOptions,
};
use serde::Serialize;
use serde_json::json;

/// A fresh, empty directory under the target dir for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("log_plot")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn steps(path: &Path) -> Vec<u64> {
    let records = read_metrics(path).unwrap();
    records
        .iter()
        .map(|r| r["step"].as_u64().unwrap())
        .collect()
}

/// A training record as the loop writes it (field order is kept in the file).
#[derive(Serialize)]
struct TrainRecord {
    split: &'static str,
    step: u64,
    loss: f64,
    lr: f64,
}

#[test]
fn create_log_and_read_back() {
    let path = scratch("create").join("run/metrics.jsonl"); // parent is created
    let mut log = MetricsLog::create(&path).unwrap();
    for step in [10, 20] {
        let record = TrainRecord {
            split: "train",
            step,
            loss: 1.0 / step as f64,
            lr: 1e-4,
        };
        log.log(&record).unwrap();
    }
    log.log(&json!({"split": "valid", "step": 20, "loss": f64::NAN}))
        .unwrap();
    log.sync().unwrap();
    assert_eq!(log.path(), path);
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        r#"{"split":"train","step":10,"loss":0.1,"lr":0.0001}"#
    );
    assert!(text.ends_with("}\n"), "{text}");
    let records = read_metrics(&path).unwrap();
    assert_eq!(steps(&path), [10, 20, 20]);
    assert!(records[2]["loss"].is_null(), "NaN is written as null");

    // Creating again starts over.
    drop(log);
    MetricsLog::create(&path).unwrap();
    assert_eq!(steps(&path), [] as [u64; 0]);
}

#[test]
fn log_rejects_records_without_a_step() {
    let path = scratch("reject").join("metrics.jsonl");
    let mut log = MetricsLog::create(&path).unwrap();
    log.log(&json!({"step": 1})).unwrap();
    for (bad, want) in [
        (json!({"loss": 1.0}), "no \"step\" key"),
        (
            json!({"step": -3}),
            "\"step\" is not a non-negative integer",
        ),
        (json!([1, 2]), "not a JSON object"),
    ] {
        match log.log(&bad) {
            Err(LogError::Record {
                line: 2, reason, ..
            }) => assert_eq!(reason, want),
            other => panic!("{bad}: unexpected {other:?}"),
        }
    }
    log.log(&json!({"step": 2})).unwrap();
    assert_eq!(steps(&path), [1, 2]);
}

#[test]
fn resume_cuts_steps_after_the_checkpoint_and_a_torn_line() {
    let path = scratch("resume").join("metrics.jsonl");
    fs::write(
        &path,
        concat!(
            "{\"split\":\"train\",\"step\":100,\"loss\":0.9}\n",
            "{\"split\":\"valid\",\"step\":100,\"loss\":0.8}\n",
            "{\"split\":\"train\",\"step\":150,\"loss\":0.7}\n",
            "{\"split\":\"train\",\"step\":200,\"loss\":0.6}\n",
            "{\"split\":\"train\",\"step\":250,\"lo", // crash mid-write
        ),
    )
    .unwrap();
    let mut log = MetricsLog::resume(&path, 150).unwrap();
    log.log(&json!({"split": "train", "step": 200, "loss": 0.65}))
        .unwrap();
    assert_eq!(steps(&path), [100, 100, 150, 200]);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("{\"split\":\"train\",\"step\":100,\"loss\":0.9}\n"));
    assert_eq!(read_metrics(&path).unwrap()[3]["loss"], 0.65);
    let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "temp file left behind: {leftovers:?}");

    // Resuming at a later step than logged keeps everything; a missing file starts empty.
    drop(log);
    MetricsLog::resume(&path, 10_000).unwrap();
    assert_eq!(steps(&path), [100, 100, 150, 200]);
    let missing = path.with_file_name("missing.jsonl");
    MetricsLog::resume(&missing, 5)
        .unwrap()
        .log(&json!({"step": 6}))
        .unwrap();
    assert_eq!(steps(&missing), [6]);
}

#[test]
fn resume_refuses_a_corrupt_line_before_the_end() {
    let path = scratch("resume_corrupt").join("metrics.jsonl");
    let text = "{\"step\":1}\n{\"step\":2\n{\"step\":3}\n";
    fs::write(&path, text).unwrap();
    match MetricsLog::resume(&path, 5) {
        Err(LogError::Json { line: 2, .. }) => {}
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(fs::read_to_string(&path).unwrap(), text, "file untouched");
}

#[test]
fn reader_reports_the_line_and_tolerates_a_torn_last_line() {
    let dir = scratch("reader");
    let torn = dir.join("torn.jsonl");
    fs::write(&torn, "{\"step\":1}\n{\"step\":2}\n{\"step\":3,\"lo").unwrap();
    assert_eq!(steps(&torn), [1, 2]);

    let bad = dir.join("bad.jsonl");
    fs::write(&bad, "{\"step\":1}\n{\"step\":2,,}\n{\"step\":3}\n").unwrap();
    let err = read_metrics(&bad).unwrap_err();
    assert!(
        matches!(
            err,
            LogError::Json {
                line: 2,
                column: 11,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("bad.jsonl line 2, column 11"),
        "{err}"
    );

    let missing = dir.join("missing.jsonl");
    match read_metrics(&missing) {
        Err(LogError::Io { path, .. }) => assert_eq!(path, missing),
        other => panic!("unexpected {other:?}"),
    }
}

/// A small log shaped like pre-training plus a fine-tuning run, with a NaN loss.
fn synthetic_log(path: &Path) {
    let mut log = MetricsLog::create(path).unwrap();
    for step in (0..=300u64).step_by(10) {
        let t = step as f64 / 300.0;
        log.log(&json!({
            "split": "train", "step": step, "epoch": 0,
            "loss": if step == 50 { f64::NAN } else { 1.1 - 0.6 * t },
            "accuracy": 0.4 + 0.4 * t, "acc_original": 0.6 + 0.35 * t,
            "acc_shuffled": 0.3 + 0.2 * t, "acc_random": 0.3 + 0.25 * t,
            "lr": 1e-4 * (step.min(50) as f64 / 50.0) * (1.0 - 0.5 * t),
            "grad_norm": 1.3, "tokens_per_s": 5120.0, "elapsed_s": step as f64 * 0.5,
        }))
        .unwrap();
        if step % 100 == 0 && step > 0 {
            log.log(&json!({
                "split": "valid", "step": step, "loss": 1.0 - 0.5 * t,
                "accuracy": 0.45 + 0.4 * t, "acc_original": 0.7, "acc_shuffled": 0.4,
                "acc_random": 0.5, "majority_rate": 0.81,
            }))
            .unwrap();
        }
    }
    log.log(
        &json!({"split": "dev", "step": 300, "epoch": 1, "loss": 0.7, "accuracy": 0.6, "mcc": 0.2}),
    )
    .unwrap();
}

/// Decodes `png`, returning (width, height, share of pixels that are not white).
fn decode(png: &Path) -> (u32, u32, f64) {
    let bytes = fs::read(png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let mut reader = png::Decoder::new(Cursor::new(bytes)).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let pixels = &buf[..info.buffer_size()];
    let ink = pixels.chunks(3).filter(|p| p != &[255, 255, 255]).count();
    (
        info.width,
        info.height,
        ink as f64 / (pixels.len() / 3) as f64,
    )
}

#[test]
fn plot_writes_a_non_blank_png() {
    let dir = scratch("plot");
    let (jsonl, png) = (dir.join("metrics.jsonl"), dir.join("metrics.png"));
    synthetic_log(&jsonl);
    plot_metrics(&jsonl, &png, &PlotOptions::new("tiny-run (Emb, MD5)")).unwrap();
    let (width, height, ink) = decode(&png);
    assert_eq!((width, height), (1200, 900));
    assert!(ink > 0.02 && ink < 0.5, "ink share {ink}");
    assert_eq!(
        fs::read_dir(&dir).unwrap().count(),
        2,
        "temp file left behind"
    );

    // One point, one panel, smallest size, extreme values: still renders.
    let one = dir.join("one.jsonl");
    fs::write(
        &one,
        "{\"split\":\"valid\",\"step\":0,\"loss\":1e300,\"accuracy\":-1e300}\n",
    )
    .unwrap();
    let png = dir.join("one.png");
    plot_metrics(&one, &png, &PlotOptions::default().size(320, 320)).unwrap();
    let (width, height, ink) = decode(&png);
    assert_eq!((width, height), (320, 320));
    assert!(ink > 0.01, "ink share {ink}");
}

#[test]
fn plot_runs_draws_held_out_curves_and_refuses_runs_without_any() {
    let dir = scratch("plot_runs");
    let (jsonl, png) = (dir.join("metrics.jsonl"), dir.join("runs.png"));
    synthetic_log(&jsonl);
    let records = read_metrics(&jsonl).unwrap();
    let runs = vec![("A".to_owned(), records.clone()), ("B".to_owned(), records)];
    plot_runs(&runs, &png, &PlotOptions::new("two runs")).unwrap();
    let (width, height, ink) = decode(&png);
    assert_eq!((width, height), (1200, 900));
    assert!(ink > 0.01 && ink < 0.5, "ink share {ink}");
    let train_only = read_metrics(&jsonl)
        .unwrap()
        .into_iter()
        .filter(|r| r.get("split").and_then(|s| s.as_str()) == Some("train"))
        .collect();
    match plot_runs(
        &[("A".to_owned(), train_only)],
        &png,
        &PlotOptions::default(),
    ) {
        Err(PlotError::NoData { path }) => assert_eq!(path, png),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn plot_errors_name_the_file() {
    let dir = scratch("plot_errors");
    let png = dir.join("out.png");
    let missing = dir.join("missing.jsonl");
    match plot_metrics(&missing, &png, &PlotOptions::default()) {
        Err(PlotError::Log(LogError::Io { path, .. })) => assert_eq!(path, missing),
        other => panic!("unexpected {other:?}"),
    }
    let empty = dir.join("empty.jsonl");
    fs::write(
        &empty,
        "{\"split\":\"train\",\"step\":1,\"grad_norm\":1.0}\n",
    )
    .unwrap();
    match plot_metrics(&empty, &png, &PlotOptions::default()) {
        Err(PlotError::NoData { path }) => assert_eq!(path, empty),
        other => panic!("unexpected {other:?}"),
    }
    let options = PlotOptions::default().size(100, 100_000);
    match plot_metrics(&empty, &png, &options) {
        Err(PlotError::Size {
            width: 100,
            height: 100_000,
            ..
        }) => {}
        other => panic!("unexpected {other:?}"),
    }
    let no_dir = dir.join("no/such/dir/out.png");
    fs::write(&empty, "{\"step\":1,\"loss\":1.0}\n").unwrap();
    match plot_metrics(&empty, &no_dir, &PlotOptions::default()) {
        Err(PlotError::Io { .. }) => {}
        other => panic!("unexpected {other:?}"),
    }
    assert!(!png.exists());
}
