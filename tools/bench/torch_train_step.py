"""The PyTorch side of the training-step comparison (docs/benchmarks.md): the same HashFormer
(tools/parity/hashformer_torch.py, which the Rust model matches within 1e-4), the same batch
shape and the same step as `hashformer bench-step`: forward, Shuffle+Random cross-entropy at
every ordinary position, backward, global-norm clipping and AdamW with HF's no-decay group.

Run with the parity venv and the same thread count as the Rust side, e.g.
  RAYON_NUM_THREADS=2 hashformer bench-step --config small --variant proj
  tools/parity/.venv/bin/python tools/bench/torch_train_step.py --config small --variant proj --threads 2
On a GPU: `--device cuda` (the step is timed with the device synchronised at its end, as
`bench-step` does), `--tf32 off|on` for the f32 matmul precision (PyTorch's default is off),
`--dtype bf16` for autocast mixed precision, `--fused` for PyTorch's fused AdamW.
Prints one JSON object, like the Rust command.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "parity"))
from hashformer_torch import HashFormerConfig, HashFormerWithHeads  # noqa: E402

SIZES = {"tiny": (32, 2, 2, 64), "small": (256, 4, 4, 1024), "base": (768, 12, 12, 3072)}
VOCAB_CODES = {"pool": 0, "add": 1, "proj": 2}  # reference vocab_size codes (spec, hf.rs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="small", choices=SIZES)
    ap.add_argument("--variant", default="proj", choices=["proj", "add", "pool", "emb", "bpe"])
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--tf32", default="off", choices=["off", "on"])
    ap.add_argument("--dtype", default="f32", choices=["f32", "bf16"])
    ap.add_argument("--fused", action="store_true", help="fused AdamW (CUDA)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32 == "on"
    torch.backends.cudnn.allow_tf32 = args.tf32 == "on"
    torch.manual_seed(0)
    device = torch.device(args.device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()
    hidden, layers, heads, ff = SIZES[args.config]
    kind = {"bpe": "vocab"}.get(args.variant, args.variant)
    rows = {"emb": 50265, "vocab": 50265}.get(kind)
    cfg = HashFormerConfig(
        embedding_type=kind,
        hash_type=None if kind == "vocab" else "md5",
        vocab_size=rows if rows else VOCAB_CODES[kind],
        hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=ff)
    model = HashFormerWithHeads(cfg).to(device)
    model.train()
    b, n = args.batch_size, args.seq_len
    mask = torch.ones(b, n, dtype=torch.long)
    if kind in ("emb", "vocab"):
        ids = torch.randint(5, rows, (b, n))
        ids[:, 0], ids[:, -1] = 0, 2
        inputs = {"input_ids": ids}
    else:
        spec = torch.full((b, n), 5, dtype=torch.long)
        spec[:, 0], spec[:, -1] = 0, 2
        bits = torch.randint(0, 2, (b, n, 128)).float()
        inputs = {"spec_ids": spec, "hash_bits": bits}
        if kind == "pool":
            inputs = {"spec_ids": spec, "pool_ids": torch.randint(1, 257, (b, n, 13))}
    labels = torch.randint(0, 3, (b, n))
    labels[:, 0], labels[:, -1] = -100, -100
    mask, labels = mask.to(device), labels.to(device)
    inputs = {k: v.to(device) for k, v in inputs.items()}
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if name.endswith("bias") or "LayerNorm" in name else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": no_decay, "weight_decay": 0.0}], lr=1e-4, eps=1e-8,
                            **({"fused": True} if args.fused else {}))
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.dtype == "bf16")
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100)
    times, phases = [], {"forward": [], "backward": [], "optimizer": []}
    for step in range(args.warmup + args.steps):
        sync()
        start = time.perf_counter()
        with autocast:
            logits = model(mask, **inputs)["pretrain_logits"]
            loss = loss_fn(logits.reshape(-1, 3).float(), labels.reshape(-1))
        sync()
        t_fwd = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        sync()
        t_bwd = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sync()
        end = time.perf_counter()
        if step >= args.warmup:
            times.append(end - start)
            phases["forward"].append(t_fwd - start)
            phases["backward"].append(t_bwd - t_fwd)
            phases["optimizer"].append(end - t_bwd)
    median = statistics.median(times)
    print(json.dumps({
        "implementation": f"PyTorch {torch.__version__} eager",
        "backend": args.device, "tf32": args.tf32, "dtype": args.dtype, "fused_adamw": args.fused,
        "device_name": torch.cuda.get_device_name() if device.type == "cuda" else "cpu", "variant": args.variant, "config": args.config,
        "batch_size": b, "seq_len": n, "threads": args.threads,
        "median_step_s": median, "tokens_per_s": b * n / median, "step_s": times,
        "median_phase_s": {k: statistics.median(v) for k, v in phases.items()},
    }))


if __name__ == "__main__":
    main()
