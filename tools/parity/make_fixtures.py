#!/usr/bin/env python3
"""Generate the model parity fixtures in crates/model/tests/fixtures/parity/.

From the repository root:

    bash tools/parity/setup.sh
    HASHFORMER_DATA=/work/shared/data tools/parity/.venv/bin/python \
        tools/parity/make_fixtures.py --out crates/model/tests/fixtures/parity
    tools/parity/.venv/bin/python tools/parity/verify_fixtures.py \
        crates/model/tests/fixtures/parity

Needs $HASHFORMER_DATA/roberta-base/{vocab.json,merges.txt} (LSH features and
the BPE "vocab" baseline). Token ids, bucket ids and hash bits come from the
independent hashing reference tools/golden/hashformer_ref.py; the model is
tools/parity/hashformer_torch.py, randomly initialised with a fixed seed per
fixture. Rerunning with the pinned versions gives byte-identical files.

Every fixture uses a tiny config (H=32, 2 layers, 2 heads, I=64) and the same
two texts, encoded single-text at max_length 12 (the second one is padded).
Emb / vocab tables have 1005 rows (1000 buckets + 5 specials) instead of
50265, to keep the files small:

* emb-md5:  id = (HMAC-MD5 value mod 1000) + 5
* emb-lsh:  the Emb_LSH rotator with width 1000 instead of 50260
            (R = RandomState(42).normal(0, 1, 1000), scores for i >= 500
            negated, lowest argmax index, + 5)
* vocab:    roberta-base byte-level BPE ids of the text (as RoBERTa encodes
            it: no prefix space), each mapped to (id mod 1000) + 5;
            <s>=0, <pad>=1, </s>=2 unchanged.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
import shutil
import struct
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "golden"))
import hashformer_ref as ref  # noqa: E402
from hashformer_torch import (  # noqa: E402
    REFERENCE_VOCAB_SIZE,
    HashFormerConfig,
    HashFormerWithHeads,
    rotator_bucket,
)

TEXTS = ["The new rights are nice enough.", "Hello world!"]
MAX_LENGTH = 12
NUM_BUCKETS = 1000  # emb / vocab tables have NUM_BUCKETS + 5 rows
ORDINARY_SPEC = 5  # spec id of every hashed (non-special) token

TINY = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    max_position_embeddings=514,
    type_vocab_size=1,
    layer_norm_eps=1e-5,
    hidden_dropout_prob=0.1,
    attention_probs_dropout_prob=0.1,
    initializer_range=0.02,
    num_labels=2,
)

# name -> (embedding_type, hash_type, torch seed)
FIXTURES = {
    "emb-md5": ("emb", "md5", 1001),
    "emb-lsh": ("emb", "lsh", 1002),
    "pool-md5": ("pool", "md5", 1003),
    "pool-lsh": ("pool", "lsh", 1004),
    "add-md5": ("add", "md5", 1005),
    "add-lsh": ("add", "lsh", 1006),
    "proj-md5": ("proj", "md5", 1007),
    "proj-lsh": ("proj", "lsh", 1008),
    "vocab": ("vocab", None, 1009),
}

# Fixture weights ("parity" scheme, the default). At the section 5.6 init
# (std 0.02, zero biases, unit LayerNorm) a tiny model is nearly linear and
# several wrong implementations agree with the right one to < 1e-4 (no tanh
# in the classifier, tanh-approximate GELU, another LayerNorm eps, swapped or
# ignored LayerNorm affine / biases, mean instead of softmax pooling). So after
# the seeded spec init, every parameter is redrawn at scales that make each
# of those visible, like a trained checkpoint would:
PARITY_STD_TABLE = 0.1  # embedding tables, proj/add projection weights
PARITY_STD_ADAPTIVE = 1.0  # Pool adaptive_weights (softmax over 13 far from uniform)
PARITY_BIAS_STD = 0.1  # Linear biases, LayerNorm biases
PARITY_LN_WEIGHT = (0.8, 1.2)  # LayerNorm weights ~ U(0.8, 1.2)
# Linear weights: truncated normal, std 1 / sqrt(fan_in), cut at +-2 std.

BAD_SOURCE = "proj-md5"
BAD_MISSING_KEY = "roberta.encoder.layer.1.attention.self.key.weight"
BAD_WRONG_SHAPE_KEY = "roberta.embeddings.LayerNorm.weight"


@torch.no_grad()
def parity_weights(model: HashFormerWithHeads) -> None:
    """Redraw every parameter at the PARITY_* scales (global torch RNG)."""

    def trunc(t: torch.Tensor, std: float) -> None:
        torch.nn.init.trunc_normal_(t, mean=0.0, std=std, a=-2 * std, b=2 * std)

    for name, p in model.named_parameters():
        if name.endswith("adaptive_weights"):
            trunc(p, PARITY_STD_ADAPTIVE)
        elif "LayerNorm" in name and name.endswith(".weight"):
            p.uniform_(*PARITY_LN_WEIGHT)
        elif name.endswith(".bias"):
            p.normal_(0.0, PARITY_BIAS_STD)
        elif name.startswith("roberta.embeddings."):
            trunc(p, PARITY_STD_TABLE)  # tables and proj_mat / proj_mat_1 / proj_mat_2
        else:
            trunc(p, 1.0 / p.shape[1] ** 0.5)  # Linear [out, in]


def make_config(kind: str, hash_type: str | None) -> HashFormerConfig:
    if kind in REFERENCE_VOCAB_SIZE:
        vocab_size, buckets = REFERENCE_VOCAB_SIZE[kind], None
    else:
        vocab_size, buckets = NUM_BUCKETS + ref.ID_OFFSET, NUM_BUCKETS
    return HashFormerConfig(
        embedding_type=kind, hash_type=hash_type, num_buckets=buckets,
        vocab_size=vocab_size, **TINY,
    )


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------


class Hashing:
    """Per-word hash values from tools/golden/hashformer_ref.py."""

    def __init__(self) -> None:
        self.bpe = ref.ByteLevelBPE.from_dir(ref.data_dir() / "roberta-base")
        self.lsh = ref.LshHasher(self.bpe)
        self._self_check()

    def _self_check(self) -> None:
        # The generalised rotator must reproduce the reference at full width.
        assert rotator_bucket([(100, 1.0), (2000, 0.5)], ref.NUM_BUCKETS) == 32446
        for text in TEXTS:
            for word in ref.pretokenize(text):
                full = rotator_bucket(self.lsh.features(word), ref.NUM_BUCKETS)
                assert full == self.lsh.lsh_bucket(word), word

    def value128(self, word: str, hash_type: str) -> int:
        if hash_type == "md5":
            return int.from_bytes(ref.md5_digest(word), "big")
        return self.lsh.simhash(word)

    def bucket(self, word: str, hash_type: str) -> int:
        if hash_type == "md5":
            return self.value128(word, "md5") % NUM_BUCKETS + ref.ID_OFFSET
        return rotator_bucket(self.lsh.features(word), NUM_BUCKETS)

    def bpe_ids(self, text: str) -> list[int]:
        return [self.bpe.token_id(p) % NUM_BUCKETS + ref.ID_OFFSET for p in self.bpe.tokenize(text)]


def encode_text(text: str, kind: str, hash_type: str | None, h: Hashing,
                max_length: int = MAX_LENGTH) -> dict[str, list]:
    """One text's model inputs (python lists), padded to ``max_length``."""
    if kind == "vocab":
        units = h.bpe_ids(text)
    else:
        units = ref.pretokenize(text)
    if len(units) > max_length - 2:
        raise ValueError(f"{text!r} would be truncated at max_length {max_length}")
    if kind in ("emb", "vocab"):
        ids = units if kind == "vocab" else [h.bucket(w, hash_type) for w in units]
        input_ids, mask = ref.encode_single(ids, max_length)
        return {"input_ids": input_ids, "attention_mask": mask}
    spec, mask = ref.encode_single([ORDINARY_SPEC] * len(units), max_length)
    values = [h.value128(w, hash_type) for w in units]
    n_pad = max_length - len(values) - 1
    out = {"spec_ids": spec, "attention_mask": mask}
    if kind == "pool":
        zero = [0] * ref.POOL_CHUNKS
        out["pool_ids"] = [zero] + [ref.pool_indices(v) for v in values] + [zero] * n_pad
    else:
        zero = [0.0] * ref.LSH_BITS
        rows = [[float(c) for c in ref.bits_msb_first(v)] for v in values]
        out["hash_bits"] = [zero] + rows + [zero] * n_pad
    return out


def batch_inputs(texts: list[str], kind: str, hash_type: str | None, h: Hashing,
                 max_length: int = MAX_LENGTH) -> dict[str, torch.Tensor]:
    per_text = [encode_text(t, kind, hash_type, h, max_length) for t in texts]
    out = {}
    for key in per_text[0]:
        dtype = torch.float32 if key == "hash_bits" else torch.int64
        out[key] = torch.tensor([p[key] for p in per_text], dtype=dtype)
    return out


def model_kwargs(inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in inputs.items() if k != "attention_mask"}


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------


_DTYPES = {torch.float32: "F32", torch.int64: "I64"}


def save_file(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    """Write a safetensors file deterministically (sorted names and metadata).

    safetensors' own writer emits ``__metadata__`` in hash-map order, so its
    files are not byte-reproducible. Layout: u64 LE header size, JSON header
    padded with spaces to a multiple of 8, then the tensors' little-endian
    bytes in name order.
    """
    header: dict[str, object] = {"__metadata__": dict(sorted(metadata.items()))}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        assert sys.byteorder == "little"
        data = t.numpy().tobytes()
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for data in blobs:
            f.write(data)


def write_config(config: HashFormerConfig, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config.to_json_dict(), f, indent=2, sort_keys=True)
        f.write("\n")


def state_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to(torch.float32).contiguous().clone() for k, v in model.state_dict().items()}


def versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": importlib.metadata.version("numpy"),
        "safetensors": importlib.metadata.version("safetensors"),
        "regex": importlib.metadata.version("regex"),
    }


def make_fixture(name: str, out: Path, h: Hashing, weights: str) -> None:
    kind, hash_type, seed = FIXTURES[name]
    config = make_config(kind, hash_type)
    torch.manual_seed(seed)
    model = HashFormerWithHeads(config).eval()
    if weights == "parity":
        parity_weights(model)
    inputs = batch_inputs(TEXTS, kind, hash_type, h)
    with torch.no_grad():
        outputs = model(inputs["attention_mask"], **model_kwargs(inputs))

    d = out / name
    d.mkdir(parents=True, exist_ok=True)
    write_config(config, d / "config.json")
    save_file(state_tensors(model), d / "model.safetensors", metadata={"format": "pt"})
    io = {k: v.contiguous() for k, v in inputs.items()}
    io.update({k: v.contiguous() for k, v in outputs.items()})
    meta = {
        "format": "pt",
        "texts": json.dumps(TEXTS),
        "max_length": str(MAX_LENGTH),
        "fixture": name,
        "seed": str(seed),
        "weights": weights,
        "generator": "tools/parity/make_fixtures.py",
        "versions": json.dumps(versions(), sort_keys=True),
    }
    save_file(io, d / "io.safetensors", metadata=meta)


def make_bad(out: Path) -> None:
    src = out / BAD_SOURCE
    bad = out / "bad"
    if bad.exists():
        shutil.rmtree(bad)
    bad.mkdir(parents=True)
    blob = (src / "model.safetensors").read_bytes()
    (bad / "truncated.safetensors").write_bytes(blob[: len(blob) // 2])

    tensors = load_file(src / "model.safetensors")
    wrong = dict(tensors)
    wrong[BAD_WRONG_SHAPE_KEY] = torch.ones(31, dtype=torch.float32)
    (bad / "wrong_shape").mkdir()
    shutil.copy(src / "config.json", bad / "wrong_shape" / "config.json")
    save_file(wrong, bad / "wrong_shape" / "model.safetensors", metadata={"format": "pt"})

    missing = {k: v for k, v in tensors.items() if k != BAD_MISSING_KEY}
    assert len(missing) == len(tensors) - 1
    (bad / "missing_key").mkdir()
    shutil.copy(src / "config.json", bad / "missing_key" / "config.json")
    save_file(missing, bad / "missing_key" / "model.safetensors", metadata={"format": "pt"})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("crates/model/tests/fixtures/parity"))
    ap.add_argument("--weights", choices=("parity", "spec-init"), default="parity",
                    help="parity: redrawn at PARITY_* scales (default); spec-init: section 5.6 init")
    ap.add_argument("--only", nargs="*", choices=sorted(FIXTURES), help="subset of fixtures")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    h = Hashing()
    names = args.only or list(FIXTURES)
    for name in names:
        make_fixture(name, args.out, h, args.weights)
        print(f"wrote {args.out / name}")
    if BAD_SOURCE in names:
        make_bad(args.out)
        print(f"wrote {args.out / 'bad'}")


if __name__ == "__main__":
    main()
