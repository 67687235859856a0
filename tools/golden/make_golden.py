#!/usr/bin/env python3
"""Generate the hashing golden fixtures in crates/hashing/tests/golden/.

Requires Python 3.11 (its `re` and `str.lower` follow Unicode 14.0.0) and the
exact numpy / regex versions pinned in tools/golden/requirements.txt.
From the repository root:

    bash tools/golden/setup.sh
    HASHFORMER_DATA=/work/shared/data tools/golden/.venv/bin/python \
        tools/golden/make_golden.py --out crates/hashing/tests/golden

Inputs (all under $HASHFORMER_DATA, default /work/shared/data):
  roberta-base/{vocab.json,merges.txt}     byte-level BPE for the LSH features
  glue/<TASK>/dev.tsv, MNLI/dev_matched.tsv
  corpus/enwiki-2014-wikiextractor/*.txt.gz

Outputs: glue.jsonl, wiki.jsonl, unicode.jsonl (one JSON object per line).
Selection is deterministic; rerunning gives byte-identical files. The values
come from hashformer_ref.py only, never from the Rust code under test.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import json
import sys
import unicodedata
from pathlib import Path

import regex

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hashformer_ref as ref  # noqa: E402
from unicode_cases import all_cases  # noqa: E402

HERE = Path(__file__).resolve().parent
MAX_LENGTHS = (128, 16)

# (source name, file under glue/, text column, second column or None, records)
# A column is a header name, or an int index for header-less CoLA.
GLUE_TASKS = [
    ("cola_dev", "CoLA/dev.tsv", 3, None, 35),
    ("sst2_dev", "SST-2/dev.tsv", "sentence", None, 30),
    ("mrpc_dev", "MRPC/dev.tsv", "#1 String", "#2 String", 30),
    ("stsb_dev", "STS-B/dev.tsv", "sentence1", "sentence2", 30),
    ("rte_dev", "RTE/dev.tsv", "sentence1", "sentence2", 25),
    ("wnli_dev", "WNLI/dev.tsv", "sentence1", "sentence2", 15),
    ("qnli_dev", "QNLI/dev.tsv", "question", "sentence", 40),
    ("mnli_dev_matched", "MNLI/dev_matched.tsv", "sentence1", "sentence2", 40),
]
RTE_LONGEST_EXTRA = 5  # the longest RTE dev pairs are added for truncation

WIKI_BYTES_PER_FILE = 4_000_000  # decompressed prefix read from each gzip
WIKI_PER_FILE = 30
WIKI_SHORT_TOKENS = (5, 45)  # token-count range of most picks
WIKI_LONG_TOKENS = (129, 250)  # every WIKI_LONG_EVERY-th pick: exercises truncation
WIKI_LONG_EVERY = 10


# --------------------------------------------------------------------------
# Environment checks
# --------------------------------------------------------------------------


def check_environment() -> None:
    """Refuse to run with another Python / Unicode / pinned dependency."""
    assert sys.version_info[:2] == (3, 11), f"need Python 3.11, got {sys.version}"
    assert unicodedata.unidata_version == "14.0.0", unicodedata.unidata_version
    for line in (HERE / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            installed = importlib.metadata.version(name)
            assert installed == version, f"{name} {installed} installed, {version} pinned"


_GPT2_CLASS_RE = regex.compile(r"(\p{L})|(\p{N})")


def check_unicode_agreement(word: str) -> None:
    """The BPE pre-tokeniser (regex package) must classify every char of an
    LSH-hashed word as Unicode 14.0 does, so the fixtures do not depend on the
    Unicode version of the regex package (or of the Rust side's engine)."""
    for ch in set(word):
        cat = unicodedata.category(ch)
        assert cat != "Cn", f"{ch!r} is unassigned in Unicode 14.0"
        m = _GPT2_CLASS_RE.fullmatch(ch)
        got = "L" if m and m.group(1) else "N" if m else "other"
        want = cat[0] if cat[0] in "LN" else "other"
        assert got == want, f"{ch!r}: regex says {got}, Unicode 14.0 says {cat}"


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------


def read_tsv(path: Path) -> tuple[list[str] | None, list[list[str]]]:
    """Split on '\\n' and '\\t' only (no quoting). Returns (header, rows);
    the header is None for header-less files (CoLA)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    rows = [line.split("\t") for line in lines]
    if path.parts[-2] == "CoLA":
        return None, rows
    header = [name.lstrip("\ufeff") for name in rows[0]]
    return header, rows[1:]


def every_kth(count: int, total: int) -> list[int]:
    """``count`` row indices spread evenly over ``total`` rows."""
    step = max(total // count, 1)
    return list(range(0, total, step))[:count]


def glue_inputs(root: Path) -> list[dict]:
    """Deterministic GLUE dev picks as {id, source, text[, text_b]}."""
    out = []
    for source, rel, col_a, col_b, count in GLUE_TASKS:
        header, rows = read_tsv(root / "glue" / rel)
        ia = col_a if header is None else header.index(col_a)
        ib = None if col_b is None else header.index(col_b)
        picks = every_kth(count, len(rows))
        if source == "rte_dev":
            by_len = sorted(range(len(rows)),
                            key=lambda i: (-len(ref.pretokenize(rows[i][ia] + " " + rows[i][ib])), i))
            picks += [i for i in by_len if i not in picks][:RTE_LONGEST_EXTRA]
        for i in picks:
            rec = {"id": f"{source}:{i:05d}", "source": source, "text": rows[i][ia]}
            if ib is not None:
                rec["text_b"] = rows[i][ib]
            out.append(rec)
    return out


def wiki_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, line) of the text lines in the first few MB of a dump."""
    with gzip.open(path, "rb") as f:
        data = f.read(WIKI_BYTES_PER_FILE)
    data = data[:data.rfind(b"\n") + 1]
    lines = data.decode("utf-8").split("\n")
    return [
        (n, line) for n, line in enumerate(lines)
        if line and not line.startswith("<doc") and not line.startswith("</doc>")
    ]


def wiki_inputs(root: Path) -> list[dict]:
    """Evenly spaced lines per file; mostly 5-45 tokens, every 10th long."""
    out = []
    for path in sorted((root / "corpus" / "enwiki-2014-wikiextractor").glob("*.txt.gz")):
        lines = wiki_lines(path)
        source = f"enwiki_{path.name.split('.')[0]}"
        for j, start in enumerate(every_kth(WIKI_PER_FILE, len(lines))):
            lo, hi = WIKI_LONG_TOKENS if j % WIKI_LONG_EVERY == WIKI_LONG_EVERY - 1 else WIKI_SHORT_TOKENS
            for n, line in lines[start:]:
                if lo <= len(ref.pretokenize(line)) <= hi:
                    out.append({"id": f"{source}:{n}", "source": source, "text": line})
                    break
    ids = [r["id"] for r in out]
    assert len(ids) == len(set(ids))
    return out


def unicode_inputs() -> list[dict]:
    out = []
    for cid, note, text, text_b in all_cases():
        rec = {"id": f"unicode:{cid}", "source": "unicode", "note": note, "text": text}
        if text_b is not None:
            rec["text_b"] = text_b
        out.append(rec)
    return out


# --------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------


def build_record(inp: dict, hasher: ref.LshHasher) -> dict:
    """Add every hashed field and the encodings at each max length."""
    rec = dict(inp)
    rec.update(ref.text_fields(inp["text"], hasher))
    tokens_b = None
    if "text_b" in inp:
        rec.update(ref.text_fields(inp["text_b"], hasher, "_b"))
        tokens_b = rec["tokens_b"]
    for tokens in (rec["tokens"], tokens_b or []):
        for tok in tokens:
            if len(tok) <= ref.LSH_MAX_WORD_CHARS:
                check_unicode_agreement(tok)
    for max_length in MAX_LENGTHS:
        rec[f"encoded_{max_length}"] = ref.encode_md5(rec["tokens"], tokens_b, max_length)
    return rec


def write_jsonl(path: Path, records: list[dict]) -> None:
    """One compact, ASCII-only JSON object per line (LF line ends)."""
    with open(path, "w", encoding="ascii", newline="\n") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=True, separators=(",", ":")) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("crates/hashing/tests/golden"))
    args = parser.parse_args()
    check_environment()
    root = ref.data_dir()
    hasher = ref.default_hasher()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, inputs in (
        ("unicode.jsonl", unicode_inputs()),
        ("glue.jsonl", glue_inputs(root)),
        ("wiki.jsonl", wiki_inputs(root)),
    ):
        records = [build_record(inp, hasher) for inp in inputs]
        write_jsonl(args.out / name, records)
        print(f"{args.out / name}: {len(records)} records")


if __name__ == "__main__":
    main()
