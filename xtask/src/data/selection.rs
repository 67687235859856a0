//! `--only`: which datasets a command works on. A name selects a group (`glue`, `corpus`,
//! `roberta`) or one dataset (`CoLA`, `glue/CoLA`, `roberta-base`, …); case, `-` and `_` are
//! ignored, so `sst2` is `SST-2`.

use anyhow::{bail, Result};

use super::manifest::{Entry, Group, MANIFEST};

/// The datasets `--only` names; empty means all.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    names: Vec<String>,
}

/// Lowercase, without `-` and `_`.
fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

impl Selection {
    /// Parses a comma-separated list.
    ///
    /// # Errors
    /// When the list or one of its names is empty.
    pub fn parse(list: &str) -> Result<Self> {
        let names: Vec<String> = list.split(',').map(|n| normalise(n.trim())).collect();
        if names.iter().any(String::is_empty) {
            bail!("--only {list:?}: empty name");
        }
        Ok(Self { names })
    }

    /// Whether the dataset `dataset` of `group` is selected.
    pub fn matches(&self, group: Group, dataset: &str) -> bool {
        let dataset = normalise(dataset);
        let last = dataset.rsplit('/').next().unwrap_or(&dataset);
        self.names.is_empty()
            || self
                .names
                .iter()
                .any(|n| *n == group.name() || *n == dataset || n == last)
    }

    /// The selected manifest entries. `extra` are datasets found elsewhere (import's unlisted
    /// GLUE tasks) that a name may also match.
    ///
    /// # Errors
    /// When a name matches nothing.
    pub fn entries(&self, extra: &[(Group, &str)]) -> Result<Vec<&'static Entry>> {
        for name in &self.names {
            let one = Self {
                names: vec![name.clone()],
            };
            let known = MANIFEST
                .iter()
                .map(|e| (e.group, e.dataset))
                .chain(extra.iter().copied());
            if !known
                .clone()
                .any(|(group, dataset)| one.matches(group, dataset))
            {
                let mut names = vec!["glue", "corpus", "roberta"];
                names.extend(MANIFEST.iter().map(Entry::dataset_name));
                names.dedup();
                bail!(
                    "--only: {name:?} matches no dataset; known: {}",
                    names.join(", ")
                );
            }
        }
        Ok(MANIFEST
            .iter()
            .filter(|e| self.matches(e.group, e.dataset))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::{Group, Selection};

    #[test]
    fn names_select_groups_and_datasets() {
        let paths = |list: &str| -> Vec<&str> {
            let selection = Selection::parse(list).unwrap();
            selection
                .entries(&[])
                .unwrap()
                .iter()
                .map(|e| e.path)
                .collect()
        };
        assert_eq!(
            paths("roberta"),
            [
                "roberta-base/vocab.json",
                "roberta-base/merges.txt",
                "roberta-base/tokenizer.json"
            ]
        );
        assert_eq!(paths("Roberta-Base"), paths("roberta"));
        assert_eq!(
            paths("sst2, glue/cola"),
            [
                "glue/CoLA/train.tsv",
                "glue/CoLA/dev.tsv",
                "glue/SST-2/train.tsv",
                "glue/SST-2/dev.tsv"
            ]
        );
        assert_eq!(paths("corpus").len(), 6);
        assert_eq!(paths("glue").len(), 17);
        assert_eq!(Selection::default().entries(&[]).unwrap().len(), 26);
    }

    #[test]
    fn unknown_names_are_errors_unless_found_elsewhere() {
        let qqp = Selection::parse("glue,QQP").unwrap();
        let err = qqp.entries(&[]).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "--only: \"qqp\" matches no dataset; known: glue, corpus, roberta, CoLA, SST-2"
            ),
            "{err}"
        );
        assert_eq!(qqp.entries(&[(Group::Glue, "glue/QQP")]).unwrap().len(), 17);
        assert!(qqp.matches(Group::Glue, "glue/QQP"));
        assert!(Selection::parse("glue,").is_err());
    }
}
