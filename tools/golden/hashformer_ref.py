"""Independent Python reference for the hashing front end of HashFormers.

This module re-implements, from the project specification
(docs/method.md, sections 2-4), everything that turns text
into the integers a HashFormer model consumes:

* word pre-tokenisation (``str.lower`` + ``re.findall(r"\\w+|[^\\w\\s]+")``),
* HMAC-MD5 (key ``b"en"``) digests, Emb_MD5 bucket ids and the 13 Pool
  ("conj") chunk indices,
* the LSH feature vector of a word (roberta-base byte-level BPE pieces of its
  hyphen-split variants), the 128-bit seeded SimHash and the Emb_LSH
  "rotator" argmax bucket,
* RoBERTa-style sequence construction (single text / pair), truncation,
  padding and position ids.

The byte-level BPE is implemented here in pure Python (no ``tokenizers`` or
``transformers``) so that fixtures produced with it are an independent check of
the Rust implementation. numpy is used only for its legacy ``RandomState``
(MT19937 + Marsaglia polar normals) and for vectorised f64 arithmetic that
matches the reference's summation order exactly.

Runs under Python 3.11 (``re`` and ``str.lower`` follow Unicode 14.0.0 there).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import heapq
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import regex

# --------------------------------------------------------------------------
# Constants (spec sections 2.2, 3.1, 3.4, 4.3)
# --------------------------------------------------------------------------

BOS_ID = 0  # <s>
PAD_ID = 1  # <pad>
EOS_ID = 2  # </s>
UNK_ID = 3  # <unk>
MASK_ID = 4  # <mask>
ID_OFFSET = 5  # hashed ids start after the five special ids

HMAC_KEY = b"en"
NUM_BUCKETS = 50260  # hashed ids lie in [5, 50264]
LSH_BITS = 128
ROTATOR_SEED = 42
ROTATOR_HALF = NUM_BUCKETS // 2  # 25130: scores from this index on are negated

POOL_CHUNK_BITS = 10
POOL_CHUNKS = 13  # 12 chunks of 10 bits + one chunk of 8 bits

# Emb_LSH cost grows as O(n^2) in the word length; fixtures give no LSH value
# for words longer than this many code points (the Rust side caps them).
LSH_MAX_WORD_CHARS = 512

_WORD_RE = re.compile(r"\w+|[^\w\s]+")

_GPT2_PRETOKENIZE_RE = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
)


def data_dir() -> Path:
    """Root of the shared data (``$HASHFORMER_DATA``, default /work/shared/data)."""
    return Path(os.environ.get("HASHFORMER_DATA", "/work/shared/data"))


# --------------------------------------------------------------------------
# 2.1 Pre-tokenisation
# --------------------------------------------------------------------------


def pretokenize(text: str) -> list[str]:
    """Lower-case with ``str.lower`` and split into word / punctuation runs."""
    return _WORD_RE.findall(text.lower())


# --------------------------------------------------------------------------
# 3.1 HMAC-MD5 and 4.3 Pool chunks
# --------------------------------------------------------------------------


def md5_digest(token: str) -> bytes:
    """HMAC-MD5 of the UTF-8 token with key ``b"en"`` (16 bytes)."""
    return hmac.new(HMAC_KEY, token.encode("utf-8"), hashlib.md5).digest()


def md5_hex(token: str) -> str:
    """32 lower-case hex chars of the token's HMAC-MD5 digest."""
    return md5_digest(token).hex()


def md5_bucket(token: str) -> int:
    """Emb_MD5 id: big-endian digest value mod 50260, plus 5."""
    return int.from_bytes(md5_digest(token), "big") % NUM_BUCKETS + ID_OFFSET


def bits_msb_first(value: int, width: int = LSH_BITS) -> str:
    """``value`` as a zero-padded, MSB-first binary string of ``width`` chars."""
    return format(value, f"0{width}b")


def pool_indices(value: int) -> list[int]:
    """13 Pool ("conj") indices of a 128-bit value.

    The MSB-first bit string is cut at 0, 10, ..., 120 (the last chunk has 8
    bits) and each chunk's value plus one is an index (0 is for specials).
    """
    bits = bits_msb_first(value)
    chunks = [bits[i:i + POOL_CHUNK_BITS] for i in range(0, LSH_BITS, POOL_CHUNK_BITS)]
    assert len(chunks) == POOL_CHUNKS
    return [int(chunk, 2) + 1 for chunk in chunks]


def md5_pool(token: str) -> list[int]:
    """Pool indices of the token's HMAC-MD5 digest."""
    return pool_indices(int.from_bytes(md5_digest(token), "big"))


# --------------------------------------------------------------------------
# Byte-level BPE (roberta-base / GPT-2), pure Python
# --------------------------------------------------------------------------


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable chars.

    Printable Latin-1 bytes map to themselves; the other 68 bytes map, in
    increasing byte order, to U+0100, U+0101, ...
    """
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("\u00a1"), ord("\u00ac") + 1))
        + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    )
    mapping = {b: chr(b) for b in printable}
    next_code = 256
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(next_code)
            next_code += 1
    return mapping


class ByteLevelBPE:
    """roberta-base byte-level BPE: GPT-2 pre-tokeniser, byte map, merges.

    ``tokenize`` follows ``RobertaTokenizerFast.tokenize`` for input without
    special tokens, with ``add_prefix_space=False``.
    """

    def __init__(self, vocab: dict[str, int], merges: list[tuple[str, str]]):
        self.vocab = vocab
        self.ranks = {pair: rank for rank, pair in enumerate(merges)}
        self.byte_map = bytes_to_unicode()
        self._cache: dict[str, list[str]] = {}

    @classmethod
    def from_dir(cls, path: Path) -> "ByteLevelBPE":
        """Load ``vocab.json`` and ``merges.txt`` from a roberta-base folder."""
        with open(path / "vocab.json", encoding="utf-8") as f:
            vocab = json.load(f)
        merges = []
        with open(path / "merges.txt", encoding="utf-8") as f:
            for line in f.read().split("\n"):
                if not line or line.startswith("#version"):
                    continue
                left, right = line.split(" ")
                merges.append((left, right))
        return cls(vocab, merges)

    def pretokenize(self, text: str) -> list[str]:
        """Split with the GPT-2 regex and map every chunk's bytes to chars."""
        return [
            "".join(self.byte_map[b] for b in chunk.encode("utf-8"))
            for chunk in _GPT2_PRETOKENIZE_RE.findall(text)
        ]

    def bpe(self, word: str) -> list[str]:
        """Apply merges to one byte-mapped chunk, lowest rank first.

        Equal ranks are merged left to right. A heap of candidate pairs over a
        doubly linked list of symbols keeps long words at O(n log n).
        """
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        symbols = list(word)
        n = len(symbols)
        nxt = list(range(1, n + 1))  # n means "no next symbol"
        prv = list(range(-1, n - 1))
        alive = [True] * n
        heap: list[tuple[int, int, str, str]] = []

        def push(pos: int) -> None:
            right = nxt[pos]
            if right < n:
                rank = self.ranks.get((symbols[pos], symbols[right]))
                if rank is not None:
                    heapq.heappush(heap, (rank, pos, symbols[pos], symbols[right]))

        for pos in range(n - 1):
            push(pos)
        while heap:
            _, pos, left, right = heapq.heappop(heap)
            if not alive[pos] or symbols[pos] != left:
                continue
            other = nxt[pos]
            if other >= n or symbols[other] != right:
                continue
            symbols[pos] = left + right
            alive[other] = False
            nxt[pos] = nxt[other]
            if nxt[other] < n:
                prv[nxt[other]] = pos
            if prv[pos] >= 0:
                push(prv[pos])
            push(pos)
        pieces = [s for s, a in zip(symbols, alive) if a]
        self._cache[word] = pieces
        return pieces

    def tokenize(self, text: str) -> list[str]:
        """Byte-level BPE pieces of ``text`` (no special tokens, no prefix space)."""
        return [piece for chunk in self.pretokenize(text) for piece in self.bpe(chunk)]

    def token_id(self, piece: str) -> int:
        """Vocabulary id of a byte-level piece."""
        return self.vocab[piece]


# --------------------------------------------------------------------------
# 3.2 LSH features
# --------------------------------------------------------------------------


def lsh_variant_string(word: str) -> str:
    """The word followed by all its single-hyphen splits, joined by ``-``."""
    splits = [word[:k] + "-" + word[k:] for k in range(1, len(word))]
    return "-".join([word] + splits)


def lsh_features(word: str, bpe: ByteLevelBPE) -> list[tuple[int, float]]:
    """Sparse (vocab id, weight) features of a word, in first-occurrence order.

    weight = count / max(n + 1 - len(piece), 1), with n the word length in code
    points and len(piece) the length of the byte-level piece string (its UTF-8
    byte count). The piece ``-`` is dropped when other pieces exist.
    """
    counts = Counter(bpe.tokenize(lsh_variant_string(word)))
    if len(counts) > 1:
        counts.pop("-", None)
    n = len(word)
    return [
        (bpe.token_id(piece), count / max(n + 1 - len(piece), 1))
        for piece, count in counts.items()
    ]


# --------------------------------------------------------------------------
# 3.3 SimHash, 3.4 rotator argmax (numpy legacy RandomState, section 3.5)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class RotatorResult:
    """Emb_LSH bucket of a word, with the gap to the runner-up score."""

    bucket: int
    best: float
    second: float

    @property
    def margin(self) -> float:
        return self.best - self.second


class LshHasher:
    """LSH hashes of words, with per-word and per-seed caches."""

    def __init__(self, bpe: ByteLevelBPE):
        self.bpe = bpe
        rotator = np.random.RandomState(ROTATOR_SEED).normal(0, 1, NUM_BUCKETS)
        self._rotator2 = np.concatenate([rotator, rotator])  # for cyclic slices
        self._normals: dict[int, np.ndarray] = {}
        self._features: dict[str, list[tuple[int, float]]] = {}
        self._hex: dict[str, str] = {}
        self._rot: dict[str, RotatorResult] = {}

    def features(self, word: str) -> list[tuple[int, float]]:
        if word not in self._features:
            self._features[word] = lsh_features(word, self.bpe)
        return self._features[word]

    def _gaussian_row(self, seed: int) -> np.ndarray:
        """First 128 normals of ``RandomState(seed)``."""
        row = self._normals.get(seed)
        if row is None:
            row = np.random.RandomState(seed).normal(0, 1, LSH_BITS)
            self._normals[seed] = row
        return row

    def simhash(self, word: str) -> int:
        """128-bit SimHash value of the word (bit 0 = MSB)."""
        acc = np.zeros(LSH_BITS, dtype=np.float64)
        for token_id, weight in self.features(word):
            acc = acc + self._gaussian_row(token_id) * weight
        return int("".join("1" if x > 0 else "0" for x in acc), 2)

    def lsh_hex(self, word: str) -> str:
        """SimHash value as 32 MSB-first hex chars."""
        if word not in self._hex:
            self._hex[word] = format(self.simhash(word), "032x")
        return self._hex[word]

    def rotator(self, word: str) -> RotatorResult:
        """Emb_LSH bucket: argmax of signed circulant scores, strict f64."""
        if word not in self._rot:
            scores = np.zeros(NUM_BUCKETS, dtype=np.float64)
            for token_id, weight in self.features(word):
                start = token_id % NUM_BUCKETS
                scores = scores + self._rotator2[start:start + NUM_BUCKETS] * weight
            scores[ROTATOR_HALF:] = -scores[ROTATOR_HALF:]
            best = int(np.argmax(scores))  # first index of the maximum
            second = float(np.max(np.delete(scores, best)))
            self._rot[word] = RotatorResult(best + ID_OFFSET, float(scores[best]), second)
        return self._rot[word]

    def lsh_bucket(self, word: str) -> int:
        return self.rotator(word).bucket


# --------------------------------------------------------------------------
# 2.3 Sequence construction, truncation, padding; RoBERTa position ids
# --------------------------------------------------------------------------


def encode_single(ids: list[int], max_length: int) -> tuple[list[int], list[int]]:
    """``<s> ids </s>`` truncated and padded to ``max_length``."""
    kept = ids[:max_length - 2]
    real = [BOS_ID] + kept + [EOS_ID]
    pad = max_length - len(real)
    return real + [PAD_ID] * pad, [1] * len(real) + [0] * pad


def truncate_pair(a: list[int], b: list[int], max_length: int) -> tuple[list[int], list[int]]:
    """The reference's pair truncation rule (spec 2.3); even max_length only."""
    n1, n2 = len(a), len(b)
    if n1 + n2 <= max_length - 4:
        return a, b
    thres = max_length // 2 - 2
    if n1 <= n2:
        if n1 >= thres:
            return a[:thres], b[:thres]
        return a, b[:max_length - 4 - n1]
    if n2 >= thres:
        return a[:thres], b[:thres]
    return a[:max_length - 4 - n2], b


def encode_pair(a: list[int], b: list[int], max_length: int) -> tuple[list[int], list[int]]:
    """``<s> A </s> </s> B </s>`` truncated and padded to ``max_length``."""
    if max_length % 2:
        raise ValueError("odd max_length triggers a known bug of the reference")
    a, b = truncate_pair(a, b, max_length)
    real = [BOS_ID] + a + [EOS_ID, EOS_ID] + b + [EOS_ID]
    pad = max_length - len(real)
    return real + [PAD_ID] * pad, [1] * len(real) + [0] * pad


def position_ids(attention_mask: list[int]) -> list[int]:
    """RoBERTa position ids (padding_idx 1): real tokens count up from 2."""
    out, seen = [], 0
    for m in attention_mask:
        if m:
            seen += 1
            out.append(PAD_ID + seen)
        else:
            out.append(PAD_ID)
    return out


def encode_md5(tokens: list[str], tokens_b: list[str] | None, max_length: int) -> dict:
    """Emb_MD5 ``input_ids``, ``attention_mask`` and ``position_ids``."""
    ids = [md5_bucket(t) for t in tokens]
    if tokens_b is None:
        input_ids, mask = encode_single(ids, max_length)
    else:
        input_ids, mask = encode_pair(ids, [md5_bucket(t) for t in tokens_b], max_length)
    return {"input_ids": input_ids, "attention_mask": mask, "position_ids": position_ids(mask)}


# --------------------------------------------------------------------------
# Per-text fields (shared by the generator and the checker)
# --------------------------------------------------------------------------


def text_fields(text: str, hasher: LshHasher, suffix: str = "") -> dict:
    """All per-token fields of one text; LSH is null for over-long words."""
    tokens = pretokenize(text)

    def lsh_or_none(fn):
        return [fn(t) if len(t) <= LSH_MAX_WORD_CHARS else None for t in tokens]

    return {
        "tokens" + suffix: tokens,
        "md5_hex" + suffix: [md5_hex(t) for t in tokens],
        "md5_bucket" + suffix: [md5_bucket(t) for t in tokens],
        "pool" + suffix: [md5_pool(t) for t in tokens],
        "lsh_hex" + suffix: lsh_or_none(hasher.lsh_hex),
        "lsh_bucket" + suffix: lsh_or_none(hasher.lsh_bucket),
    }


def default_hasher() -> LshHasher:
    """An LshHasher over ``$HASHFORMER_DATA/roberta-base``."""
    return LshHasher(ByteLevelBPE.from_dir(data_dir() / "roberta-base"))
