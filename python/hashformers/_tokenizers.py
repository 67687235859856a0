"""The four HashFormers tokenisers, shaped like the official ones.

The official code (``src/utils/free_tokenizer.py`` of github.com/HUIYINXUE/hashformer) has four
classes with one call shape: ``tokenizer(text, max_length=512, **kwargs)`` where ``text`` is a
``str`` (one text) or a ``list`` of ``str`` and ``(str, str)`` tuples (a batch of texts and
pairs), returning ``{"input_ids": ..., "attention_mask": ...}``. Every extra keyword
(``padding=``, ``truncation=``, ...) is accepted and ignored: sequences are always padded to
``max_length`` and truncated by the reference's rule. The classes here keep that shape and
return the same values; the hashing runs in Rust on all cores with the GIL released.
"""

from __future__ import annotations

import operator
import os
import warnings
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple, Union

import numpy as np

from . import _hashformers
from ._hashformers import Core

TextOrPair = Union[str, Tuple[str, str]]

#: RoBERTa's special tokens and their ids (the hash tokenisers never emit ``<unk>``/``<mask>``).
SPECIAL_TOKENS: Dict[str, int] = {"<s>": 0, "</s>": 2, "<mask>": 4, "<pad>": 1, "<unk>": 3}

#: The reference's default ``max_length`` (pre-training; GLUE used 128).
DEFAULT_MAX_LENGTH = 512

#: The smallest ``max_length``: room for ``<s> </s></s> </s>`` of a pair.
MIN_MAX_LENGTH: int = _hashformers.MIN_MAX_LENGTH

#: The largest ``max_length`` accepted (RoBERTa models use at most 512).
MAX_MAX_LENGTH = 1 << 16

#: Default number of distinct words each word cache keeps.
DEFAULT_CACHE_SIZE: int = _hashformers.DEFAULT_CACHE_SIZE

#: Keywords the reference accepts and ignores, accepted here without a warning.
_SILENTLY_IGNORED = frozenset({"padding", "truncation"})


def _check_max_length(max_length: Any) -> int:
    if isinstance(max_length, bool) or not hasattr(type(max_length), "__index__"):
        raise TypeError(f"max_length must be an int, got {type(max_length).__name__}")
    value = operator.index(max_length)
    if value < MIN_MAX_LENGTH:
        raise ValueError(
            f"max_length must be at least {MIN_MAX_LENGTH} (room for the special tokens "
            f"<s> </s></s> </s> of a pair), got {value}"
        )
    if value > MAX_MAX_LENGTH:
        raise ValueError(f"max_length must be at most {MAX_MAX_LENGTH}, got {value}")
    return value


def _check_cache_size(cache_size: Any) -> int:
    if isinstance(cache_size, bool) or not hasattr(type(cache_size), "__index__"):
        raise TypeError(f"cache_size must be an int, got {type(cache_size).__name__}")
    value = operator.index(cache_size)
    if value < 0:
        raise ValueError(f"cache_size must be >= 0 (0 turns caching off), got {value}")
    return value


def _warn_ignored(owner: str, kwargs: Dict[str, Any]) -> None:
    ignored = sorted(set(kwargs) - _SILENTLY_IGNORED)
    if ignored:
        warnings.warn(
            f"{owner} ignores the keyword argument(s) {', '.join(ignored)}, as the reference "
            "tokenisers do",
            UserWarning,
            stacklevel=3,
        )


def _as_items(text: Any, text_pair: Any) -> Tuple[List[Any], bool]:
    """The texts of a call as a list of ``str``/``(str, str)`` items, and whether the call was
    a batch (a list) rather than one text or pair."""
    if text_pair is not None:
        if isinstance(text, str):
            if not isinstance(text_pair, str):
                raise TypeError(
                    "text_pair must be a str when text is a str, got "
                    f"{type(text_pair).__name__}"
                )
            return [(text, text_pair)], False
        if isinstance(text, list):
            if not isinstance(text_pair, list):
                raise TypeError(
                    "text_pair must be a list when text is a list, got "
                    f"{type(text_pair).__name__}"
                )
            if len(text_pair) != len(text):
                raise ValueError(
                    f"text has {len(text)} items but text_pair has {len(text_pair)}"
                )
            return list(zip(text, text_pair)), True
        raise TypeError(f"text must be a str or a list of str, got {type(text).__name__}")
    if isinstance(text, str):
        return [text], False
    if isinstance(text, tuple):
        return [text], False
    if isinstance(text, list):
        return text, True
    raise TypeError(
        "text must be a str, a (str, str) pair, or a list of str and (str, str) pairs, got "
        f"{type(text).__name__}"
    )


def _hf_hub_dirs() -> List[Path]:
    if os.environ.get("HF_HUB_CACHE"):
        hub = Path(os.environ["HF_HUB_CACHE"])
    elif os.environ.get("HF_HOME"):
        hub = Path(os.environ["HF_HOME"]) / "hub"
    else:
        hub = Path.home() / ".cache" / "huggingface" / "hub"
    found = []
    for repo in ("models--roberta-base", "models--FacebookAI--roberta-base"):
        snapshots = hub / repo / "snapshots"
        ref = hub / repo / "refs" / "main"
        if ref.is_file():
            found.append(snapshots / ref.read_text(encoding="utf-8").strip())
        if snapshots.is_dir():
            found.extend(sorted(p for p in snapshots.iterdir() if p.is_dir()))
    return found


def _has_bpe_files(folder: Path) -> bool:
    return (folder / "tokenizer.json").is_file() or (
        (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file()
    )


def find_roberta_bpe(bpe_path: Union[str, "os.PathLike[str]", None] = None) -> Path:
    """The folder holding roberta-base's BPE (``tokenizer.json``, or ``vocab.json`` and
    ``merges.txt``) that the LSH tokenisers read.

    Looked up in this order: ``bpe_path`` if given (then nothing else is tried);
    ``$HASHFORMER_DATA/roberta-base``; the Hugging Face hub cache (``$HF_HUB_CACHE``,
    ``$HF_HOME/hub`` or ``~/.cache/huggingface/hub``) for ``roberta-base`` or
    ``FacebookAI/roberta-base``, where ``transformers`` put it for the official code.

    Raises:
        FileNotFoundError: if no such folder is found.
    """
    if bpe_path is not None:
        folder = Path(os.fspath(bpe_path))
        if not _has_bpe_files(folder):
            raise FileNotFoundError(
                f"{folder}: no tokenizer.json, and no vocab.json + merges.txt (roberta-base BPE)"
            )
        return folder
    candidates = []
    if os.environ.get("HASHFORMER_DATA"):
        candidates.append(Path(os.environ["HASHFORMER_DATA"]) / "roberta-base")
    candidates.extend(_hf_hub_dirs())
    for folder in candidates:
        if _has_bpe_files(folder):
            return folder
    tried = ", ".join(str(c) for c in candidates) or "nothing"
    raise FileNotFoundError(
        "roberta-base BPE files not found (tried: "
        f"{tried}). Pass bpe_path= a folder with vocab.json and merges.txt (or tokenizer.json), "
        "e.g. from huggingface.co/roberta-base, or set HASHFORMER_DATA."
    )


class _HashTokenizer:
    """What the four tokenisers share: the reference call shape and the batch methods."""

    name_or_path: str = ""
    _base36: bool = False

    def __init__(self, core: Core, cache_size: int) -> None:
        self._core = core
        self._cache_size = cache_size

    @property
    def scheme(self) -> str:
        """``"md5"`` or ``"lsh"``."""
        return self._core.scheme

    @property
    def spec_token_dict(self) -> Dict[str, Any]:
        """Special token → id (``str`` ids for the base-36 tokenisers), as the reference's."""
        if self._base36:
            return {token: str(i) for token, i in SPECIAL_TOKENS.items()}
        return dict(SPECIAL_TOKENS)

    def __call__(
        self,
        text: Union[TextOrPair, List[TextOrPair]],
        max_length: int = DEFAULT_MAX_LENGTH,
        *,
        text_pair: Union[str, List[str], None] = None,
        **kwargs: Any,
    ) -> Dict[str, Any]:
        """Encodes one text, one ``(text, text_b)`` pair, or a list of them, like the reference.

        Returns ``{"input_ids": ..., "attention_mask": ...}``: for one text, lists of
        ``max_length`` values; for a list, a list of those per item. Every keyword besides
        ``text_pair`` (``padding=``, ``truncation=``, ...) is accepted and ignored, as the
        reference does (a warning names any but ``padding`` and ``truncation``).

        Raises:
            TypeError: ``text`` or an item of it is not a ``str`` or a ``(str, str)`` tuple.
            ValueError: ``max_length < 4``, a tuple that is not a pair, or ``text_pair`` of
                another length than ``text``.
        """
        _warn_ignored(f"{type(self).__name__}.__call__", kwargs)
        max_length = _check_max_length(max_length)
        items, batch = _as_items(text, text_pair)
        ids, masks = self._core.call_lists(items, max_length, self._base36)
        if batch:
            return {"input_ids": ids, "attention_mask": masks}
        return {"input_ids": ids[0], "attention_mask": masks[0]}

    def tokenize(self, text: str) -> List[str]:
        """The words of ``text``: ``re.findall(r"\\w+|[^\\w\\s]+", text.lower())`` with Python
        3.11's Unicode tables.

        Raises:
            TypeError: ``text`` is not a ``str``.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return self._core.tokenize(text)

    def convert_tokens_to_ids(self, token_list: Sequence[str]) -> List[Any]:
        """Ids of tokens as the reference maps them: special tokens (``<s>``, ``</s>``,
        ``<pad>``, ``<unk>``, ``<mask>``) to their ids, every other token (as given, not
        lower-cased) to its hash.

        Raises:
            TypeError: ``token_list`` is a ``str`` or holds something else than ``str``.
        """
        return self._core.convert_tokens(token_list, self._base36)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(cache_size={self._cache_size})"

    def __getstate__(self) -> Dict[str, Any]:
        return {"cache_size": self._cache_size}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        type(self).__init__(self, **state)


class _ValueMixin:
    """Batch methods of the Emb tokenisers (one bucket id per token)."""

    _core: Core

    def encode_batch(
        self,
        text: Union[TextOrPair, List[TextOrPair]],
        max_length: int = DEFAULT_MAX_LENGTH,
        *,
        text_pair: Union[str, List[str], None] = None,
    ) -> Dict[str, np.ndarray]:
        """HashFormer-Emb model inputs as numpy arrays, on all cores without the GIL.

        Takes what ``__call__`` takes (one text or pair is a batch of one) and returns
        ``{"input_ids": int64[B, L], "attention_mask": int64[B, L]}`` with the same values
        as ``__call__``.

        Raises:
            TypeError, ValueError: as ``__call__``.
        """
        max_length = _check_max_length(max_length)
        items, _ = _as_items(text, text_pair)
        ids, mask = self._core.encode_ids(items, max_length)
        return {"input_ids": ids, "attention_mask": mask}

    def hash_words(self, words: Sequence[str]) -> np.ndarray:
        """Emb bucket ids (in ``5..50265``) of words, ``int64[N]``, as given (not lower-cased).

        Raises:
            TypeError: ``words`` is a ``str`` or holds something else than ``str``.
        """
        return self._core.hash_buckets(words)


class _BitsMixin:
    """Batch methods of the 128-bit tokenisers (HashFormer-Pool/Add/Proj)."""

    _core: Core

    def encode_batch(
        self,
        text: Union[TextOrPair, List[TextOrPair]],
        max_length: int = DEFAULT_MAX_LENGTH,
        *,
        text_pair: Union[str, List[str], None] = None,
        output: str = "bits",
        dtype: Any = np.float32,
    ) -> Dict[str, np.ndarray]:
        """Pool/Add/Proj model inputs as the reference collators build them, as numpy arrays,
        on all cores without the GIL.

        Returns ``{"input_ids": int64[B, 2, L], "inputs_embeds": ..., "attention_mask":
        int64[B, L]}``. ``input_ids[:, 0]`` is the special row (0..4 for special tokens, 5
        for words), ``input_ids[:, 1]`` is ``1 - attention_mask``. ``inputs_embeds`` is, for
        ``output="bits"``, the 128 hash bits per token, MSB first, as ``dtype`` (``float32``
        for Add/Proj, or ``uint8``), all 0 for special tokens; for ``output="pool"``, the 13
        Pool chunk indices per token, ``int64[B, L, 13]``, all 0 for special tokens.

        Raises:
            TypeError, ValueError: as ``__call__``; ``ValueError`` for another ``output`` or
                ``dtype``.
        """
        max_length = _check_max_length(max_length)
        if output == "bits":
            kind = np.dtype(dtype).name
            if kind not in ("float32", "uint8"):
                raise ValueError(f"dtype must be float32 or uint8 for output='bits', got {kind}")
        elif output == "pool":
            kind = "pool"
        else:
            raise ValueError(f"output must be 'bits' or 'pool', got {output!r}")
        items, _ = _as_items(text, text_pair)
        ids, embeds, mask = self._core.encode_hashes(items, max_length, kind)
        return {"input_ids": ids, "inputs_embeds": embeds, "attention_mask": mask}

    def hash_words(self, words: Sequence[str]) -> np.ndarray:
        """128-bit hashes of words (as given, not lower-cased), ``uint8[N, 16]``, big-endian:
        row ``i`` is the HMAC-MD5 digest (MD5) or the SimHash value (LSH) of ``words[i]``.
        ``np.unpackbits(h, axis=1)`` gives the 128 bits in the models' order.

        Raises:
            TypeError: ``words`` is a ``str`` or holds something else than ``str``.
        """
        return self._core.hash_digests(words)


class Md5ValueTokenizer(_ValueMixin, _HashTokenizer):
    """HashFormer-Emb_MD5 tokeniser: each word's id is ``HMAC-MD5(b"en", word) % 50260 + 5``.

    A drop-in for the reference ``Md5ValueTokenizer``: ``input_ids`` are ints.

    Args:
        cache_size: distinct words each worker thread memoises (0 turns caching off).
    """

    name_or_path = "Md5 Value Tokenizer"

    def __init__(self, cache_size: int = DEFAULT_CACHE_SIZE, **kwargs: Any) -> None:
        _warn_ignored(type(self).__name__, kwargs)
        cache_size = _check_cache_size(cache_size)
        super().__init__(Core.md5(cache_size), cache_size)


class Md5Tokenizer(_BitsMixin, _HashTokenizer):
    """HashFormer-Pool/Add/Proj tokeniser with MD5: each word's 128-bit value is its
    HMAC-MD5 digest (key ``b"en"``).

    A drop-in for the reference ``Md5Tokenizer``: ``input_ids`` is one string per sequence,
    the space-joined ``numpy.base_repr(value + 5, 36)`` of its tokens (specials ``"0"``,
    ``"2"``, ``"1"``), which the reference collators decode. ``encode_batch`` gives the
    decoded tensors directly.

    Args:
        cache_size: distinct words each worker thread memoises (0 turns caching off).
    """

    name_or_path = "Md5 Tokenizer"
    _base36 = True

    def __init__(self, cache_size: int = DEFAULT_CACHE_SIZE, **kwargs: Any) -> None:
        _warn_ignored(type(self).__name__, kwargs)
        cache_size = _check_cache_size(cache_size)
        super().__init__(Core.md5(cache_size), cache_size)


class _LshTokenizer(_HashTokenizer):
    """Loads roberta-base's BPE for the LSH tokenisers."""

    def __init__(
        self,
        bpe_path: Union[str, "os.PathLike[str]", None],
        cache_size: int,
        kwargs: Dict[str, Any],
    ) -> None:
        _warn_ignored(type(self).__name__, kwargs)
        cache_size = _check_cache_size(cache_size)
        folder = find_roberta_bpe(bpe_path)
        super().__init__(Core.lsh(str(folder), cache_size), cache_size)
        self.bpe_path = folder

    def __repr__(self) -> str:
        return f"{type(self).__name__}(bpe_path={str(self.bpe_path)!r}, cache_size={self._cache_size})"

    def __getstate__(self) -> Dict[str, Any]:
        return {"bpe_path": str(self.bpe_path), "cache_size": self._cache_size}


class LSHValueTokenizer(_ValueMixin, _LshTokenizer):
    """HashFormer-Emb_LSH tokeniser: each word's id is the argmax of a 50260-wide signed
    circulant projection of its LSH features (roberta-base BPE pieces of its hyphen
    splits), plus 5.

    A drop-in for the reference ``LSHValueTokenizer``: ``input_ids`` are ints.

    Args:
        bpe_path: folder with roberta-base's ``vocab.json`` + ``merges.txt`` (or
            ``tokenizer.json``); found by :func:`find_roberta_bpe` when omitted.
        cache_size: distinct words kept by the shared word cache and each worker's memo
            (0 turns caching off; a cold word costs ~150 µs on one core).

    Raises:
        FileNotFoundError: the BPE files are not found.
    """

    name_or_path = "LSH Value Tokenizer"

    def __init__(
        self,
        bpe_path: Union[str, "os.PathLike[str]", None] = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        **kwargs: Any,
    ) -> None:
        super().__init__(bpe_path, cache_size, kwargs)


class LSHTokenizer(_BitsMixin, _LshTokenizer):
    """HashFormer-Pool/Add/Proj tokeniser with LSH: each word's 128-bit value is a SimHash of
    its LSH features with numpy-``RandomState``-seeded Gaussian rows.

    A drop-in for the reference ``LSHTokenizer``: ``input_ids`` is one space-joined base-36
    string per sequence, as for :class:`Md5Tokenizer`.

    Args:
        bpe_path: as for :class:`LSHValueTokenizer`.
        cache_size: as for :class:`LSHValueTokenizer`.

    Raises:
        FileNotFoundError: the BPE files are not found.
    """

    name_or_path = "LSH Tokenizer"
    _base36 = True

    def __init__(
        self,
        bpe_path: Union[str, "os.PathLike[str]", None] = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        **kwargs: Any,
    ) -> None:
        super().__init__(bpe_path, cache_size, kwargs)


def hash_to_base36(value: int) -> str:
    """``numpy.base_repr(value + 5, 36)`` for a 128-bit hash value: how the reference's
    ``Md5Tokenizer`` and ``LSHTokenizer`` write a token.

    Raises:
        TypeError: ``value`` is not an int.
        OverflowError: ``value`` is negative or above ``2**128 - 1``.
    """
    return _hashformers.hash_to_base36(value)


__all__ = [
    "DEFAULT_CACHE_SIZE",
    "DEFAULT_MAX_LENGTH",
    "LSHTokenizer",
    "LSHValueTokenizer",
    "MAX_MAX_LENGTH",
    "MIN_MAX_LENGTH",
    "Md5Tokenizer",
    "Md5ValueTokenizer",
    "SPECIAL_TOKENS",
    "find_roberta_bpe",
    "hash_to_base36",
]
