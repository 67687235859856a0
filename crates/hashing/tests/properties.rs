//! Property tests: no input panics, outputs are deterministic, and encodings keep their
//! invariants (lengths, mask, truncation, position ids) for any text and length.

mod common;

use hashformer_hashing::{
    is_py_space, is_py_word, layout_pair, pair_truncation, pre_tokenize, py_lower, LshHasher,
    Md5Hasher, SequenceEncoder, TextInput, HASH_ID_OFFSET, MAX_EXACT_WORD_CHARS,
};
use proptest::prelude::*;

/// Text drawn from a mix of scripts, marks, controls and separators.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,80}",
        "[a-zA-Z0-9 _'.,!?-]{0,80}",
        "[\\x00-\\x20\\u{85}\\u{a0}\\u{300}-\\u{36f}\\u{200b}-\\u{200d}\\u{3a3}\\u{130}ΣσςⒶ①Ⅻ½İ a-z]{0,60}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn pre_tokenize_partitions_the_non_space_characters(text in any_text()) {
        let tokens = pre_tokenize(&text);
        let lowered = py_lower(&text);
        let non_space: String = lowered.chars().filter(|&c| !is_py_space(c)).collect();
        prop_assert_eq!(tokens.concat(), non_space);
        for t in &tokens {
            prop_assert!(!t.is_empty());
            let word = t.chars().map(is_py_word).collect::<Vec<_>>();
            prop_assert!(word.iter().all(|&w| w) || word.iter().all(|&w| !w), "mixed token {:?}", t);
        }
        prop_assert_eq!(pre_tokenize(&text), tokens);
    }

    #[test]
    fn encoding_invariants(a in any_text(), b in proptest::option::of(any_text()), max_length in 4usize..40) {
        let enc = SequenceEncoder::new(Md5Hasher::default(), max_length).unwrap();
        let input = TextInput { text: &a, text_b: b.as_deref() };
        let ids = enc.encode_ids(input).unwrap();
        let hashes = enc.encode_hashes(input).unwrap();
        prop_assert_eq!(ids.input_ids.len(), max_length);
        prop_assert_eq!(ids.attention_mask.len(), max_length);
        prop_assert_eq!(hashes.signatures.len(), max_length);
        let attended = ids.attention_mask.iter().take_while(|&&m| m == 1).count();
        prop_assert!(ids.attention_mask[attended..].iter().all(|&m| m == 0), "mask is not a prefix");
        prop_assert_eq!(ids.input_ids[0], 0);
        prop_assert_eq!(ids.input_ids[attended - 1], 2);
        for (k, (&id, &pos)) in ids.input_ids.iter().zip(&ids.position_ids).enumerate() {
            if k < attended {
                prop_assert_eq!(pos as usize, k + 2);
                prop_assert!(id == 0 || id == 2 || (HASH_ID_OFFSET..HASH_ID_OFFSET + 50_260).contains(&id));
            } else {
                prop_assert_eq!((id, pos), (1, 1));
            }
        }
        prop_assert_eq!(&hashes.attention_mask, &ids.attention_mask);
        prop_assert_eq!(&hashes.position_ids, &ids.position_ids);
        let n1 = pre_tokenize(&a).len();
        match &b {
            None => prop_assert_eq!(attended, n1.min(max_length - 2) + 2),
            Some(b) => {
                let n2 = pre_tokenize(b).len();
                let (k1, k2) = pair_truncation(n1, n2, max_length);
                prop_assert!(k1 <= n1 && k2 <= n2);
                prop_assert_eq!(attended, k1 + k2 + 4);
                if n1 + n2 + 4 <= max_length {
                    prop_assert_eq!((k1, k2), (n1, n2));
                } else if max_length % 2 == 0 {
                    prop_assert_eq!(attended, max_length);
                }
            }
        }
    }

    #[test]
    fn pair_truncation_fits(n1 in 0usize..300, n2 in 0usize..300, max_length in 4usize..300) {
        let (k1, k2) = pair_truncation(n1, n2, max_length);
        prop_assert!(k1 + k2 + 4 <= max_length);
        let words_a = vec!["a"; n1];
        let words_b = vec!["b"; n2];
        let layout = layout_pair(&words_a, &words_b, max_length);
        prop_assert_eq!(layout.slots.len(), max_length);
        prop_assert_eq!(layout.attended, k1 + k2 + 4);
    }

    #[test]
    fn md5_is_deterministic_and_in_range(word in ".{0,40}", buckets in 1u32..100_000) {
        let h = Md5Hasher::new(b"en", buckets).unwrap();
        prop_assert_eq!(h.signature(&word), h.signature(&word));
        let b = h.bucket(&word);
        prop_assert!((HASH_ID_OFFSET..HASH_ID_OFFSET + buckets).contains(&b));
    }
}

#[test]
fn lsh_never_panics_and_is_deterministic() {
    let Some(bpe) = common::roberta_bpe() else {
        return;
    };
    let lsh = LshHasher::new(bpe);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    });
    runner
        .run(&any_text(), |text| {
            for word in pre_tokenize(&text) {
                let s = lsh.signature(&word).unwrap();
                prop_assert_eq!(s, lsh.signature(&word).unwrap());
                let b = lsh.bucket(&word).unwrap();
                prop_assert!((HASH_ID_OFFSET..HASH_ID_OFFSET + 50_260).contains(&b));
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn huge_and_odd_inputs_do_not_panic() {
    let huge = "x".repeat(1 << 20);
    let tokens = pre_tokenize(&huge);
    assert_eq!(tokens.len(), 1);
    let md5 = Md5Hasher::default();
    let _ = md5.bucket(&tokens[0]);
    for text in [
        "",
        "\u{0}",
        "\u{feff}",
        "\u{10ffff}",
        "\u{1c}\u{1d}\u{1e}\u{1f}",
    ] {
        let enc = SequenceEncoder::new(&md5, 8).unwrap();
        enc.encode_ids(TextInput::pair(text, text)).unwrap();
    }
    let Some(bpe) = common::roberta_bpe() else {
        return;
    };
    let lsh = LshHasher::new(bpe);
    // A 1 MB word costs the same as its first MAX_EXACT_WORD_CHARS characters.
    let capped: String = huge.chars().take(MAX_EXACT_WORD_CHARS).collect();
    assert_eq!(
        lsh.signature(&huge).unwrap(),
        lsh.signature(&capped).unwrap()
    );
    assert_eq!(lsh.bucket(&huge).unwrap(), lsh.bucket(&capped).unwrap());
}
