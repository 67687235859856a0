"""Shared fixtures: golden files, the data rule, tokenisers, and the reference's layout.

The data rule is the project's: a test that needs ``$HASHFORMER_DATA`` (roberta-base's BPE)
fails when it is missing and ``CI=true``, and is skipped otherwise.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import pytest

import hashformers

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "crates" / "hashing" / "tests" / "golden"
#: The official code's outputs for 20 records (a checked-in copy of
#: ``shared/golden/hashing-visible-sample.jsonl``).
REFERENCE_SAMPLE = GOLDEN / "reference-sample.jsonl"
#: Our independent Python implementation's vectors (tools/golden/).
OUR_GOLDEN = ["glue.jsonl", "wiki.jsonl", "unicode.jsonl"]

BOS, PAD, EOS = 0, 1, 2


def read_jsonl(path: Path) -> List[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def golden_files() -> List[Path]:
    """The official sample, its shared original when present, and our golden files."""
    files = [REFERENCE_SAMPLE]
    data = os.environ.get("HASHFORMER_DATA")
    if data:
        shared = Path(data).parent / "golden" / "hashing-visible-sample.jsonl"
        if shared.is_file():
            files.append(shared)
    return files + [GOLDEN / name for name in OUR_GOLDEN]


def needs_data(relative: str) -> Path:
    """``$HASHFORMER_DATA`` if it holds ``relative``; else fail under ``CI=true``, or skip."""
    root = os.environ.get("HASHFORMER_DATA")
    if root and (Path(root) / relative).exists():
        return Path(root)
    missing = f"{Path(root) / relative} does not exist" if root else "HASHFORMER_DATA is not set"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and this test needs the data: {missing}")
    pytest.skip(f"needs the data: {missing}")


@pytest.fixture(scope="session")
def bpe_dir() -> Path:
    return needs_data("roberta-base") / "roberta-base"


@pytest.fixture(scope="session")
def md5_value() -> hashformers.Md5ValueTokenizer:
    return hashformers.Md5ValueTokenizer()


@pytest.fixture(scope="session")
def md5_bits() -> hashformers.Md5Tokenizer:
    return hashformers.Md5Tokenizer()


@pytest.fixture(scope="session")
def lsh_value(bpe_dir: Path) -> hashformers.LSHValueTokenizer:
    return hashformers.LSHValueTokenizer(bpe_dir)


@pytest.fixture(scope="session")
def lsh_bits(bpe_dir: Path) -> hashformers.LSHTokenizer:
    return hashformers.LSHTokenizer(bpe_dir)


def reference_layout(
    a: Sequence, b: Optional[Sequence], max_length: int, bos=BOS, eos=EOS, pad=PAD
) -> Dict[str, list]:
    """The reference ``_proc_each`` on per-token values (method §2.3, even ``max_length``):
    ``<s> a </s>`` or ``<s> a </s></s> b </s>``, truncated, padded, with the attention mask."""
    if b is None:
        kept = list(a[: max_length - 2])
        real = [bos] + kept + [eos]
    else:
        n1, n2 = len(a), len(b)
        a, b = list(a), list(b)
        if n1 + n2 > max_length - 4:
            thres = max_length // 2 - 2
            if n1 <= n2:
                a, b = (a[:thres], b[:thres]) if n1 >= thres else (a, b[: max_length - 4 - n1])
            else:
                a, b = (a[:thres], b[:thres]) if n2 >= thres else (a[: max_length - 4 - n2], b)
        real = [bos] + a + [eos, eos] + b + [eos]
    pads = max_length - len(real)
    return {"input_ids": real + [pad] * pads, "attention_mask": [1] * len(real) + [0] * pads}


def base36(hex_digest: str) -> str:
    """The reference's token string: ``numpy.base_repr(int(hex, 16) + 5, 36)``."""
    return np.base_repr(int(hex_digest, 16) + 5, 36)


def record_input(rec: dict):
    """A record's text, or its ``(text, text_b)`` pair, as the reference takes it."""
    return (rec["text"], rec["text_b"]) if "text_b" in rec else rec["text"]
