"""Bad input raises a clear TypeError/ValueError (never a panic, never a crash)."""

from __future__ import annotations

import numpy as np
import pytest

import hashformers
from hashformers import _hashformers


@pytest.mark.parametrize("bad", [3, 0, -1, 1 << 20])
def test_max_length_out_of_range(md5_value, md5_bits, bad):
    for call in (md5_value, md5_value.encode_batch, md5_bits, md5_bits.encode_batch):
        with pytest.raises(ValueError, match="max_length"):
            call("text", max_length=bad)


@pytest.mark.parametrize("bad", ["128", 128.0, True, None])
def test_max_length_of_another_type(md5_value, bad):
    with pytest.raises(TypeError, match="max_length must be an int"):
        md5_value("text", max_length=bad)


@pytest.mark.parametrize("bad", [5, None, b"bytes", {"a": 1}, {"text"}])
def test_text_of_another_type(md5_value, md5_bits, bad):
    for call in (md5_value, md5_bits.encode_batch):
        with pytest.raises(TypeError, match="text must be"):
            call(bad, max_length=8)


def test_bad_items_are_named(md5_value, md5_bits):
    with pytest.raises(TypeError, match=r"texts\[1\]: expected a str or a \(str, str\) tuple, got int"):
        md5_value(["fine", 7], 8)
    with pytest.raises(TypeError, match=r"texts\[0\]: .*got list"):
        md5_bits.encode_batch([["a", "b"]], 8)
    with pytest.raises(ValueError, match=r"texts\[0\]: a text pair is a tuple of 2 strings, got a tuple of 3"):
        md5_value([("a", "b", "c")], 8)
    with pytest.raises(ValueError, match="tuple of 1"):
        md5_value(("a",), 8)
    with pytest.raises(TypeError, match=r"texts\[0\]\[1\]: expected a str, got NoneType"):
        md5_value([("a", None)], 8)


def test_text_pair_mismatches(md5_value):
    with pytest.raises(ValueError, match="text has 2 items but text_pair has 1"):
        md5_value(["a", "b"], 8, text_pair=["c"])
    with pytest.raises(TypeError, match="text_pair must be a str"):
        md5_value("a", 8, text_pair=["c"])
    with pytest.raises(TypeError, match="text_pair must be a list"):
        md5_value(["a"], 8, text_pair="c")
    with pytest.raises(TypeError, match=r"texts\[0\]\[1\]"):
        md5_value(["a"], 8, text_pair=[3])


def test_lone_surrogate_is_a_value_error(md5_value):
    with pytest.raises(ValueError):  # UnicodeEncodeError
        md5_value("bad \ud800 text", 8)
    with pytest.raises(ValueError):
        md5_value.hash_words(["\udfff"])


def test_words_must_be_a_list_of_str(md5_value, md5_bits):
    with pytest.raises(TypeError, match="got a single str"):
        md5_value.hash_words("word")
    with pytest.raises(TypeError, match=r"words\[1\]: expected a str, got int"):
        md5_bits.hash_words(["a", 1])
    with pytest.raises(TypeError, match=r"tokens\[0\]"):
        md5_value.convert_tokens_to_ids([None])
    with pytest.raises(TypeError, match="not iterable"):
        md5_value.hash_words(5)
    with pytest.raises(TypeError, match="text must be a str"):
        md5_value.tokenize(b"bytes")


def test_batch_options(md5_bits):
    with pytest.raises(ValueError, match="output must be 'bits' or 'pool'"):
        md5_bits.encode_batch("x", 8, output="ids")
    with pytest.raises(ValueError, match="dtype must be float32 or uint8"):
        md5_bits.encode_batch("x", 8, dtype=np.int32)
    with pytest.raises(TypeError):
        md5_bits.encode_batch("x", 8, dtype="not a dtype")


@pytest.mark.parametrize("bad,error", [(-1, ValueError), ("big", TypeError), (1.5, TypeError)])
def test_cache_size(bad, error):
    with pytest.raises(error, match="cache_size"):
        hashformers.Md5ValueTokenizer(cache_size=bad)


def test_missing_bpe_files(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="no tokenizer.json"):
        hashformers.LSHValueTokenizer(tmp_path)
    monkeypatch.setenv("HASHFORMER_DATA", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(FileNotFoundError, match="roberta-base BPE files not found"):
        hashformers.LSHTokenizer()


def test_invalid_bpe_files(tmp_path):
    (tmp_path / "vocab.json").write_text("{not json")
    (tmp_path / "merges.txt").write_text("#version: 0.2\n")
    with pytest.raises(ValueError, match="roberta-base BPE"):
        hashformers.LSHTokenizer(tmp_path)


def test_native_core_validates_too():
    """The native methods check their own arguments (no panic when called directly)."""
    core = _hashformers.Core.md5(16)
    with pytest.raises(ValueError, match="max_length must be at least 4"):
        core.call_lists(["x"], 2, False)
    with pytest.raises(ValueError, match="output must be"):
        core.encode_hashes(["x"], 8, "float64")
    with pytest.raises(OverflowError):
        core.encode_ids(["x"], -1)
    with pytest.raises(FileNotFoundError):
        _hashformers.Core.lsh("/nonexistent/roberta-base", 16)


@pytest.mark.parametrize("bad,error", [(-1, OverflowError), (1 << 128, OverflowError), ("1", TypeError)])
def test_hash_to_base36_range(bad, error):
    with pytest.raises(error):
        hashformers.hash_to_base36(bad)
