//! Configs and checkpoints: `config.json` as ours or the reference's `save_pretrained` writes
//! it, and whole checkpoint directories loaded on the CPU. Bad files must give an error naming
//! the file or field; a config that loads must survive being written back and read again.

use std::path::Path;

use burn::prelude::Device;
use hashformer_model::{HashformerForSequenceClassification, HfConfig, CONFIG_FILE, WEIGHTS_FILE};

use crate::scratch;

/// `config.json` text: parsed, converted and validated; a config that loads round-trips.
pub(crate) fn config_json(data: &[u8]) {
    let path = Path::new(CONFIG_FILE);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = HfConfig::parse(text, path).and_then(|hf| hf.to_config()) else {
        return;
    };
    let written = serde_json::to_string(&HfConfig::from_config(&config, "Fuzz"))
        .expect("a config serialises");
    let mut again = HfConfig::parse(&written, path)
        .and_then(|hf| hf.to_config())
        .expect("a written config reads back");
    // serde_json's default float parser is not correctly rounded: `1e-50` reads one ulp below
    // the nearest f64 (found by this target, fuzz/regressions/config_json/), so a float may
    // move by one ulp on the first round trip. Its `float_roundtrip` feature fixes that; it
    // rebuilds the whole Burn stack, so it is its own change (docs/reliability.md).
    for (after, before) in [
        (&mut again.hidden_dropout_prob, config.hidden_dropout_prob),
        (
            &mut again.attention_probs_dropout_prob,
            config.attention_probs_dropout_prob,
        ),
        (&mut again.layer_norm_eps, config.layer_norm_eps),
        (&mut again.initializer_range, config.initializer_range),
    ] {
        if (*after - before).abs() <= 2.0 * f64::EPSILON * before.abs() {
            *after = before;
        }
    }
    assert_eq!(
        again, config,
        "the config changed on a round trip through {written}"
    );
}

/// A checkpoint directory: the first two bytes (little-endian) give the length of
/// `config.json`, the rest after it is `model.safetensors`; loaded as a classifier on Flex.
pub(crate) fn checkpoint(data: &[u8]) {
    let (config, weights) = match data {
        [lo, hi, rest @ ..] => {
            let n = usize::from(u16::from_le_bytes([*lo, *hi])).min(rest.len());
            rest.split_at(n)
        }
        _ => (data, &[][..]),
    };
    scratch::file(CONFIG_FILE, config);
    let path = scratch::file(WEIGHTS_FILE, weights);
    let dir = path.parent().expect("a scratch file has a folder");
    let _ = HashformerForSequenceClassification::from_pretrained(dir, None, &Device::flex());
}
