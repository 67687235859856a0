//! Criterion benchmarks of hashformers live in `benches/`; this library is empty.
