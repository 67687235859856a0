//! What the objective computes on a micro-batch: the collator that makes its labels, the
//! model with its head ([`PretrainModel`]), the labelled positions and the loss.

use std::path::Path;

use burn::module::Module;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use hashformer_model::{
    EncodedBatch, HashformerConfig, HashformerForMaskedLm, HashformerForPretraining,
};
use rand_chacha::ChaCha8Rng;

use hashformer_embeddings::EmbeddingKind;

use crate::collator::{Labels, RandomContent, ShuffleRandom, IGNORE_LABEL};
use crate::error::Result;
use crate::mlm::MaskedLm;
use crate::pretrain::config::{Objective, PretrainConfig};

/// The objective's collator: rewrites a micro-batch's tokens and gives its labels.
#[derive(Debug, Clone)]
pub(crate) enum Collator {
    ShuffleRandom(ShuffleRandom),
    MaskedLm(MaskedLm),
}

impl Collator {
    /// The collator `config`'s objective and variant ask for.
    pub(crate) fn for_config(config: &PretrainConfig) -> Self {
        let rows = config.model.vocab_size();
        match config.objective {
            Objective::ShuffleRandom { manipulate_prob } => {
                let random = match config.model.variant.kind() {
                    _ if config.model.variant.kind().takes_ids() => {
                        RandomContent::Ids(0..u32::try_from(rows).unwrap_or(u32::MAX))
                    }
                    EmbeddingKind::Pool => RandomContent::UniformSignature,
                    _ => RandomContent::BiasedBits,
                };
                Self::ShuffleRandom(ShuffleRandom::new(manipulate_prob, random))
            }
            Objective::MaskedLm { mask_prob } => Self::MaskedLm(MaskedLm::new(
                mask_prob,
                u32::try_from(rows).unwrap_or(u32::MAX),
            )),
        }
    }

    pub(crate) fn apply(&self, batch: &mut EncodedBatch, rng: &mut ChaCha8Rng) -> Labels {
        if let Some(s) = batch.ids_mut() {
            return match self {
                Self::ShuffleRandom(c) => c.apply_ids(s, rng),
                Self::MaskedLm(c) => c.apply_ids(s, rng),
            };
        }
        let s = batch.hashes_mut().expect("a batch holds ids or hashes");
        match self {
            Self::ShuffleRandom(c) => c.apply_hashes(s, rng),
            // `PretrainConfig::validate` rejects masked LM for hash variants.
            Self::MaskedLm(_) => {
                unreachable!("masked LM over hash inputs is rejected by validate()")
            }
        }
    }
}

/// The model being pre-trained.
#[derive(Module, Debug)]
pub enum PretrainModel {
    /// Shuffle+Random head.
    ShuffleRandom(HashformerForPretraining),
    /// Masked-LM head.
    MaskedLm(HashformerForMaskedLm),
}

impl PretrainModel {
    pub(crate) fn init(config: &PretrainConfig, device: &Device) -> Result<Self> {
        Ok(match config.objective {
            Objective::ShuffleRandom { .. } => {
                let mut model = config.model.init_pretraining(device);
                model.roberta.precision = config.precision;
                Self::ShuffleRandom(model)
            }
            Objective::MaskedLm { .. } => {
                let mut model = config.model.init_masked_lm(device)?;
                model.roberta.precision = config.precision;
                Self::MaskedLm(model)
            }
        })
    }

    pub(crate) fn load(config: &PretrainConfig, dir: &Path, device: &Device) -> Result<Self> {
        let mut model = Self::init(config, device)?;
        match &mut model {
            Self::ShuffleRandom(m) => hashformer_model::load_weights(m, dir, &[])?,
            Self::MaskedLm(m) => hashformer_model::load_weights(m, dir, &[])?,
        }
        Ok(model)
    }

    pub(crate) fn save(&self, config: &HashformerConfig, dir: &Path) -> Result<()> {
        match self {
            Self::ShuffleRandom(m) => m.save_pretrained(config, dir)?,
            Self::MaskedLm(m) => m.save_pretrained(config, dir)?,
        }
        Ok(())
    }

    /// Logits at the labelled positions: `[n, classes]` for `rows` (indices into the
    /// flattened `[batch · seq_len]` positions).
    pub(crate) fn logits(
        &self,
        batch: &EncodedBatch,
        rows: Tensor<1, Int>,
        device: &Device,
    ) -> Tensor<2> {
        let input = batch.to_input(device);
        match self {
            Self::ShuffleRandom(m) => {
                let logits = m.forward(input);
                let [b, l, c] = logits.dims();
                logits.reshape([b * l, c]).select(0, rows)
            }
            Self::MaskedLm(m) => m.forward_rows(input, rows),
        }
    }
}

/// Labelled positions of a micro-batch cut to the length `EncodedBatch::to_input` uses.
pub(crate) struct Targets {
    pub(crate) rows: Vec<i64>,
    pub(crate) labels: Vec<i64>,
}

pub(crate) fn targets(batch: &EncodedBatch, labels: &Labels) -> Targets {
    // The same cut as the model input: the longest real sequence, at least 1.
    let seq_len = batch.cut_length();
    let mut out = Targets {
        rows: Vec::new(),
        labels: Vec::new(),
    };
    for (b, row) in labels.iter().enumerate() {
        for (i, &label) in row.iter().take(seq_len).enumerate() {
            if label != IGNORE_LABEL {
                out.rows.push((b * seq_len + i) as i64);
                out.labels.push(label);
            }
        }
    }
    out
}

/// Mean cross-entropy over the rows of `logits` with `labels`, and the arg-max predictions
/// (still on the device: read them with [`read_predictions`] once all work is queued).
pub(crate) fn loss_and_predictions(
    logits: Tensor<2>,
    labels: &[i64],
    device: &Device,
) -> (Tensor<1>, Tensor<1, Int>) {
    let n = labels.len();
    let label_tensor = Tensor::<1, Int>::from_data(TensorData::new(labels.to_vec(), [n]), device);
    let predictions = logits.clone().detach().argmax(1).reshape([n]);
    let picked = log_softmax(logits, 1).gather(1, label_tensor.reshape([n, 1]));
    (picked.mean().neg(), predictions)
}

pub(crate) fn read_predictions(predictions: Tensor<1, Int>) -> Vec<i64> {
    predictions
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .unwrap_or_default()
}
