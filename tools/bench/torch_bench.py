"""The PyTorch side of the benchmark suite: the same HashFormer as the Rust crates
(tools/parity/hashformer_torch.py, which the Rust model matches within 1e-4), timed on the same
synthetic inputs as tools/bench/torch_train_step.py, for comparison with the Rust benchmarks.

Usage (parity venv):
  tools/parity/.venv/bin/python tools/bench/torch_bench.py --config small --threads 2
  tools/parity/.venv/bin/python tools/bench/torch_bench.py --config tiny --quick --variants proj

Benches (every one is a fresh model, seeded with torch.manual_seed(0), sequence length 128,
full attention mask; <s> at position 0 and </s> at the last position, ordinary tokens between):

* ``embedding_forward`` -- each variant of --variants (default proj,add,pool,emb,bpe): the
  ``embeddings`` module alone (token part + position + token type + LayerNorm + dropout) in
  eval mode under ``torch.no_grad()``, batch 32. seconds = one forward.
* ``embedding_backward`` -- the same module in train mode (dropout, DropConnect and component
  dropout on), parameters requiring grad, batch 32: forward, then ``out.sum().backward()``.
  Gradients are set to None between iterations, outside the clock. seconds = forward+backward.
* ``inference`` -- variants proj and bpe (those of them in --variants): the encoder's hidden
  states (embeddings + encoder, no head) in eval mode under ``torch.inference_mode()``, at
  batch 1 and at batch 32 (one record each). seconds = latency of one forward.
* ``train_step`` -- variants proj and bpe (those in --variants): exactly the step of
  torch_train_step.py at batch 16: forward of the model with heads, Shuffle+Random
  cross-entropy (3 classes) at every ordinary position, zero_grad, backward, global-norm
  clipping at 1.0 and AdamW (lr 1e-4, eps 1e-8, weight decay 0.01 except biases and
  LayerNorm). seconds = one whole step.

Inputs per variant (as torch_train_step.py): proj/add get spec ids (0, 5, ..., 5, 2) and random
0/1 hash bits [B, L, 128]; pool gets the spec ids and random pool ids in 1..256 [B, L, 13];
emb (50265-row bucket table) and bpe (the BPE baseline, embedding_type "vocab", 50265 rows) get
random ids in 5..50264 with 0 and 2 at the ends.

Precision: ``--precision f32`` (default) runs everything in float32. ``bf16`` and ``f16`` run
the inference and train_step benches under ``torch.autocast`` with that dtype (the master
weights and AdamW stay float32, the loss is taken in float32, and f16's step goes through a
``torch.amp.GradScaler``, unscaled before clipping), as ``hashformer bench --precision`` does
with ours; the embedding benches stay float32 in both implementations and say so.
``--tf32 on`` lets float32 matrix products on CUDA use TF32 tensor cores (PyTorch's default is
off), as Burn 0.22.1's CUDA matmul always does on Ampere and newer (docs/backends.md); the
implementation string then ends in ", TF32".

Timing: ``--warmup`` untimed iterations (default 3, with --quick 1), then ``--iters`` timed ones
(default 10, with --quick 3); with --config base, benches at batch 32 use 1 and 3. Each
iteration is timed with time.perf_counter() (on cuda after torch.cuda.synchronize()), and the
median is reported.

Output: one JSON object ``{"records": [...]}`` on stdout (progress goes to stderr), each record
a flat object with exactly these keys:

  implementation  "PyTorch <torch.__version__> eager" (", TF32" appended with --tf32 on)
  backend         "cpu" or "cuda"
  device          CPU model name from /proc/cpuinfo, or torch.cuda.get_device_name()
  config          "tiny" | "small" | "base"
  threads         torch.get_num_threads() (set from --threads, default 2)
  bench           "embedding_forward" | "embedding_backward" | "inference" | "train_step"
  variant         "proj" | "add" | "pool" | "emb" | "bpe"
  precision       "f32" | "bf16" | "f16" (the embedding benches: always "f32")
  batch_size      B
  seq_len         L
  seconds         median seconds per iteration
  tokens_per_s    B * L / seconds
  peak_rss_mib    CPU: peak resident set of the process during the bench (VmHWM, MiB), reset
                  by writing "5" to /proc/self/clear_refs just before the bench builds its
                  model, so it covers parameters, inputs, activations, gradients and optimizer
                  state plus the interpreter and torch themselves; null if the reset is not
                  possible. cuda: torch.cuda.max_memory_allocated() in MiB after
                  torch.cuda.reset_peak_memory_stats().
  iterations      number of timed iterations
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch

_HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(_HERE), str(_HERE.parent / "parity")]
# Share torch_train_step.py's model sizes and reference vocab-size codes.
from torch_train_step import SIZES, VOCAB_CODES  # noqa: E402
from hashformer_torch import HashFormerConfig, HashFormerWithHeads  # noqa: E402

VARIANTS = ("proj", "add", "pool", "emb", "bpe")
ENCODER_VARIANTS = ("proj", "bpe")  # inference and train_step
BENCHES = ("embedding_forward", "embedding_backward", "inference", "train_step")
ROWS = 50265  # word table of emb (5 specials + buckets) and of the BPE baseline
SEQ_LEN = 128
EMBEDDING_BATCH = 32
INFERENCE_BATCHES = (1, 32)
TRAIN_BATCH = 16
PRECISIONS = {"f32": None, "bf16": torch.bfloat16, "f16": torch.float16}


# --------------------------------------------------------------------------
# Models and inputs (the same as torch_train_step.py)
# --------------------------------------------------------------------------


def build_model(config: str, variant: str, device: torch.device) -> HashFormerWithHeads:
    """A freshly initialised HashFormer with both heads, seeded with 0."""
    torch.manual_seed(0)
    hidden, layers, heads, ff = SIZES[config]
    kind = {"bpe": "vocab"}.get(variant, variant)
    cfg = HashFormerConfig(
        embedding_type=kind,
        hash_type=None if kind == "vocab" else "md5",
        vocab_size=ROWS if kind in ("emb", "vocab") else VOCAB_CODES[kind],
        hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=ff)
    return HashFormerWithHeads(cfg).to(device)


def make_inputs(variant: str, b: int, n: int,
                device: torch.device) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Full attention mask and the variant's synthetic token inputs for a [b, n] batch."""
    mask = torch.ones(b, n, dtype=torch.long)
    if variant in ("emb", "bpe"):
        ids = torch.randint(5, ROWS, (b, n))
        ids[:, 0], ids[:, -1] = 0, 2
        inputs = {"input_ids": ids}
    else:
        spec = torch.full((b, n), 5, dtype=torch.long)
        spec[:, 0], spec[:, -1] = 0, 2
        if variant == "pool":
            inputs = {"spec_ids": spec, "pool_ids": torch.randint(1, 257, (b, n, 13))}
        else:
            inputs = {"spec_ids": spec, "hash_bits": torch.randint(0, 2, (b, n, 128)).float()}
    return mask.to(device), {k: v.to(device) for k, v in inputs.items()}


# --------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------


class PeakMemory:
    """Peak memory of one bench: VmHWM on CPU, the allocator's peak on cuda (MiB)."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"
        self.ok = False

    def reset(self) -> None:
        gc.collect()
        if self.cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
            self.ok = True
            return
        try:  # hand freed heap back to the OS so that the old peak does not linger
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.ok = True
        except OSError:
            self.ok = False

    def read(self) -> float | None:
        if not self.ok:
            return None
        if self.cuda:
            return torch.cuda.max_memory_allocated() / 2**20
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024  # kB -> MiB
        except OSError:
            pass
        return None


def time_iterations(step: Callable[[], None], warmup: int, iters: int,
                    device: torch.device, before: Callable[[], None] | None = None) -> list[float]:
    """Runs `step` warmup + iters times and returns the timed iterations' seconds.
    `before` (if any) runs before every iteration, outside the clock."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = []
    for i in range(warmup + iters):
        if before is not None:
            before()
        sync()
        start = time.perf_counter()
        step()
        sync()
        elapsed = time.perf_counter() - start
        if i >= warmup:
            times.append(elapsed)
    return times


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# --------------------------------------------------------------------------
# Benches
# --------------------------------------------------------------------------


class Suite:
    def __init__(self, args: argparse.Namespace, device: torch.device):
        self.args = args
        self.device = device
        self.memory = PeakMemory(device)
        self.common = {
            "implementation": f"PyTorch {torch.__version__} eager"
                              + (", TF32" if args.tf32 == "on" else ""),
            "backend": device.type,
            "device": device_name(device),
            "config": args.config,
            "threads": torch.get_num_threads(),
        }
        self.records: list[dict] = []

    def counts(self, batch: int) -> tuple[int, int]:
        """(warm-up, timed) iterations for a bench at this batch size."""
        if self.args.config == "base":
            return min(self.args.warmup, 1), min(self.args.iters, 3)
        return self.args.warmup, self.args.iters

    def autocast(self) -> torch.autocast:
        """Autocast to --precision's dtype (a no-op for f32)."""
        dtype = PRECISIONS[self.args.precision]
        return torch.autocast(self.device.type, dtype=dtype or torch.bfloat16,
                              enabled=dtype is not None)

    def run(self, bench: str, variant: str, batch: int,
            setup: Callable[[], tuple[Callable[[], None], Callable[[], None] | None]]) -> None:
        """Resets the peak, builds the bench with `setup` (which returns the step and the
        optional between-iterations hook), times it and appends its record."""
        warmup, iters = self.counts(batch)
        print(f"[torch_bench] {bench} {variant} batch {batch} ...", file=sys.stderr, flush=True)
        self.memory.reset()
        step, before = setup()
        times = time_iterations(step, warmup, iters, self.device, before)
        peak = self.memory.read()
        seconds = statistics.median(times)
        self.records.append({
            **self.common,
            "bench": bench, "variant": variant,
            "precision": "f32" if bench.startswith("embedding_") else self.args.precision,
            "batch_size": batch, "seq_len": SEQ_LEN,
            "seconds": seconds, "tokens_per_s": batch * SEQ_LEN / seconds,
            "peak_rss_mib": peak, "iterations": len(times),
        })
        print(f"[torch_bench]   {seconds * 1e3:.2f} ms, peak {peak} MiB",
              file=sys.stderr, flush=True)
        del step, before
        gc.collect()

    def embedding_forward(self, variant: str) -> None:
        def setup():
            emb = build_model(self.args.config, variant, self.device).roberta.embeddings.eval()
            mask, inputs = make_inputs(variant, EMBEDDING_BATCH, SEQ_LEN, self.device)

            def step() -> None:
                with torch.no_grad():
                    emb(mask, **inputs)
            return step, None
        self.run("embedding_forward", variant, EMBEDDING_BATCH, setup)

    def embedding_backward(self, variant: str) -> None:
        def setup():
            emb = build_model(self.args.config, variant, self.device).roberta.embeddings.train()
            mask, inputs = make_inputs(variant, EMBEDDING_BATCH, SEQ_LEN, self.device)

            def step() -> None:
                emb(mask, **inputs).sum().backward()
            return step, lambda: emb.zero_grad(set_to_none=True)
        self.run("embedding_backward", variant, EMBEDDING_BATCH, setup)

    def inference(self, variant: str, batch: int) -> None:
        def setup():
            encoder = build_model(self.args.config, variant, self.device).roberta.eval()
            mask, inputs = make_inputs(variant, batch, SEQ_LEN, self.device)

            def step() -> None:
                with torch.inference_mode(), self.autocast():
                    encoder(mask, **inputs)
            return step, None
        self.run("inference", variant, batch, setup)

    def train_step(self, variant: str) -> None:
        def setup():
            model = build_model(self.args.config, variant, self.device).train()
            mask, inputs = make_inputs(variant, TRAIN_BATCH, SEQ_LEN, self.device)
            labels = torch.randint(0, 3, (TRAIN_BATCH, SEQ_LEN))
            labels[:, 0], labels[:, -1] = -100, -100
            labels = labels.to(self.device)
            decay, no_decay = [], []
            for name, p in model.named_parameters():
                (no_decay if name.endswith("bias") or "LayerNorm" in name else decay).append(p)
            opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                                     {"params": no_decay, "weight_decay": 0.0}],
                                    lr=1e-4, eps=1e-8)
            loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100)
            scaler = torch.amp.GradScaler(self.device.type,
                                          enabled=self.args.precision == "f16")

            def step() -> None:
                with self.autocast():
                    logits = model(mask, **inputs)["pretrain_logits"]
                    loss = loss_fn(logits.reshape(-1, 3).float(), labels.reshape(-1))
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.unscale_(opt)
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                scaler.step(opt)
                scaler.update()
            return step, None
        self.run("train_step", variant, TRAIN_BATCH, setup)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="small", choices=SIZES)
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help="comma-separated subset of proj,add,pool,emb,bpe (default: all); "
                         "inference and train_step use proj and bpe among them")
    ap.add_argument("--benches", default=",".join(BENCHES),
                    help="comma-separated subset of " + ",".join(BENCHES) + " (default: all)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--precision", default="f32", choices=list(PRECISIONS),
                    help="autocast dtype of inference and train_step (default f32: none)")
    ap.add_argument("--tf32", default="off", choices=["off", "on"],
                    help="TF32 for float32 matmuls on CUDA (PyTorch's default: off)")
    ap.add_argument("--quick", action="store_true",
                    help="1 warm-up and 3 timed iterations instead of 3 and 10")
    ap.add_argument("--warmup", type=int, help="warm-up iterations (overrides --quick)")
    ap.add_argument("--iters", type=int, help="timed iterations (overrides --quick)")
    args = ap.parse_args()
    args.variants = _subset(ap, args.variants, VARIANTS, "--variants")
    args.benches = _subset(ap, args.benches, BENCHES, "--benches")
    if args.warmup is None:
        args.warmup = 1 if args.quick else 3
    if args.iters is None:
        args.iters = 3 if args.quick else 10
    if args.warmup < 0 or args.iters < 1:
        ap.error("--warmup must be >= 0 and --iters >= 1")
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: CUDA is not available")
    return args


def _subset(ap: argparse.ArgumentParser, text: str, allowed: tuple[str, ...],
            flag: str) -> list[str]:
    chosen = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in allowed]
    if unknown or not chosen:
        ap.error(f"{flag}: expected a comma-separated subset of {','.join(allowed)}")
    return [v for v in allowed if v in chosen]  # canonical order, no duplicates


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32 == "on"
    torch.backends.cudnn.allow_tf32 = args.tf32 == "on"
    suite = Suite(args, torch.device(args.device))
    encoder_variants = [v for v in args.variants if v in ENCODER_VARIANTS]
    if "embedding_forward" in args.benches:
        for v in args.variants:
            suite.embedding_forward(v)
    if "embedding_backward" in args.benches:
        for v in args.variants:
            suite.embedding_backward(v)
    if "inference" in args.benches:
        for v in encoder_variants:
            for b in INFERENCE_BATCHES:
                suite.inference(v, b)
    if "train_step" in args.benches:
        for v in encoder_variants:
            suite.train_step(v)
    print(json.dumps({"records": suite.records}))


if __name__ == "__main__":
    main()
