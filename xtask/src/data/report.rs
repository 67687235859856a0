//! The table `check`, `import` and `fetch` print: one row per file, grouped by dataset.

use std::fmt::Write as _;

/// One file's outcome.
#[derive(Debug)]
pub struct Row {
    /// `glue/CoLA`, `corpus/enwiki-2014-wikiextractor`, `roberta-base`.
    pub dataset: String,
    /// The path under the data folder.
    pub path: String,
    /// What happened (`ok`, `MISSING`, `fetched`, …).
    pub outcome: String,
    /// Whether this row makes the command fail.
    pub failed: bool,
}

/// The rows of one command, in manifest order.
#[derive(Debug, Default)]
pub struct Report {
    rows: Vec<Row>,
}

impl Report {
    /// Adds a row.
    pub fn add(&mut self, dataset: &str, path: &str, outcome: impl Into<String>, failed: bool) {
        self.rows.push(Row {
            dataset: dataset.to_string(),
            path: path.to_string(),
            outcome: outcome.into(),
            failed,
        });
    }

    /// All rows.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The rows that make the command fail.
    pub fn failures(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.failed)
    }

    /// The table: dataset (once per group of rows), file (relative to the dataset), outcome.
    pub fn render(&self) -> String {
        let file = |r: &Row| {
            r.path
                .strip_prefix(&format!("{}/", r.dataset))
                .unwrap_or(&r.path)
                .to_string()
        };
        let w_dataset = self
            .rows
            .iter()
            .map(|r| r.dataset.len())
            .chain([7])
            .max()
            .unwrap_or(7);
        let w_file = self
            .rows
            .iter()
            .map(|r| file(r).len())
            .chain([4])
            .max()
            .unwrap_or(4);
        let mut out = format!("{:w_dataset$}  {:w_file$}  status\n", "dataset", "file");
        let mut last = None;
        for row in &self.rows {
            let dataset = if last == Some(&row.dataset) {
                ""
            } else {
                &row.dataset
            };
            last = Some(&row.dataset);
            // Writing to a String cannot fail.
            let _ = writeln!(
                out,
                "{dataset:w_dataset$}  {:w_file$}  {}",
                file(row),
                row.outcome
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Report;

    #[test]
    fn rows_are_grouped_by_dataset() {
        let mut report = Report::default();
        report.add("glue/CoLA", "glue/CoLA/train.tsv", "ok", false);
        report.add("glue/CoLA", "glue/CoLA/dev.tsv", "MISSING", true);
        report.add("roberta-base", "roberta-base/vocab.json", "ok", false);
        let want = "\
dataset       file        status
glue/CoLA     train.tsv   ok
              dev.tsv     MISSING
roberta-base  vocab.json  ok
";
        assert_eq!(report.render(), want);
        let failed: Vec<&str> = report.failures().map(|r| r.path.as_str()).collect();
        assert_eq!(failed, ["glue/CoLA/dev.tsv"]);
    }
}
