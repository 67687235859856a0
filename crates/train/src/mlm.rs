//! The masked-LM collator over ids (Emb buckets or BPE vocabulary ids), offered next to
//! Shuffle+Random for the id variants (BERT/RoBERTa recipe; not used by the reference's
//! HashFormers).
//!
//! Each ordinary position (id ≥ 5, i.e. not `<s>`, `<pad>`, `</s>`, `<unk>` or `<mask>`) is
//! selected with probability `mask_prob`; a selected token becomes `<mask>` 80 % of the time,
//! a random ordinary id 10 % and stays unchanged 10 %. Its label is the original id; every other
//! position is labelled [`IGNORE_LABEL`]. Unlike HF's collator, random ids never include the
//! special ids.

use std::ops::Range;

use hashformer_hashing::{IdSequence, SpecialToken, NUM_SPECIAL_TOKENS};
use rand::Rng;

use crate::collator::{Labels, IGNORE_LABEL};

/// The masked-LM collator.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskedLm {
    /// Probability that an ordinary position is predicted (BERT: 0.15).
    pub mask_prob: f64,
    /// Ids that random replacement draws from (ordinary ids only).
    pub random_ids: Range<u32>,
}

impl MaskedLm {
    /// A collator over a table of `table_rows` ids (specials included).
    pub fn new(mask_prob: f64, table_rows: u32) -> Self {
        Self {
            mask_prob,
            random_ids: NUM_SPECIAL_TOKENS..table_rows.max(NUM_SPECIAL_TOKENS + 1),
        }
    }

    /// Masks a batch in place and returns its labels (`[batch][seq_len]`).
    pub fn apply_ids<R: Rng>(&self, batch: &mut [IdSequence], rng: &mut R) -> Labels {
        let mask_id = SpecialToken::Mask.id();
        batch
            .iter_mut()
            .map(|seq| {
                seq.input_ids
                    .iter_mut()
                    .map(|id| {
                        if *id < NUM_SPECIAL_TOKENS || !rng.random_bool(self.mask_prob) {
                            return IGNORE_LABEL;
                        }
                        let label = i64::from(*id);
                        let roll: f64 = rng.random();
                        if roll < 0.8 {
                            *id = mask_id;
                        } else if roll < 0.9 {
                            *id = rng.random_range(self.random_ids.clone());
                        }
                        label
                    })
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn sequence(ids: &[u32]) -> IdSequence {
        let mask: Vec<u8> = ids.iter().map(|&i| u8::from(i != 1)).collect();
        IdSequence {
            input_ids: ids.to_vec(),
            position_ids: hashformer_hashing::position_ids(&mask),
            attention_mask: mask,
        }
    }

    #[test]
    fn rates_and_labels() {
        let collator = MaskedLm::new(0.15, 1000);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let original: Vec<u32> = [0].into_iter().chain(5..4005).chain([2, 1, 1]).collect();
        let mut batch = vec![sequence(&original)];
        let labels = collator.apply_ids(&mut batch, &mut rng);
        let (mut selected, mut masked, mut kept) = (0, 0, 0);
        for ((&label, &before), &after) in labels[0].iter().zip(&original).zip(&batch[0].input_ids)
        {
            if before < NUM_SPECIAL_TOKENS {
                assert_eq!(label, IGNORE_LABEL);
                assert_eq!(after, before, "specials are never changed");
                continue;
            }
            if label == IGNORE_LABEL {
                assert_eq!(after, before);
                continue;
            }
            selected += 1;
            assert_eq!(label, i64::from(before));
            masked += usize::from(after == SpecialToken::Mask.id());
            kept += usize::from(after == before);
            assert!(after == SpecialToken::Mask.id() || after >= NUM_SPECIAL_TOKENS);
        }
        // 4000 ordinary tokens: about 600 selected, 480 masked, 60 kept (±4σ).
        assert!((500..700).contains(&selected), "{selected}");
        assert!(
            (masked as f64 / selected as f64 - 0.8).abs() < 0.07,
            "{masked}"
        );
        assert!((kept as f64 / selected as f64 - 0.1).abs() < 0.06, "{kept}");
    }
}
