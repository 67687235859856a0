#!/usr/bin/env bash
# Keep one checkpoint of a running study run (issue 17) before the run rotates it away.
#
#   tools/study/snapshot.sh NAME STEP
#   e.g. tools/study/snapshot.sh proj-md5-lr5e-4-s1 12000 &
#
# Pre-training keeps only its last two checkpoints (`--keep-checkpoints 2`, one every 500
# steps). This waits, polling once a minute, until $STUDY_DIR/NAME (default ~/runs/study) has
# written the checkpoint of STEP, then copies it to $STUDY_DIR/NAME-at-STEP: the whole
# checkpoint in `checkpoint/`, and its config and weights in `model/`, so that
# `tools/study/glue.sh NAME-at-STEP ...` fine-tunes the model as it was at that step. Group
# B of the study is compared with group A's seed-1 models at group B's budget this way
# (docs/pretraining.md). Checkpoints are written to a temporary directory and renamed, so
# one that exists is complete. Exits with an error if the run is already past STEP.
set -euo pipefail
name=$1 step=$2
dir="${STUDY_DIR:-$HOME/runs/study}"
src="$dir/$name/checkpoints/$(printf 'step-%08d' "$step")"
dst="$dir/$name-at-$step"
if [[ -e "$dst/model/model.safetensors" ]]; then
  echo "$dst already holds step $step" >&2
  exit 0
fi
newest_step() {
  local newest
  newest=$(compgen -G "$dir/$name/checkpoints/step-*" | sort | tail -n 1) || return 0
  newest=${newest##*/step-}
  echo $((10#$newest))
}
while [[ ! -d "$src" ]]; do
  newest=$(newest_step)
  if [[ -n "$newest" && "$newest" -gt "$step" ]]; then
    echo "$name is at step $newest, past $step, and no longer has that checkpoint" >&2
    exit 1
  fi
  sleep 60
done
tmp="$dst.partial"
rm -rf "$tmp"
mkdir -p "$tmp/model"
cp -r "$src" "$tmp/checkpoint"
cp "$src/config.json" "$src/model.safetensors" "$tmp/model/"
mv "$tmp" "$dst"
echo "kept $name at step $step in $dst"
