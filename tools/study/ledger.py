#!/usr/bin/env python3
"""Markdown rows of the issue-17 ledger (docs/results.md) from the study's run directories.

    python3 tools/study/ledger.py [--at STEP] [STUDY_DIR]      # default ~/runs/study

Per run: variant, seed, peak learning rate, steps done of planned, tokens seen (real tokens: the sum of each
logging window's tokens/s times its length, so roughly), training wall time, and the latest
held-out evaluation (loss, accuracy against the majority rate, recall of the three classes).
With --at STEP every figure stops at STEP (group B's budget: runs compared at one step), and
runs that have not reached STEP are left out.
Standard library only; reads metrics.jsonl and run.json, writes nothing.
"""
import json
import pathlib
import sys


def variant_name(model):
    v = model["variant"]
    if isinstance(v, str):
        return "BPE baseline" if v == "Bpe" else v
    (kind, scheme), = v.items()
    return f"{kind}_{scheme.upper()}" if scheme else kind


def summarise(run, at=None):
    config = json.loads((run / "run.json").read_text())["config"]
    train, valid = [], []
    for line in (run / "metrics.jsonl").read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            if at is None or record["step"] <= at:
                (valid if record.get("split") == "valid" else train).append(record)
    if at is not None and (not valid or valid[-1]["step"] != at):
        return None
    tokens, wall, previous = 0.0, 0.0, 0.0
    for record in train:
        # elapsed_s restarts at 0 on a resume: a drop starts a new segment.
        elapsed = record["elapsed_s"]
        delta = elapsed - previous if elapsed >= previous else elapsed
        tokens += record["tokens_per_s"] * delta
        wall += delta
        previous = elapsed
    last = valid[-1] if valid else None
    return {
        "run": run.name,
        "variant": variant_name(config["model"]),
        "seed": config.get("seed", "?"),
        "lr": f"{config['schedule']['peak']:g}",
        "steps": f"{train[-1]['step'] if train else 0:,} / {config['steps']:,}",
        "tokens": f"{tokens / 1e6:.1f} M",
        "wall": f"{wall / 3600:.2f} h",
        "held_out": "—" if last is None else (
            f"step {last['step']:,}: loss {last['loss']:.3f}, acc {100 * last['accuracy']:.2f} % "
            f"(majority {100 * last['majority_rate']:.2f} %), recall "
            f"{100 * last['acc_original']:.1f} / {100 * last['acc_shuffled']:.1f} / "
            f"{100 * last['acc_random']:.1f} %"),
    }


def main():
    args, at = sys.argv[1:], None
    if args[:1] == ["--at"]:
        at, args = int(args[1]), args[2:]
    root = pathlib.Path(args[0] if args else pathlib.Path.home() / "runs/study")
    runs = sorted(p for p in root.iterdir() if (p / "run.json").is_file())
    print("| run | variant | seed | peak lr | steps | tokens | wall time | latest held-out evaluation |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for run in runs:
        r = summarise(run, at)
        if r is None:
            continue
        print(f"| {r['run']} | {r['variant']} | {r['seed']} | {r['lr']} | {r['steps']} | {r['tokens']} | "
              f"{r['wall']} | {r['held_out']} |")


if __name__ == "__main__":
    main()
