//! `cargo xtask data` end to end, through the built binary: `import` from `$HASHFORMER_DATA`
//! into a temp folder then `check`, corrupt and missing files reported, a corrupt mirror file
//! refused, and `fetch --base-url` from a local HTTP server. No test uses the internet. Tests
//! that need the data fail when it is missing under `CI=true`, and skip otherwise.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;

use hashformer_testkit::{shared_data, TempDir};

/// Runs `xtask data <args>`: (success, stdout, stderr).
fn data(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("data")
        .args(args)
        .env_remove("HASHFORMER_DATA_MIRROR")
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.success(), text(out.stdout), text(out.stderr))
}

/// The status column of every row of the table in `stdout`.
fn statuses(stdout: &str) -> Vec<&str> {
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with("dataset "));
    let header = lines
        .next()
        .unwrap_or_else(|| panic!("no table in\n{stdout}"));
    let at = header.find("status").unwrap();
    lines
        .take_while(|l| !l.contains(" file(s), "))
        .map(|l| &l[at..])
        .collect()
}

/// How many rows have the status `status`.
fn count(stdout: &str, status: &str) -> usize {
    statuses(stdout).iter().filter(|s| **s == status).count()
}

/// The status column of `stdout`'s row for `file`.
fn status_of<'a>(stdout: &'a str, file: &str) -> &'a str {
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == file));
    let line = line.unwrap_or_else(|| panic!("no row for {file} in\n{stdout}"));
    let at = line.find(file).unwrap() + file.len();
    line[at..].trim()
}

#[test]
fn import_then_check_reports_corrupt_and_missing_files() {
    let Some(shared) = shared_data("glue") else {
        return;
    };
    let dest = TempDir::new("import");
    let (dir, shared) = (dest.path().to_str().unwrap(), shared.to_str().unwrap());

    let (ok, stdout, stderr) = data(&["import", shared, "--dir", dir, "--only", "glue"]);
    assert!(ok, "{stdout}{stderr}");
    assert_eq!(count(&stdout, "imported"), 17, "{stdout}");
    assert!(stdout.ends_with("17 file(s), 0 not imported\n"), "{stdout}");
    assert_eq!(dest.files().len(), 17, "{:?}", dest.files());
    let (ok, stdout, _) = data(&["check", "--dir", dir, "--only", "glue"]);
    assert!(ok, "{stdout}");
    assert_eq!(count(&stdout, "ok"), 17, "{stdout}");

    // Importing again skips every file.
    let (ok, stdout, _) = data(&["import", shared, "--dir", dir, "--only", "glue"]);
    assert!(ok);
    assert_eq!(count(&stdout, "present"), 17, "{stdout}");

    // One byte changed (same size), one file gone.
    let rte = dest.path().join("glue/RTE/dev.tsv");
    let mut bytes = std::fs::read(&rte).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&rte, bytes).unwrap();
    std::fs::remove_file(dest.path().join("glue/CoLA/dev.tsv")).unwrap();
    let (ok, stdout, stderr) = data(&["check", "--dir", dir, "--only", "rte,cola"]);
    assert!(!ok);
    let rows = statuses(&stdout);
    assert_eq!(rows[..3], ["ok", "MISSING", "ok"], "{stdout}");
    assert!(rows[3].starts_with("WRONG SHA256: "), "{stdout}");
    assert!(
        stderr.contains("2 file(s) under")
            && stderr.contains("glue/CoLA/dev.tsv, glue/RTE/dev.tsv"),
        "{stderr}"
    );
    // --quick compares sizes only: the changed byte passes, the missing file does not.
    let (ok, stdout, _) = data(&["check", "--quick", "--dir", dir, "--only", "rte"]);
    assert!(ok, "{stdout}");

    // import repairs both.
    let (ok, stdout, _) = data(&["import", shared, "--dir", dir, "--only", "rte,cola"]);
    assert!(ok, "{stdout}");
    assert!(stdout.contains("replaced (was WRONG SHA256"), "{stdout}");
    assert!(data(&["check", "--dir", dir, "--only", "glue"]).0);
}

#[test]
fn import_refuses_a_corrupt_mirror_file_and_leaves_nothing() {
    let Some(shared) = shared_data("glue/CoLA") else {
        return;
    };
    let (mirror, dest) = (TempDir::new("mirror"), TempDir::new("mirror-dest"));
    std::fs::create_dir_all(mirror.path().join("glue/CoLA")).unwrap();
    std::fs::copy(
        shared.join("glue/CoLA/train.tsv"),
        mirror.path().join("glue/CoLA/train.tsv"),
    )
    .unwrap();
    let dev = std::fs::read(shared.join("glue/CoLA/dev.tsv")).unwrap();
    std::fs::write(
        mirror.path().join("glue/CoLA/dev.tsv"),
        &dev[..dev.len() - 1],
    )
    .unwrap();

    let (ok, stdout, stderr) = data(&[
        "import",
        mirror.path().to_str().unwrap(),
        "--dir",
        dest.path().to_str().unwrap(),
        "--only",
        "CoLA",
    ]);
    assert!(!ok);
    assert!(
        status_of(&stdout, "dev.tsv").starts_with("FAILED: "),
        "{stdout}"
    );
    assert!(
        stdout.contains("glue/CoLA/dev.tsv is corrupt: WRONG SIZE: 53716 bytes, expected 53717"),
        "{stdout}"
    );
    assert!(
        stderr.contains("1 file(s) under") && stderr.ends_with("not imported: glue/CoLA/dev.tsv\n"),
        "{stderr}"
    );
    assert_eq!(dest.files(), ["glue/CoLA/train.tsv"]);
}

#[test]
fn shared_data_passes_check() {
    let Some(shared) = shared_data("") else {
        return;
    };
    let dir = shared.to_str().unwrap();
    let (ok, stdout, _) = data(&["check", "--quick", "--dir", dir]);
    assert!(ok, "{stdout}");
    assert!(
        stdout.ends_with("26 file(s), 0 missing or corrupt\n"),
        "{stdout}"
    );
    let (ok, stdout, _) = data(&["check", "--dir", dir, "--only", "roberta,mnli"]);
    assert!(ok, "{stdout}");
}

#[test]
fn check_of_an_empty_folder_fails() {
    let empty = TempDir::new("empty");
    let (ok, stdout, stderr) = data(&["check", "--dir", empty.path().to_str().unwrap()]);
    assert!(!ok);
    assert_eq!(count(&stdout, "MISSING"), 26, "{stdout}");
    assert!(stderr.contains("26 file(s) under"), "{stderr}");
    let (ok, _, stderr) = data(&["check", "--only", "nope"]);
    assert!(
        !ok && stderr.contains("\"nope\" matches no dataset"),
        "{stderr}"
    );
}

/// Serves `routes` on 127.0.0.1 (one response per connection); returns the base URL.
fn serve(routes: Vec<(String, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let path = line.split_whitespace().nth(1).unwrap_or("");
            let (status, body) = match routes.iter().find(|(p, _)| p == path) {
                Some((_, body)) => ("200 OK", body.as_slice()),
                None => ("404 Not Found", &b""[..]),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream
                .write_all(head.as_bytes())
                .and_then(|()| stream.write_all(body));
        }
    });
    base
}

/// The roberta-base files at their pinned source paths, the tokenizer as its source had it
/// (with the two added tokens `fetch` deletes).
#[test]
fn fetch_roberta_from_a_local_mirror() {
    let Some(shared) = shared_data("roberta-base") else {
        return;
    };
    let read = |p: &str| std::fs::read(shared.join(p)).unwrap();
    let axlearn =
        "/apple/axlearn/8d99700bed9260b7e2f008a99c2b197ae5128b48/axlearn/data/tokenizers/bpe";
    let tokenizer = String::from_utf8(read("roberta-base/tokenizer.json")).unwrap();
    let source = tokenizer.replacen(
        r#""<mask>":50264}"#,
        r#""<mask>":50264, "<num>":50265, "<NUM>":50266}"#,
        1,
    );
    let mut routes = vec![
        (
            format!("{axlearn}/roberta-base-vocab.json"),
            read("roberta-base/vocab.json"),
        ),
        (
            "/frank-chris/solving-math-word-problems/a1272f2c733246b12bc27404e12f936faa88b299/\
             pretrained_models/roberta-base/tokenizer.json"
                .to_string(),
            source.into_bytes(),
        ),
    ];
    let dest = TempDir::new("fetch");
    let dir = dest.path().to_str().unwrap();

    // merges.txt is served corrupt: it fails and leaves nothing behind.
    let mut merges = read("roberta-base/merges.txt");
    merges[10] ^= 1;
    routes.push((format!("{axlearn}/roberta-base-merges.txt"), merges));
    let base = serve(routes);
    let (ok, stdout, stderr) = data(&[
        "fetch",
        "--dir",
        dir,
        "--only",
        "roberta",
        "--base-url",
        &base,
    ]);
    assert!(!ok, "{stdout}");
    assert_eq!(status_of(&stdout, "vocab.json"), "fetched");
    assert_eq!(status_of(&stdout, "tokenizer.json"), "fetched");
    assert!(
        status_of(&stdout, "merges.txt").starts_with("FAILED: WRONG SHA256"),
        "{stdout}"
    );
    assert!(
        stderr.ends_with("not fetched: roberta-base/merges.txt\n"),
        "{stderr}"
    );
    assert_eq!(
        dest.files(),
        ["roberta-base/tokenizer.json", "roberta-base/vocab.json"]
    );
    assert_eq!(
        std::fs::read_to_string(dest.path().join("roberta-base/tokenizer.json")).unwrap(),
        tokenizer
    );

    // The fetched files pass check; merges.txt is missing.
    let (ok, stdout, _) = data(&["check", "--dir", dir, "--only", "roberta"]);
    assert!(!ok);
    assert_eq!(status_of(&stdout, "merges.txt"), "MISSING");
    assert_eq!(count(&stdout, "ok"), 2, "{stdout}");
}
