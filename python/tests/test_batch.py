"""The numpy batch methods: equal to the per-text outputs, on all cores, thread- and fork-safe."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

import hashformers

TEXTS = [
    "The new rights are nice enough",
    ("A premise, with punctuation!", "And a hypothesis..."),
    "",
    "Ünïcödé wörds and 3.14 numbers",
    ("short", " ".join(f"long{i}" for i in range(300))),
    " ".join(f"w{i}" for i in range(200)),
]


def many_texts(n: int) -> list:
    """``n`` distinct texts and pairs with a Zipf-ish vocabulary."""
    out = []
    for i in range(n):
        text = " ".join(f"t{(i * 7 + k * k) % (50 + i % 400)}" for k in range(5 + i % 60))
        out.append((text, f"pair {i} of {n}") if i % 3 == 0 else text)
    return out


def test_value_batch_equals_call(md5_value):
    arrays = md5_value.encode_batch(TEXTS, max_length=64)
    lists = md5_value(TEXTS, max_length=64)
    assert arrays["input_ids"].dtype == np.int64 and arrays["input_ids"].shape == (6, 64)
    assert arrays["attention_mask"].dtype == np.int64
    assert arrays["input_ids"].tolist() == lists["input_ids"]
    assert arrays["attention_mask"].tolist() == lists["attention_mask"]
    one = md5_value.encode_batch(TEXTS[1], max_length=64)
    assert one["input_ids"].shape == (1, 64)
    assert one["input_ids"][0].tolist() == lists["input_ids"][1]


def check_bits_batch(tok):
    f32 = tok.encode_batch(TEXTS, max_length=64)
    u8 = tok.encode_batch(TEXTS, max_length=64, dtype="uint8")
    pool = tok.encode_batch(TEXTS, max_length=64, output="pool")
    assert f32["inputs_embeds"].dtype == np.float32 and f32["inputs_embeds"].shape == (6, 64, 128)
    assert u8["inputs_embeds"].dtype == np.uint8
    assert pool["inputs_embeds"].dtype == np.int64 and pool["inputs_embeds"].shape == (6, 64, 13)
    assert np.array_equal(f32["inputs_embeds"], u8["inputs_embeds"].astype(np.float32))
    assert np.array_equal(f32["input_ids"], pool["input_ids"])
    lists = tok(TEXTS, max_length=64)
    assert f32["attention_mask"].tolist() == lists["attention_mask"]
    for i, text in enumerate(TEXTS):
        values = lists["input_ids"][i].split(" ")
        spec = f32["input_ids"][i, 0]
        assert [v if s == 5 else None for v, s in zip(values, spec)] == [
            v if v not in ("0", "1", "2") else None for v in values
        ]
        assert f32["input_ids"][i, 1].tolist() == [1 - m for m in lists["attention_mask"][i]]
        # The bits of each word are those of hash_words, the Pool indices their 10-bit chunks.
        words = [w for w, s in zip(range(64), spec) if s == 5]
        a, b = (text if isinstance(text, tuple) else (text, ""))
        tokens = tok.tokenize(a) + tok.tokenize(b)
        kept = tokens[: len(words)] if isinstance(text, str) else None
        bits = u8["inputs_embeds"][i][spec == 5]
        if kept is not None:
            assert np.array_equal(bits, np.unpackbits(tok.hash_words(kept), axis=1))
        chunks = np.pad(bits, ((0, 0), (0, 2))).reshape(len(bits), 13, 10)
        want = (chunks * (1 << np.arange(9, -1, -1))).sum(axis=2) + 1
        want[:, 12] = (bits[:, 120:] * (1 << np.arange(7, -1, -1))).sum(axis=1) + 1
        assert np.array_equal(pool["inputs_embeds"][i][spec == 5], want)
        assert not pool["inputs_embeds"][i][spec != 5].any()
        assert not u8["inputs_embeds"][i][spec != 5].any()


def test_md5_bits_batch(md5_bits):
    check_bits_batch(md5_bits)


def test_lsh_bits_batch(lsh_bits):
    check_bits_batch(lsh_bits)


def test_lsh_value_batch_equals_call(lsh_value):
    arrays = lsh_value.encode_batch(TEXTS, max_length=32)
    assert arrays["input_ids"].tolist() == lsh_value(TEXTS, max_length=32)["input_ids"]


def test_large_batch_equals_one_by_one():
    """A batch big enough to spread over every core gives each text's own output."""
    tok = hashformers.Md5ValueTokenizer()
    texts = many_texts(3000)
    arrays = tok.encode_batch(texts, max_length=48)
    uncached = hashformers.Md5ValueTokenizer(cache_size=0)
    for i in range(0, 3000, 7):
        assert arrays["input_ids"][i].tolist() == uncached(texts[i], 48)["input_ids"], i
    assert tok(texts, 48)["input_ids"] == arrays["input_ids"].tolist()


def test_hash_words_matches_sequences(md5_value):
    words = [f"word{i % 5000}" for i in range(20000)]
    buckets = md5_value.hash_words(words)
    assert buckets.dtype == np.int64 and buckets.shape == (20000,)
    assert ((buckets >= 5) & (buckets < 50265)).all()
    assert buckets.tolist() == md5_value.convert_tokens_to_ids(words)
    assert md5_value.hash_words(tuple(words[:3])).tolist() == buckets[:3].tolist()
    assert md5_value.hash_words([]).shape == (0,)


def test_threads_share_one_tokeniser(md5_bits):
    texts = many_texts(600)
    want = md5_bits.encode_batch(texts, max_length=32, output="pool")["inputs_embeds"]
    results, errors = [None] * 4, []

    def work(k: int) -> None:
        try:
            results[k] = md5_bits.encode_batch(texts, max_length=32, output="pool")
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r in results:
        assert np.array_equal(r["inputs_embeds"], want)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_works_in_a_forked_child(md5_value):
    """After the pool started here, a forked child (datasets.map(num_proc=...)) still works."""
    texts = many_texts(500)
    want = md5_value.encode_batch(texts, max_length=32)["input_ids"]
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status, never return into pytest
        code = 1
        try:
            signal.alarm(60)
            got = md5_value.encode_batch(texts, max_length=32)["input_ids"]
            code = 0 if np.array_equal(got, want) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status


def test_gil_is_released_while_hashing():
    """Another Python thread runs while a batch is being encoded."""
    tok = hashformers.Md5ValueTokenizer(cache_size=0)
    texts = many_texts(20000)
    window = {}

    def work() -> None:
        window["start"] = time.perf_counter()
        tok.encode_batch(texts, max_length=128)
        window["end"] = time.perf_counter()

    worker = threading.Thread(target=work)
    samples = []
    worker.start()
    while worker.is_alive():
        for _ in range(200):
            pass
        samples.append(time.perf_counter())
    worker.join()
    start, end = window["start"], window["end"]
    # Held for the whole call, the GIL would let this thread run only once the call returned
    # (a forced switch at the next bytecode), never in the first half of the call.
    first_half = [t for t in samples if start < t < start + (end - start) / 2]
    assert len(first_half) >= 3, (len(first_half), end - start)
