//! Checkpoint round trips for every variant: the reference's tensor names on disk, identical
//! outputs after reloading, and clean errors for bad directories.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use hashformer_embeddings::{EmbeddingInput, EmbeddingKind, TokenInput, Variant};
use hashformer_hashing::HashKind;
use hashformer_model::{
    Error, HashformerConfig, HashformerForPretraining, HashformerForSequenceClassification,
};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hashformer-ckpt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn input(kind: EmbeddingKind, device: &Device) -> EmbeddingInput {
    let ints = |v: Vec<i64>, shape: [usize; 2]| {
        Tensor::<2, Int>::from_data(TensorData::new(v, shape), device)
    };
    let spec = ints(vec![0, 5, 5, 2, 1, 0, 5, 2, 1, 1], [2, 5]);
    let tokens = match kind {
        EmbeddingKind::Emb | EmbeddingKind::Bpe => {
            TokenInput::Ids(ints(vec![0, 17, 52, 2, 1, 0, 99, 2, 1, 1], [2, 5]))
        }
        EmbeddingKind::Pool => TokenInput::Chunks {
            spec_ids: spec,
            pool_ids: Tensor::<3, Int>::from_data(
                TensorData::new(
                    (0..130).map(|i| (i * 37 % 1025) as i64).collect::<Vec<_>>(),
                    [2, 5, 13],
                ),
                device,
            ),
        },
        EmbeddingKind::Add | EmbeddingKind::Proj => TokenInput::Bits {
            spec_ids: spec,
            hash_bits: Tensor::<3>::from_data(
                TensorData::new(
                    (0..1280)
                        .map(|i| ((i * 7 + i / 3) % 2) as f32)
                        .collect::<Vec<_>>(),
                    [2, 5, 128],
                ),
                device,
            ),
        },
    };
    EmbeddingInput {
        tokens,
        attention_mask: ints(vec![1, 1, 1, 1, 0, 1, 1, 1, 0, 0], [2, 5]),
    }
}

fn keys(dir: &Path) -> BTreeSet<String> {
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    tensors.names().into_iter().map(str::to_owned).collect()
}

const VARIANTS: [(EmbeddingKind, Option<HashKind>); 5] = [
    (EmbeddingKind::Emb, Some(HashKind::Md5)),
    (EmbeddingKind::Pool, Some(HashKind::Lsh)),
    (EmbeddingKind::Add, Some(HashKind::Md5)),
    (EmbeddingKind::Proj, Some(HashKind::Md5)),
    (EmbeddingKind::Bpe, None),
];

#[test]
fn every_variant_round_trips_with_reference_names() {
    let device = Device::flex();
    for (kind, hash) in VARIANTS {
        // Only the table size of the variant is stored: buckets for Emb, the BPE size for Vocab.
        let config = match kind {
            EmbeddingKind::Emb => {
                HashformerConfig::tiny(Variant::new(kind, hash).expect("a valid variant"))
                    .with_num_buckets(100)
            }
            EmbeddingKind::Bpe => {
                HashformerConfig::tiny(Variant::new(kind, hash).expect("a valid variant"))
                    .with_bpe_vocab_size(105)
            }
            _ => HashformerConfig::tiny(Variant::new(kind, hash).expect("a valid variant")),
        };
        device.seed(1);
        let model = config.init_pretraining(&device);
        let dir = temp_dir(&format!("{kind:?}"));
        model.save_pretrained(&config, &dir).unwrap();

        let names = keys(&dir);
        let token_keys: &[&str] = match kind {
            EmbeddingKind::Emb | EmbeddingKind::Bpe => {
                &["roberta.embeddings.word_embeddings.weight"]
            }
            EmbeddingKind::Pool => &[
                "roberta.embeddings.component_embeddings.weight",
                "roberta.embeddings.adaptive_weights",
            ],
            EmbeddingKind::Add => &[
                "roberta.embeddings.proj_mat_1.weight",
                "roberta.embeddings.proj_mat_2.weight",
            ],
            EmbeddingKind::Proj => &["roberta.embeddings.proj_mat.weight"],
        };
        let mut expected: BTreeSet<String> = token_keys.iter().map(|s| s.to_string()).collect();
        if !kind.takes_ids() {
            expected.insert("roberta.embeddings.special_token_embeddings.weight".into());
        }
        for k in [
            "position_embeddings.weight",
            "token_type_embeddings.weight",
            "LayerNorm.weight",
            "LayerNorm.bias",
        ] {
            expected.insert(format!("roberta.embeddings.{k}"));
        }
        for layer in 0..2 {
            for k in [
                "attention.self.query",
                "attention.self.key",
                "attention.self.value",
                "attention.output.dense",
                "attention.output.LayerNorm",
                "intermediate.dense",
                "output.dense",
                "output.LayerNorm",
            ] {
                expected.insert(format!("roberta.encoder.layer.{layer}.{k}.weight"));
                expected.insert(format!("roberta.encoder.layer.{layer}.{k}.bias"));
            }
        }
        expected.insert("dense.weight".into());
        expected.insert("dense.bias".into());
        assert_eq!(names, expected, "{kind:?}");

        // PyTorch layout: linear weights are [out, in].
        let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(
            st.tensor("roberta.encoder.layer.0.intermediate.dense.weight")
                .unwrap()
                .shape(),
            [64, 32]
        );
        if kind == EmbeddingKind::Proj {
            assert_eq!(
                st.tensor("roberta.embeddings.proj_mat.weight")
                    .unwrap()
                    .shape(),
                [32, 128]
            );
        }

        device.seed(2);
        let (loaded, loaded_config) =
            HashformerForPretraining::from_pretrained(&dir, &device).unwrap();
        assert_eq!(loaded_config, config);
        let a = model.forward(input(kind, &device));
        let b = loaded.forward(input(kind, &device));
        a.into_data().assert_eq(&b.into_data(), true);
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn a_pretrained_encoder_loads_under_a_fresh_classifier() {
    let device = Device::flex();
    let config = HashformerConfig::tiny(Variant::Proj(HashKind::Md5));
    let dir = temp_dir("finetune");
    config
        .init_pretraining(&device)
        .save_pretrained(&config, &dir)
        .unwrap();
    let (model, cfg) =
        HashformerForSequenceClassification::from_pretrained(&dir, Some(3), &device).unwrap();
    assert_eq!(cfg.num_labels, 3);
    assert_eq!(
        model.forward(input(EmbeddingKind::Proj, &device)).dims(),
        [2, 3]
    );
    // The other way round, the pre-training head is required.
    let dir2 = temp_dir("cls");
    model.save_pretrained(&cfg, &dir2).unwrap();
    let err = HashformerForPretraining::from_pretrained(&dir2, &device).unwrap_err();
    assert!(matches!(err, Error::Tensor { .. }), "{err}");
    assert!(err.to_string().contains("dense"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&dir2).ok();
}

#[test]
fn bad_directories_fail_cleanly() {
    let device = Device::flex();
    let config = HashformerConfig::tiny(Variant::Add(HashKind::Md5));
    let dir = temp_dir("bad");
    config
        .init_pretraining(&device)
        .save_pretrained(&config, &dir)
        .unwrap();
    let weights = dir.join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();

    // Truncated weights.
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let err = HashformerForPretraining::from_pretrained(&dir, &device).unwrap_err();
    assert!(
        matches!(err, Error::Safetensors { .. } | Error::Tensor { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("model.safetensors"), "{err}");

    // Garbage header claiming a huge size.
    let mut garbage = u64::MAX.to_le_bytes().to_vec();
    garbage.extend_from_slice(b"{}");
    std::fs::write(&weights, &garbage).unwrap();
    assert!(HashformerForPretraining::from_pretrained(&dir, &device).is_err());

    // A config whose width disagrees with the weights names the tensor.
    std::fs::write(&weights, &bytes).unwrap();
    let text = std::fs::read_to_string(dir.join("config.json")).unwrap();
    std::fs::write(
        dir.join("config.json"),
        text.replace("\"intermediate_size\": 64", "\"intermediate_size\": 48"),
    )
    .unwrap();
    let err = HashformerForPretraining::from_pretrained(&dir, &device).unwrap_err();
    assert!(err.to_string().contains("intermediate"), "{err}");

    // Broken JSON names the file.
    std::fs::write(dir.join("config.json"), "{\"hidden_size\": ").unwrap();
    let err = HashformerForPretraining::from_pretrained(&dir, &device).unwrap_err();
    assert!(matches!(err, Error::ConfigJson { .. }), "{err}");

    // A missing directory is an I/O error naming the path.
    let err = HashformerForPretraining::from_pretrained(&dir.join("nope"), &device).unwrap_err();
    assert!(
        matches!(err, Error::Io { .. }) && err.to_string().contains("nope"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn configs_that_do_not_belong_to_their_weights_are_refused_before_building() {
    let device = Device::flex();
    let config = HashformerConfig::tiny(Variant::Proj(HashKind::Md5));
    let dir = temp_dir("mismatch");
    config
        .init_classification(&device)
        .save_pretrained(&config, &dir)
        .unwrap();
    let text = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let edit = |from: &str, to: &str| {
        assert!(text.contains(from), "{from} in {text}");
        std::fs::write(dir.join("config.json"), text.replace(from, to)).unwrap();
        HashformerForSequenceClassification::from_pretrained(&dir, None, &device).unwrap_err()
    };
    // Fewer layers than the weights: was loaded silently, the last layer dropped.
    let err = edit("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1");
    assert!(err.to_string().contains("encoder layers"), "{err}");
    // A width the file does not have (here a huge one): refused from the header, before a
    // model of that size is built.
    let err = edit("\"hidden_size\": 32", "\"hidden_size\": 32768");
    assert!(
        err.to_string().contains("LayerNorm.weight has shape"),
        "{err}"
    );
    // A negative LayerNorm epsilon: was `positive NaN` for every text.
    let err = edit("\"layer_norm_eps\": 0.00001", "\"layer_norm_eps\": -1.0");
    assert!(err.to_string().contains("layer_norm_eps"), "{err}");
    std::fs::write(dir.join("config.json"), &text).unwrap();

    // A NaN in the weights is named.
    let weights = dir.join("model.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let first = 8 + header;
    bytes[first..first + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(&weights, &bytes).unwrap();
    let err =
        HashformerForSequenceClassification::from_pretrained(&dir, None, &device).unwrap_err();
    assert!(err.to_string().contains("NaN or infinite"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn masked_lm_head_for_id_tables() {
    let device = Device::flex();
    let config = HashformerConfig::tiny(Variant::Emb(HashKind::Md5)).with_num_buckets(100);
    let model = config.init_masked_lm(&device).unwrap();
    let scores = model.forward(input(EmbeddingKind::Emb, &device));
    assert_eq!(scores.dims(), [2, 5, 105]);
    let dir = temp_dir("mlm");
    model.save_pretrained(&config, &dir).unwrap();
    let names = keys(&dir);
    for k in [
        "lm_head.dense.weight",
        "lm_head.layer_norm.weight",
        "lm_head.layer_norm.bias",
        "lm_head.bias",
    ] {
        assert!(names.contains(k), "{k} not in {names:?}");
    }
    let (loaded, _) =
        hashformer_model::HashformerForMaskedLm::from_pretrained(&dir, &device).unwrap();
    scores.into_data().assert_eq(
        &loaded
            .forward(input(EmbeddingKind::Emb, &device))
            .into_data(),
        true,
    );
    let err = HashformerConfig::tiny(Variant::Proj(HashKind::Md5))
        .init_masked_lm(&device)
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A checkpoint as the reference writes it (after conversion to safetensors): a config with
/// only HF fields (variant given by the `vocab_size` code), a pooler and the `position_ids`
/// buffer among the tensors.
#[test]
fn reference_style_checkpoints_load() {
    let device = Device::flex();
    let config = HashformerConfig::tiny(Variant::Pool(HashKind::Md5));
    let model = config.init_pretraining(&device);
    let dir = temp_dir("reference-style");
    model.save_pretrained(&config, &dir).unwrap();

    // Add the tensors the reference's state dict also holds.
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Vec<(String, safetensors::tensor::TensorView<'_>)> = st
        .tensors()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let pooler = vec![0u8; 32 * 32 * 4];
    let position_ids: Vec<u8> = (0..514i64).flat_map(|i| i.to_le_bytes()).collect();
    tensors.push((
        "roberta.pooler.dense.weight".into(),
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![32, 32], &pooler)
            .unwrap(),
    ));
    tensors.push((
        "roberta.embeddings.position_ids".into(),
        safetensors::tensor::TensorView::new(safetensors::Dtype::I64, vec![1, 514], &position_ids)
            .unwrap(),
    ));
    let out = safetensors::serialize(tensors, None).unwrap();
    std::fs::write(dir.join("model.safetensors"), out).unwrap();

    // A reference-style config: no embedding_type (vocab_size 0 = Pool), no hash fields.
    let reference = r#"{"architectures": ["RobertaForShuffleRandomThreeWayClassification"],
        "model_type": "roberta", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
        "intermediate_size": 64, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 514, "type_vocab_size": 1,
        "initializer_range": 0.02, "layer_norm_eps": 1e-05, "pad_token_id": 1, "bos_token_id": 0,
        "eos_token_id": 2, "vocab_size": 0}"#;
    std::fs::write(dir.join("config.json"), reference).unwrap();
    let err = HashformerForPretraining::from_pretrained(&dir, &device).unwrap_err();
    assert!(
        err.to_string().contains("hashformer-md-"),
        "the error says how to fix it: {err}"
    );

    std::fs::write(
        dir.join("config.json"),
        reference.replace(
            "\"vocab_size\": 0",
            "\"vocab_size\": 0, \"hash_type\": \"md5\"",
        ),
    )
    .unwrap();
    let (loaded, loaded_config) = HashformerForPretraining::from_pretrained(&dir, &device).unwrap();
    assert_eq!(loaded_config.variant.kind(), EmbeddingKind::Pool);
    model
        .forward(input(EmbeddingKind::Pool, &device))
        .into_data()
        .assert_eq(
            &loaded
                .forward(input(EmbeddingKind::Pool, &device))
                .into_data(),
            true,
        );
    std::fs::remove_dir_all(&dir).ok();
}
