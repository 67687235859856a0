//! The derivations `fetch` applies to downloaded files, as pure functions on bytes, each exactly
//! as `shared/data/README.md` describes it: WNLI train (two re-split parts merged and sorted by
//! GLUE's `index`), MNLI dev_matched (JSON lines to a 4-column TSV), tokenizer.json (one inserted
//! string deleted) and the corpus source list.

use anyhow::{bail, ensure, Context, Result};

/// The header line and data rows of a TSV file (each row without its `\n`; a missing final newline
/// is accepted).
fn header_and_rows(tsv: &[u8]) -> (&[u8], Vec<&[u8]>) {
    let body = tsv.strip_suffix(b"\n").unwrap_or(tsv);
    let mut lines = body.split(|&b| b == b'\n');
    let header = lines.next().unwrap_or_default();
    (
        header,
        if body.is_empty() {
            Vec::new()
        } else {
            lines.collect()
        },
    )
}

/// The header of the first part, then the rows of all parts sorted by their first column read as
/// an integer, each ending in `\n`. All parts must have the same header, and indices must be
/// unique.
///
/// # Errors
/// When headers differ, or an index is not a number or appears twice.
pub fn merge_by_index(parts: &[&[u8]]) -> Result<Vec<u8>> {
    let mut header = None;
    let mut rows = Vec::new();
    for (p, part) in parts.iter().enumerate() {
        let (head, part_rows) = header_and_rows(part);
        match header {
            None => header = Some(head),
            Some(first) => ensure!(
                first == head,
                "part {}: header differs from part 1's",
                p + 1
            ),
        }
        for (line, row) in part_rows.into_iter().enumerate() {
            let field = row.split(|&b| b == b'\t').next().unwrap_or_default();
            let index: u64 = std::str::from_utf8(field)
                .ok()
                .and_then(|s| s.parse().ok())
                .with_context(|| {
                    format!(
                        "part {} line {}: index {:?} is not a number",
                        p + 1,
                        line + 2,
                        String::from_utf8_lossy(field)
                    )
                })?;
            rows.push((index, row));
        }
    }
    rows.sort_by_key(|&(index, _)| index);
    if let Some(pair) = rows.windows(2).find(|w| w[0].0 == w[1].0) {
        bail!("index {} appears twice", pair[0].0);
    }
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for line in header
        .into_iter()
        .chain(rows.into_iter().map(|(_, row)| row))
    {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    Ok(out)
}

/// The header MNLI dev_matched.tsv gets.
pub const MNLI_HEADER: &str = "index\tsentence1\tsentence2\tgold_label\n";

/// JSON lines `{"premise", "hypothesis", "label"}` as TSV: [`MNLI_HEADER`], then
/// `row number \t premise \t hypothesis \t label \n` per line, text unchanged.
///
/// # Errors
/// When a line is not a JSON object with those three strings, a value holds a tab or line
/// break, or a line is empty (other than after the final newline).
pub fn jsonl_to_tsv(jsonl: &[u8]) -> Result<Vec<u8>> {
    let body = jsonl.strip_suffix(b"\n").unwrap_or(jsonl);
    let mut out = String::with_capacity(jsonl.len());
    out.push_str(MNLI_HEADER);
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        let value: serde_json::Value =
            serde_json::from_slice(line).with_context(|| format!("line {}: not JSON", i + 1))?;
        out.push_str(&i.to_string());
        for key in ["premise", "hypothesis", "label"] {
            let text = value
                .get(key)
                .and_then(serde_json::Value::as_str)
                .with_context(|| format!("line {}: no string \"{key}\"", i + 1))?;
            ensure!(
                !text.contains(['\t', '\n', '\r']),
                "line {}, \"{key}\": a tab or line break cannot go in a TSV field",
                i + 1
            );
            out.push('\t');
            out.push_str(text);
        }
        out.push('\n');
    }
    Ok(out.into_bytes())
}

/// `bytes` without `needle`, which must occur exactly once.
///
/// # Errors
/// When `needle` occurs zero or several times.
pub fn delete_once(bytes: &[u8], needle: &str) -> Result<Vec<u8>> {
    let needle = needle.as_bytes();
    let found: Vec<usize> = (0..bytes.len().saturating_sub(needle.len()) + 1)
        .filter(|&i| bytes[i..].starts_with(needle))
        .collect();
    let [at] = found[..] else {
        bail!(
            "expected {:?} once, found it {} times",
            String::from_utf8_lossy(needle),
            found.len()
        );
    };
    Ok([&bytes[..at], &bytes[at + needle.len()..]].concat())
}

/// A corpus piece: a file of the source repository and its git blob id.
#[derive(Debug, PartialEq, Eq)]
pub struct Piece<'a> {
    /// The git blob id (sha1).
    pub blob: &'a str,
    /// The path in the repository.
    pub path: &'a str,
}

/// The pieces of `chunk` (`AA.txt.gz`) in a `SOURCES.txt` list, in order
/// (`#` lines are comments; columns: chunk, blob id, path).
///
/// # Errors
/// When a line does not have three columns, or no line names `chunk`.
pub fn corpus_pieces<'a>(sources: &'a str, chunk: &str) -> Result<Vec<Piece<'a>>> {
    let mut pieces = Vec::new();
    for (i, line) in sources.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [name, blob, path] = fields[..] else {
            bail!(
                "SOURCES.txt line {}: expected `chunk blob path`, got {line:?}",
                i + 1
            );
        };
        if name == chunk {
            pieces.push(Piece { blob, path });
        }
    }
    ensure!(
        !pieces.is_empty(),
        "SOURCES.txt lists no pieces for {chunk}"
    );
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::{corpus_pieces, delete_once, jsonl_to_tsv, merge_by_index, Piece};
    use crate::data::manifest::{Source, CORPUS_SOURCES, MANIFEST, TOKENIZER_ADDED_TOKENS};

    #[test]
    fn merge_sorts_rows_by_numeric_index() {
        let a = b"index\ts\tlabel\n10\tten\t1\n2\ttwo\t0\n";
        let b = b"index\ts\tlabel\n1\tone\t1\n3\tthree\t0"; // no final newline
        let merged = merge_by_index(&[a, b]).unwrap();
        assert_eq!(
            merged,
            b"index\ts\tlabel\n1\tone\t1\n2\ttwo\t0\n3\tthree\t0\n10\tten\t1\n"
        );
    }

    #[test]
    fn merge_errors() {
        let cases: [(&[&[u8]], &str); 3] = [
            (
                &[b"i\tx\n0\ta\n", b"j\tx\n1\tb\n"],
                "part 2: header differs from part 1's",
            ),
            (
                &[b"i\tx\n0\ta\n", b"i\tx\nz\tb\n"],
                "part 2 line 2: index \"z\" is not a number",
            ),
            (&[b"i\tx\n0\ta\n", b"i\tx\n0\tb\n"], "index 0 appears twice"),
        ];
        for (parts, message) in cases {
            assert_eq!(merge_by_index(parts).unwrap_err().to_string(), message);
        }
    }

    #[test]
    fn jsonl_becomes_tsv_with_text_unchanged() {
        let jsonl = concat!(
            r#"{"premise": "A \"quoted\" caf\u00e9 ", "hypothesis": "back\\slash", "label": "neutral"}"#,
            "\n",
            r#"{"label": "entailment", "hypothesis": "h", "premise": "p"}"#,
            "\n"
        );
        let tsv = jsonl_to_tsv(jsonl.as_bytes()).unwrap();
        let want = "index\tsentence1\tsentence2\tgold_label\n\
                    0\tA \"quoted\" café \tback\\slash\tneutral\n1\tp\th\tentailment\n";
        assert_eq!(String::from_utf8(tsv).unwrap(), want);
    }

    #[test]
    fn jsonl_errors() {
        let cases = [
            (
                "{\"premise\": \"a\\tb\", \"hypothesis\": \"h\", \"label\": \"x\"}\n",
                "line 1, \"premise\": a tab or line break cannot go in a TSV field",
            ),
            (
                "{\"premise\": \"p\", \"label\": \"x\"}\n",
                "line 1: no string \"hypothesis\"",
            ),
            (
                "{\"premise\": \"p\", \"hypothesis\": \"h\", \"label\": 1}\n",
                "line 1: no string \"label\"",
            ),
            (
                "{\"premise\": \"p\", \"hypothesis\": \"h\", \"label\": \"x\"}\n\n",
                "line 2: not JSON",
            ),
        ];
        for (jsonl, message) in cases {
            assert_eq!(
                jsonl_to_tsv(jsonl.as_bytes()).unwrap_err().to_string(),
                message
            );
        }
    }

    #[test]
    fn delete_once_needs_exactly_one() {
        assert_eq!(delete_once(b"a, xb", ", x").unwrap(), b"ab");
        assert_eq!(
            delete_once(b"ab", "").unwrap_err().to_string(),
            "expected \"\" once, found it 3 times"
        );
        assert!(delete_once(b"ab", "c").is_err());
        assert!(delete_once(b"cc", "c").is_err());
        let tokenizer = MANIFEST
            .iter()
            .find(|e| matches!(e.source, Source::DeleteOnce { .. }));
        assert!(tokenizer.is_some_and(|e| e.path == "roberta-base/tokenizer.json"));
        assert_eq!(TOKENIZER_ADDED_TOKENS.len(), 30, "README: a 30-byte string");
    }

    #[test]
    fn corpus_pieces_in_source_order() {
        for chunk in ["AA", "AB", "AC", "AD", "AE"] {
            let pieces = corpus_pieces(CORPUS_SOURCES, &format!("{chunk}.txt.gz")).unwrap();
            let paths: Vec<&str> = pieces.iter().map(|p| p.path).collect();
            let want: Vec<String> = (0..100)
                .map(|i| format!("data/{chunk}/wiki_{i:02}"))
                .collect();
            assert_eq!(paths, want);
            assert!(pieces.iter().all(|p| p.blob.len() == 40));
        }
        let first = Piece {
            blob: "cf4b03382279c9d1a2879454cffd39b279279318",
            path: "data/AA/wiki_00",
        };
        assert_eq!(
            corpus_pieces(CORPUS_SOURCES, "AA.txt.gz").unwrap()[0],
            first
        );
        assert!(corpus_pieces(CORPUS_SOURCES, "AF.txt.gz").is_err());
        assert!(corpus_pieces("AA.txt.gz abc\n", "AA.txt.gz").is_err());
    }

    /// The derivations, run on inputs rebuilt from the reference copy, give its files back.
    mod on_shared_data {
        use super::super::{delete_once, jsonl_to_tsv, merge_by_index};
        use crate::data::digest::sha256_hex;
        use crate::data::manifest::{Entry, Source, MANIFEST, TOKENIZER_ADDED_TOKENS};
        use hashformer_testkit::shared_data;

        fn entry(path: &str) -> &'static Entry {
            MANIFEST.iter().find(|e| e.path == path).unwrap()
        }

        fn sha256_of(path: &str) -> &'static str {
            entry(path).expected.content().1
        }

        #[test]
        fn mnli_tsv_is_the_converted_jsonl() {
            let Some(data) = shared_data("glue/MNLI/dev_matched.source.jsonl") else {
                return;
            };
            let jsonl = std::fs::read(data.join("glue/MNLI/dev_matched.source.jsonl")).unwrap();
            let tsv = jsonl_to_tsv(&jsonl).unwrap();
            assert_eq!(sha256_hex(&tsv), sha256_of("glue/MNLI/dev_matched.tsv"));
        }

        #[test]
        fn wnli_train_is_any_split_merged() {
            let Some(data) = shared_data("glue/WNLI/train.tsv") else {
                return;
            };
            let train = std::fs::read(data.join("glue/WNLI/train.tsv")).unwrap();
            let text = std::str::from_utf8(&train).unwrap();
            let (header, rows) = text.split_once('\n').unwrap();
            let rows: Vec<&str> = rows.lines().collect();
            assert_eq!(rows.len(), 635);
            // Two parts in another order, as the source re-split them (565 + 70 rows).
            let part = |keep: fn(usize) -> bool| {
                let mut part = format!("{header}\n");
                for (_, row) in rows.iter().enumerate().rev().filter(|(i, _)| keep(*i)) {
                    part.push_str(row);
                    part.push('\n');
                }
                part
            };
            let a = part(|i| i % 9 != 4);
            let b = part(|i| i % 9 == 4);
            let merged = merge_by_index(&[a.as_bytes(), b.as_bytes()]).unwrap();
            assert_eq!(sha256_hex(&merged), sha256_of("glue/WNLI/train.tsv"));
        }

        #[test]
        fn tokenizer_json_is_the_source_without_the_added_tokens() {
            let Some(data) = shared_data("roberta-base/tokenizer.json") else {
                return;
            };
            let Source::DeleteOnce { from, needle } = entry("roberta-base/tokenizer.json").source
            else {
                panic!("tokenizer.json is not derived by DeleteOnce")
            };
            assert_eq!(needle, TOKENIZER_ADDED_TOKENS);
            let ours = std::fs::read(data.join("roberta-base/tokenizer.json")).unwrap();
            // Rebuild the source: the two tokens sat after <mask> at the end of the model vocab.
            let mask = br#""<mask>":50264}"#;
            let at = ours.windows(mask.len()).position(|w| w == mask).unwrap() + mask.len() - 1;
            let source = [&ours[..at], needle.as_bytes(), &ours[at..]].concat();
            assert_eq!(
                sha256_hex(&source),
                from.sha256,
                "rebuilt source matches the pinned one"
            );
            assert_eq!(delete_once(&source, needle).unwrap(), ours);
        }
    }
}
