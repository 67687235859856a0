//! Lines and fields of GLUE's tab-separated files, as GLUE writes them (method §8; the HF loader
//! reads them with `csv.QUOTE_NONE`): fields split on `\t` only, `"` is an ordinary character,
//! a UTF-8 byte-order mark before the header is dropped (MRPC has one), `\r\n` is read as `\n`,
//! and the last line may lack its newline (CoLA's dev file does). Empty lines at the end of a
//! file are ignored; one in the middle is a row with one empty field.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::error::{Error, Position, Result};

const BOM: char = '\u{feff}';

/// A reader of the lines of one TSV file, counting them for error messages.
pub(crate) struct Lines<R> {
    reader: R,
    file: PathBuf,
    line: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> Lines<R> {
    /// Lines of `reader`; `file` names it in errors.
    pub(crate) fn new(reader: R, file: &Path) -> Self {
        Lines {
            reader,
            file: file.to_owned(),
            line: 0,
            buf: Vec::new(),
        }
    }

    /// The position of line `line` of this file.
    pub(crate) fn at(&self, line: usize) -> Position {
        Position {
            file: self.file.clone(),
            line,
        }
    }

    /// Reads one raw line without its line ending; `None` at the end of the file.
    fn raw(&mut self) -> Result<Option<String>> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| Error::Io {
                path: self.file.clone(),
                source,
            })?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        }
        let text = std::str::from_utf8(&self.buf).map_err(|_| Error::InvalidUtf8 {
            at: self.at(self.line),
        })?;
        let text = if self.line == 1 {
            text.strip_prefix(BOM).unwrap_or(text)
        } else {
            text
        };
        Ok(Some(text.to_owned()))
    }

    /// The next line and its 1-based number; `None` at the end of the file or when only empty
    /// lines remain.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::InvalidUtf8`].
    pub(crate) fn next_line(&mut self) -> Result<Option<(usize, String)>> {
        let Some(text) = self.raw()? else {
            return Ok(None);
        };
        if !text.is_empty() {
            return Ok(Some((self.line, text)));
        }
        let first_empty = self.line;
        while let Some(more) = self.raw()? {
            if !more.is_empty() {
                // An empty line inside the data: hand it over so the caller reports it.
                return Ok(Some((first_empty, String::new())));
            }
        }
        Ok(None)
    }
}

/// The column names of a header line.
pub(crate) struct Header {
    names: Vec<String>,
}

impl Header {
    /// Splits a header line.
    pub(crate) fn parse(line: &str) -> Self {
        Header {
            names: line.split('\t').map(str::to_owned).collect(),
        }
    }

    /// Fixed names for a headerless file (CoLA).
    pub(crate) fn fixed(names: &[&str]) -> Self {
        Header {
            names: names.iter().map(|&n| n.to_owned()).collect(),
        }
    }

    /// Number of columns.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// The name of column `i`.
    pub(crate) fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    /// The position of `column`.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] naming `file`.
    pub(crate) fn find(&self, column: &'static str, file: &Path) -> Result<usize> {
        self.names
            .iter()
            .position(|n| n == column)
            .ok_or_else(|| Error::MissingColumn {
                file: file.to_owned(),
                column,
                found: self.names.clone(),
            })
    }
}

/// Splits a row into exactly `header.len()` fields.
///
/// # Errors
/// [`Error::FieldCount`] at `at`.
pub(crate) fn fields<'a>(line: &'a str, header: &Header, at: Position) -> Result<Vec<&'a str>> {
    let fields: Vec<&str> = line.split('\t').collect();
    if fields.len() != header.len() {
        return Err(Error::FieldCount {
            at,
            expected: header.len(),
            got: fields.len(),
        });
    }
    Ok(fields)
}

/// Parses an index field and records its line in `seen`, so that a file's indices are unique.
///
/// # Errors
/// [`Error::BadField`] for a field that is not an index, [`Error::DuplicateIndex`] naming the
/// first line for an index seen before.
pub(crate) fn unique_index(
    seen: &mut std::collections::HashMap<u64, usize>,
    field: &str,
    name: &str,
    line_no: usize,
    at: Position,
) -> Result<u64> {
    let index = parse_index(field, name, at.clone())?;
    if let Some(&first_line) = seen.get(&index) {
        return Err(Error::DuplicateIndex {
            at,
            index,
            first_line,
        });
    }
    seen.insert(index, line_no);
    Ok(index)
}

/// Parses a non-negative integer index field.
///
/// # Errors
/// [`Error::BadField`] at `at`.
pub(crate) fn parse_index(field: &str, name: &str, at: Position) -> Result<u64> {
    // `u64::from_str` takes a leading `+`; an index is plain digits.
    if !field.is_empty() && field.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(v) = field.parse() {
            return Ok(v);
        }
    }
    Err(Error::BadField {
        at,
        field: name.to_owned(),
        expected: "a non-negative integer index".to_owned(),
        got: field.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(bytes: &[u8]) -> Result<Vec<(usize, String)>> {
        let mut l = Lines::new(bytes, Path::new("t.tsv"));
        let mut out = Vec::new();
        while let Some(x) = l.next_line()? {
            out.push(x);
        }
        Ok(out)
    }

    fn owned(v: &[(usize, &str)]) -> Vec<(usize, String)> {
        v.iter().map(|&(n, s)| (n, s.to_owned())).collect()
    }

    #[test]
    fn line_endings_bom_and_quotes() {
        for (input, expect) in [
            (&b"a\tb\n1\t2\n"[..], &[(1, "a\tb"), (2, "1\t2")][..]),
            (b"a\tb\n1\t2", &[(1, "a\tb"), (2, "1\t2")]),
            (b"a\tb\r\n1\t2\r\n", &[(1, "a\tb"), (2, "1\t2")]),
            (b"\xef\xbb\xbfa\tb\n", &[(1, "a\tb")]),
            (b"a\n\"x\ty\n", &[(1, "a"), (2, "\"x\ty")]),
            (b"a\n1\n\n\n", &[(1, "a"), (2, "1")]),
            // An empty line inside the data comes back as a row (the caller rejects it).
            (b"a\n\n1\n", &[(1, "a"), (2, "")]),
            (b"", &[]),
        ] {
            assert_eq!(lines(input).unwrap(), owned(expect), "{input:?}");
        }
    }

    #[test]
    fn bom_only_on_the_first_line() {
        let got = lines(b"a\n\xef\xbb\xbfb\n").unwrap();
        assert_eq!(got[1].1, "\u{feff}b");
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let err = lines(b"a\n\xff\n").unwrap_err();
        assert!(matches!(err, Error::InvalidUtf8 { at } if at.line == 2));
    }

    #[test]
    fn field_counts_and_indices() {
        let header = Header::parse("index\ttext");
        let at = Position {
            file: "f".into(),
            line: 3,
        };
        assert_eq!(
            fields("1\ta\"b", &header, at.clone()).unwrap(),
            ["1", "a\"b"]
        );
        let err = fields("1\ta\tb", &header, at.clone()).unwrap_err();
        assert!(matches!(
            err,
            Error::FieldCount {
                expected: 2,
                got: 3,
                ..
            }
        ));
        assert_eq!(parse_index("17", "index", at.clone()).unwrap(), 17);
        for bad in ["", "-1", "+1", "1.0", "x", "99999999999999999999999"] {
            let err = parse_index(bad, "index", at.clone()).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "f line 3, field \"index\": expected a non-negative integer index, got {bad:?}"
                )
            );
        }
        let err = header.find("label", Path::new("f")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f: no column \"label\" in the header (found [\"index\", \"text\"])"
        );
    }
}
