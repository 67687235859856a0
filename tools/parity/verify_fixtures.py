#!/usr/bin/env python3
"""Check the parity fixtures written by make_fixtures.py.

    tools/parity/.venv/bin/python tools/parity/verify_fixtures.py \
        crates/model/tests/fixtures/parity

For every fixture directory:

1. the tensor names in model.safetensors are exactly the expected ones for
   the variant, and the model loads them with ``strict=True``;
2. two eval-mode forward passes give bit-identical outputs, equal to the ones
   stored in io.safetensors;
3. padding invariance: each text alone, unpadded at its own length, gives the
   same hidden states / logits at its real positions as in the padded batch;
4. an independent float64 numpy forward pass (written from the spec formulas,
   sharing no code with hashformer_torch.py) matches the stored outputs;
5. train mode really drops out (outputs change; Add's DropConnect and Pool's
   component dropout act on their own);
6. the bad/ files fail as intended.

Prints max |logit| per fixture. Exits non-zero on any failure.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from hashformer_torch import HashFormerConfig, HashFormerWithHeads  # noqa: E402

INPUT_KEYS = ("input_ids", "spec_ids", "pool_ids", "hash_bits")
OUTPUT_KEYS = ("last_hidden_state", "pretrain_logits", "cls_logits")
PAD_TOL = 1e-5
NUMPY_TOL = 1e-5


def expected_names(kind: str, n_layers: int) -> set[str]:
    e = "roberta.embeddings."
    names = {e + "position_embeddings.weight", e + "token_type_embeddings.weight",
             e + "LayerNorm.weight", e + "LayerNorm.bias"}
    if kind in ("emb", "vocab"):
        names.add(e + "word_embeddings.weight")
    else:
        names.add(e + "special_token_embeddings.weight")
    names |= {
        "pool": {e + "component_embeddings.weight", e + "adaptive_weights"},
        "add": {e + "proj_mat_1.weight", e + "proj_mat_2.weight"},
        "proj": {e + "proj_mat.weight"},
    }.get(kind, set())
    for i in range(n_layers):
        p = f"roberta.encoder.layer.{i}."
        for m in ("attention.self.query", "attention.self.key", "attention.self.value",
                  "attention.output.dense", "attention.output.LayerNorm",
                  "intermediate.dense", "output.dense", "output.LayerNorm"):
            names |= {p + m + ".weight", p + m + ".bias"}
    names |= {"dense.weight", "dense.bias", "classifier.dense.weight", "classifier.dense.bias",
              "classifier.out_proj.weight", "classifier.out_proj.bias"}
    return names


# --------------------------------------------------------------------------
# Independent numpy f64 forward (spec sections 5, 6, 7.1, 8)
# --------------------------------------------------------------------------

_erf = np.vectorize(math.erf)


def np_layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def np_linear(x, sd, name):
    return x @ sd[name + ".weight"].T + sd[name + ".bias"]


def np_forward(cfg: dict, sd: dict, io: dict) -> dict[str, np.ndarray]:
    sd = {k: v.astype(np.float64) for k, v in sd.items()}
    e = "roberta.embeddings."
    kind = cfg["embedding_type"]
    mask = io["attention_mask"].astype(np.int64)
    pos = np.cumsum(mask, axis=1) * mask + cfg["pad_token_id"]
    if kind in ("emb", "vocab"):
        tok = sd[e + "word_embeddings.weight"][io["input_ids"]]
    else:
        tok = sd[e + "special_token_embeddings.weight"][io["spec_ids"]]
        if kind == "pool":
            a = sd[e + "adaptive_weights"]
            alpha = np.exp(a - a.max(0)) / np.exp(a - a.max(0)).sum(0)
            rows = sd[e + "component_embeddings.weight"][io["pool_ids"]]  # B,L,13,H
            tok = tok + np.einsum("blkh,kh->blh", rows, alpha)
        else:
            b = io["hash_bits"].astype(np.float64)
            if kind == "add":
                w1, w2 = sd[e + "proj_mat_1.weight"], sd[e + "proj_mat_2.weight"]
                tok = tok + (b @ w1.T + (1 - b) @ w2.T) / math.sqrt(b.shape[-1])
            else:
                w = sd[e + "proj_mat.weight"]
                bc = b - b.mean(-1, keepdims=True)
                bn = bc / np.maximum(np.linalg.norm(bc, axis=-1, keepdims=True), 1e-8)
                wc = w - w.mean(1, keepdims=True)
                wn = wc / np.maximum(np.linalg.norm(wc, axis=1, keepdims=True), 1e-8)
                tok = tok + bn @ wn.T
    x = tok + sd[e + "position_embeddings.weight"][pos] + sd[e + "token_type_embeddings.weight"][0]
    eps = cfg["layer_norm_eps"]
    x = np_layer_norm(x, sd[e + "LayerNorm.weight"], sd[e + "LayerNorm.bias"], eps)

    nh = cfg["num_attention_heads"]
    bsz, seq, hid = x.shape
    hd = hid // nh
    add_mask = (1.0 - mask[:, None, None, :]) * -10000.0
    for i in range(cfg["num_hidden_layers"]):
        p = f"roberta.encoder.layer.{i}."

        def heads(t):
            return t.reshape(bsz, seq, nh, hd).transpose(0, 2, 1, 3)

        q = heads(np_linear(x, sd, p + "attention.self.query"))
        k = heads(np_linear(x, sd, p + "attention.self.key"))
        v = heads(np_linear(x, sd, p + "attention.self.value"))
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd) + add_mask
        s = np.exp(s - s.max(-1, keepdims=True))
        pr = s / s.sum(-1, keepdims=True)
        ctx = (pr @ v).transpose(0, 2, 1, 3).reshape(bsz, seq, hid)
        a = np_layer_norm(np_linear(ctx, sd, p + "attention.output.dense") + x,
                          sd[p + "attention.output.LayerNorm.weight"],
                          sd[p + "attention.output.LayerNorm.bias"], eps)
        h = np_linear(a, sd, p + "intermediate.dense")
        h = 0.5 * h * (1.0 + _erf(h / math.sqrt(2.0)))
        x = np_layer_norm(np_linear(h, sd, p + "output.dense") + a,
                          sd[p + "output.LayerNorm.weight"], sd[p + "output.LayerNorm.bias"], eps)
    cls = np.tanh(np_linear(x[:, 0], sd, "classifier.dense"))
    return {
        "last_hidden_state": x,
        "pretrain_logits": np_linear(x, sd, "dense"),
        "cls_logits": np_linear(cls, sd, "classifier.out_proj"),
    }


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------


def load_io(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    with safe_open(str(path), "pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, f.metadata()


def run(model, io, training=False):
    model.train(training)
    kwargs = {k: io[k] for k in INPUT_KEYS if k in io}
    with torch.no_grad():
        return model(io["attention_mask"], **kwargs)


def check_fixture(d: Path) -> list[str]:
    errors: list[str] = []
    raw_cfg = json.loads((d / "config.json").read_text())
    cfg = HashFormerConfig.from_json_dict(raw_cfg)
    sd = load_file(d / "model.safetensors")
    want = expected_names(cfg.embedding_type, cfg.num_hidden_layers)
    if set(sd) != want:
        errors.append(f"names: extra {sorted(set(sd) - want)}, missing {sorted(want - set(sd))}")
    if any(t.dtype != torch.float32 for t in sd.values()):
        errors.append("non-f32 weight")
    model = HashFormerWithHeads(cfg)
    model.load_state_dict(sd, strict=True)
    io, meta = load_io(d / "io.safetensors")
    texts = json.loads(meta["texts"])

    # 2. determinism and stored outputs
    o1, o2 = run(model, io), run(model, io)
    for k in OUTPUT_KEYS:
        if not torch.equal(o1[k], o2[k]):
            errors.append(f"{k}: two eval runs differ")
        if not torch.equal(o1[k], io[k]):
            diff = (o1[k] - io[k]).abs().max().item()
            errors.append(f"{k}: differs from stored output by {diff:.3g}")

    # 3. padding invariance
    mask = io["attention_mask"]
    pad_diff = 0.0
    for i in range(mask.shape[0]):
        n = int(mask[i].sum())
        alone = {k: v[i:i + 1, :n] for k, v in io.items() if k in INPUT_KEYS or k == "attention_mask"}
        oa = run(model, alone)
        for k in ("last_hidden_state", "pretrain_logits"):
            pad_diff = max(pad_diff, (oa[k][0] - o1[k][i, :n]).abs().max().item())
        pad_diff = max(pad_diff, (oa["cls_logits"][0] - o1["cls_logits"][i]).abs().max().item())
    if pad_diff > PAD_TOL:
        errors.append(f"padding invariance: max diff {pad_diff:.3g} > {PAD_TOL}")

    # 4. independent numpy f64 forward
    np_out = np_forward(raw_cfg, {k: v.numpy() for k, v in sd.items()},
                        {k: v.numpy() for k, v in io.items()})
    np_diff = max(float(np.abs(np_out[k] - io[k].numpy().astype(np.float64)).max()) for k in OUTPUT_KEYS)
    if np_diff > NUMPY_TOL:
        errors.append(f"numpy f64 forward differs by {np_diff:.3g} > {NUMPY_TOL}")

    # 5. train mode drops out
    torch.manual_seed(0)
    ot = run(model, io, training=True)
    if torch.equal(ot["last_hidden_state"], o1["last_hidden_state"]):
        errors.append("train mode gave the eval outputs")
    emb = model.roberta.embeddings
    if cfg.embedding_type in ("add", "pool"):
        emb.train()
        with torch.no_grad():
            if cfg.embedding_type == "add":
                bits = io["hash_bits"]
                changed = not torch.equal(emb.proj_mat_1(bits), emb.proj_mat_1.eval()(bits))
            else:
                part = lambda: emb.token_part(None, io["spec_ids"], io["pool_ids"], None)  # noqa: E731
                t = part()
                emb.eval()
                changed = not torch.equal(t, part())
        if not changed:
            errors.append("DropConnect / component dropout inactive in training")
    model.eval()

    hid = o1["last_hidden_state"]
    print(f"{d.name:9s} {cfg.embedding_type:5s} tensors={len(sd):2d} texts={len(texts)} "
          f"max|pretrain|={o1['pretrain_logits'].abs().max().item():.4f} "
          f"max|cls|={o1['cls_logits'].abs().max().item():.4f} "
          f"max|hidden|={hid.abs().max().item():.3f} pad_diff={pad_diff:.2e} np_diff={np_diff:.2e}"
          + ("" if not errors else "  FAIL"))
    return errors


def check_bad(bad: Path) -> list[str]:
    errors = []
    try:
        load_file(bad / "truncated.safetensors")
        errors.append("truncated.safetensors loaded")
    except Exception:  # noqa: BLE001 - any error is the expected outcome
        pass
    for sub, reason in (("wrong_shape", "size mismatch"), ("missing_key", "Missing key")):
        cfg = HashFormerConfig.load(bad / sub / "config.json")
        sd = load_file(bad / sub / "model.safetensors")
        try:
            HashFormerWithHeads(cfg).load_state_dict(sd, strict=True)
            errors.append(f"{sub} loaded")
        except RuntimeError as err:
            if reason not in str(err):
                errors.append(f"{sub}: unexpected error {err}")
    print(f"bad/      truncated, wrong_shape, missing_key: {'ok' if not errors else errors}")
    return errors


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "crates/model/tests/fixtures/parity")
    torch.set_num_threads(1)
    failures = {}
    for d in sorted(p for p in root.iterdir() if (p / "io.safetensors").exists()):
        errs = check_fixture(d)
        if errs:
            failures[d.name] = errs
    if (root / "bad").exists():
        errs = check_bad(root / "bad")
        if errs:
            failures["bad"] = errs
    for name, errs in failures.items():
        for e in errs:
            print(f"FAIL {name}: {e}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
