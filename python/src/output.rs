//! Building outputs: the reference's base-36 strings, fallible buffers, errors for Python.

use hashformer_hashing::{Error, Signature};
use pyo3::exceptions::{PyFileNotFoundError, PyMemoryError, PyOSError, PyValueError};
use pyo3::PyErr;

/// What can fail while the GIL is released: hashing, or allocating an output.
#[derive(Debug)]
pub enum Failure {
    /// An error of the hashing crate.
    Hash(Error),
    /// An output of this many elements could not be allocated (or its size overflowed).
    Alloc(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Hash(e)
    }
}

impl From<Failure> for PyErr {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Hash(e) => hash_error(e),
            Failure::Alloc(what) => PyMemoryError::new_err(format!("cannot allocate {what}")),
        }
    }
}

/// An error's message followed by its causes, `outer: cause: …`, as Rust's `{:#}` of anyhow
/// prints it (a library error names the file; its source says what went wrong).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        message.push_str(": ");
        message.push_str(&c.to_string());
        cause = c.source();
    }
    message
}

/// A hashing-crate error as the Python exception a user would expect.
pub fn hash_error(e: Error) -> PyErr {
    let message = with_causes(&e);
    match e {
        Error::MissingBpeFiles { .. } => PyFileNotFoundError::new_err(message),
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(message)
        }
        Error::Io { .. } => PyOSError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// A buffer of `dims`' product copies of `value`, without aborting the process when it is
/// too large.
///
/// # Errors
/// [`Failure::Alloc`] if the size overflows or the memory is not there.
pub fn filled<T: Clone>(dims: &[usize], value: T) -> Result<Vec<T>, Failure> {
    let describe = || format!("an array of shape {dims:?}");
    let n = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Failure::Alloc(describe()))?;
    let mut buf = Vec::new();
    buf.try_reserve_exact(n)
        .map_err(|_| Failure::Alloc(describe()))?;
    buf.resize(n, value);
    Ok(buf)
}

const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// `36^12`, the largest power of 36 below `2^63`: one division yields 12 digits.
const CHUNK: u64 = 36u64.pow(12);

/// `numpy.base_repr(value + 5, base=36)` of a 128-bit hash value: the string the
/// reference's `Md5Tokenizer` and `LSHTokenizer` store per token (upper-case digits, the
/// `+ 5` keeps clear of the special ids `"0"`..`"4"`).
pub fn base36_plus5(value: u128) -> String {
    let (low, carry) = value.overflowing_add(5);
    // The 129-bit number as big-endian 64-bit limbs.
    let mut limbs = [u64::from(carry), (low >> 64) as u64, low as u64];
    let mut digits: Vec<u8> = Vec::with_capacity(26);
    loop {
        // Long division of the limbs by 36^12; the remainder gives 12 digits.
        let mut rem: u64 = 0;
        for limb in &mut limbs {
            let cur = (u128::from(rem) << 64) | u128::from(*limb);
            // `rem < CHUNK`, so the quotient fits 64 bits and the remainder is below CHUNK.
            *limb = (cur / u128::from(CHUNK)) as u64;
            rem = (cur % u128::from(CHUNK)) as u64;
        }
        let done = limbs.iter().all(|&l| l == 0);
        for _ in 0..12 {
            digits.push(DIGITS[(rem % 36) as usize]);
            rem /= 36;
            if done && rem == 0 {
                break;
            }
        }
        if done {
            break;
        }
    }
    digits.iter().rev().map(|&d| char::from(d)).collect()
}

/// The base-36 string of an ordinary token's signature, or the special id's digit.
pub fn base36_token(spec: u32, signature: Signature) -> String {
    if spec == hashformer_hashing::ORDINARY_TOKEN_SPEC {
        base36_plus5(signature.0)
    } else {
        spec.to_string()
    }
}
