//! The Emb_LSH bucket of real words (roberta-base BPE features) against a plain strict
//! `f64` loop over the reference rotator: the filtered argmax must be bit-for-bit the same.
//! Skipped without `$HASHFORMER_DATA/roberta-base`.

mod common;

use std::collections::BTreeSet;

use hashformer_hashing::{Feature, LegacyRandomState, LshHasher, HASH_ID_OFFSET, ROTATOR_SEED};

/// The reference loop: every score in feature order (separate multiply and add), then the
/// first index of the largest signed score above −10¹⁶.
fn plain_bucket(rotator: &[f64], features: &[Feature]) -> u32 {
    let width = rotator.len();
    let mut scores = vec![0.0f64; width];
    for f in features {
        for (i, s) in scores.iter_mut().enumerate() {
            *s += rotator[(f.id as usize % width + i) % width] * f.weight;
        }
    }
    let mut best = -1e16;
    let mut best_index = 0;
    for (i, &score) in scores.iter().enumerate() {
        let s = if i < width / 2 { score } else { -score };
        if s > best {
            best = s;
            best_index = i;
        }
    }
    best_index as u32 + HASH_ID_OFFSET
}

/// Distinct tokens of the golden files, plus long words (hundreds of features).
fn words() -> BTreeSet<String> {
    let mut words = BTreeSet::new();
    for name in [
        "reference-sample.jsonl",
        "glue.jsonl",
        "wiki.jsonl",
        "unicode.jsonl",
    ] {
        for rec in common::golden_lines(name) {
            for key in ["tokens", "tokens_b"] {
                if let Some(tokens) = rec.get(key).and_then(|t| t.as_array()) {
                    words.extend(tokens.iter().filter_map(|t| t.as_str().map(str::to_owned)));
                }
            }
        }
    }
    for n in [2, 5, 12] {
        words.insert("antidisestablishmentarianism".repeat(n));
    }
    // Pseudo-random letters: long words with many distinct pieces.
    let mut z = 7u64;
    for len in [60, 120, 250, 512] {
        let word: String = (0..len)
            .map(|_| {
                z = z.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                char::from(b'a' + (z >> 59) as u8 % 26)
            })
            .collect();
        words.insert(word);
    }
    words
}

#[test]
fn real_words_match_the_plain_loop() {
    let Some(bpe) = common::roberta_bpe() else {
        eprintln!("skipped: no roberta-base BPE under $HASHFORMER_DATA");
        return;
    };
    let lsh = LshHasher::new(bpe);
    let rotator = LegacyRandomState::new(ROTATOR_SEED).normals(lsh.num_buckets() as usize);
    let words = words();
    assert!(words.len() > 1000, "only {} words", words.len());
    let mut most_features = 0;
    for word in &words {
        let features = lsh.features(word).expect("LSH features");
        most_features = most_features.max(features.len());
        assert_eq!(
            lsh.bucket_of(&features),
            plain_bucket(&rotator, &features),
            "{word:?}: {features:?}"
        );
    }
    eprintln!("{} words, up to {most_features} features", words.len());
    assert!(most_features > 64, "no word reached the f32 filter");
}
