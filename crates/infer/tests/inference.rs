//! Classifier and Embedder on saved tiny checkpoints: batch-size independence, pooling, pairs,
//! label names, and the errors for directories that are not fine-tuned checkpoints.

use burn::prelude::*;
use hashformer_embeddings::Variant;
use hashformer_hashing::HashKind;
use hashformer_infer::{
    Classifier, Embedder, Error, InferenceOptions, Pooling, Precision, TextInput,
};
use hashformer_model::HashformerConfig;
use hashformer_testkit::TempDir;

const TEXTS: [&str; 4] = [
    "a fine day",
    "no",
    "the cat sat on the mat , twice over",
    "ok then",
];

fn config(labels: usize) -> HashformerConfig {
    HashformerConfig::tiny(Variant::Proj(HashKind::Md5))
        .with_num_labels(labels)
        .with_hidden_dropout_prob(0.0)
        .with_attention_probs_dropout_prob(0.0)
}

/// A fine-tuned-style checkpoint directory of `config`.
fn classifier_dir(tag: &str, config: &HashformerConfig) -> TempDir {
    let device = Device::flex();
    device.seed(3);
    let dir = TempDir::new(tag);
    config
        .init_classification(&device)
        .save_pretrained(config, dir.path())
        .unwrap();
    dir
}

fn batch(size: usize) -> InferenceOptions {
    InferenceOptions {
        max_length: 32,
        batch_size: size,
        ..InferenceOptions::default()
    }
}

/// `bf16` and `f16` inference: the scores move (it ran in the half type) but stay within
/// the precision's tolerance of `f32`'s, and the embedder's vectors likewise.
#[test]
fn half_precision_inference_stays_close_to_f32() {
    let device = Device::flex();
    let dir = classifier_dir("infer-precision", &config(3));
    let f32_scores = Classifier::from_pretrained_with(dir.path(), batch(4), &device)
        .unwrap()
        .classify(&TEXTS)
        .unwrap();
    let f32_vectors = Embedder::from_pretrained_with(dir.path(), batch(4), &device)
        .unwrap()
        .embed(&TEXTS)
        .unwrap();
    for (precision, tolerance) in [(Precision::Bf16, 0.05), (Precision::F16, 0.01)] {
        let options = InferenceOptions {
            precision,
            ..batch(4)
        };
        let scores = Classifier::from_pretrained_with(dir.path(), options.clone(), &device)
            .unwrap()
            .classify(&TEXTS)
            .unwrap();
        let vectors = Embedder::from_pretrained_with(dir.path(), options, &device)
            .unwrap()
            .embed(&TEXTS)
            .unwrap();
        let pairs = f32_scores
            .iter()
            .zip(&scores)
            .flat_map(|(a, b)| a.scores.iter().zip(&b.scores).map(|(x, y)| (*x, *y)));
        let pairs = pairs.chain(
            f32_vectors
                .iter()
                .zip(&vectors)
                .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (*x, *y))),
        );
        let worst = pairs.map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        assert!(worst > 0.0 && worst <= tolerance, "{precision}: {worst}");
    }
}

#[test]
fn scores_and_vectors_do_not_depend_on_batching() {
    let device = Device::flex();
    let dir = classifier_dir("infer-batching", &config(3));
    let one = Classifier::from_pretrained_with(dir.path(), batch(1), &device).unwrap();
    let all = Classifier::from_pretrained_with(dir.path(), batch(4), &device).unwrap();
    let (a, b) = (one.classify(&TEXTS).unwrap(), all.classify(&TEXTS).unwrap());
    assert_eq!(a.len(), 4);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.scores.len(), 3);
        assert!((x.scores.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{x:?}");
        assert_eq!(x.label, y.label);
        assert_eq!(
            one.labels()
                .iter()
                .position(|l| *l == x.label)
                .map(|i| x.scores[i]),
            Some(x.score)
        );
        for (p, q) in x.scores.iter().zip(&y.scores) {
            assert!((p - q).abs() < 1e-5, "{x:?} vs {y:?}");
        }
    }
    assert_eq!(one.labels(), ["LABEL_0", "LABEL_1", "LABEL_2"]);
    assert!(one.classify::<&str>(&[]).unwrap().is_empty());
    for pooling in [Pooling::Mean, Pooling::First] {
        let e1 = Embedder::from_pretrained_with(dir.path(), batch(1), &device).unwrap();
        let e3 = Embedder::from_pretrained_with(dir.path(), batch(3), &device).unwrap();
        let v1 = e1.with_pooling(pooling).embed(&TEXTS).unwrap();
        let v3 = e3.with_pooling(pooling).embed(&TEXTS).unwrap();
        assert_eq!(v1[2].len(), 32);
        for (a, b) in v1.iter().zip(&v3) {
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() < 1e-4, "{pooling:?}");
            }
        }
    }
    // Mean and first differ (the mean reads more than `<s>`); normalised vectors have length 1.
    let embedder = |p| {
        Embedder::from_pretrained(dir.path(), &device)
            .unwrap()
            .with_pooling(p)
    };
    let mean = embedder(Pooling::Mean).embed(&TEXTS).unwrap();
    let first = embedder(Pooling::First).embed(&TEXTS).unwrap();
    assert_ne!(mean[2], first[2]);
    let unit = embedder(Pooling::Mean)
        .with_normalize(true)
        .embed(&TEXTS)
        .unwrap();
    let norm: f32 = unit[2].iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5, "{norm}");
}

#[test]
fn pairs_regression_and_label_names() {
    let device = Device::flex();
    let named = config(2).with_id2label(vec!["negative".into(), "positive".into()]);
    let dir = classifier_dir("infer-named", &named);
    let classifier = Classifier::from_pretrained(dir.path(), &device).unwrap();
    assert_eq!(classifier.labels(), ["negative", "positive"]);
    assert!(!classifier.is_regression());
    let pairs = [
        TextInput::pair("a premise", "a hypothesis"),
        TextInput::single("a premise"),
    ];
    let out = classifier.classify_inputs(&pairs).unwrap();
    // A pair is not its first text alone.
    assert_ne!(out[0].scores, out[1].scores);

    let dir = classifier_dir("infer-regression", &config(1));
    let regression = Classifier::from_pretrained(dir.path(), &device).unwrap();
    assert!(regression.is_regression());
    let out = regression.classify(&["a", "b c"]).unwrap();
    assert_eq!(out[0].scores.len(), 1);
    assert_eq!(out[0].score, out[0].scores[0]);
    assert_eq!(out[0].label, "LABEL_0");
}

#[test]
fn directories_that_are_not_classifiers_are_errors() {
    let device = Device::flex();
    let missing = TempDir::new("infer-missing");
    let nowhere = missing.join("nowhere");
    assert!(matches!(
        Classifier::from_pretrained(&nowhere, &device),
        Err(Error::NoModelDir { dir }) if dir == nowhere
    ));
    assert!(matches!(
        Embedder::from_pretrained(missing.path(), &device),
        Err(Error::MissingFile {
            file: "config.json",
            ..
        })
    ));
    // A pre-trained encoder: embeddings yes, classification no.
    let encoder = TempDir::new("infer-pretrained");
    let config = config(2);
    config
        .init_pretraining(&device)
        .save_pretrained(&config, encoder.path())
        .unwrap();
    let err = Classifier::from_pretrained(encoder.path(), &device).unwrap_err();
    assert!(matches!(err, Error::NotAClassifier { .. }), "{err}");
    assert!(err.to_string().contains("hashformer embed"), "{err}");
    assert!(Embedder::from_pretrained(encoder.path(), &device).is_ok());
    // Label names that do not fit the head.
    let bad = TempDir::new("infer-bad-labels");
    let three = config.clone().with_num_labels(3);
    three
        .init_classification(&device)
        .save_pretrained(&three, bad.path())
        .unwrap();
    let path = bad.join("config.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    json["id2label"] = serde_json::json!({"0": "a"});
    std::fs::write(&path, json.to_string()).unwrap();
    let err = Classifier::from_pretrained(bad.path(), &device).unwrap_err();
    let source = std::error::Error::source(&err).map(ToString::to_string);
    assert!(matches!(err, Error::Model { .. }), "{err}");
    assert!(source.is_some_and(|s| s.contains("id2label")), "{err}");
    // An LSH model without the BPE says what it needs, through the source chain.
    let lsh = TempDir::new("infer-lsh");
    let lsh_config = HashformerConfig::tiny(Variant::Proj(HashKind::Lsh));
    lsh_config
        .init_classification(&device)
        .save_pretrained(&lsh_config, lsh.path())
        .unwrap();
    let err = Classifier::from_pretrained(lsh.path(), &device).unwrap_err();
    let source = std::error::Error::source(&err).map(ToString::to_string);
    assert!(
        source.is_some_and(|s| s.contains("roberta-base BPE")),
        "{err}"
    );
}
