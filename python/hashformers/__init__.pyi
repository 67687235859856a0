"""Type stubs of the public ``hashformers`` API (see ``_tokenizers.py`` for the docs)."""

import os
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

__version__: str

TextOrPair = Union[str, Tuple[str, str]]
PathLike = Union[str, "os.PathLike[str]"]

SPECIAL_TOKENS: Dict[str, int]
DEFAULT_MAX_LENGTH: int
MIN_MAX_LENGTH: int
MAX_MAX_LENGTH: int
DEFAULT_CACHE_SIZE: int

def find_roberta_bpe(bpe_path: PathLike | None = ...) -> Path: ...
def hash_to_base36(value: int) -> str: ...

class _ValueTokenizer:
    name_or_path: str
    @property
    def scheme(self) -> str: ...
    @property
    def spec_token_dict(self) -> Dict[str, int]: ...
    @overload
    def __call__(
        self,
        text: TextOrPair,
        max_length: int = ...,
        *,
        text_pair: str | None = ...,
        **kwargs: Any,
    ) -> Dict[str, List[int]]: ...
    @overload
    def __call__(
        self,
        text: List[TextOrPair],
        max_length: int = ...,
        *,
        text_pair: List[str] | None = ...,
        **kwargs: Any,
    ) -> Dict[str, List[List[int]]]: ...
    def tokenize(self, text: str) -> List[str]: ...
    def convert_tokens_to_ids(self, token_list: Sequence[str]) -> List[int]: ...
    def encode_batch(
        self,
        text: TextOrPair | List[TextOrPair],
        max_length: int = ...,
        *,
        text_pair: str | List[str] | None = ...,
    ) -> Dict[str, npt.NDArray[np.int64]]: ...
    def hash_words(self, words: Sequence[str]) -> npt.NDArray[np.int64]: ...

class _BitsTokenizer:
    name_or_path: str
    @property
    def scheme(self) -> str: ...
    @property
    def spec_token_dict(self) -> Dict[str, str]: ...
    @overload
    def __call__(
        self,
        text: TextOrPair,
        max_length: int = ...,
        *,
        text_pair: str | None = ...,
        **kwargs: Any,
    ) -> Dict[str, Union[str, List[int]]]: ...
    @overload
    def __call__(
        self,
        text: List[TextOrPair],
        max_length: int = ...,
        *,
        text_pair: List[str] | None = ...,
        **kwargs: Any,
    ) -> Dict[str, Union[List[str], List[List[int]]]]: ...
    def tokenize(self, text: str) -> List[str]: ...
    def convert_tokens_to_ids(self, token_list: Sequence[str]) -> List[str]: ...
    def encode_batch(
        self,
        text: TextOrPair | List[TextOrPair],
        max_length: int = ...,
        *,
        text_pair: str | List[str] | None = ...,
        output: str = ...,
        dtype: npt.DTypeLike = ...,
    ) -> Dict[str, npt.NDArray[Any]]: ...
    def hash_words(self, words: Sequence[str]) -> npt.NDArray[np.uint8]: ...

class Md5ValueTokenizer(_ValueTokenizer):
    def __init__(self, cache_size: int = ..., **kwargs: Any) -> None: ...

class Md5Tokenizer(_BitsTokenizer):
    def __init__(self, cache_size: int = ..., **kwargs: Any) -> None: ...

class LSHValueTokenizer(_ValueTokenizer):
    bpe_path: Path
    def __init__(
        self, bpe_path: PathLike | None = ..., cache_size: int = ..., **kwargs: Any
    ) -> None: ...

class LSHTokenizer(_BitsTokenizer):
    bpe_path: Path
    def __init__(
        self, bpe_path: PathLike | None = ..., cache_size: int = ..., **kwargs: Any
    ) -> None: ...
