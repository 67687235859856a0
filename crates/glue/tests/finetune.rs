//! Fine-tuning end to end on real GLUE data with a tiny model: results files, seeds
//! reproducible, the best checkpoint's dev predictions independent of batching and padding.

mod common;

use burn::prelude::Device;
use hashformer_embeddings::EmbeddingKind;
use hashformer_glue::{read_split, run_glue, GlueRunConfig, Label, Split, Task, TaskMetrics};
use hashformer_hashing::HashKind;
use hashformer_model::{HashformerConfig, HashformerForSequenceClassification};
use hashformer_train::{predict, FinetuneConfig, Init, Target, TextEncoder};

#[test]
fn wnli_runs_reproducibly_and_its_best_model_ignores_padding() {
    let Some(glue) = common::glue_dir() else {
        return;
    };
    let out = std::env::temp_dir().join(format!("hashformer-glue-ft-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let model = HashformerConfig::tiny(EmbeddingKind::Proj, Some(HashKind::Md5));
    let encoder = TextEncoder::new(&model, 64, None).unwrap();
    let config = GlueRunConfig {
        tasks: vec![Task::Wnli],
        seeds: vec![0, 0],
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
    let results = run_glue(
        &glue,
        &Init::Scratch(model.clone()),
        &encoder,
        &config,
        &out,
        &device,
        &mut (),
    )
    .unwrap();
    let wnli = &results.tasks[0];
    assert_eq!((wnli.train_examples, wnli.dev_examples), (635, 71));
    assert_eq!(wnli.seeds.len(), 2);
    // The same seed twice: the same training, the same dev metrics.
    assert_eq!(
        wnli.seeds[0].metrics, wnli.seeds[1].metrics,
        "fine-tuning is not reproducible"
    );
    assert_eq!(wnli.seeds[0].steps, 40);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["tasks"][0]["task"], "WNLI");
    assert!(json["tasks"][0]["median"]["accuracy"].is_number(), "{json}");
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("| WNLI | accuracy |"), "{md}");

    // The kept best model reproduces its dev metrics, whatever the batch size (and so the
    // padding of each batch).
    let best = out.join("WNLI/seed-0/best");
    let (classifier, _) =
        HashformerForSequenceClassification::from_pretrained(&best, None, &device).unwrap();
    let dev_rows = read_split(&glue, Task::Wnli, Split::Dev).unwrap();
    let dev: Vec<hashformer_train::Example> = dev_rows
        .iter()
        .map(|e| hashformer_train::Example {
            text_a: e.text_a.clone(),
            text_b: e.text_b.clone(),
            target: e.label.map(|l| match l {
                Label::Class(c) => Target::Class(c),
                Label::Score(s) => Target::Score(s),
            }),
        })
        .collect();
    let outputs = |batch| {
        predict(
            &classifier,
            EmbeddingKind::Proj,
            &encoder,
            &dev,
            batch,
            &device,
        )
        .unwrap()
        .0
    };
    let (one, many) = (outputs(1), outputs(71));
    assert_eq!(one, many, "predictions depend on batching/padding");
    let predicted: Vec<Label> = one
        .iter()
        .map(|o| match o {
            Target::Class(c) => Label::Class(*c),
            Target::Score(s) => Label::Score(*s),
        })
        .collect();
    let gold: Vec<Label> = dev_rows.iter().filter_map(|e| e.label).collect();
    let metrics = TaskMetrics::compute(Task::Wnli, &predicted, &gold).unwrap();
    assert_eq!(metrics, wnli.seeds[0].metrics);
    let _ = std::fs::remove_dir_all(&out);
}
