#!/usr/bin/env bash
# One pre-training run of the issue-17 study (docs/results.md, "Ledger"), started or resumed.
#
#   tools/study/pretrain.sh NAME MINUTES [pretrain options...]
#   e.g. tools/study/pretrain.sh proj-md5-s0 140 --variant proj --scheme md5 --seed 0
#
# Every run shares one recipe: small (4 x 256), batch 16 x 128, peak lr LR (default 5e-4) with 6 % warm-up
# and linear decay over STEPS steps (default 36,000, group A's budget), held-out
# evaluation and a checkpoint every 500 steps, one thread (two runs use the two cores).
# The run lives in $STUDY_DIR/NAME (default ~/runs/study), outside the work tree; a second
# call with the same NAME resumes it from its newest checkpoint. It stops cleanly after
# MINUTES (keep them inside the session). Whenever the run stops, its metrics are thinned
# into docs/pretraining/study/NAME.metrics.jsonl (tools/study/thin.py), in the work tree,
# which survives a lost machine where ~/runs may not. BIN picks the binary (default: the
# workspace's dev build; build it first with `cargo build -p hashformer-cli`).
# The body is one brace group, so bash reads all of it before running it: editing this file
# while a run uses it cannot change what that run does next.
{
set -euo pipefail
name=$1 minutes=$2
shift 2
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${STUDY_DIR:-$HOME/runs/study}"
bin="${BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/hashformers/target}/debug/hashformer}"
export HASHFORMER_DATA="${HASHFORMER_DATA:-$here/../shared/data}" RAYON_NUM_THREADS=1
out="$dir/$name"
resume=()
if compgen -G "$out/checkpoints/step-*" >/dev/null; then resume=(--resume); fi
mkdir -p "$dir"
status=0
"$bin" pretrain --config small --steps "${STEPS:-36000}" --lr "${LR:-5e-4}" --eval-every 500 --eval-batches 16 \
  --checkpoint-every 500 --keep-checkpoints 2 --minutes "$minutes" --quiet --out "$out" \
  "${resume[@]}" "$@" >>"$dir/$name.log" 2>&1 || status=$?
python3 "$here/tools/study/thin.py" "$name" >>"$dir/$name.log" 2>&1
exit "$status"
}
