//! One libFuzzer binary for every target of `hashformer-fuzz`: `$HASHFORMER_FUZZ_TARGET`
//! names the target (`cargo xtask fuzz` sets it; see crates/fuzz).
#![no_main]

use std::sync::OnceLock;

use hashformer_fuzz::Target;

/// The environment variable naming the target.
const TARGET_VAR: &str = "HASHFORMER_FUZZ_TARGET";

fn target() -> &'static Target {
    static TARGET: OnceLock<&'static Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        let name = std::env::var(TARGET_VAR).unwrap_or_default();
        hashformer_fuzz::target(&name).unwrap_or_else(|| {
            let names: Vec<&str> = hashformer_fuzz::TARGETS.iter().map(|t| t.name).collect();
            eprintln!("set {TARGET_VAR} to one of {}", names.join(", "));
            std::process::exit(2)
        })
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| (target().run)(data));
