"""Reference values for the Rust AdamW (crates/train/src/optim.rs): torch.optim.AdamW with HF's
no-decay group (biases, LayerNorm) and torch.nn.utils.clip_grad_norm_, on a tiny model of one
Linear(3 -> 2) and one LayerNorm(2), for four steps with fixed gradients.

Run: tools/parity/.venv/bin/python tools/parity/make_adamw_fixture.py \
       > crates/train/tests/fixtures/adamw.json
"""
import json

import torch

torch.manual_seed(0)
weight = torch.nn.Parameter(torch.randn(2, 3))  # PyTorch layout [out, in]
bias = torch.nn.Parameter(torch.randn(2))
gamma = torch.nn.Parameter(torch.ones(2) + 0.1 * torch.randn(2))
beta = torch.nn.Parameter(0.1 * torch.randn(2))
initial = {n: p.detach().clone() for n, p in
           [("weight", weight), ("bias", bias), ("gamma", gamma), ("beta", beta)]}
opt = torch.optim.AdamW(
    [{"params": [weight], "weight_decay": 0.1},
     {"params": [bias, gamma, beta], "weight_decay": 0.0}],
    lr=0.05, betas=(0.9, 0.999), eps=1e-8)
lrs = [0.05, 0.04, 0.03, 0.02]
steps = []
for step, lr in enumerate(lrs):
    for g in opt.param_groups:
        g["lr"] = lr
    # Large gradients on odd steps so that clipping (max norm 1.0) is exercised.
    scale = 3.0 if step % 2 else 0.2
    grads = {n: scale * torch.randn_like(p) for n, p in
             [("weight", weight), ("bias", bias), ("gamma", gamma), ("beta", beta)]}
    for n, p in [("weight", weight), ("bias", bias), ("gamma", gamma), ("beta", beta)]:
        p.grad = grads[n].clone()
    norm = torch.nn.utils.clip_grad_norm_([weight, bias, gamma, beta], 1.0)
    opt.step()
    steps.append({
        "lr": lr,
        "grads": {n: g.flatten().tolist() for n, g in grads.items()},
        "grad_norm": float(norm),
        "after": {n: p.detach().flatten().tolist() for n, p in
                  [("weight", weight), ("bias", bias), ("gamma", gamma), ("beta", beta)]},
    })
print(json.dumps({
    "torch": torch.__version__,
    "weight_decay": 0.1,
    "max_grad_norm": 1.0,
    "initial": {n: t.flatten().tolist() for n, t in initial.items()},
    "steps": steps,
}, indent=1))
