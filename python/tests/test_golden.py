"""Golden vectors through Python: the official code's sample and our independent vectors.

Every value is compared with the files under ``crates/hashing/tests/golden/``:
``reference-sample.jsonl`` (computed by the official HashFormers code) and
``glue``/``wiki``/``unicode.jsonl`` (our independent Python implementation, tools/golden/).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import base36, golden_files, read_jsonl, record_input, reference_layout

FILES = golden_files()
IDS = [p.name if p.parent.name == "golden" else f"shared/{p.name}" for p in FILES]


@pytest.fixture(scope="module", params=FILES, ids=IDS)
def records(request) -> list:
    return read_jsonl(request.param)


def sides(rec: dict):
    """``""`` and, for a pair, ``"_b"``: the suffixes of a record's per-text fields."""
    return ["", "_b"] if "text_b" in rec else [""]


def all_tokens(records: list) -> list:
    return [t for rec in records for s in sides(rec) for t in rec["tokens" + s]]


def all_field(records: list, field: str) -> list:
    return [v for rec in records for s in sides(rec) for v in rec[field + s]]


def test_pre_tokeniser(records, md5_value):
    for rec in records:
        for s in sides(rec):
            assert md5_value.tokenize(rec["text" + s]) == rec["tokens" + s], rec["id"]


def test_md5_words(records, md5_value, md5_bits):
    tokens = all_tokens(records)
    buckets = all_field(records, "md5_bucket")
    hexes = all_field(records, "md5_hex")
    assert md5_value.hash_words(tokens).tolist() == buckets
    assert md5_value.convert_tokens_to_ids(tokens) == buckets
    assert [row.tobytes().hex() for row in md5_bits.hash_words(tokens)] == hexes
    assert md5_bits.convert_tokens_to_ids(tokens) == [base36(h) for h in hexes]


def test_md5_emb_sequences(records, md5_value):
    for length in (128, 16):
        key = f"encoded_{length}"
        recs = [r for r in records if key in r]
        if not recs:
            continue
        inputs = [record_input(r) for r in recs]
        batch = md5_value(inputs, max_length=length, padding="max_length", truncation=True)
        arrays = md5_value.encode_batch(inputs, max_length=length)
        for i, rec in enumerate(recs):
            want = rec[key]
            one = md5_value(record_input(rec), max_length=length)
            assert one["input_ids"] == want["input_ids"], rec["id"]
            assert one["attention_mask"] == want["attention_mask"], rec["id"]
            assert batch["input_ids"][i] == want["input_ids"], rec["id"]
            assert batch["attention_mask"][i] == want["attention_mask"], rec["id"]
            assert arrays["input_ids"][i].tolist() == want["input_ids"], rec["id"]
            assert arrays["attention_mask"][i].tolist() == want["attention_mask"], rec["id"]


def layout_of(rec: dict, field: str, length: int, **specials):
    b = rec[field + "_b"] if "text_b" in rec else None
    return reference_layout(rec[field], b, length, **specials)


def test_md5_base36_sequences(records, md5_bits):
    inputs = [record_input(r) for r in records]
    got = md5_bits(inputs, max_length=128)
    for i, rec in enumerate(records):
        values = {"": [base36(h) for h in rec["md5_hex"]]}
        if "text_b" in rec:
            values["_b"] = [base36(h) for h in rec["md5_hex_b"]]
        want = reference_layout(values[""], values.get("_b"), 128, bos="0", eos="2", pad="1")
        assert got["input_ids"][i] == " ".join(want["input_ids"]), rec["id"]
        assert got["attention_mask"][i] == want["attention_mask"], rec["id"]


def test_md5_collator_tensors(records, md5_bits):
    """``encode_batch`` against the golden digests and Pool indices (collator §4.2, §4.3)."""
    inputs = [record_input(r) for r in records]
    bits = md5_bits.encode_batch(inputs, max_length=128)
    pool = md5_bits.encode_batch(inputs, max_length=128, output="pool")
    assert bits["inputs_embeds"].dtype == np.float32 and pool["inputs_embeds"].dtype == np.int64
    for i, rec in enumerate(records):
        spec = layout_of({**rec, "s": [5] * len(rec["tokens"]),
                          "s_b": [5] * len(rec.get("tokens_b", []))}, "s", 128)
        assert bits["input_ids"][i, 0].tolist() == spec["input_ids"], rec["id"]
        assert bits["input_ids"][i, 1].tolist() == [1 - m for m in spec["attention_mask"]]
        assert bits["attention_mask"][i].tolist() == spec["attention_mask"], rec["id"]
        zero = bytes(16)
        digests = layout_of(
            {**rec, "d": [bytes.fromhex(h) for h in rec["md5_hex"]],
             "d_b": [bytes.fromhex(h) for h in rec.get("md5_hex_b", [])]},
            "d", 128, bos=zero, eos=zero, pad=zero,
        )["input_ids"]
        want_bits = np.unpackbits(np.frombuffer(b"".join(digests), np.uint8)).reshape(128, 128)
        assert np.array_equal(bits["inputs_embeds"][i], want_bits.astype(np.float32)), rec["id"]
        assert np.array_equal(pool["input_ids"][i], bits["input_ids"][i])
        if "pool" in rec:
            z = [0] * 13
            want_pool = layout_of(rec, "pool", 128, bos=z, eos=z, pad=z)["input_ids"]
            assert pool["inputs_embeds"][i].tolist() == want_pool, rec["id"]


def lsh_ready(rec: dict) -> bool:
    """Records whose every word has LSH values (words over 512 code points have none)."""
    return all(v is not None for s in sides(rec) for v in rec["lsh_bucket" + s])


def test_lsh_words(records, lsh_value, lsh_bits):
    tokens = all_tokens(records)
    buckets = all_field(records, "lsh_bucket")
    hexes = all_field(records, "lsh_hex")
    keep = [i for i, b in enumerate(buckets) if b is not None]
    assert len(keep) > 0.9 * len(tokens)
    words = [tokens[i] for i in keep]
    assert lsh_value.hash_words(words).tolist() == [buckets[i] for i in keep]
    got_hex = [row.tobytes().hex() for row in lsh_bits.hash_words(words)]
    assert got_hex == [hexes[i] for i in keep]
    assert lsh_bits.convert_tokens_to_ids(words) == [base36(hexes[i]) for i in keep]


def test_lsh_sequences(records, lsh_value, lsh_bits):
    recs = [r for r in records if lsh_ready(r)]
    assert len(recs) > 0.9 * len(records)
    inputs = [record_input(r) for r in recs]
    ids = lsh_value(inputs, max_length=128)
    strings = lsh_bits(inputs, max_length=128)
    arrays = lsh_bits.encode_batch(inputs, max_length=128, dtype=np.uint8)
    for i, rec in enumerate(recs):
        want = layout_of(rec, "lsh_bucket", 128)
        assert ids["input_ids"][i] == want["input_ids"], rec["id"]
        assert ids["attention_mask"][i] == want["attention_mask"], rec["id"]
        values = {s: [base36(h) for h in rec["lsh_hex" + s]] for s in sides(rec)}
        text = reference_layout(values[""], values.get("_b"), 128, bos="0", eos="2", pad="1")
        assert strings["input_ids"][i] == " ".join(text["input_ids"]), rec["id"]
        hexes = layout_of(rec, "lsh_hex", 128, bos="0" * 32, eos="0" * 32, pad="0" * 32)
        want_bits = np.unpackbits(
            np.frombuffer(bytes.fromhex("".join(hexes["input_ids"])), np.uint8)
        ).reshape(128, 128)
        assert np.array_equal(arrays["inputs_embeds"][i], want_bits), rec["id"]


def test_installed_wheel_is_tested():
    """The tests import the built wheel from site-packages, not the source folder."""
    import hashformers
    from hashformers import _hashformers

    assert "site-packages" in Path(hashformers.__file__).parts
    assert Path(_hashformers.__file__).name.startswith("_hashformers")
