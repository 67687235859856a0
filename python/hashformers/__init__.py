"""HashFormers tokenisers, bit-exact with the official code, hashed in Rust.

HashFormers (Xue & Aletras, EMNLP 2022) are transformers with no vocabulary: each word's
input comes from a hash. This package offers the official code's four tokenisers as drop-ins,
computed in Rust on all cores:

- :class:`Md5ValueTokenizer` (HashFormer-Emb_MD5) and :class:`LSHValueTokenizer`
  (HashFormer-Emb_LSH): one bucket id per word;
- :class:`Md5Tokenizer` and :class:`LSHTokenizer` (HashFormer-Pool/Add/Proj): one 128-bit
  value per word.

Each is called as the reference is (``tok(texts, max_length=128, padding="max_length",
truncation="longest_first")``) and returns the same lists; ``encode_batch`` returns the model
inputs as numpy arrays instead, and ``hash_words`` hashes bare words.

Example::

    >>> from hashformers import Md5ValueTokenizer
    >>> tok = Md5ValueTokenizer()
    >>> tok("Hello world!", max_length=8)["input_ids"]
    [0, 46797, 25238, 41048, 2, 1, 1, 1]
"""

from . import _tokenizers
from ._tokenizers import (
    DEFAULT_CACHE_SIZE,
    DEFAULT_MAX_LENGTH,
    MAX_MAX_LENGTH,
    MIN_MAX_LENGTH,
    SPECIAL_TOKENS,
    LSHTokenizer,
    LSHValueTokenizer,
    Md5Tokenizer,
    Md5ValueTokenizer,
    find_roberta_bpe,
    hash_to_base36,
)

__version__ = "0.1.0"

__all__ = [*_tokenizers.__all__, "__version__"]
