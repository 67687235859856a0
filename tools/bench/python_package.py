#!/usr/bin/env python3
"""The ``hashformers`` Python package against the Python reference path, on the same text.

Text: the first ``--lines`` (2,000) non-markup lines of
``$HASHFORMER_DATA/corpus/enwiki-2014-wikiextractor/AA.txt.gz``, exactly the lines of
``python_hashing.py`` and the criterion hashing benchmarks.

Reference path: ``tools/golden/hashformer_ref.py``, our independent pure-Python
implementation of the official tokenisers' hashing (numpy legacy ``RandomState`` for the
Gaussian rows, a numpy-vectorised rotator, a pure-Python byte-level BPE), composed the way the
official ``free_tokenizer.py`` composes it: no per-word cache, so every token occurrence is
hashed again, ``_proc_each``'s layout per text, base-36 strings for ``Md5Tokenizer``. Every
stage asserts that both sides produce the same values.

Stages (best of ``--repetitions``; the LSH reference, being slow, runs fewer times):

- ``md5_words``: Emb_MD5 bucket of every token (78,780), no cache on either side;
- ``md5_call``: ``Md5ValueTokenizer(lines, max_length=128)``, lists as the reference returns;
- ``md5_batch``: the same as numpy arrays (``encode_batch``);
- ``md5_bits``: ``Md5Tokenizer`` base-36 strings, then the collator's decoding to float bits;
  ours is ``encode_batch(output="bits")``, which returns the decoded bits directly;
- ``lsh_bucket_words`` / ``lsh_simhash_words``: ``--lsh-words`` distinct words, cold (fresh
  hashers, no cache);
- ``lsh_call``: ``LSHValueTokenizer`` on the first ``--lsh-lines`` lines at max_length 128,
  from a fresh tokeniser (ours caches words within the call, the reference does not).

``--threads N`` sets ``RAYON_NUM_THREADS`` (default: all cores). The reference is one thread.
Prints a table and one JSON line, written to ``target/bench/python_package-<threads>t.json``.

Run (after ``bash python/ci.sh``, which installs the wheel into the venv)::

    ~/.cache/hashformers/python-venv/bin/pip install regex==2026.11.19
    HASHFORMER_DATA=/path/to/data ~/.cache/hashformers/python-venv/bin/python \\
        tools/bench/python_package.py --threads 1
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "golden"))
sys.path.insert(0, str(ROOT / "tools" / "bench"))


def best_of(fn, repetitions: int):
    """Best wall time (s) of ``repetitions`` calls, with the garbage collector paused, and
    the last result."""
    times, result = [], None
    gc.disable()
    try:
        for _ in range(repetitions):
            start = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - start)
    finally:
        gc.enable()
    return min(times), result


def reference_layout(values, max_length, bos, eos, pad):
    """The reference ``_proc_each`` for a single text."""
    kept = values[: max_length - 2]
    return [bos] + kept + [eos] + [pad] * (max_length - 2 - len(kept))


def md5_stages(ref, hf, lines, tokens):
    """The MD5 stages: (name, units, unit name, reference fn, ours fn, ours output → the
    reference's form, untimed)."""
    import numpy as np

    value = hf.Md5ValueTokenizer()
    bits_tok = hf.Md5Tokenizer()
    uncached = hf.Md5ValueTokenizer(cache_size=0)

    def ref_call():
        ids, masks = [], []
        for line in lines:
            words = ref.pretokenize(line)[:126]
            ids.append(reference_layout([ref.md5_bucket(w) for w in words], 128, 0, 2, 1))
            masks.append([1] * (len(words) + 2) + [0] * (126 - len(words)))
        return {"input_ids": ids, "attention_mask": masks}

    def ref_bits():
        out = []
        for line in lines:
            words = ref.pretokenize(line)[:126]
            strings = [np.base_repr(int(ref.md5_hex(w), 16) + 5, 36) for w in words]
            stored = " ".join(reference_layout(strings, 128, "0", "2", "1"))
            # The collator: int(x, 36) - 5 → 128 bits, all 0 for specials.
            rows = []
            for x in stored.split(" "):
                n = int(x, 36)
                rows.append([float(c) for c in format(n - 5, "0128b")] if n >= 5 else [0.0] * 128)
            out.append(rows)
        return np.array(out, dtype=np.float32)

    return [
        ("md5_words", len(tokens), "token",
         lambda: [ref.md5_bucket(t) for t in tokens],
         lambda: uncached.hash_words(tokens), lambda out: out.tolist()),
        ("md5_call", len(tokens), "token", ref_call, lambda: value(lines, max_length=128), None),
        ("md5_batch", len(tokens), "token", ref_call, lambda: value.encode_batch(lines, 128),
         lambda out: {k: v.tolist() for k, v in out.items()}),
        ("md5_bits", len(tokens), "token", ref_bits,
         lambda: bits_tok.encode_batch(lines, 128)["inputs_embeds"], None),
    ]


def lsh_stages(ref, hf, bpe_dir, lines, words, reps):
    """The LSH stages; each run starts from fresh hashers (cold words)."""
    bpe = ref.ByteLevelBPE.from_dir(bpe_dir)

    def fresh_ref():
        bpe._cache.clear()
        return ref.LshHasher(bpe)

    def ref_uncached(hasher, fn, word):
        # The official tokenisers keep no per-word cache: hash every occurrence again.
        hasher._features.pop(word, None)
        hasher._rot.pop(word, None)
        hasher._hex.pop(word, None)
        return fn(word)

    def ref_buckets():
        h = fresh_ref()
        return [ref_uncached(h, h.lsh_bucket, w) for w in words]

    def ref_hex():
        h = fresh_ref()
        return [ref_uncached(h, h.lsh_hex, w) for w in words]

    def ref_call():
        h = fresh_ref()
        out = []
        for line in lines:
            kept = ref.pretokenize(line)[:126]
            out.append(reference_layout(
                [ref_uncached(h, h.lsh_bucket, w) for w in kept], 128, 0, 2, 1))
        return out

    def fresh_ours(cls, cache_size=0):
        """A tokeniser built before the timing (loading the BPE is not timed, as the
        reference's is not), never used before."""
        return built[(cls, cache_size)].pop()

    built = {
        key: [key[0](bpe_dir, cache_size=key[1]) for _ in range(reps)]
        for key in [(hf.LSHValueTokenizer, 0), (hf.LSHTokenizer, 0),
                    (hf.LSHValueTokenizer, hf.DEFAULT_CACHE_SIZE)]
    }

    line_tokens = sum(min(len(ref.pretokenize(line)), 126) for line in lines)
    return [
        ("lsh_bucket_words", len(words), "word", ref_buckets,
         lambda: fresh_ours(hf.LSHValueTokenizer).hash_words(words), lambda out: out.tolist()),
        ("lsh_simhash_words", len(words), "word", ref_hex,
         lambda: fresh_ours(hf.LSHTokenizer).hash_words(words),
         lambda out: [r.tobytes().hex() for r in out]),
        ("lsh_call", line_tokens, "token", ref_call,
         lambda: fresh_ours(hf.LSHValueTokenizer, hf.DEFAULT_CACHE_SIZE)(lines, max_length=128),
         lambda out: out["input_ids"]),
    ]


def same(a, b) -> bool:
    import numpy as np

    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return a == b


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=0, help="rayon threads (0: all cores)")
    p.add_argument("--lines", type=int, default=2000)
    p.add_argument("--lsh-words", type=int, default=500)
    p.add_argument("--lsh-lines", type=int, default=500)
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--lsh-ref-repetitions", type=int, default=2)
    return p.parse_args()


def main() -> None:
    args = parse_args()
    if args.threads:
        os.environ["RAYON_NUM_THREADS"] = str(args.threads)  # read when the pool starts
    data = os.environ.get("HASHFORMER_DATA")
    if not data:
        sys.exit("HASHFORMER_DATA is not set: point it at the data root")
    import hashformer_ref as ref
    import hashformers as hf
    from python_hashing import CORPUS, read_lines

    lines = read_lines(Path(data) / CORPUS, args.lines)
    tokens = [t for line in lines for t in ref.pretokenize(line)]
    distinct = list(dict.fromkeys(t for t in tokens if len(t) <= ref.LSH_MAX_WORD_CHARS))
    bpe_dir = Path(data) / "roberta-base"

    stages = []
    plan = [(s, args.repetitions, args.repetitions) for s in md5_stages(ref, hf, lines, tokens)]
    plan += [(s, args.lsh_ref_repetitions, args.repetitions)
             for s in lsh_stages(ref, hf, bpe_dir, lines[: args.lsh_lines], distinct[: args.lsh_words],
                                 args.repetitions)]
    for (name, units, unit, ref_fn, ours_fn, post), ref_reps, ours_reps in plan:
        ref_s, ref_out = best_of(ref_fn, ref_reps)
        ours_s, ours_out = best_of(ours_fn, ours_reps)
        assert same(ref_out, post(ours_out) if post else ours_out), f"{name}: outputs differ"
        stages.append({"stage": name, "units": units, "unit": unit, "reference_s": ref_s,
                       "ours_s": ours_s, "speedup": ref_s / ours_s})
    threads = args.threads or os.cpu_count()
    result = {"benchmark": "python_package", "python": platform.python_version(),
              "threads": threads, "cpus": os.cpu_count(), "lines": len(lines),
              "tokens": len(tokens), "stages": stages}
    line = json.dumps(result, sort_keys=True)
    out = ROOT / "target" / "bench" / f"python_package-{threads}t.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(line + "\n", encoding="utf-8")
    print(f"hashformers {hf.__version__}, {threads} thread(s) vs the Python reference (1 thread)")
    print(f"{'stage':<18} {'units':>7} {'ref us/unit':>12} {'ours us/unit':>13} {'speed-up':>9}")
    for s in stages:
        print(f"{s['stage']:<18} {s['units']:>7} {s['reference_s'] / s['units'] * 1e6:>12.3f} "
              f"{s['ours_s'] / s['units'] * 1e6:>13.4f} {s['speedup']:>8.1f}x")
    print(line)


if __name__ == "__main__":
    main()
