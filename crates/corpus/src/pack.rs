//! Packing documents into chunks of at most `max_words` pre-tokenised words.
//!
//! Words are counted exactly as the hash tokeniser will count them:
//! `split_words(py_lower(text))`, the reference's `re.findall(r"\w+|[^\w\s]+", text.lower())`.
//! Counts add up across a joining space, so a chunk's count is the sum of its pieces'.

use hashformer_hashing::{is_py_space, py_lower, split_words};

use crate::error::{Error, Result};

/// The number of words the hash tokeniser makes of `text` (reference pre-tokeniser):
/// `it`, `'`, `s`, `3`, `.`, `14`, `,`, `right`, `?` below.
///
/// ```
/// assert_eq!(hashformer_corpus::count_words("It's 3.14, right?"), 9);
/// ```
pub fn count_words(text: &str) -> usize {
    split_words(&py_lower(text)).len()
}

/// A packed chunk: one line of a prepared corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The text: paragraphs joined by single spaces; never contains `\n` or `\r`.
    pub text: String,
    /// Its word count ([`count_words`]).
    pub words: usize,
}

/// Packs the paragraphs of one document into chunks of `min_words..=max_words` words.
///
/// Paragraphs are added greedily in order, joined by one space, while the chunk stays within
/// `max_words`; a paragraph longer than `max_words` is cut into pieces of exactly `max_words`
/// words (the last piece shorter), each cut made in the original text just before the first
/// word of the next piece, and its last piece may share a chunk with the paragraphs after it.
/// Chunks of fewer than `min_words` words are dropped. Line breaks inside a paragraph (`\n`,
/// `\r`) become spaces; they are whitespace to the tokeniser, so no count changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packer {
    max_words: usize,
    min_words: usize,
}

impl Packer {
    /// A packer for chunks of `min_words..=max_words` words.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `max_words < 2` (a single character can lower-case to
    /// two words: `İ` → `i` + U+0307) or `min_words > max_words`.
    pub fn new(max_words: usize, min_words: usize) -> Result<Self> {
        if max_words < 2 {
            return Err(Error::InvalidConfig {
                field: "max_words",
                reason: format!("must be at least 2, got {max_words}"),
            });
        }
        if min_words > max_words {
            return Err(Error::InvalidConfig {
                field: "min_words",
                reason: format!("must not exceed max_words ({max_words}), got {min_words}"),
            });
        }
        Ok(Self {
            max_words,
            min_words,
        })
    }

    /// The largest chunk, in words.
    pub fn max_words(&self) -> usize {
        self.max_words
    }

    /// The smallest chunk kept, in words.
    pub fn min_words(&self) -> usize {
        self.min_words
    }

    /// Packs one document's paragraphs (see the type's docs).
    pub fn pack<S: AsRef<str>>(&self, paragraphs: &[S]) -> Vec<Chunk> {
        let mut chunks = Vec::new();
        let mut current = Chunk {
            text: String::new(),
            words: 0,
        };
        let mut pieces = Vec::new();
        for paragraph in paragraphs {
            pieces.clear();
            split_paragraph(paragraph.as_ref(), self.max_words, &mut pieces);
            for &(text, words) in &pieces {
                if current.words > 0 && current.words + words > self.max_words {
                    self.flush(&mut current, &mut chunks);
                }
                if current.words > 0 {
                    current.text.push(' ');
                }
                push_one_line(&mut current.text, text);
                current.words += words;
            }
        }
        self.flush(&mut current, &mut chunks);
        chunks
    }

    fn flush(&self, current: &mut Chunk, chunks: &mut Vec<Chunk>) {
        if current.words > 0 && current.words >= self.min_words {
            chunks.push(std::mem::replace(
                current,
                Chunk {
                    text: String::new(),
                    words: 0,
                },
            ));
        } else {
            current.text.clear();
            current.words = 0;
        }
    }
}

/// Appends `text` with `\n` and `\r` replaced by spaces.
fn push_one_line(out: &mut String, text: &str) {
    if text.contains(['\n', '\r']) {
        out.extend(
            text.chars()
                .map(|c| if matches!(c, '\n' | '\r') { ' ' } else { c }),
        );
    } else {
        out.push_str(text);
    }
}

/// Cuts a paragraph into trimmed pieces of at most `max_words` words (`max_words >= 2`),
/// appending `(piece, words)`; a paragraph without words gives nothing.
///
/// Word boundaries come from the lower-cased text, whose byte offsets can differ from the
/// original's (`İ` → `i̇` grows by one byte), so cuts are mapped back one character at a
/// time. If a cut falls inside the lower-casing of one character (only `İ` expands to two
/// characters, the second of which starts a word), it moves before that character: the piece
/// ends with the word cut short, and the rest starts with that word's tail as a word of its
/// own, which is exactly how the tokeniser will see the two texts.
fn split_paragraph<'a>(text: &'a str, max_words: usize, pieces: &mut Vec<(&'a str, usize)>) {
    let lowered = py_lower(text);
    let mut spans = split_words(&lowered);
    if spans.len() <= max_words {
        if !spans.is_empty() {
            pieces.push((text.trim_matches(is_py_space), spans.len()));
        }
        return;
    }
    let mut cursor = LowerCursor {
        text,
        orig: 0,
        lower: 0,
    };
    let mut first = 0; // index in `spans` of the piece's first word
    let mut start = 0; // byte offset in `text` of the piece
    while spans.len() - first > max_words {
        let (cut, cut_lower) = cursor.floor(spans[first + max_words].start);
        // The piece holds the words that start before the cut.
        let next = first + spans[first..].partition_point(|s| s.start < cut_lower);
        let words = next - first;
        if words == 0 {
            // Unreachable for max_words >= 2 (a character lower-cases to at most two words);
            // dropping the rest keeps every piece within max_words and the loop finite.
            return;
        }
        pieces.push((text[start..cut].trim_matches(is_py_space), words));
        first = next;
        if spans[next - 1].end > cut_lower {
            // The cut splits a word: its tail is the first word of the rest.
            first = next - 1;
            spans[first].start = cut_lower;
        }
        start = cut;
    }
    pieces.push((text[start..].trim_matches(is_py_space), spans.len() - first));
}

/// Walks `text` character by character, tracking the matching offset in `py_lower(text)`.
/// Only `Σ` lower-cases by context, and both of its lower cases are two bytes long, so the
/// length of a character's lower case does not depend on its neighbours.
struct LowerCursor<'a> {
    text: &'a str,
    orig: usize,
    lower: usize,
}

impl LowerCursor<'_> {
    /// Advances to the last character boundary whose lower-cased offset is at most `target`,
    /// returning `(offset in text, offset in the lower case)`. Targets must not decrease.
    fn floor(&mut self, target: usize) -> (usize, usize) {
        while let Some(ch) = self.text[self.orig..].chars().next() {
            let len = if ch.is_ascii() {
                1
            } else {
                py_lower(ch.encode_utf8(&mut [0; 4])).len()
            };
            if self.lower + len > target {
                break;
            }
            self.orig += ch.len_utf8();
            self.lower += len;
        }
        (self.orig, self.lower)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, max_words: usize, expected: &[(&str, usize)]) {
        let mut pieces = Vec::new();
        split_paragraph(text, max_words, &mut pieces);
        assert_eq!(pieces, expected, "{text:?} max {max_words}");
        for (piece, words) in pieces {
            assert_eq!(count_words(piece), words, "{piece:?}");
        }
    }

    #[test]
    fn split_at_word_starts() {
        check("", 2, &[]);
        check("  ", 2, &[]);
        check(" a b ", 2, &[("a b", 2)]);
        check("a b c d e", 2, &[("a b", 2), ("c d", 2), ("e", 1)]);
        check("a, b. c", 3, &[("a, b", 3), (". c", 2)]);
        check("dog's  ok", 2, &[("dog'", 2), ("s  ok", 2)]);
    }

    #[test]
    fn split_maps_lower_case_offsets() {
        // 'ẞ' (3 bytes) lower-cases to 'ß' (2 bytes); 'Σ' keeps its length.
        check("ẞẞ x ΣΑΣ y z", 2, &[("ẞẞ x", 2), ("ΣΑΣ y", 2), ("z", 1)]);
        // 'İ' → "i\u{307}": two words from one character.
        check("a İb c", 2, &[("a", 1), ("İ", 2), ("b c", 2)]);
        check("a İb c", 3, &[("a İ", 3), ("b c", 2)]);
        // The cut falls inside the lower case of 'İ', in the middle of the word "xi".
        check("yy xİ z", 2, &[("yy x", 2), ("İ", 2), ("z", 1)]);
    }
}
