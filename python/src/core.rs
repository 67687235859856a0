//! `Core`: one hashing scheme with its encoders, as the Python tokenisers call it.
//!
//! Its methods take already-checked arguments from `hashformers/_tokenizers.py`, but still
//! validate everything they read: a wrong call raises, it never panics.

use std::path::PathBuf;
use std::sync::Arc;

use hashformer_hashing::{
    pre_tokenize, CachedHasher, HashSequence, IdSequence, LshHasher, Md5Hasher, RobertaBpe,
    SpecialToken, TokenHasher, NUM_HASH_BITS, POOL_CHUNKS,
};
use numpy::ndarray::{Array1, Array2, Array3, ShapeError};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArray3};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::hasher::{fill_rows, hash_words, map_items, Encoders, Hasher};
use crate::input::{Texts, Words};
use crate::output::{base36_plus5, base36_token, filled, hash_error, Failure};

/// The hashing core of a tokeniser: a scheme (`"md5"` or `"lsh"`) and its encoders.
#[pyclass(frozen, module = "hashformers._hashformers")]
pub struct Core {
    encoders: Encoders,
    scheme: &'static str,
}

/// The hash inputs of Pool/Add/Proj, in the element type asked for.
enum Embeds {
    /// `[B, L, 128]` bits as 0.0/1.0.
    Float32(Vec<f32>),
    /// `[B, L, 128]` bits as 0/1.
    Uint8(Vec<u8>),
    /// `[B, L, 13]` Pool chunk indices.
    Pool(Vec<i64>),
}

/// What `encode_hashes` returns before it becomes numpy arrays.
struct HashBatch {
    input_ids: Vec<i64>,
    embeds: Embeds,
    attention_mask: Vec<i64>,
}

/// An `int64[B, L]` array.
type Int2<'py> = Bound<'py, PyArray2<i64>>;

/// An `int64[B, 2, L]` array.
type Int3<'py> = Bound<'py, PyArray3<i64>>;

fn shape_error(e: ShapeError) -> PyErr {
    PyValueError::new_err(format!("internal shape error: {e}"))
}

#[pymethods]
impl Core {
    /// The HMAC-MD5 scheme (key `b"en"`, 50260 buckets); each worker memo keeps up to
    /// `cache_size` words.
    #[staticmethod]
    fn md5(cache_size: usize) -> Self {
        let hasher = Hasher::Md5(Arc::new(Md5Hasher::default()));
        Self {
            encoders: Encoders::new(hasher, cache_size),
            scheme: "md5",
        }
    }

    /// The LSH scheme over the roberta-base BPE in `bpe_dir` (`tokenizer.json`, or
    /// `vocab.json` + `merges.txt`), with a shared cache of up to `cache_size` words.
    #[staticmethod]
    fn lsh(py: Python<'_>, bpe_dir: PathBuf, cache_size: usize) -> PyResult<Self> {
        let bpe = py
            .detach(|| RobertaBpe::from_dir(&bpe_dir))
            .map_err(hash_error)?;
        let cached = CachedHasher::with_capacity(LshHasher::new(bpe), cache_size);
        Ok(Self {
            encoders: Encoders::new(Hasher::Lsh(Arc::new(cached)), cache_size),
            scheme: "lsh",
        })
    }

    /// `"md5"` or `"lsh"`.
    #[getter]
    fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// The reference pre-tokeniser: `re.findall(r"\w+|[^\w\s]+", text.lower())`.
    fn tokenize(&self, text: String) -> Vec<String> {
        pre_tokenize(&text)
    }

    /// Emb bucket ids of words, `int64[N]`.
    fn hash_buckets<'py>(
        &self,
        py: Python<'py>,
        words: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let words = Words::extract(words, "words")?;
        let refs = words.strs()?;
        let hasher = self.encoders.hasher();
        let values = py
            .detach(|| hash_words(&refs, |chunk, out| hasher.buckets_into(chunk, out)))
            .map_err(hash_error)?;
        let values: Vec<i64> = values.into_iter().map(i64::from).collect();
        Ok(Array1::from(values).into_pyarray(py))
    }

    /// 128-bit hashes of words as 16 big-endian bytes each, `uint8[N, 16]`.
    fn hash_digests<'py>(
        &self,
        py: Python<'py>,
        words: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<u8>>> {
        let words = Words::extract(words, "words")?;
        let refs = words.strs()?;
        let hasher = self.encoders.hasher();
        let bytes = py
            .detach(|| {
                let sigs = hash_words(&refs, |chunk, out| hasher.signatures_into(chunk, out))?;
                Ok::<_, hashformer_hashing::Error>(
                    sigs.iter()
                        .flat_map(|s| s.to_be_bytes())
                        .collect::<Vec<u8>>(),
                )
            })
            .map_err(hash_error)?;
        let n = bytes.len() / 16;
        let array = Array2::from_shape_vec((n, 16), bytes).map_err(shape_error)?;
        Ok(array.into_pyarray(py))
    }

    /// The reference's `convert_tokens_to_ids`: special tokens by their id, every other
    /// token (as given, not lower-cased) by its hash: an int, or with `base36` the
    /// reference's base-36 string.
    fn convert_tokens<'py>(
        &self,
        py: Python<'py>,
        tokens: &Bound<'py, PyAny>,
        base36: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let tokens = Words::extract(tokens, "tokens")?;
        let refs = tokens.strs()?;
        let hasher = self.encoders.hasher();
        if base36 {
            let out = py
                .detach(|| {
                    let sigs = hash_words(&refs, |c, o| hasher.signatures_into(c, o))?;
                    let strings = refs.iter().zip(sigs).map(|(t, s)| match special_id(t) {
                        Some(id) => id.to_string(),
                        None => base36_plus5(s.0),
                    });
                    Ok::<_, hashformer_hashing::Error>(strings.collect::<Vec<_>>())
                })
                .map_err(hash_error)?;
            return PyList::new(py, out);
        }
        let out = py
            .detach(|| {
                let buckets = hash_words(&refs, |c, o| hasher.buckets_into(c, o))?;
                let ids = refs
                    .iter()
                    .zip(buckets)
                    .map(|(t, b)| special_id(t).unwrap_or(b));
                Ok::<_, hashformer_hashing::Error>(ids.collect::<Vec<_>>())
            })
            .map_err(hash_error)?;
        PyList::new(py, out)
    }

    /// The reference's `__call__` on a list of texts and pairs: `(input_ids, attention_mask)`
    /// as lists of lists (`base36`: `input_ids` as space-joined base-36 strings).
    fn call_lists<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        max_length: usize,
        base36: bool,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        let texts = Texts::extract(texts)?;
        let enc = self.encoders.get(max_length).map_err(hash_error)?;
        let inputs = texts.inputs()?;
        if base36 {
            let rows = py
                .detach(|| {
                    map_items(&inputs, |i| {
                        let seq = enc.encode_hashes(*i)?;
                        Ok::<_, hashformer_hashing::Error>((
                            joined_base36(&seq),
                            seq.attention_mask,
                        ))
                    })
                })
                .map_err(hash_error)?;
            let ids = PyList::new(py, rows.iter().map(|r| r.0.as_str()))?;
            let masks = rows
                .iter()
                .map(|r| PyList::new(py, &r.1))
                .collect::<PyResult<Vec<_>>>()?;
            return Ok((ids, PyList::new(py, masks)?));
        }
        let rows = py
            .detach(|| map_items(&inputs, |i| enc.encode_ids(*i)))
            .map_err(hash_error)?;
        let ids = rows
            .iter()
            .map(|r| PyList::new(py, &r.input_ids))
            .collect::<PyResult<Vec<_>>>()?;
        let masks = rows
            .iter()
            .map(|r| PyList::new(py, &r.attention_mask))
            .collect::<PyResult<Vec<_>>>()?;
        Ok((PyList::new(py, ids)?, PyList::new(py, masks)?))
    }

    /// Emb inputs as numpy arrays: `(input_ids, attention_mask)`, both `int64[B, L]`.
    fn encode_ids<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        max_length: usize,
    ) -> PyResult<(Int2<'py>, Int2<'py>)> {
        let texts = Texts::extract(texts)?;
        let enc = self.encoders.get(max_length).map_err(hash_error)?;
        let inputs = texts.inputs()?;
        let (ids, mask) = py.detach(|| {
            let rows = map_items(&inputs, |i| enc.encode_ids(*i))?;
            Ok::<_, Failure>((
                int_rows(&rows, max_length, |s: &IdSequence| &s.input_ids)?,
                int_rows(&rows, max_length, |s: &IdSequence| &s.attention_mask)?,
            ))
        })?;
        let shape = (texts.len(), max_length);
        Ok((
            Array2::from_shape_vec(shape, ids)
                .map_err(shape_error)?
                .into_pyarray(py),
            Array2::from_shape_vec(shape, mask)
                .map_err(shape_error)?
                .into_pyarray(py),
        ))
    }

    /// Pool/Add/Proj inputs as the reference collators build them: `(input_ids
    /// int64[B, 2, L]` (special row, pad row), `inputs_embeds`, `attention_mask int64[B, L])`.
    /// `output`: `"float32"` or `"uint8"` bits `[B, L, 128]`, or `"pool"`: `int64[B, L, 13]`.
    fn encode_hashes<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        max_length: usize,
        output: String,
    ) -> PyResult<(Int3<'py>, Bound<'py, PyAny>, Int2<'py>)> {
        let kind = match output.as_str() {
            "float32" | "uint8" | "pool" => output.as_str(),
            other => {
                return Err(PyValueError::new_err(format!(
                    "output must be 'float32', 'uint8' or 'pool', got {other:?}"
                )))
            }
        };
        let texts = Texts::extract(texts)?;
        let enc = self.encoders.get(max_length).map_err(hash_error)?;
        let inputs = texts.inputs()?;
        let batch = py.detach(|| {
            let rows = map_items(&inputs, |i| enc.encode_hashes(*i))?;
            hash_batch(&rows, max_length, kind)
        })?;
        let (b, l) = (texts.len(), max_length);
        let embeds = match batch.embeds {
            Embeds::Float32(v) => Array3::from_shape_vec((b, l, NUM_HASH_BITS), v)
                .map_err(shape_error)?
                .into_pyarray(py)
                .into_any(),
            Embeds::Uint8(v) => Array3::from_shape_vec((b, l, NUM_HASH_BITS), v)
                .map_err(shape_error)?
                .into_pyarray(py)
                .into_any(),
            Embeds::Pool(v) => Array3::from_shape_vec((b, l, POOL_CHUNKS), v)
                .map_err(shape_error)?
                .into_pyarray(py)
                .into_any(),
        };
        Ok((
            Array3::from_shape_vec((b, 2, l), batch.input_ids)
                .map_err(shape_error)?
                .into_pyarray(py),
            embeds,
            Array2::from_shape_vec((b, l), batch.attention_mask)
                .map_err(shape_error)?
                .into_pyarray(py),
        ))
    }
}

/// The id of a special token's text (`<s>`, `<pad>`, `</s>`, `<unk>`, `<mask>`).
fn special_id(token: &str) -> Option<u32> {
    [
        SpecialToken::Bos,
        SpecialToken::Pad,
        SpecialToken::Eos,
        SpecialToken::Unk,
        SpecialToken::Mask,
    ]
    .into_iter()
    .find(|t| t.as_str() == token)
    .map(SpecialToken::id)
}

/// The reference `Md5Tokenizer`/`LSHTokenizer` `input_ids` string of a sequence.
fn joined_base36(seq: &HashSequence) -> String {
    let parts: Vec<String> = seq
        .spec_ids
        .iter()
        .zip(&seq.signatures)
        .map(|(&spec, &sig)| base36_token(spec, sig))
        .collect();
    parts.join(" ")
}

/// `int64[B, L]` from one integer row (`field`) of each sequence.
fn int_rows<S, V>(
    rows: &[S],
    len: usize,
    field: impl Fn(&S) -> &[V] + Sync + Send,
) -> Result<Vec<i64>, Failure>
where
    S: Sync,
    V: Copy + Into<i64>,
{
    let mut out = filled(&[rows.len(), len], 0i64)?;
    fill_rows(&mut out, len, rows, |s, row| {
        for (o, &v) in row.iter_mut().zip(field(s)) {
            *o = v.into();
        }
    });
    Ok(out)
}

/// The collator tensors of encoded sequences (`kind` checked by the caller).
fn hash_batch(rows: &[HashSequence], len: usize, kind: &str) -> Result<HashBatch, Failure> {
    let mut input_ids = filled(&[rows.len(), 2, len], 0i64)?;
    fill_rows(&mut input_ids, 2 * len, rows, |s, row| {
        let (spec, pad) = row.split_at_mut(len);
        for (o, &v) in spec.iter_mut().zip(&s.spec_ids) {
            *o = i64::from(v);
        }
        for (o, &m) in pad.iter_mut().zip(&s.attention_mask) {
            *o = i64::from(m == 0);
        }
    });
    let attention_mask = int_rows(rows, len, |s: &HashSequence| &s.attention_mask)?;
    let embeds = match kind {
        "pool" => {
            let mut out = filled(&[rows.len(), len, POOL_CHUNKS], 0i64)?;
            fill_rows(&mut out, len * POOL_CHUNKS, rows, |s, row| {
                for (o, idx) in row.chunks_mut(POOL_CHUNKS).zip(s.pool_indices()) {
                    for (o, &i) in o.iter_mut().zip(&idx) {
                        *o = i64::from(i);
                    }
                }
            });
            Embeds::Pool(out)
        }
        "uint8" => Embeds::Uint8(bit_rows(rows, len)?),
        _ => Embeds::Float32(bit_rows(rows, len)?),
    };
    Ok(HashBatch {
        input_ids,
        embeds,
        attention_mask,
    })
}

/// `[B, L, 128]` bits, MSB first, as 0/1 of `T` (all 0 for special tokens).
fn bit_rows<T>(rows: &[HashSequence], len: usize) -> Result<Vec<T>, Failure>
where
    T: From<u8> + Clone + Send,
{
    let mut out = filled(&[rows.len(), len, NUM_HASH_BITS], T::from(0))?;
    fill_rows(&mut out, len * NUM_HASH_BITS, rows, |s, row| {
        for (o, sig) in row.chunks_mut(NUM_HASH_BITS).zip(&s.signatures) {
            for (i, o) in o.iter_mut().enumerate() {
                *o = T::from(((sig.0 >> (NUM_HASH_BITS - 1 - i)) & 1) as u8);
            }
        }
    });
    Ok(out)
}
