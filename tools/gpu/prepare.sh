#!/usr/bin/env bash
# Builds what tools/gpu/check.sh runs on a GPU machine: the `hashformer` binary and the
# `backends` parity test with CUDA and WGPU, stripped and xz'd into .gpu/ (ignored by git;
# carry it, with .gl/, to the GPU machine). Installs the LLVM SDK the CUDA build links first.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/cuda/install-llvm.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hashformers/target}"
cargo build -p hashformer-cli --features wgpu,cuda
test_bin=$(cargo test -p hashformer-cli --features wgpu,cuda --test backends --no-run \
  --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "backends" and m.get("executable"):
        print(m["executable"])')
mkdir -p .gpu
for pair in "$CARGO_TARGET_DIR/debug/hashformer:hashformer" "$test_bin:backends"; do
  src=${pair%%:*}; name=${pair##*:}
  strip -o ".gpu/$name" "$src"
  xz -T0 -6 -f ".gpu/$name"
done
# One Wikipedia file (18 MB) for check.sh's end-to-end pre-training part.
data="${HASHFORMER_DATA:-$(cd .. && pwd)/shared/data}"
mkdir -p .gpu/corpus
cp "$data/corpus/enwiki-2014-wikiextractor/AA.txt.gz" .gpu/corpus/
ls -la .gpu .gpu/corpus
