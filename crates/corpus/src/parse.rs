//! The line-by-line state machine that turns one file's lines into documents, for
//! WikiExtractor `<doc>` blocks and blank-line separated plain text.

use hashformer_hashing::is_py_space;

use crate::error::CorpusProblem;
use crate::read::{CorpusFormat, DocSource, Document};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Wiki,
    Plain,
}

/// A document being collected.
#[derive(Debug)]
struct OpenDoc {
    line: u64,
    title_seen: bool,
    paragraphs: Vec<String>,
}

/// The line-by-line state machine of one file.
#[derive(Debug)]
pub(super) struct Parser {
    file: usize,
    /// `None` until the first non-blank line decides (for [`CorpusFormat::Auto`]).
    layout: Option<Layout>,
    doc: Option<OpenDoc>,
}

impl Parser {
    /// A parser for file `file` of the reader's list, in `format`.
    pub(super) fn new(file: usize, format: CorpusFormat) -> Self {
        let layout = match format {
            CorpusFormat::Auto => None,
            CorpusFormat::WikiExtractor => Some(Layout::Wiki),
            CorpusFormat::PlainText => Some(Layout::Plain),
        };
        Self {
            file,
            layout,
            doc: None,
        }
    }

    /// Takes one line; returns a document when this line completes one.
    pub(super) fn feed(
        &mut self,
        line: &str,
        at: u64,
    ) -> std::result::Result<Option<Document>, CorpusProblem> {
        let text = line.trim_matches(is_py_space);
        let layout = match self.layout {
            Some(layout) => layout,
            None if text.is_empty() => return Ok(None),
            None => *self.layout.insert(if text.starts_with("<doc") {
                Layout::Wiki
            } else {
                Layout::Plain
            }),
        };
        match layout {
            Layout::Wiki => self.feed_wiki(text, at),
            Layout::Plain => Ok(self.feed_plain(text, at)),
        }
    }

    fn feed_wiki(
        &mut self,
        text: &str,
        at: u64,
    ) -> std::result::Result<Option<Document>, CorpusProblem> {
        if is_doc_start(text) {
            if let Some(outer) = &self.doc {
                return Err(CorpusProblem::NestedDoc {
                    outer_line: outer.line,
                });
            }
            self.doc = Some(OpenDoc {
                line: at,
                title_seen: false,
                paragraphs: Vec::new(),
            });
            return Ok(None);
        }
        if text == "</doc>" {
            let doc = self.doc.take().ok_or(CorpusProblem::UnmatchedDocEnd)?;
            return Ok(self.document(doc));
        }
        if text.is_empty() {
            return Ok(None);
        }
        let doc = self.doc.as_mut().ok_or(CorpusProblem::TextOutsideDoc)?;
        if doc.title_seen {
            doc.paragraphs.push(text.to_owned());
        } else {
            doc.title_seen = true;
        }
        Ok(None)
    }

    fn feed_plain(&mut self, text: &str, at: u64) -> Option<Document> {
        if text.is_empty() {
            let doc = self.doc.take()?;
            return self.document(doc);
        }
        let doc = self.doc.get_or_insert_with(|| OpenDoc {
            line: at,
            title_seen: true,
            paragraphs: Vec::new(),
        });
        doc.paragraphs.push(text.to_owned());
        None
    }

    /// Ends the file: the last plain-text document, or an error for an open `<doc>`.
    pub(super) fn finish(
        &mut self,
        eof_line: u64,
    ) -> std::result::Result<Option<Document>, (u64, CorpusProblem)> {
        let Some(doc) = self.doc.take() else {
            return Ok(None);
        };
        if self.layout == Some(Layout::Wiki) {
            return Err((doc.line, CorpusProblem::UnterminatedDoc { eof_line }));
        }
        Ok(self.document(doc))
    }

    /// A finished document, or `None` when it has no paragraph.
    fn document(&self, doc: OpenDoc) -> Option<Document> {
        (!doc.paragraphs.is_empty()).then_some(Document {
            paragraphs: doc.paragraphs,
            source: DocSource {
                file: self.file,
                line: doc.line,
            },
        })
    }
}

/// `<doc>` or `<doc ` followed by attributes.
fn is_doc_start(text: &str) -> bool {
    text.strip_prefix("<doc")
        .is_some_and(|rest| rest.starts_with([' ', '>']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        layout: Layout,
        text: &str,
    ) -> std::result::Result<Vec<Vec<String>>, (u64, CorpusProblem)> {
        let mut parser = Parser {
            file: 0,
            layout: Some(layout),
            doc: None,
        };
        let mut docs = Vec::new();
        let mut last = 0;
        for (i, line) in text.lines().enumerate() {
            last = i as u64 + 1;
            if let Some(doc) = parser.feed(line, last).map_err(|p| (last, p))? {
                docs.push(doc.paragraphs);
            }
        }
        docs.extend(parser.finish(last)?.map(|d| d.paragraphs));
        Ok(docs)
    }

    #[test]
    fn wiki_blocks() {
        let docs = parse(
            Layout::Wiki,
            "<doc id=\"1\">\nTitle\n\n a \nb\n</doc>\n<doc>\nT\n</doc>\n",
        );
        assert_eq!(docs, Ok(vec![vec!["a".to_owned(), "b".to_owned()]]));
    }

    #[test]
    fn wiki_errors() {
        let check = |text: &str, line: u64, problem: CorpusProblem| {
            assert_eq!(parse(Layout::Wiki, text), Err((line, problem)), "{text:?}");
        };
        check(
            "<doc>\nT\n<doc x>\n",
            3,
            CorpusProblem::NestedDoc { outer_line: 1 },
        );
        check(
            "\n<doc>\nT\np\n",
            2,
            CorpusProblem::UnterminatedDoc { eof_line: 4 },
        );
        check("</doc>\n", 1, CorpusProblem::UnmatchedDocEnd);
        check(
            "<doc>\nT\n</doc>\nstray\n",
            4,
            CorpusProblem::TextOutsideDoc,
        );
    }

    #[test]
    fn doc_start_needs_a_delimiter() {
        assert!(is_doc_start("<doc>"));
        assert!(is_doc_start("<doc id=\"1\">"));
        assert!(!is_doc_start("<document>"));
        assert!(!is_doc_start("<doc"));
    }

    #[test]
    fn plain_documents() {
        let docs = parse(Layout::Plain, "\n\na\n b \n\n\n\nc\n");
        assert_eq!(
            docs,
            Ok(vec![vec!["a".into(), "b".into()], vec!["c".into()]])
        );
    }
}
