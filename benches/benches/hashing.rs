//! Hashing benchmarks (placeholder replaced below).
fn main() {}
