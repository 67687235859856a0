//! Python inputs → borrowed Rust strings, with `TypeError`/`ValueError`s that name the bad
//! item.
//!
//! Strings are not copied: the collections below hold a strong reference to every Python
//! `str` they read, and `str` objects are immutable, so the `&str` views taken from them
//! (`PyUnicode_AsUTF8AndSize`, cached in the object) stay valid while the GIL is released.

use hashformer_hashing::TextInput;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

/// The texts of one call, single texts and pairs in order, as Python strings.
pub struct Texts<'py> {
    items: Vec<(Bound<'py, PyString>, Option<Bound<'py, PyString>>)>,
}

impl<'py> Texts<'py> {
    /// Reads an iterable whose items are `str` (a single text) or `(str, str)` tuples (a
    /// pair), the reference's batch shape.
    ///
    /// # Errors
    /// `TypeError` for a `str` in place of the iterable or an item of another type,
    /// `ValueError` for a tuple that is not a pair.
    pub fn extract(texts: &Bound<'py, PyAny>) -> PyResult<Self> {
        reject_str(texts, "texts")?;
        let mut items = Vec::with_capacity(texts.len().unwrap_or(0));
        for (i, item) in texts.try_iter()?.enumerate() {
            items.push(text_item(item?, i)?);
        }
        Ok(Self { items })
    }

    /// Number of texts and pairs.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Borrowed inputs for the encoder.
    ///
    /// # Errors
    /// `UnicodeEncodeError` (a `ValueError`) for a string with a lone surrogate.
    pub fn inputs(&self) -> PyResult<Vec<TextInput<'_>>> {
        self.items
            .iter()
            .map(|(a, b)| {
                Ok(TextInput {
                    text: a.to_str()?,
                    text_b: b.as_ref().map(|b| b.to_str()).transpose()?,
                })
            })
            .collect()
    }
}

fn text_item<'py>(
    item: Bound<'py, PyAny>,
    i: usize,
) -> PyResult<(Bound<'py, PyString>, Option<Bound<'py, PyString>>)> {
    let item = match item.cast_into::<PyString>() {
        Ok(s) => return Ok((s, None)),
        Err(e) => e.into_inner(),
    };
    if let Ok(pair) = item.cast::<PyTuple>() {
        if pair.len() != 2 {
            return Err(PyValueError::new_err(format!(
                "texts[{i}]: a text pair is a tuple of 2 strings, got a tuple of {}",
                pair.len()
            )));
        }
        let a = string(pair.get_item(0)?, &format!("texts[{i}][0]"))?;
        let b = string(pair.get_item(1)?, &format!("texts[{i}][1]"))?;
        return Ok((a, Some(b)));
    }
    Err(PyTypeError::new_err(format!(
        "texts[{i}]: expected a str or a (str, str) tuple, got {}",
        type_name(&item)
    )))
}

/// Words or tokens of one call, as Python strings.
pub struct Words<'py> {
    items: Vec<Bound<'py, PyString>>,
}

impl<'py> Words<'py> {
    /// Reads an iterable of `str`; `what` names it in errors.
    ///
    /// # Errors
    /// `TypeError` for a `str` in place of the iterable (it would be read as characters) or
    /// an item that is not a `str`.
    pub fn extract(words: &Bound<'py, PyAny>, what: &str) -> PyResult<Self> {
        reject_str(words, what)?;
        let mut items = Vec::with_capacity(words.len().unwrap_or(0));
        for (i, item) in words.try_iter()?.enumerate() {
            items.push(string(item?, &format!("{what}[{i}]"))?);
        }
        Ok(Self { items })
    }

    /// The words as `&str`.
    ///
    /// # Errors
    /// `UnicodeEncodeError` (a `ValueError`) for a string with a lone surrogate.
    pub fn strs(&self) -> PyResult<Vec<&str>> {
        self.items.iter().map(|s| s.to_str()).collect()
    }
}

/// `value` as a `str`, or a `TypeError` naming `what`.
fn string<'py>(value: Bound<'py, PyAny>, what: &str) -> PyResult<Bound<'py, PyString>> {
    value.cast_into::<PyString>().map_err(|e| {
        PyTypeError::new_err(format!(
            "{what}: expected a str, got {}",
            type_name(&e.into_inner())
        ))
    })
}

fn reject_str(value: &Bound<'_, PyAny>, what: &str) -> PyResult<()> {
    if value.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{what}: expected a list of strings, got a single str"
        )));
    }
    Ok(())
}

/// The name of `value`'s type, for messages.
pub fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "an object".to_owned())
}
