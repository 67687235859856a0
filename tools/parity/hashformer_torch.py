"""A small, independent PyTorch implementation of the HashFormer models.

Written from the project specification (docs/method.md,
sections 4-8) to produce parity fixtures for the Rust/Burn implementation.
It is not the authors' code and does not depend on ``transformers``.

Module and parameter names are chosen so that ``state_dict()`` uses exactly the
names of the reference checkpoints (HF RoBERTa naming, PyTorch layouts, i.e.
a Linear weight is ``[out_features, in_features]``):

    roberta.embeddings.{word_embeddings | special_token_embeddings, ...}.weight
    roberta.encoder.layer.{i}.attention.self.{query,key,value}.{weight,bias}
    roberta.encoder.layer.{i}.attention.output.{dense,LayerNorm}.{weight,bias}
    roberta.encoder.layer.{i}.intermediate.dense.{weight,bias}
    roberta.encoder.layer.{i}.output.{dense,LayerNorm}.{weight,bias}
    dense.{weight,bias}                          pre-training (shuffle/random) head
    classifier.{dense,out_proj}.{weight,bias}    sequence classification head

Embedding variants (``embedding_type``):

* ``emb`` / ``vocab``: a plain ``word_embeddings`` table looked up by
  ``input_ids`` (hash bucket ids, or BPE ids for the vocabulary baseline).
* ``pool`` (reference ``conj``): shared 6-row special table looked up by
  ``spec_ids`` + softmax-weighted sum of 13 rows of a 1025-row component table
  looked up by ``pool_ids`` (dropout 0.1 on each looked-up row).
* ``add`` (reference ``de``): special table + (W1 b + W2 (1 - b)) / sqrt(128),
  DropConnect (p = 0.1) on W1 and W2 while training.
* ``proj`` (reference ``pcc``): special table + Pearson-correlation projection
  of the centred, normalised bits on the centred, normalised rows of W.

Every variant then adds position and token-type embeddings, applies LayerNorm
and dropout, and runs a post-LN RoBERTa encoder (HF transformers 3.x
semantics: additive mask ``(1 - mask) * -10000``, erf-GELU).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

EMBEDDING_TYPES = ("emb", "vocab", "pool", "add", "proj")
# The reference selects the embedding module from config.vocab_size.
REFERENCE_VOCAB_SIZE = {"pool": 0, "add": 1, "proj": 2}

NUM_HASH_BITS = 128
NUM_SPECIAL_ROWS = 6  # <s>, <pad>, </s>, <unk>, <mask>, "ordinary token"
SPECIAL_PADDING_IDX = 1
POOL_CHUNKS = 13
POOL_ROWS = 1025  # index 0 for specials, 1..1024 for 10-bit chunk values + 1
POOL_DROPOUT = 0.1
DROPCONNECT_P = 0.1
PEARSON_EPS = 1e-8
MASK_NEG = -10000.0


@dataclass
class HashFormerConfig:
    """HF RoBERTa-style configuration plus the HashFormer fields."""

    embedding_type: str = "proj"
    hash_type: str | None = "md5"
    num_buckets: int | None = None
    hash_key: str = "en"
    num_hash_bits: int = NUM_HASH_BITS
    vocab_size: int = 2
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 514
    type_vocab_size: int = 1
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-5
    pad_token_id: int = 1
    bos_token_id: int = 0
    eos_token_id: int = 2
    num_labels: int = 2
    model_type: str = "roberta"
    architectures: list[str] = field(
        default_factory=lambda: [
            "RobertaForShuffleRandomThreeWayClassification",
            "RobertaForSequenceClassification",
        ]
    )

    def __post_init__(self) -> None:
        if self.embedding_type not in EMBEDDING_TYPES:
            raise ValueError(f"unknown embedding_type {self.embedding_type!r}")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError("hidden_size must be a multiple of num_attention_heads")
        if self.hidden_act != "gelu":
            raise ValueError("only erf-GELU ('gelu') is implemented")
        if self.embedding_type in REFERENCE_VOCAB_SIZE:
            if self.vocab_size != REFERENCE_VOCAB_SIZE[self.embedding_type]:
                raise ValueError(
                    f"{self.embedding_type}: vocab_size must be "
                    f"{REFERENCE_VOCAB_SIZE[self.embedding_type]} (reference convention)"
                )
        elif self.vocab_size <= 2:
            raise ValueError("emb/vocab need a word-embedding table with > 2 rows")

    def to_json_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json_dict(cls, d: dict) -> "HashFormerConfig":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})

    @classmethod
    def load(cls, path: Path) -> "HashFormerConfig":
        with open(path, encoding="utf-8") as f:
            return cls.from_json_dict(json.load(f))


# --------------------------------------------------------------------------
# Embedding building blocks
# --------------------------------------------------------------------------


class PearsonProjection(nn.Module):
    """``proj_mat``: Pearson correlation of the bit vector with each row of W.

    ``out[..., h] = <b - mean(b), W_h - mean(W_h)> / (|b - mean b| |W_h - mean W_h|)``
    with both norms clamped below at 1e-8 (so an all-zero bit vector gives 0).
    No bias, no dropout.
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))

    def forward(self, bits: torch.Tensor) -> torch.Tensor:
        centred = bits - bits.mean(dim=-1, keepdim=True)
        unit = centred / centred.norm(dim=-1, keepdim=True).clamp(min=PEARSON_EPS)
        w = self.weight - self.weight.mean(dim=1, keepdim=True)
        w_unit = w / w.norm(dim=1, keepdim=True).clamp(min=PEARSON_EPS)
        return unit @ w_unit.t()


class DropConnectLinear(nn.Module):
    """``proj_mat_1`` / ``proj_mat_2``: bias-free linear map whose weight
    matrix gets (inverted) dropout with probability ``p`` while training."""

    def __init__(self, in_features: int, out_features: int, p: float = DROPCONNECT_P):
        super().__init__()
        self.p = p
        self.weight = nn.Parameter(torch.empty(out_features, in_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = F.dropout(self.weight, p=self.p, training=self.training)
        return x @ weight.t()


def position_ids_from_mask(attention_mask: torch.Tensor, padding_idx: int = 1) -> torch.Tensor:
    """RoBERTa position ids: real tokens get padding_idx+1, +2, ...; pads get padding_idx."""
    m = attention_mask.to(torch.long)
    return torch.cumsum(m, dim=1) * m + padding_idx


class HashFormerEmbeddings(nn.Module):
    """All five embedding variants; only the variant's own tables exist."""

    def __init__(self, config: HashFormerConfig):
        super().__init__()
        self.config = config
        h = config.hidden_size
        kind = config.embedding_type
        # padding_idx only freezes a row's gradient (as in the reference); the
        # rows are not zero because reset_parameters() redraws every row.
        if kind in ("emb", "vocab"):
            self.word_embeddings = nn.Embedding(config.vocab_size, h, padding_idx=config.pad_token_id)
        else:
            self.special_token_embeddings = nn.Embedding(NUM_SPECIAL_ROWS, h, padding_idx=SPECIAL_PADDING_IDX)
        if kind == "pool":
            self.component_embeddings = nn.Embedding(POOL_ROWS, h, padding_idx=0)
            self.adaptive_weights = nn.Parameter(torch.empty(POOL_CHUNKS, h))
            self.component_dropout = nn.Dropout(POOL_DROPOUT)
        elif kind == "add":
            self.proj_mat_1 = DropConnectLinear(config.num_hash_bits, h)
            self.proj_mat_2 = DropConnectLinear(config.num_hash_bits, h)
        elif kind == "proj":
            self.proj_mat = PearsonProjection(config.num_hash_bits, h)
        self.position_embeddings = nn.Embedding(
            config.max_position_embeddings, h, padding_idx=config.pad_token_id
        )
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, h)
        self.LayerNorm = nn.LayerNorm(h, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def token_part(
        self,
        input_ids: torch.Tensor | None,
        spec_ids: torch.Tensor | None,
        pool_ids: torch.Tensor | None,
        hash_bits: torch.Tensor | None,
    ) -> torch.Tensor:
        """The variant-specific [B, L, H] part (word table, or special + hash part)."""
        kind = self.config.embedding_type
        if kind in ("emb", "vocab"):
            _require(input_ids, "input_ids", kind)
            return self.word_embeddings(input_ids)
        _require(spec_ids, "spec_ids", kind)
        special = self.special_token_embeddings(spec_ids)
        if kind == "pool":
            _require(pool_ids, "pool_ids", kind)
            rows = self.component_dropout(self.component_embeddings(pool_ids))  # [B,L,13,H]
            alpha = torch.softmax(self.adaptive_weights, dim=0)  # [13,H]
            return special + (rows * alpha).sum(dim=2)
        _require(hash_bits, "hash_bits", kind)
        bits = hash_bits.to(self.position_embeddings.weight.dtype)
        if kind == "add":
            added = self.proj_mat_1(bits) + self.proj_mat_2(1.0 - bits)
            return special + added / math.sqrt(self.config.num_hash_bits)
        return special + self.proj_mat(bits)

    def forward(
        self,
        attention_mask: torch.Tensor,
        input_ids: torch.Tensor | None = None,
        spec_ids: torch.Tensor | None = None,
        pool_ids: torch.Tensor | None = None,
        hash_bits: torch.Tensor | None = None,
    ) -> torch.Tensor:
        tokens = self.token_part(input_ids, spec_ids, pool_ids, hash_bits)
        positions = position_ids_from_mask(attention_mask, self.config.pad_token_id)
        token_types = torch.zeros_like(positions)
        x = tokens + self.position_embeddings(positions) + self.token_type_embeddings(token_types)
        return self.dropout(self.LayerNorm(x))


def _require(t: torch.Tensor | None, name: str, kind: str) -> None:
    if t is None:
        raise ValueError(f"embedding_type {kind!r} needs {name}")


# --------------------------------------------------------------------------
# Encoder (post-LN, HF transformers 3.x RoBERTa)
# --------------------------------------------------------------------------


class SelfAttention(nn.Module):
    def __init__(self, config: HashFormerConfig):
        super().__init__()
        h = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.head_dim = h // self.num_heads
        self.query = nn.Linear(h, h)
        self.key = nn.Linear(h, h)
        self.value = nn.Linear(h, h)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, l, _ = x.shape
        return x.view(b, l, self.num_heads, self.head_dim).transpose(1, 2)  # [B,nh,L,hd]

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        q, k, v = self._heads(self.query(x)), self._heads(self.key(x)), self._heads(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + additive_mask
        probs = self.dropout(torch.softmax(scores, dim=-1))
        ctx = probs @ v  # [B,nh,L,hd]
        b, _, l, _ = ctx.shape
        return ctx.transpose(1, 2).reshape(b, l, self.num_heads * self.head_dim)


class DenseResidualNorm(nn.Module):
    """dense -> dropout -> + residual -> LayerNorm (attention.output and output)."""

    def __init__(self, in_features: int, config: HashFormerConfig):
        super().__init__()
        self.dense = nn.Linear(in_features, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class Attention(nn.Module):
    def __init__(self, config: HashFormerConfig):
        super().__init__()
        self.self = SelfAttention(config)
        self.output = DenseResidualNorm(config.hidden_size, config)

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(x, additive_mask), x)


class Intermediate(nn.Module):
    def __init__(self, config: HashFormerConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))  # exact erf form


class Layer(nn.Module):
    def __init__(self, config: HashFormerConfig):
        super().__init__()
        self.attention = Attention(config)
        self.intermediate = Intermediate(config)
        self.output = DenseResidualNorm(config.intermediate_size, config)

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        a = self.attention(x, additive_mask)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, config: HashFormerConfig):
        super().__init__()
        self.layer = nn.ModuleList(Layer(config) for _ in range(config.num_hidden_layers))

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        # [B, L] -> [B, 1, 1, L], 0 for real keys and -10000 for padding keys.
        additive = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * MASK_NEG
        for layer in self.layer:
            x = layer(x, additive)
        return x


class HashFormerModel(nn.Module):
    """``roberta``: embeddings + encoder (no pooler)."""

    def __init__(self, config: HashFormerConfig):
        super().__init__()
        self.embeddings = HashFormerEmbeddings(config)
        self.encoder = Encoder(config)

    def forward(self, attention_mask: torch.Tensor, **inputs) -> torch.Tensor:
        return self.encoder(self.embeddings(attention_mask, **inputs), attention_mask)


# --------------------------------------------------------------------------
# Heads
# --------------------------------------------------------------------------


class ClassificationHead(nn.Module):
    """``classifier``: <s> state -> dropout -> dense -> tanh -> dropout -> out_proj."""

    def __init__(self, config: HashFormerConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.out_proj = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        x = self.dropout(hidden[:, 0, :])
        x = torch.tanh(self.dense(x))
        return self.out_proj(self.dropout(x))


class HashFormerWithHeads(nn.Module):
    """Encoder with both heads, so that one checkpoint covers both parities.

    * pre-training (shuffle / random / original): ``dropout`` then ``dense``
      Linear(H, 3) on every position;
    * sequence classification: ``classifier`` on position 0.
    """

    def __init__(self, config: HashFormerConfig):
        super().__init__()
        self.config = config
        self.roberta = HashFormerModel(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.dense = nn.Linear(config.hidden_size, 3)
        self.classifier = ClassificationHead(config)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Spec 5.6: truncated normal (std = initializer_range, cut at +-2 std)
        for every Linear / Embedding / projection weight and adaptive_weights;
        zero biases; LayerNorm weight 1, bias 0; padding rows NOT zeroed."""
        std = self.config.initializer_range

        def trunc(t: torch.Tensor) -> None:
            nn.init.trunc_normal_(t, mean=0.0, std=std, a=-2 * std, b=2 * std)

        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding, PearsonProjection, DropConnectLinear)):
                trunc(module.weight)
                if getattr(module, "bias", None) is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.LayerNorm):
                module.weight.fill_(1.0)
                module.bias.zero_()
            elif isinstance(module, HashFormerEmbeddings) and hasattr(module, "adaptive_weights"):
                trunc(module.adaptive_weights)

    def forward(self, attention_mask: torch.Tensor, **inputs) -> dict[str, torch.Tensor]:
        hidden = self.roberta(attention_mask, **inputs)
        return {
            "last_hidden_state": hidden,
            "pretrain_logits": self.dense(self.dropout(hidden)),
            "cls_logits": self.classifier(hidden),
        }


# --------------------------------------------------------------------------
# Hashing helpers that hashformer_ref.py does not parameterise
# --------------------------------------------------------------------------


def rotator_bucket(features: list[tuple[int, float]], width: int, seed: int = 42) -> int:
    """Emb_LSH bucket generalised to ``width`` buckets (the reference uses 50260).

    R = RandomState(seed).normal(0, 1, width); score(i) = sum_p R[(id_p + i) mod
    width] * w_p, accumulated in feature order in f64; scores for
    i >= width // 2 are negated; the lowest index of the maximum wins; +5.
    """
    import numpy as np

    rot = np.random.RandomState(seed).normal(0, 1, width)
    rot2 = np.concatenate([rot, rot])
    scores = np.zeros(width, dtype=np.float64)
    for token_id, weight in features:
        start = token_id % width
        scores = scores + rot2[start:start + width] * weight
    half = width // 2
    scores[half:] = -scores[half:]
    return int(np.argmax(scores)) + 5
