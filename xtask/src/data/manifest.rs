//! The data manifest: every file of the `$HASHFORMER_DATA` layout with its size, its sha256 and
//! where it comes from. The facts are those of `shared/data/README.md` (and
//! `roberta-base/README.md`), whose local copy is the reference; each pinned source was checked
//! against a snapshot of its repository at the pinned commit.
//!
//! The manifest is a Rust table rather than a JSON file: it is type-checked, needs no parser,
//! and the derivations (WNLI merge, MNLI conversion, tokenizer edit, corpus chunks) are enum
//! variants next to the facts they need.

/// Where `fetch` downloads GitHub files from, unless `--base-url` or `HASHFORMER_DATA_MIRROR`
/// says otherwise: `{base}/{owner}/{repo}/{commit}/{path}`.
pub const GITHUB_RAW: &str = "https://raw.githubusercontent.com";

/// The corpus source list (`SOURCES.txt`), bundled: `fetch` writes it and reads the pieces of
/// each chunk from it.
pub const CORPUS_SOURCES: &str = include_str!("../../assets/enwiki-2014-wikiextractor-SOURCES.txt");

/// The three kinds of data, as `--only` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// GLUE task files, `glue/<TASK>/`.
    Glue,
    /// The pre-training corpus, `corpus/enwiki-2014-wikiextractor/`.
    Corpus,
    /// The roberta-base byte-level BPE, `roberta-base/`.
    Roberta,
}

impl Group {
    /// The name `--only` accepts (besides the dataset names).
    pub fn name(self) -> &'static str {
        match self {
            Group::Glue => "glue",
            Group::Corpus => "corpus",
            Group::Roberta => "roberta",
        }
    }
}

/// A file in a GitHub repository at a pinned commit.
#[derive(Clone, Copy, Debug)]
pub struct Remote {
    /// `owner/name`.
    pub repo: &'static str,
    /// The full commit id.
    pub commit: &'static str,
    /// The path inside the repository.
    pub path: &'static str,
}

impl Remote {
    /// The URL of this file under `base` (for GitHub: [`GITHUB_RAW`]).
    pub fn url(&self, base: &str) -> String {
        format!(
            "{}/{}/{}/{}",
            base.trim_end_matches('/'),
            self.repo,
            self.commit,
            self.path
        )
    }
}

/// A [`Remote`] input of a derivation, with its own pinned sha256.
#[derive(Clone, Copy, Debug)]
pub struct Pinned {
    /// Where it is.
    pub remote: Remote,
    /// Its sha256 (lowercase hex).
    pub sha256: &'static str,
}

/// How `fetch` produces a file.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    /// Downloaded as is.
    Copy(Remote),
    /// WNLI train: the header, then the data rows of both parts sorted by their numeric first
    /// column (GLUE's `index`). Both parts must have the same header.
    MergeByIndex([Pinned; 2]),
    /// MNLI dev_matched: the JSON lines of `jsonl` (a path of this layout, fetched before)
    /// converted to `index sentence1 sentence2 gold_label` TSV.
    JsonlToTsv {
        /// The layout path of the JSON lines file.
        jsonl: &'static str,
    },
    /// tokenizer.json: the pinned file with `needle` (which occurs once) deleted.
    DeleteOnce {
        /// The file before the edit.
        from: Pinned,
        /// The text to delete.
        needle: &'static str,
    },
    /// A corpus chunk: the pieces `sources` lists for this chunk (in order, each checked by its
    /// git blob id), concatenated and gzipped.
    Concatenate {
        /// The repository the pieces are in.
        repo: &'static str,
        /// Its commit.
        commit: &'static str,
        /// The source list (`SOURCES.txt` format).
        sources: &'static str,
    },
    /// Bundled in xtask (the corpus `SOURCES.txt`).
    Bundled(&'static str),
}

/// What a correct file looks like.
#[derive(Clone, Copy, Debug)]
pub enum Expected {
    /// The file's own bytes.
    Plain {
        /// Size in bytes.
        bytes: u64,
        /// sha256, lowercase hex.
        sha256: &'static str,
    },
    /// A gzip file; the contract is its *uncompressed* content, since gzip bytes differ between
    /// encoders. The reference gzip is informational.
    Gzip {
        /// Uncompressed size in bytes.
        bytes: u64,
        /// sha256 of the uncompressed bytes.
        sha256: &'static str,
        /// Size of the reference `.gz` (`gzip -9 -n`).
        gz_bytes: u64,
        /// sha256 of the reference `.gz`.
        gz_sha256: &'static str,
    },
}

impl Expected {
    /// The size (uncompressed for gzip) and sha256 of the content.
    pub fn content(&self) -> (u64, &'static str) {
        match *self {
            Expected::Plain { bytes, sha256 } | Expected::Gzip { bytes, sha256, .. } => {
                (bytes, sha256)
            }
        }
    }
}

/// One file of the layout.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// Path under the data directory, with `/`.
    pub path: &'static str,
    /// The dataset it belongs to: `glue/CoLA`, `corpus/enwiki-2014-wikiextractor`, `roberta-base`.
    pub dataset: &'static str,
    /// Its group.
    pub group: Group,
    /// Its size and checksum.
    pub expected: Expected,
    /// How `fetch` makes it.
    pub source: Source,
}

impl Entry {
    /// The last component of [`Entry::dataset`] (`CoLA`, `enwiki-2014-wikiextractor`).
    pub fn dataset_name(&self) -> &'static str {
        self.dataset.rsplit('/').next().unwrap_or(self.dataset)
    }
}

const NSTATS: &str = "Nstats/my_bert";
const NSTATS_AT: &str = "44c152c8e3d84720112dd92fc7e1b767b3b0558c";
const AMRNAG: &str = "amrnag/Specialized-Transformers";
const AMRNAG_AT: &str = "fa673a93a5c27cb1f5954ac2a8a49eec6fcba6b9";
const BLUERAFT: &str = "blueraft/distil-bilstm";
const BLUERAFT_AT: &str = "ce67e190ae6d61ed23ad9025746d638396d5436b";
const MIESEUNG: &str = "mieseung/Cutoff_with_Attribution";
const MIESEUNG_AT: &str = "b74b32ee415e1a3c624568f5d42adc4fdcedd952";
const MARCWWW: &str = "marcwww/nlu_eval";
const MARCWWW_AT: &str = "ccd55c37de74ebd86c70ae58f67dceb0aa444f43";
const FOOTPRINT: &str = "footprinthere/AttAttr-Cutoff";
const FOOTPRINT_AT: &str = "2ac92f2fdee447af8e66689945003deff461b106";
const LLMCBENCH: &str = "jonny-vr/LLMCBench";
const LLMCBENCH_AT: &str = "720be179c2492271f61d7a09291ffd003f36f47d";
const GENNLI: &str = "anthonywchen/generative-nli";
const GENNLI_AT: &str = "6fd48683709b763b83f0125a258517fff6dc7f93";
const WIKI: &str = "ZhouYii/PatchedDistro";
const WIKI_AT: &str = "6433a90cc5a1311a4995e8944c7d6d25fb9bc811";
const AXLEARN: &str = "apple/axlearn";
const AXLEARN_AT: &str = "8d99700bed9260b7e2f008a99c2b197ae5128b48";
const FRANK: &str = "frank-chris/solving-math-word-problems";
const FRANK_AT: &str = "a1272f2c733246b12bc27404e12f936faa88b299";

const fn remote(repo: &'static str, commit: &'static str, path: &'static str) -> Remote {
    Remote { repo, commit, path }
}

/// A GLUE file downloaded as is.
const fn glue(path: &'static str, bytes: u64, sha256: &'static str, from: Remote) -> Entry {
    Entry {
        path,
        dataset: dataset_of(path),
        group: Group::Glue,
        expected: Expected::Plain { bytes, sha256 },
        source: Source::Copy(from),
    }
}

/// `glue/CoLA/train.tsv` → `glue/CoLA` (the path up to its last `/`), at compile time.
const fn dataset_of(path: &'static str) -> &'static str {
    let bytes = path.as_bytes();
    let mut end = bytes.len();
    while end > 0 && bytes[end - 1] != b'/' {
        end -= 1;
    }
    if end == 0 {
        return path;
    }
    let (dir, _) = bytes.split_at(end - 1);
    match std::str::from_utf8(dir) {
        Ok(dir) => dir,
        Err(_) => path,
    }
}

/// A corpus chunk made of the pieces `CORPUS_SOURCES` lists for it.
const fn chunk(
    path: &'static str,
    sizes: [u64; 2],
    sha256: &'static str,
    gz: &'static str,
) -> Entry {
    Entry {
        path,
        dataset: dataset_of(path),
        group: Group::Corpus,
        expected: Expected::Gzip {
            bytes: sizes[0],
            sha256,
            gz_bytes: sizes[1],
            gz_sha256: gz,
        },
        source: Source::Concatenate {
            repo: WIKI,
            commit: WIKI_AT,
            sources: CORPUS_SOURCES,
        },
    }
}

/// A roberta-base file.
const fn roberta(path: &'static str, bytes: u64, sha256: &'static str, source: Source) -> Entry {
    Entry {
        path,
        dataset: "roberta-base",
        group: Group::Roberta,
        expected: Expected::Plain { bytes, sha256 },
        source,
    }
}

/// Every file of the layout, in the order `fetch` makes them (inputs of a derivation first).
#[rustfmt::skip]
pub const MANIFEST: &[Entry] = &[
    glue("glue/CoLA/train.tsv", 428_590, "cb368ebeb9f27d7ad03720d27ddc95687a311bdb100781a2fe59a5f5b1bc0624",
        remote(NSTATS, NSTATS_AT, "data/CoLA/original/raw/in_domain_train.tsv")),
    glue("glue/CoLA/dev.tsv", 53_717, "8c013e21dc39957cac37378d87bebe225b694a0d5fe13eded66c2856628833fd",
        remote(NSTATS, NSTATS_AT, "data/CoLA/dev.tsv")),
    glue("glue/SST-2/train.tsv", 3_806_081, "48eac26399f8456935f81dd9e3a745c1430adb6c62e233ccfe22db4a0d15d1d1",
        remote(BLUERAFT, BLUERAFT_AT, "SST-2/train.tsv")),
    glue("glue/SST-2/dev.tsv", 94_931, "54a9c12c77e402fc14d6a66a506f24d999f596b0176eb777c972cccc2f9cc4b0",
        remote(BLUERAFT, BLUERAFT_AT, "SST-2/dev.tsv")),
    glue("glue/MRPC/train.tsv", 919_457, "122becc469405bc16f9defcb8715d2a4b7ce600e9d9381e6dc42bfdd1494c51d",
        remote(NSTATS, NSTATS_AT, "data/MRPC/train.tsv")),
    glue("glue/MRPC/dev.tsv", 103_255, "81c8a1a9e1dfe461dd2c1a4f98f43fe18bece44d2bf9e3d0b245b88e5aa5eaf7",
        remote(NSTATS, NSTATS_AT, "data/MRPC/dev.tsv")),
    glue("glue/STS-B/train.tsv", 984_099, "41c4d978b6162abdcada7e49a982211954cca5459c228db478af333124b257a2",
        remote(MIESEUNG, MIESEUNG_AT, "glue_data/STS-B/train.tsv")),
    glue("glue/STS-B/dev.tsv", 276_928, "fe7dc0632a5033562f3cadff991f6e8d9b9b6311861660e78c3c82eb7db67f59",
        remote(MIESEUNG, MIESEUNG_AT, "glue_data/STS-B/dev.tsv")),
    glue("glue/STS-B/LICENSE.txt", 6_641, "3dfc3217395f8c5dd05c5f8995f25fe2f8fd258e6dd770b3de480749caee8c70",
        remote(MIESEUNG, MIESEUNG_AT, "glue_data/STS-B/LICENSE.txt")),
    glue("glue/STS-B/readme.txt", 5_994, "e9488363d211c32ca5e912954f16eb9233cfed1b5b4b0475d0d812d35d7c8ef1",
        remote(MIESEUNG, MIESEUNG_AT, "glue_data/STS-B/readme.txt")),
    glue("glue/RTE/train.tsv", 846_226, "41e3a9b063433392343fad9e962cf2f58b681c78d8f71592f4186f0837246c5c",
        remote(MARCWWW, MARCWWW_AT, "data/RTE/train_copy.tsv")),
    glue("glue/RTE/dev.tsv", 90_343, "80230dfa1347282e7b532b06a1004a76a710087541189bf874223ddf0e3819fb",
        remote(MARCWWW, MARCWWW_AT, "data/RTE/dev.tsv")),
    Entry {
        path: "glue/WNLI/train.tsv",
        dataset: "glue/WNLI",
        group: Group::Glue,
        expected: Expected::Plain {
            bytes: 99_411,
            sha256: "9a88e9d54b6861cc796a088e9acf4f5f65064a9ef65ae6fa7a688b28391e5c9a",
        },
        source: Source::MergeByIndex([
            Pinned {
                remote: remote(FOOTPRINT, FOOTPRINT_AT, "glue_data/WNLI/train.tsv"),
                sha256: "0184a8396d0051394d8fece10204adc4fbb7a640a83b0ef8f9bdfebf863e9b27",
            },
            Pinned {
                remote: remote(FOOTPRINT, FOOTPRINT_AT, "glue_data/WNLI/dev.tsv"),
                sha256: "f8bcb9385f7679392ef851d0167d4095f6671e20e7563174195dfe1409328da7",
            },
        ]),
    },
    glue("glue/WNLI/dev.tsv", 11_261, "cba00490596dd14be8cf53b4f53bb744abe3a7b89f81ab210528d80225338ed5",
        remote(AMRNAG, AMRNAG_AT, "data/WNLI/dev.tsv")),
    glue("glue/QNLI/dev.tsv", 1_367_333, "763e95932dd3578251de71582e06829015f9c3815a518c751dc537219b159de4",
        remote(LLMCBENCH, LLMCBENCH_AT, "data/QNLI/dev.tsv")),
    glue("glue/MNLI/dev_matched.source.jsonl", 2_198_164,
        "081af9b80f4fe75aba97d034c0ff21a8017c4d18e3b5b2b0b7612ab2cc3c7bf2",
        remote(GENNLI, GENNLI_AT, "data/mnli/dev.jsonl")),
    Entry {
        path: "glue/MNLI/dev_matched.tsv",
        dataset: "glue/MNLI",
        group: Group::Glue,
        expected: Expected::Plain {
            bytes: 1_813_350,
            sha256: "eec3baa181ad183bef2f3988aa99a3f8db2453c92c149f3e3493a4c262e8ad23",
        },
        source: Source::JsonlToTsv { jsonl: "glue/MNLI/dev_matched.source.jsonl" },
    },
    Entry {
        path: "corpus/enwiki-2014-wikiextractor/SOURCES.txt",
        dataset: "corpus/enwiki-2014-wikiextractor",
        group: Group::Corpus,
        expected: Expected::Plain {
            bytes: 33_678,
            sha256: "b739c577b1cf5f0f5ff6a3e190fcbdea20b9c489e6c7d427f02b14d1e2640295",
        },
        source: Source::Bundled(CORPUS_SOURCES),
    },
    chunk("corpus/enwiki-2014-wikiextractor/AA.txt.gz", [50_769_616, 18_327_622],
        "0147684b7131ee42de7a4a584f1e1a44add177e340073613741330ede5a0c107",
        "49a0cd7ba50d3e97a3d2c217e0c8838f7c786c507e65a67cc16bf8cdb50d41ac"),
    chunk("corpus/enwiki-2014-wikiextractor/AB.txt.gz", [50_693_647, 17_972_539],
        "4493fc1447bf6df3a4756402654dacdbb900d3790cda7b46d9f0b607048e75b5",
        "1942e167f8de9c3dc36ac43ab54e47fa4a35250885f0e02c72423feb62396f97"),
    chunk("corpus/enwiki-2014-wikiextractor/AC.txt.gz", [50_616_370, 17_463_867],
        "ad99a16398b2dd83d0d110955a83f7a90265f780f30d2453c45fe853c903e6e5",
        "33a3d825a573685a68754e63dc40aec98998e62b2f489fca58a91a8029556516"),
    chunk("corpus/enwiki-2014-wikiextractor/AD.txt.gz", [50_435_909, 18_702_506],
        "e0b79368c7f137c967326220e644969376959dde187bbde3a35a650514cc46a3",
        "0c56b99fdf230e2ff349c450713bb6b3c5843d0412880827834cde234e7cec08"),
    chunk("corpus/enwiki-2014-wikiextractor/AE.txt.gz", [50_525_429, 18_590_951],
        "b6b398d67f89d4786c499f4e53f554875c7fd21ff19d89725e89ceebfdeb6579",
        "82cb83c6e4a5d0d104f287a3f373f46d59ef1dbe18afea4e3e9c0a8633cee084"),
    roberta("roberta-base/vocab.json", 898_823,
        "9e7f63c2d15d666b52e21d250d2e513b87c9b713cfa6987a82ed89e5e6e50655",
        Source::Copy(remote(AXLEARN, AXLEARN_AT, "axlearn/data/tokenizers/bpe/roberta-base-vocab.json"))),
    roberta("roberta-base/merges.txt", 456_318,
        "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
        Source::Copy(remote(AXLEARN, AXLEARN_AT, "axlearn/data/tokenizers/bpe/roberta-base-merges.txt"))),
    roberta("roberta-base/tokenizer.json", 1_355_863,
        "847bbeab6174d66a88898f729d52fa8d355fafe1bea101cf960dd404581df70e",
        Source::DeleteOnce {
            from: Pinned {
                remote: remote(FRANK, FRANK_AT, "pretrained_models/roberta-base/tokenizer.json"),
                sha256: "fd1673edece207acd3bb48e77795fe9a864d5d199747b60f889f162b906fbf55",
            },
            needle: TOKENIZER_ADDED_TOKENS,
        }),
];

/// The two tokens that the tokenizer.json source added by hand to the vocab, deleted by `fetch`.
pub const TOKENIZER_ADDED_TOKENS: &str = r#", "<num>":50265, "<NUM>":50266"#;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::{Expected, Group, Source, CORPUS_SOURCES, MANIFEST};
    use crate::data::digest;

    fn is_hex(s: &str, len: usize) -> bool {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }

    #[test]
    fn paths_are_unique_and_under_their_dataset() {
        let mut seen = BTreeSet::new();
        for e in MANIFEST {
            assert!(seen.insert(e.path), "{} listed twice", e.path);
            assert!(e.path.starts_with(&format!("{}/", e.dataset)), "{}", e.path);
            let prefix = match e.group {
                Group::Glue => "glue/",
                Group::Corpus => "corpus/",
                Group::Roberta => "roberta-base",
            };
            assert!(e.path.starts_with(prefix), "{}", e.path);
        }
        assert_eq!(MANIFEST.len(), 26);
    }

    #[test]
    fn checksums_and_commits_are_full_lowercase_hex() {
        let pinned = |s: &str| assert!(is_hex(s, 64), "{s}");
        for e in MANIFEST {
            match e.expected {
                Expected::Plain { sha256, .. } => pinned(sha256),
                Expected::Gzip {
                    sha256, gz_sha256, ..
                } => {
                    pinned(sha256);
                    pinned(gz_sha256);
                }
            }
            match e.source {
                Source::Copy(r) => assert!(is_hex(r.commit, 40), "{}", e.path),
                Source::MergeByIndex(parts) => parts.iter().for_each(|p| {
                    pinned(p.sha256);
                    assert!(is_hex(p.remote.commit, 40));
                }),
                Source::DeleteOnce { from, .. } => pinned(from.sha256),
                Source::Concatenate { commit, .. } => assert!(is_hex(commit, 40)),
                Source::JsonlToTsv { .. } | Source::Bundled(_) => {}
            }
        }
    }

    #[test]
    fn derivation_inputs_come_first() {
        for (i, e) in MANIFEST.iter().enumerate() {
            if let Source::JsonlToTsv { jsonl } = e.source {
                let at = MANIFEST.iter().position(|f| f.path == jsonl);
                assert!(
                    at.is_some_and(|at| at < i),
                    "{jsonl} must precede {}",
                    e.path
                );
                assert_eq!(MANIFEST[at.unwrap_or(i)].dataset, e.dataset);
            }
        }
    }

    #[test]
    fn bundled_sources_match_their_entry() {
        let entry = MANIFEST.iter().find(|e| e.path.ends_with("SOURCES.txt"));
        let Some(entry) = entry else {
            panic!("no SOURCES.txt")
        };
        let (bytes, sha256) = entry.expected.content();
        assert_eq!(CORPUS_SOURCES.len() as u64, bytes);
        assert_eq!(digest::sha256_hex(CORPUS_SOURCES.as_bytes()), sha256);
    }

    #[test]
    fn remote_url() {
        let r = super::remote("o/r", "abc", "d/f.tsv");
        assert_eq!(
            r.url("http://127.0.0.1:1/"),
            "http://127.0.0.1:1/o/r/abc/d/f.tsv"
        );
        assert_eq!(MANIFEST[0].dataset_name(), "CoLA");
        assert_eq!(MANIFEST[0].dataset, "glue/CoLA");
    }
}
