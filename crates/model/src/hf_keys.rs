//! The one table between our module paths and the reference's (HF PyTorch) tensor names.
//!
//! Burn paths come from field names (`roberta.encoder.layers.0.attention_norm.gamma`), the
//! reference's from its modules (`roberta.encoder.layer.0.attention.output.LayerNorm.weight`).
//! `gamma`/`beta` ↔ `weight`/`bias` and the `[in, out]` ↔ `[out, in]` transposition of
//! linear weights are done by burn-store's PyTorch adapters; these patterns do the rest.
//! Patterns run in order on each key (regex syntax of the `regex` crate).

/// Burn path → reference name (saving).
pub const TO_REFERENCE: &[(&str, &str)] = &[
    (
        r"embeddings\.token\.weight$",
        "embeddings.word_embeddings.weight",
    ),
    (
        r"embeddings\.token\.component_embeddings$",
        "embeddings.component_embeddings.weight",
    ),
    (r"embeddings\.token\.", "embeddings."),
    (
        r"embeddings\.(special_token_embeddings|position_embeddings|token_type_embeddings)$",
        "embeddings.$1.weight",
    ),
    (r"embeddings\.layer_norm\.", "embeddings.LayerNorm."),
    (
        r"encoder\.layers\.(\d+)\.attention\.(query|key|value)\.",
        "encoder.layer.$1.attention.self.$2.",
    ),
    (
        r"encoder\.layers\.(\d+)\.attention\.output\.",
        "encoder.layer.$1.attention.output.dense.",
    ),
    (
        r"encoder\.layers\.(\d+)\.attention_norm\.",
        "encoder.layer.$1.attention.output.LayerNorm.",
    ),
    (
        r"encoder\.layers\.(\d+)\.intermediate\.",
        "encoder.layer.$1.intermediate.dense.",
    ),
    (
        r"encoder\.layers\.(\d+)\.output\.",
        "encoder.layer.$1.output.dense.",
    ),
    (
        r"encoder\.layers\.(\d+)\.output_norm\.",
        "encoder.layer.$1.output.LayerNorm.",
    ),
];

/// Reference name → Burn path (loading).
pub const FROM_REFERENCE: &[(&str, &str)] = &[
    (
        r"embeddings\.word_embeddings\.weight$",
        "embeddings.token.weight",
    ),
    (
        r"embeddings\.component_embeddings\.weight$",
        "embeddings.token.component_embeddings",
    ),
    (
        r"embeddings\.adaptive_weights$",
        "embeddings.token.adaptive_weights",
    ),
    (
        r"embeddings\.(proj_mat(?:_1|_2)?)\.weight$",
        "embeddings.token.$1.weight",
    ),
    (
        r"embeddings\.(special_token_embeddings|position_embeddings|token_type_embeddings)\.weight$",
        "embeddings.$1",
    ),
    (r"embeddings\.LayerNorm\.", "embeddings.layer_norm."),
    (
        r"encoder\.layer\.(\d+)\.attention\.self\.(query|key|value)\.",
        "encoder.layers.$1.attention.$2.",
    ),
    (
        r"encoder\.layer\.(\d+)\.attention\.output\.dense\.",
        "encoder.layers.$1.attention.output.",
    ),
    (
        r"encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\.",
        "encoder.layers.$1.attention_norm.",
    ),
    (
        r"encoder\.layer\.(\d+)\.intermediate\.dense\.",
        "encoder.layers.$1.intermediate.",
    ),
    (
        r"encoder\.layer\.(\d+)\.output\.dense\.",
        "encoder.layers.$1.output.",
    ),
    (
        r"encoder\.layer\.(\d+)\.output\.LayerNorm\.",
        "encoder.layers.$1.output_norm.",
    ),
];

/// The reference's name for one of our tensor paths (for messages): the [`TO_REFERENCE`]
/// patterns plus `gamma`/`beta` → `weight`/`bias`.
pub fn reference_name(burn_path: &str) -> String {
    let mut name = burn_path.to_owned();
    for (pattern, replacement) in TO_REFERENCE {
        // The table's patterns are constants exercised by the round-trip tests.
        let re = regex::Regex::new(pattern).expect("hf_keys patterns are valid regexes");
        name = re.replace_all(&name, *replacement).into_owned();
    }
    if let Some(stem) = name.strip_suffix(".gamma") {
        name = format!("{stem}.weight");
    } else if let Some(stem) = name.strip_suffix(".beta") {
        name = format!("{stem}.bias");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_for_messages() {
        assert_eq!(
            reference_name("roberta.embeddings.layer_norm.gamma"),
            "roberta.embeddings.LayerNorm.weight"
        );
        assert_eq!(
            reference_name("roberta.encoder.layers.3.attention_norm.beta"),
            "roberta.encoder.layer.3.attention.output.LayerNorm.bias"
        );
        assert_eq!(
            reference_name("roberta.embeddings.token.proj_mat.weight"),
            "roberta.embeddings.proj_mat.weight"
        );
    }
}
