//! Shared helpers of the hashing integration tests.

use hashformer_hashing::RobertaBpe;

/// roberta-base BPE from `$HASHFORMER_DATA/roberta-base`.
pub fn roberta_bpe() -> Option<RobertaBpe> {
    let dir = hashformer_testkit::shared_data("roberta-base")?.join("roberta-base");
    Some(RobertaBpe::from_dir(&dir).unwrap_or_else(|e| panic!("loading {}: {e}", dir.display())))
}

/// The lines of a checked-in golden file.
#[allow(dead_code)] // each test binary uses its own subset of these helpers
pub fn golden_lines(name: &str) -> Vec<serde_json::Value> {
    let path = hashformer_testkit::manifest_dir!()
        .join("tests/golden")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{name} line {}: {e}", i + 1))
        })
        .collect()
}
