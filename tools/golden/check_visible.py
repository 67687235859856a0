#!/usr/bin/env python3
"""Check hashformer_ref against values computed by the official reference code.

1. Recomputes every field of shared/golden/hashing-visible-sample.jsonl (20
   records from the official HashFormers tokenizer code) and prints per-field
   agreement. For lsh_bucket disagreements it prints the gap between our best
   and second-best rotator score (the reference ran with numba fastmath).
2. Checks the test vectors stated in the spec (HMAC-MD5 table, numpy legacy
   RandomState values, the rotator toy example).

Usage (Python 3.11, deps from requirements.txt; see setup.sh):
    tools/golden/.venv/bin/python tools/golden/check_visible.py [SAMPLE.jsonl]
Exits non-zero if anything except lsh_bucket disagrees.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hashformer_ref as ref  # noqa: E402

DEFAULT_SAMPLE = ref.data_dir().parent / "golden" / "hashing-visible-sample.jsonl"
TOKEN_FIELDS = ("tokens", "md5_hex", "md5_bucket", "lsh_hex", "lsh_bucket")

# Spec 3.1: token -> (hex, bucket, first 32 bits, pool indices)
MD5_VECTORS = {
    "hello": ("1dec56025892c637efb2601c8e1a3ab4", 46797, "00011101111011000101011000000010",
              [120, 710, 385, 601, 588, 100, 508, 947, 385, 457, 903, 571, 181]),
    "world": ("5f293b86db782e0c40b2761be9ad9cd5", 25238, "01011111001010010011101110000110",
              [381, 660, 738, 732, 481, 737, 785, 179, 473, 447, 620, 413, 214]),
    "!": ("2e9e7c379d2e38e62a269357c7e4f23f", 41048, "00101110100111100111110000110111",
          [187, 488, 782, 926, 185, 911, 395, 551, 590, 381, 506, 243, 64]),
    "the": ("b9386d96710ddd52bc49ff0033ead10f", 20664, "10111001001110000110110110010110",
            [741, 903, 870, 626, 56, 470, 176, 74, 1021, 4, 251, 722, 16]),
    "na\u00efve": ("9d95277bb7ca83fae0262eaa0ae1d98b", 27928, "10011101100101010010011101111011",
                   [631, 339, 479, 952, 811, 64, 697, 39, 187, 673, 697, 474, 140]),
    "cat": ("52f5232f6e4a66a17708a27bc6738731", 28850, "01010010111101010010001100101111",
            [332, 851, 204, 879, 298, 619, 94, 777, 650, 957, 413, 904, 50]),
}

# Spec 3.5: seed -> (first four normals, sum of the first 128)
RANDOMSTATE_VECTORS = {
    0: ([1.764052345967664, 0.4001572083672233, 0.9787379841057392, 2.240893199201458],
        17.384966121634037),
    1: ([1.6243453636632417, -0.6117564136500754, -0.5281717522634557, -1.0729686221561705],
        8.088180438189369),
    5: ([0.44122748688504143, -0.33087015189408764, 2.43077118700778, -0.2520921296030769],
        4.581297496826049),
    50264: ([-0.8252275601613752, 2.1538757381569393, 1.3651519118683169, -1.073123286942217],
            -1.6800976222323802),
}


class Tally:
    """Counts agreeing / total items per field and remembers failures."""

    def __init__(self):
        self.ok = defaultdict(int)
        self.total = defaultdict(int)
        self.failures: list[str] = []

    def item(self, field: str, good: bool, detail: str = "") -> None:
        self.total[field] += 1
        self.ok[field] += good
        if not good:
            self.failures.append(f"{field}: {detail}")

    def report(self) -> None:
        for field in sorted(self.total):
            ok, total = self.ok[field], self.total[field]
            print(f"  {field:28s} {ok:5d}/{total:<5d} {100.0 * ok / total:6.2f}%")


def check_text(tally: Tally, rec: dict, hasher: ref.LshHasher, suffix: str) -> None:
    """Compare the per-token fields of ``text`` (or ``text_b``)."""
    text = rec["text" + suffix]
    tokens = ref.pretokenize(text)
    expected_tokens = rec["tokens" + suffix]
    tally.item("tokens (lists)", tokens == expected_tokens, f"{rec['id']}: {tokens} != {expected_tokens}")
    for i, tok in enumerate(expected_tokens):
        where = f"{rec['id']}{suffix}[{i}] {tok!r}"
        got = {
            "md5_hex": ref.md5_hex(tok),
            "md5_bucket": ref.md5_bucket(tok),
            "lsh_hex": hasher.lsh_hex(tok),
            "lsh_bucket": hasher.lsh_bucket(tok),
        }
        for field, value in got.items():
            want = rec[field + suffix][i]
            detail = f"{where}: got {value} want {want}"
            if field == "lsh_bucket" and value != want:
                rot = hasher.rotator(tok)
                detail += f" (our best-second margin {rot.margin:.3e})"
            tally.item(field, value == want, detail)


def check_encoded(tally: Tally, rec: dict) -> None:
    """Compare encoded_128 input ids and attention mask."""
    enc = ref.encode_md5(rec["tokens"], rec.get("tokens_b"), 128)
    for field in ("input_ids", "attention_mask"):
        want = rec["encoded_128"][field]
        tally.item(f"encoded_128.{field}", enc[field] == want, rec["id"])


def check_sample(path: Path, hasher: ref.LshHasher) -> Tally:
    tally = Tally()
    with open(path, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    for rec in records:
        check_text(tally, rec, hasher, "")
        if "text_b" in rec:
            check_text(tally, rec, hasher, "_b")
        check_encoded(tally, rec)
    print(f"{path} ({len(records)} records): per-token agreement")
    tally.report()
    return tally


def check_spec_vectors(hasher: ref.LshHasher) -> Tally:
    tally = Tally()
    for tok, (hex_, bucket, bits32, pool) in MD5_VECTORS.items():
        n = int.from_bytes(ref.md5_digest(tok), "big")
        tally.item("spec md5_hex", ref.md5_hex(tok) == hex_, tok)
        tally.item("spec md5_bucket", ref.md5_bucket(tok) == bucket, tok)
        tally.item("spec bits[0..32]", ref.bits_msb_first(n)[:32] == bits32, tok)
        tally.item("spec pool", ref.md5_pool(tok) == pool, tok)
    for seed, (first4, total) in RANDOMSTATE_VECTORS.items():
        row = np.random.RandomState(seed).normal(0, 1, 128)
        tally.item("spec RandomState", list(row[:4]) == first4 and float(row.sum()) == total, str(seed))
    rot = np.random.RandomState(ref.ROTATOR_SEED).normal(0, 1, ref.NUM_BUCKETS)
    tally.item("spec rotator R", float(rot[-1]) == 0.7574645979277007
               and float(rot.sum()) == -22.0292359592502, "seed 42")
    hasher._features["\0toy"] = [(100, 1.0), (2000, 0.5)]  # spec 3.4 toy check
    tally.item("spec rotator toy", hasher.lsh_bucket("\0toy") == 32446, "toy")
    print("spec test vectors")
    tally.report()
    return tally


def main(argv: list[str]) -> int:
    sample = Path(argv[1]) if len(argv) > 1 else DEFAULT_SAMPLE
    hasher = ref.default_hasher()
    tallies = [check_sample(sample, hasher), check_spec_vectors(ref.default_hasher())]
    failures = [f for t in tallies for f in t.failures]
    for failure in failures:
        print("MISMATCH", failure)
    hard = [f for f in failures if not f.startswith("lsh_bucket:")]
    return 1 if hard else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
