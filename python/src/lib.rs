//! `hashformers._hashformers`: the native half of the `hashformers` Python package.
//!
//! It wraps `hashformer-hashing` (bit-exact with the official HashFormers tokenisers) in one
//! class, [`core::Core`], per hashing scheme; the public tokeniser classes, their argument
//! handling and their documentation live in `hashformers/_tokenizers.py`. Every method copies
//! its strings out of Python, releases the GIL and hashes on all cores (rayon), then builds
//! Python lists or numpy arrays. Errors become `ValueError`, `TypeError`, `OSError` or
//! `MemoryError`; nothing here panics on any input.

mod core;
mod hasher;
mod input;
mod output;

use pyo3::prelude::*;

/// `numpy.base_repr(value + 5, base=36)` for a 128-bit hash value: how the reference's
/// `Md5Tokenizer` and `LSHTokenizer` write an ordinary token.
#[pyfunction]
fn hash_to_base36(value: u128) -> String {
    output::base36_plus5(value)
}

/// The native module.
#[pymodule]
fn _hashformers(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<core::Core>()?;
    m.add_function(wrap_pyfunction!(hash_to_base36, m)?)?;
    m.add(
        "DEFAULT_NUM_BUCKETS",
        hashformer_hashing::DEFAULT_NUM_BUCKETS,
    )?;
    m.add("MIN_MAX_LENGTH", hashformer_hashing::MIN_MAX_LENGTH)?;
    m.add(
        "DEFAULT_CACHE_SIZE",
        hashformer_hashing::DEFAULT_CACHE_CAPACITY,
    )?;
    Ok(())
}
