"""The reference's call shapes: single texts, lists, pairs, ``max_length``, ignored keywords."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import hashformers
from conftest import reference_layout

HELLO = [0, 46797, 25238, 41048, 2, 1, 1, 1]  # method §11: "hello world!" at L = 8


def words(n: int, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{i}" for i in range(n))


def test_single_text(md5_value):
    out = md5_value("Hello world!", max_length=8)
    assert out == {"input_ids": HELLO, "attention_mask": [1, 1, 1, 1, 1, 0, 0, 0]}
    # max_length is the second positional parameter, as in the reference.
    assert md5_value("Hello world!", 8) == out
    assert md5_value("Hello world!", np.int64(8)) == out


def test_default_max_length_is_512(md5_value, md5_bits):
    assert len(md5_value("a b c")["input_ids"]) == 512
    assert len(md5_bits("a b c")["input_ids"].split(" ")) == 512


def test_list_of_texts_and_pairs(md5_value):
    out = md5_value(["Hello world!", ("hello", "world !"), ""], max_length=8)
    assert out["input_ids"] == [
        HELLO,
        [0, 46797, 2, 2, 25238, 41048, 2, 1],
        [0, 2, 1, 1, 1, 1, 1, 1],
    ]
    assert out["attention_mask"][1] == [1] * 7 + [0]
    assert out["attention_mask"][2] == [1, 1] + [0] * 6


def test_pair_shapes_agree(md5_value):
    """A top-level tuple and ``text_pair=`` are the same pair as a tuple in a list."""
    in_list = md5_value([("one two", "three")], max_length=10)
    assert md5_value(("one two", "three"), max_length=10)["input_ids"] == in_list["input_ids"][0]
    assert md5_value("one two", 10, text_pair="three")["input_ids"] == in_list["input_ids"][0]
    batch = md5_value(["one two", "four"], 10, text_pair=["three", "five six"])
    assert batch["input_ids"][0] == in_list["input_ids"][0]
    assert batch == md5_value([("one two", "three"), ("four", "five six")], 10)


def test_empty_batch(md5_value, md5_bits):
    assert md5_value([], max_length=8) == {"input_ids": [], "attention_mask": []}
    arrays = md5_bits.encode_batch([], max_length=8)
    assert arrays["input_ids"].shape == (0, 2, 8)
    assert arrays["inputs_embeds"].shape == (0, 8, 128)


def test_single_text_truncation(md5_value):
    out = md5_value(words(20), max_length=8)
    assert out["attention_mask"] == [1] * 8
    assert out["input_ids"][0] == 0 and out["input_ids"][-1] == 2
    assert out["input_ids"][1:7] == md5_value.convert_tokens_to_ids([f"w{i}" for i in range(6)])


@pytest.mark.parametrize(
    "n1,n2,kept",
    [(10, 200, (10, 114)), (100, 100, (62, 62)), (200, 10, (114, 10)), (70, 30, (70, 30))],
)
def test_pair_truncation_rule(md5_value, n1, n2, kept):
    """Method §2.3's examples at max_length 128."""
    a, b = words(n1, "a"), words(n2, "b")
    out = md5_value((a, b), max_length=128)
    ids = out["input_ids"]
    want = reference_layout(
        md5_value.convert_tokens_to_ids(a.split()), md5_value.convert_tokens_to_ids(b.split()), 128
    )
    assert out == want
    first_eos = ids.index(2)
    assert first_eos - 1 == kept[0]
    assert ids[first_eos + 2 : first_eos + 2 + kept[1]] == want["input_ids"][
        first_eos + 2 : first_eos + 2 + kept[1]
    ]
    assert sum(out["attention_mask"]) == kept[0] + kept[1] + 4


def test_odd_length_pair_is_padded_not_ragged(md5_value):
    """Documented deviation: the reference emits max_length - 1 ids here."""
    out = md5_value((words(10), words(10)), max_length=9)
    assert len(out["input_ids"]) == 9
    assert out["input_ids"][-1] == 1
    assert out["attention_mask"] == [1] * 8 + [0]


def test_padding_and_truncation_are_accepted_silently(md5_value):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = md5_value("x y", max_length=8, padding="max_length", truncation="longest_first")
        b = md5_value("x y", max_length=8, padding=False, truncation=False)
    assert a == b == md5_value("x y", max_length=8)


def test_other_keywords_are_ignored_with_a_warning(md5_value):
    with pytest.warns(UserWarning, match="return_tensors"):
        out = md5_value("x y", max_length=8, return_tensors="pt")
    assert out == md5_value("x y", max_length=8)


def test_base36_tokenisers_output_strings(md5_bits):
    out = md5_bits("hello", max_length=8)
    assert out["input_ids"] == "0 1RRW9XDDNQYMBGLMNJ1A5QI0P 2 1 1 1 1 1"
    assert out["attention_mask"] == [1, 1, 1, 0, 0, 0, 0, 0]
    batch = md5_bits(["hello", ("hello", "hello")], max_length=8)
    assert batch["input_ids"][0] == out["input_ids"]
    assert batch["input_ids"][1].split(" ")[:6] == ["0", "1RRW9XDDNQYMBGLMNJ1A5QI0P", "2", "2",
                                                    "1RRW9XDDNQYMBGLMNJ1A5QI0P", "2"]


def test_reference_attributes(md5_value, md5_bits):
    assert md5_value.name_or_path == "Md5 Value Tokenizer"
    assert md5_bits.name_or_path == "Md5 Tokenizer"
    assert md5_value.spec_token_dict == {"<s>": 0, "</s>": 2, "<mask>": 4, "<pad>": 1, "<unk>": 3}
    assert md5_bits.spec_token_dict["</s>"] == "2"
    assert md5_value.scheme == md5_bits.scheme == "md5"


def test_tokenize_and_convert(md5_value, md5_bits):
    text = 'Hello world! My dog\'s cute... e-mail: x@y.com 3.14 naïve CAFÉ __init__ "quoted"?!'
    assert md5_value.tokenize(text) == [
        "hello", "world", "!", "my", "dog", "'", "s", "cute", "...", "e", "-", "mail", ":",
        "x", "@", "y", ".", "com", "3", ".", "14", "naïve", "café", "__init__", '"', "quoted",
        '"?!',
    ]
    assert md5_value.convert_tokens_to_ids(["<s>", "hello", "<pad>", "</s>", "<unk>", "<mask>"]) == [
        0, 46797, 1, 2, 3, 4
    ]
    assert md5_bits.convert_tokens_to_ids(["<s>", "hello"]) == ["0", "1RRW9XDDNQYMBGLMNJ1A5QI0P"]
    # Tokens are hashed as given: no lower-casing.
    assert md5_value.convert_tokens_to_ids(["Hello"]) != md5_value.convert_tokens_to_ids(["hello"])
    # A literal "<s>" in text is split by the pre-tokeniser, never a special token.
    assert md5_value("<s>", max_length=8)["input_ids"][1:4] == md5_value.convert_tokens_to_ids(
        ["<", "s", ">"]
    )


def test_spec_parity_vector(md5_bits):
    """Method §11 at L = 8: the special row, the pad row and the Pool indices of "hello"."""
    out = md5_bits.encode_batch("hello world!", max_length=8, output="pool")
    assert out["input_ids"][0, 0].tolist() == [0, 5, 5, 5, 2, 1, 1, 1]
    assert out["input_ids"][0, 1].tolist() == [0, 0, 0, 0, 0, 1, 1, 1]
    assert out["inputs_embeds"][0, 1].tolist() == [
        120, 710, 385, 601, 588, 100, 508, 947, 385, 457, 903, 571, 181
    ]
    assert out["inputs_embeds"][0, 0].tolist() == [0] * 13


@pytest.mark.parametrize(
    "value",
    [0, 1, 2**64, 2**127, 2**128 - 6, 2**128 - 5, 2**128 - 1]
    + [int.from_bytes(bytes([i * 37 % 256] * 16), "big") for i in range(1, 9)],
)
def test_hash_to_base36_is_numpy_base_repr(value):
    assert hashformers.hash_to_base36(value) == np.base_repr(value + 5, 36)


def test_pickle_round_trip(md5_value, md5_bits):
    for tok in (md5_value, md5_bits, hashformers.Md5ValueTokenizer(cache_size=0)):
        copy = pickle.loads(pickle.dumps(tok))
        assert type(copy) is type(tok)
        assert copy("a b c", 8) == tok("a b c", 8)
        assert repr(copy) == repr(tok)


def test_lsh_pickle_and_repr(lsh_value, lsh_bits, bpe_dir):
    for tok in (lsh_value, lsh_bits):
        copy = pickle.loads(pickle.dumps(tok))
        assert copy.bpe_path == bpe_dir
        assert copy(["Cats chase mice."], 16) == tok(["Cats chase mice."], 16)
        assert copy.scheme == "lsh"
    assert lsh_value.name_or_path == "LSH Value Tokenizer"
    assert lsh_bits.name_or_path == "LSH Tokenizer"


def test_lsh_bpe_found_from_hashformer_data(bpe_dir, monkeypatch):
    monkeypatch.setenv("HASHFORMER_DATA", str(bpe_dir.parent))
    assert hashformers.find_roberta_bpe() == bpe_dir
    assert hashformers.LSHValueTokenizer().bpe_path == bpe_dir


def test_lsh_bpe_found_in_the_hugging_face_cache(bpe_dir, monkeypatch, tmp_path):
    snapshot = tmp_path / "models--roberta-base" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    for name in ("vocab.json", "merges.txt"):
        (snapshot / name).symlink_to(bpe_dir / name)
    (tmp_path / "models--roberta-base" / "refs").mkdir()
    (tmp_path / "models--roberta-base" / "refs" / "main").write_text("abc123\n")
    monkeypatch.delenv("HASHFORMER_DATA", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    tok = hashformers.LSHValueTokenizer()
    assert tok.bpe_path == snapshot
    assert tok("the", 4)["input_ids"] == [0, 45293, 2, 1]
