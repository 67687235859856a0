//! Helpers shared by the slice-kernel test suites (`rows.rs`, `attention.rs`).

/// Deterministic values in about [-2, 2).
pub fn values(seed: u64, len: usize) -> Vec<f32> {
    (0..len as u64)
        .map(|i| (hashformer_kernels::draw(seed, i) >> 40) as f32 / (1u64 << 22) as f32 - 2.0)
        .collect()
}

/// Element-wise `|got − want| ≤ tol · (1 + |want|)`, naming the first element that is not.
pub fn assert_close(got: &[f32], want: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{i}]: {g} vs {w}"
        );
    }
}

/// `f` run inside a rayon pool of `threads` threads.
pub fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}
