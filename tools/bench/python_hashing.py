#!/usr/bin/env python3
"""Python reference baseline for the hashing benchmarks (``benches/benches/hashing.rs``).

Times, on exactly the text the criterion benchmarks use (the first 2,000 non-markup lines of
``$HASHFORMER_DATA/corpus/enwiki-2014-wikiextractor/AA.txt.gz``: lines starting with
``<doc`` or ``</doc>`` and blank lines skipped), single-threaded, standard library only:

(a) ``pretokenize``: the reference pre-tokeniser,
    ``re.findall(r"\\w+|[^\\w\\s]+", line.lower())``, over every line;
(b) ``md5_bucket``: the official ``Md5ValueTokenizer`` per-token value,
    ``(int(hmac.new(b"en", str.encode(token), hashlib.md5).hexdigest(), 16) % 50260) + 5``,
    over every pre-tokenised token (tokens prepared untimed);
(c) ``encode_ids``: end to end per line: pre-tokenise, ``['<s>'] + sent[:126] + ['</s>']``
    plus ``<pad>``s to max_length 128, the token -> id map (specials 0/2/1, every word its
    MD5 value) and the attention mask.

Each is the best of 5 repetitions of a full pass (``time.perf_counter``; the garbage
collector is paused while timing, as ``timeit`` does). Throughput is in pre-tokenised tokens
of all lines for every stage, as in the Rust benchmarks (so (c) counts a line's words past
the 126th although, as in Rust, they are not hashed).

Prints a table (tokens/s, ns/token), then one JSON line, and writes that JSON to
``target/bench/python_hashing.json`` under the repository root.

Run::

    HASHFORMER_DATA=/path/to/data python3 tools/bench/python_hashing.py

(``cargo xtask bench-hashing`` runs it after the criterion benchmarks.)
"""

from __future__ import annotations

import gc
import gzip
import hashlib
import hmac
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

CORPUS = "corpus/enwiki-2014-wikiextractor/AA.txt.gz"
NUM_LINES = 2000
MAX_LENGTH = 128
REPETITIONS = 5
ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "target" / "bench" / "python_hashing.json"

SPECIAL_IDS = {"<s>": 0, "<pad>": 1, "</s>": 2}


def md5_value(token: str) -> int:
    """The official ``Md5ValueTokenizer`` bucket of one token."""
    return (int(hmac.new(b"en", str.encode(token), hashlib.md5).hexdigest(), 16) % 50260) + 5


def pre_tokenize(line: str) -> list[str]:
    """The reference pre-tokeniser."""
    return re.findall(r"\w+|[^\w\s]+", line.lower())


def encode_ids(line: str) -> tuple[list[int], list[int]]:
    """Emb_MD5 input ids and attention mask of one text at ``MAX_LENGTH``."""
    sent = ["<s>"] + pre_tokenize(line)[: MAX_LENGTH - 2] + ["</s>"]
    pads = ["<pad>"] * (MAX_LENGTH - len(sent))
    ids = [SPECIAL_IDS[t] if t in SPECIAL_IDS else md5_value(t) for t in sent + pads]
    mask = [1] * len(sent) + [0] * len(pads)
    return ids, mask


def read_lines(path: Path, n: int) -> list[str]:
    """The first ``n`` text lines, decompressing only what is needed.

    ``newline="\\n"``: only ``\\n`` ends a line, as in the Rust benchmark.
    """
    lines: list[str] = []
    with gzip.open(path, "rt", encoding="utf-8", newline="\n") as f:
        for raw in f:
            line = raw[:-1] if raw.endswith("\n") else raw
            if line.startswith("<doc") or line.startswith("</doc>") or not line.strip():
                continue
            lines.append(line)
            if len(lines) == n:
                break
    if len(lines) < n:
        sys.exit(f"{path} has fewer than {n} text lines")
    return lines


def best_of(fn, repetitions: int = REPETITIONS) -> tuple[float, list[float]]:
    """Best and all wall times (s) of ``repetitions`` calls of ``fn``."""
    times = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repetitions):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    finally:
        if gc_was_enabled:
            gc.enable()
    return min(times), times


def main() -> None:
    data = os.environ.get("HASHFORMER_DATA")
    if not data:
        sys.exit(
            "HASHFORMER_DATA is not set: point it at the data root (the folder holding "
            "corpus/enwiki-2014-wikiextractor/), e.g. "
            "HASHFORMER_DATA=/work/shared/data python3 tools/bench/python_hashing.py"
        )
    lines = read_lines(Path(data) / CORPUS, NUM_LINES)
    line_tokens = [pre_tokenize(line) for line in lines]
    tokens = [t for words in line_tokens for t in words]
    num_tokens = len(tokens)
    hashed = sum(min(len(words), MAX_LENGTH - 2) for words in line_tokens)

    # Sanity: the spec's test vectors.
    assert md5_value("hello") == 46797 and md5_value("naïve") == 27928
    assert encode_ids("Hello world!")[0][:5] == [0, 46797, 25238, 41048, 2]

    def run_pretokenize() -> None:
        for line in lines:
            pre_tokenize(line)

    def run_md5() -> None:
        for token in tokens:
            md5_value(token)

    def run_encode() -> None:
        for line in lines:
            encode_ids(line)

    stages = {}
    for name, fn in (
        ("pretokenize", run_pretokenize),
        ("md5_bucket", run_md5),
        ("encode_ids", run_encode),
    ):
        best, times = best_of(fn)
        stages[name] = {
            "best_s": best,
            "times_s": times,
            "tokens_per_s": num_tokens / best,
            "ns_per_token": best / num_tokens * 1e9,
        }

    result = {
        "benchmark": "python_hashing",
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "corpus": CORPUS,
        "lines": len(lines),
        "tokens": num_tokens,
        "hashed_tokens": hashed,
        "max_length": MAX_LENGTH,
        "repetitions": REPETITIONS,
        "stages": stages,
    }
    line = json.dumps(result, sort_keys=True)
    # Written before printing, so a closed stdout (`| head`) cannot lose the file.
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(line + "\n", encoding="utf-8")

    print(
        f"Python {platform.python_version()} reference baseline: {len(lines)} lines, "
        f"{num_tokens} tokens ({hashed} within max_length {MAX_LENGTH}), "
        f"best of {REPETITIONS}, 1 thread"
    )
    print(f"{'stage':<14} {'best ms':>10} {'tokens/s':>14} {'ns/token':>10}")
    for name, s in stages.items():
        print(
            f"{name:<14} {s['best_s'] * 1e3:>10.2f} {s['tokens_per_s']:>14,.0f} "
            f"{s['ns_per_token']:>10.1f}"
        )

    print(line)
    print(f"wrote {OUTPUT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
