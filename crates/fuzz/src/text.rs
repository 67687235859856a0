//! Text in: the pre-tokeniser and the hashers. Invariants beyond "no panic": every word is
//! non-empty and holds no whitespace, the two word iterators agree, buckets lie in
//! `5..5 + buckets`, and the batched (SIMD lane) paths equal the one-word paths.

use std::sync::OnceLock;

use hashformer_hashing::{
    is_py_space, pre_tokenize, LshHasher, Md5Hasher, RobertaBpe, Signature, TokenHasher, Words,
    DEFAULT_MD5_KEY, DEFAULT_NUM_BUCKETS, HASH_ID_OFFSET,
};

/// Words hashed per LSH input (a cold LSH word costs ~0.1 ms: keep executions fast).
const LSH_WORDS: usize = 64;

/// The pre-tokeniser and HMAC-MD5 on the input read as (lossy) UTF-8.
pub(crate) fn words(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let words = pre_tokenize(&text);
    assert_eq!(Words::new(&text).iter().count(), words.len());
    for word in &words {
        assert!(!word.is_empty(), "an empty word in {text:?}");
        assert!(
            !word.chars().any(is_py_space),
            "whitespace in the word {word:?} of {text:?}"
        );
    }
    let md5 = Md5Hasher::new(DEFAULT_MD5_KEY, DEFAULT_NUM_BUCKETS).expect("the default key");
    let mut batched = Vec::new();
    md5.signatures_into(&words, &mut batched);
    for (word, signature) in words.iter().zip(&batched) {
        assert_eq!(*signature, md5.signature(word), "lanes differ on {word:?}");
        in_range(md5.bucket(word), md5.num_buckets());
    }
    // A key is any bytes, the bucket count any positive number.
    if let Some((&first, rest)) = data.split_first() {
        let buckets = u32::from(first) + 1;
        let keyed = Md5Hasher::new(&rest[..rest.len().min(80)], buckets);
        if let Ok(keyed) = keyed {
            for word in words.iter().take(8) {
                in_range(keyed.bucket(word), buckets);
            }
        }
    }
}

/// LSH on the first [`LSH_WORDS`] words of the input. Needs roberta-base's BPE files in the
/// data directory; without them the target does nothing (`cargo xtask fuzz` and the replay
/// test check for them first).
pub(crate) fn lsh(data: &[u8]) {
    let Some(lsh) = lsh_hasher() else {
        return;
    };
    let text = String::from_utf8_lossy(data);
    let words = pre_tokenize(&text);
    let words: Vec<&str> = words.iter().take(LSH_WORDS).map(String::as_str).collect();
    let mut batched: Vec<Signature> = Vec::new();
    let all = lsh.signatures_into(&words, &mut batched);
    for (i, word) in words.iter().enumerate() {
        match (lsh.signature(word), lsh.bucket(word)) {
            (Ok(signature), Ok(bucket)) => {
                if all.is_ok() {
                    assert_eq!(batched[i], signature, "batch differs on {word:?}");
                }
                in_range(bucket, lsh.num_buckets());
            }
            // A BPE error is an answer; it must not be a panic.
            (Err(_), _) | (_, Err(_)) => {}
        }
    }
}

fn in_range(bucket: u32, buckets: u32) {
    assert!(
        (HASH_ID_OFFSET..HASH_ID_OFFSET + buckets).contains(&bucket),
        "bucket {bucket} outside {HASH_ID_OFFSET}..{}",
        HASH_ID_OFFSET + buckets
    );
}

/// roberta-base's BPE from the data directory, loaded once.
fn lsh_hasher() -> Option<&'static LshHasher> {
    static HASHER: OnceLock<Option<LshHasher>> = OnceLock::new();
    HASHER
        .get_or_init(|| {
            let root = hashformer_files::data_root().ok()?;
            let bpe = RobertaBpe::from_dir(&root.join("roberta-base")).ok()?;
            Some(LshHasher::new(bpe))
        })
        .as_ref()
}
