//! Fine-tuning end to end on real GLUE data with a tiny model: results files, seeds
//! reproducible, the best checkpoint's dev predictions independent of batching and padding.

mod common;

use burn::prelude::Device;
use hashformer_embeddings::Variant;
use hashformer_glue::{
    read_split, run_glue, GlueRunConfig, SeedResult, Split, Target, Task, TaskMetrics,
};
use hashformer_hashing::HashKind;
use hashformer_model::{
    HashformerConfig, HashformerForSequenceClassification, Precision, TextEncoder,
};
use hashformer_train::{predict, FinetuneConfig, Init};

/// The same seeds with the same metrics, up to the last bit that a JSON round trip may lose.
fn assert_same(a: &[SeedResult], b: &[SeedResult]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!(
            (x.seed, x.steps, x.best_step),
            (y.seed, y.steps, y.best_step)
        );
        for ((mx, vx), (my, vy)) in x.metrics.values().iter().zip(y.metrics.values()) {
            assert_eq!(mx, my);
            assert!((vx - vy).abs() < 1e-12, "{vx} vs {vy}");
        }
    }
}

/// Counts the fine-tuning runs that start.
#[derive(Default)]
struct Starts(usize);

impl hashformer_train::FinetuneObserver for Starts {
    fn on_start(&mut self, _total_steps: u64) {
        self.0 += 1;
    }
}

impl hashformer_glue::GlueObserver for Starts {}

#[test]
fn wnli_runs_reproducibly_resumes_merges_and_its_best_model_ignores_padding() {
    let Some(glue) = common::glue_dir() else {
        return;
    };
    let root = std::env::temp_dir().join(format!("hashformer-glue-ft-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let model = HashformerConfig::tiny(Variant::Proj(HashKind::Md5));
    let encoder = TextEncoder::new(&model, 64, None).unwrap();
    let config = |seeds: Vec<u64>| GlueRunConfig {
        tasks: vec![Task::Wnli],
        seeds,
        finetune: FinetuneConfig {
            max_length: 64,
            batch_size: 16,
            epochs: 1,
            evals_per_epoch: 2,
            log_every: 10,
            ..FinetuneConfig::default()
        },
    };
    let device = Device::flex();
    let init = Init::Scratch(model.clone());
    let run = |config: &GlueRunConfig, out: &str, observer: &mut Starts| {
        run_glue(
            &glue,
            &init,
            &encoder,
            config,
            &root.join(out),
            &device,
            observer,
        )
    };
    let mut starts = Starts::default();
    let seed0 = run(&config(vec![0]), "a", &mut starts).unwrap();
    let seed1 = run(&config(vec![1]), "b", &mut starts).unwrap();
    let both = run(&config(vec![0, 1]), "c", &mut starts).unwrap();
    assert_eq!(starts.0, 4);
    let out = root.join("c");
    let wnli = &both.tasks[0];
    assert_eq!((wnli.train_examples, wnli.dev_examples), (635, 71));
    assert_eq!(wnli.seeds.len(), 2);
    // A seed run again, alone or beside another: the same training, the same dev metrics.
    assert_eq!(
        wnli.seeds[0].metrics, seed0.tasks[0].seeds[0].metrics,
        "fine-tuning is not reproducible"
    );
    assert_eq!(wnli.seeds[1].metrics, seed1.tasks[0].seeds[0].metrics);
    assert_eq!(wnli.seeds[0].steps, 40);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["tasks"][0]["task"], "WNLI");
    assert!(json["tasks"][0]["median"]["accuracy"].is_number(), "{json}");
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("| WNLI | accuracy |"), "{md}");
    // Each seed's best dev predictions, in the form `evaluate` reads, give its metrics.
    let written = out
        .join("WNLI/seed-0")
        .join(hashformer_glue::DEV_PREDICTIONS);
    let predictions = hashformer_glue::read_predictions(&written, Task::Wnli).unwrap();
    let gold =
        hashformer_glue::read_file(&glue.join("WNLI/dev.tsv"), Task::Wnli, Split::Dev).unwrap();
    let evaluated = hashformer_glue::evaluate(Task::Wnli, &gold, &predictions).unwrap();
    assert_eq!(evaluated, wnli.seeds[0].metrics);

    // Rerunning into the same directory reuses the finished seeds; other settings are refused.
    let mut again = Starts::default();
    let resumed = run(&config(vec![0, 1]), "c", &mut again).unwrap();
    assert_eq!(again.0, 0, "finished seeds were fine-tuned again");
    assert_same(&resumed.tasks[0].seeds, &wnli.seeds);
    let mut other = config(vec![0]);
    other.finetune.lr *= 2.0;
    let err = run(&other, "a", &mut again).unwrap_err();
    assert!(
        matches!(err, hashformer_glue::Error::BadResults { .. }),
        "{err}"
    );

    // f16 (loss-scaled) fine-tuning: reproducible, the same number of steps; the precision
    // is one of the settings a results directory is kept for.
    let mut half = config(vec![0]);
    half.finetune.precision = Precision::F16;
    let err = run(&half, "a", &mut again).unwrap_err();
    assert!(
        matches!(err, hashformer_glue::Error::BadResults { .. }),
        "{err}"
    );
    let (x, y) = (
        run(&half, "f16-a", &mut again).unwrap(),
        run(&half, "f16-b", &mut again).unwrap(),
    );
    assert_same(&x.tasks[0].seeds, &y.tasks[0].seeds);
    assert_eq!(x.tasks[0].seeds[0].steps, 40);
    assert!(x.tasks[0].seeds[0].metrics.score().is_finite());

    // Seeds run apart merge into the results of running them together.
    let results = |dir: &str| root.join(dir).join("results.json");
    let merged = hashformer_glue::merge_results(&[results("b"), results("a")]).unwrap();
    assert_same(&merged.tasks[0].seeds, &wnli.seeds);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(
        merged.tasks[0].median["accuracy"],
        wnli.median["accuracy"]
    ));
    assert!(close(merged.average.unwrap(), both.average.unwrap()));
    let err = hashformer_glue::merge_results(&[results("a"), results("c")]).unwrap_err();
    assert!(err.to_string().contains("WNLI seed 0 is also in"), "{err}");

    // The kept best model reproduces its dev metrics, whatever the batch size (and so the
    // padding of each batch).
    let best = out.join("WNLI/seed-0/best");
    let (classifier, _) =
        HashformerForSequenceClassification::from_pretrained(&best, None, &device).unwrap();
    let dev = read_split(&glue, Task::Wnli, Split::Dev).unwrap();
    let outputs = |batch| {
        predict(&classifier, &encoder, &dev, batch, &device)
            .unwrap()
            .0
    };
    let (one, many) = (outputs(1), outputs(71));
    assert_eq!(one, many, "predictions depend on batching/padding");
    let gold: Vec<Target> = dev.iter().filter_map(|e| e.target).collect();
    let metrics = TaskMetrics::compute(Task::Wnli, &one, &gold).unwrap();
    assert_eq!(metrics, wnli.seeds[0].metrics);
    let _ = std::fs::remove_dir_all(&root);
}
