//! Parameter and memory breakdown of a whole model, by part (for `hashformer size`).

use hashformer_embeddings::EmbeddingParameters;
use serde::Serialize;

use crate::config::HashformerConfig;
use crate::model::PRETRAIN_CLASSES;

/// Parameters of a model, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModelParameters {
    /// The input layer.
    pub embeddings: EmbeddingParameters,
    /// The encoder layers.
    pub encoder: usize,
    /// The Shuffle+Random head (`dense`).
    pub pretraining_head: usize,
    /// The sequence-classification head (`classifier`).
    pub classification_head: usize,
}

impl ModelParameters {
    /// Embeddings + encoder (what every task model shares).
    pub fn backbone(&self) -> usize {
        self.embeddings.total() + self.encoder
    }

    /// Bytes of the backbone's parameters in f32.
    pub fn backbone_bytes_f32(&self) -> usize {
        4 * self.backbone()
    }
}

impl HashformerConfig {
    /// Parameter counts of the models this config builds.
    pub fn parameters(&self) -> ModelParameters {
        let (h, i) = (self.hidden_size, self.intermediate_size);
        let attention = 4 * (h * h + h);
        let feed_forward = (h * i + i) + (i * h + h);
        let norms = 2 * 2 * h;
        ModelParameters {
            embeddings: self.embeddings().parameters(),
            encoder: self.num_hidden_layers * (attention + feed_forward + norms),
            pretraining_head: h * PRETRAIN_CLASSES + PRETRAIN_CLASSES,
            classification_head: (h * h + h) + (h * self.num_labels + self.num_labels),
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::prelude::Device;
    use hashformer_embeddings::Variant;
    use hashformer_hashing::HashKind;

    use super::*;

    #[test]
    fn formulas_match_the_built_modules() {
        let device = Device::flex();
        for variant in [
            Variant::Emb(HashKind::Md5),
            Variant::Pool(HashKind::Md5),
            Variant::Add(HashKind::Md5),
            Variant::Proj(HashKind::Md5),
        ] {
            let config = HashformerConfig::tiny(variant).with_num_buckets(50);
            let p = config.parameters();
            assert_eq!(
                config.init_pretraining(&device).num_params(),
                p.backbone() + p.pretraining_head
            );
            assert_eq!(
                config.init_classification(&device).num_params(),
                p.backbone() + p.classification_head
            );
        }
    }

    #[test]
    fn roberta_base_encoder() {
        let p = HashformerConfig::base(Variant::Proj(HashKind::Md5)).parameters();
        assert_eq!(p.encoder, 85_054_464);
        assert_eq!(p.embeddings.token, 98_304);
    }
}
