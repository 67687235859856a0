#!/usr/bin/env bash
# The GPU check (docs/backends.md, docs/benchmarks.md): from binaries prebuilt elsewhere, on
# a machine with an NVIDIA GPU, in about ten minutes:
#   1. parity: every fixture on CUDA and WGPU against the CPU and PyTorch, and three training
#      steps per backend against the CPU's losses (the `backends` test binary);
#   2. training-step time, `bench-step`, for `small` (16 x 128) and `base` (32 x 128) on
#      CUDA and WGPU (both with Burn's fusion and autotune), and `base` on CUDA in bf16 and
#      f16 (`--precision`);
#   3. three minutes of end-to-end `pretrain --config base` on CUDA, when a corpus file was
#      carried in .gpu/corpus/: its positions/s against bench-step's tokens/s (the input
#      pipeline's cost) and its real tokens/s;
#   4. the same steps in PyTorch on the same GPU (f32 without and with TF32, bf16 autocast
#      with fused AdamW), for the ratios;
#   5. encoder inference at batch 1 and 32 (`hashformer bench` and tools/bench/torch_bench.py,
#      `small` and `base`, f32 and bf16 on CUDA), reported by `bench-report` into
#      $OUT/inference/ with the ratio against PyTorch in the same precision.
# Results go to $OUT (default /tmp/gpu-check): one log per part and all JSON lines in
# results.jsonl. A part whose binary is not in .gpu/ is skipped, so the parts can travel in
# separate calls when both binaries are too big for one.
#
# Inputs, relative to the repository root:
#   .gpu/hashformer.xz, .gpu/backends.xz   the stripped, xz'd binaries of
#        `cargo build -p hashformer-cli --features wgpu,cuda` and its `backends` test
#        (tools/gpu/prepare.sh makes them)
#   .gl/*.deb   the Vulkan loader packages, for machines without one (device README)
#   .gpu/corpus/*.txt.gz   one Wikipedia file for the end-to-end part (prepare.sh copies it)
# The test binary reads the parity fixtures from the path it was built in ($BUILT_IN,
# default /work/main); a link from there to this checkout serves when they differ.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-/tmp/gpu-check}"
BUILT_IN="${BUILT_IN:-/work/main}"
mkdir -p "$OUT" .gpu/run
results="$OUT/results.jsonl"
: > "$results"

step() { echo "== $*" | tee -a "$OUT/check.log"; }

step "setup"
if ! ldconfig -p | grep -q 'libvulkan.so.1 ' && ls .gl/*.deb >/dev/null 2>&1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
for b in hashformer backends; do
  if [ -f ".gpu/$b.xz" ]; then
    xz -dc ".gpu/$b.xz" > ".gpu/run/$b" && chmod +x ".gpu/run/$b"
  fi
done
if [ "$(cd "$BUILT_IN" 2>/dev/null && pwd -P)" != "$(pwd -P)" ]; then
  mkdir -p "$(dirname "$BUILT_IN")" && ln -sfn "$(pwd -P)" "$BUILT_IN"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name())' \
  | tee -a "$OUT/gpu.txt"

if [ -x .gpu/run/backends ]; then
  step "parity (backends test binary)"
  timeout 300 .gpu/run/backends --test-threads 1 --nocapture > "$OUT/parity.log" 2>&1
  echo "parity exit $?" | tee -a "$OUT/check.log"
  grep -E "largest difference|losses per run|test result|panicked|skipped" "$OUT/parity.log" \
    | tee -a "$OUT/check.log"
fi
[ -x .gpu/run/hashformer ] || exit 0

step "bench-step (ours)"
for spec in "cuda small 16 proj" "cuda base 32 proj" "cuda base 32 bpe" \
            "cuda base 32 proj bf16" "cuda base 32 proj f16" "cuda base 128 proj bf16" \
            "wgpu small 16 proj" "wgpu base 32 proj"; do
  set -- $spec
  timeout 90 .gpu/run/hashformer bench-step --backend "$1" --config "$2" \
    --batch-size "$3" --variant "$4" --precision "${5:-f32}" --warmup 3 --steps 8 \
    >> "$results" 2>> "$OUT/bench.log" \
    || echo "bench-step $spec failed ($?)" | tee -a "$OUT/check.log"
done

corpus=$(ls .gpu/corpus/*.txt.gz 2>/dev/null | head -1)
if [ -n "$corpus" ]; then
  step "pretrain end to end (cuda, base, 32 x 128, 3 minutes)"
  rm -rf "$OUT/pretrain-base"
  timeout 300 .gpu/run/hashformer pretrain --backend cuda --config base --variant proj \
    --scheme md5 --batch-size 32 --steps 100000 --log-every 20 --eval-every 0 \
    --eval-batches 2 --checkpoint-every 0 --minutes 3 --max-train-sequences 40000 --quiet \
    --corpus "$corpus" --prepared "$OUT/prepared" --out "$OUT/pretrain-base" \
    > "$OUT/pretrain.log" 2>&1 || echo "pretrain failed ($?)" | tee -a "$OUT/check.log"
  python3 - "$OUT/pretrain-base/metrics.jsonl" <<'PY' 2>&1 | tee -a "$OUT/check.log"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l][1:]  # skip autotune
for key in ("positions_per_s", "tokens_per_s"):
    print(f"pretrain end to end: median {key} {statistics.median(r[key] for r in rows):.0f}"
          f" over {len(rows)} windows (compare positions/s with bench-step's tokens/s)")
PY
fi

step "PyTorch steps"
for spec in "small 16 proj off f32" "base 32 proj off f32" "base 32 bpe off f32" \
            "base 32 proj on f32" "base 32 proj off bf16 --fused" \
            "base 128 proj off bf16 --fused"; do
  set -- $spec
  timeout 60 python3 tools/bench/torch_train_step.py --device cuda --config "$1" \
    --batch-size "$2" --variant "$3" --tf32 "$4" --dtype "$5" ${6:-} --warmup 3 --steps 10 \
    >> "$results" 2>> "$OUT/torch.log" \
    || echo "torch $spec failed ($?)" | tee -a "$OUT/check.log"
done

step "inference (ours and PyTorch on CUDA, f32 and bf16)"
inference=()
for precision in f32 bf16; do
  file="$OUT/inference-ours-$precision.json"
  timeout 180 .gpu/run/hashformer bench --backend cuda --configs small,base \
    --benches inference --precision "$precision" --out "$file" 2>> "$OUT/bench.log" \
    && inference+=("$file") || echo "bench inference $precision failed ($?)" | tee -a "$OUT/check.log"
  for config in small base; do
    file="$OUT/inference-torch-$config-$precision.json"
    # Ours multiplies f32 in TF32 on this GPU (docs/backends.md), so PyTorch's f32 does too.
    timeout 120 python3 tools/bench/torch_bench.py --device cuda --config "$config" --tf32 on \
      --benches inference --variants proj,bpe --precision "$precision" > "$file" \
      2>> "$OUT/torch.log" && inference+=("$file") \
      || echo "torch inference $config $precision failed ($?)" | tee -a "$OUT/check.log"
  done
done
if [ ${#inference[@]} -gt 0 ]; then
  .gpu/run/hashformer bench-report "${inference[@]}" --out "$OUT/inference" \
    > "$OUT/inference.log" 2>&1 && cat "$OUT/inference/bench.md" >> "$OUT/check.log"
fi

step "summary"
python3 - "$results" <<'PY' | tee "$OUT/summary.txt"
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    what = f'{r["implementation"]:<28} {r["backend"]:<5} {r["config"]:<5} {r["variant"]:<4} b{r["batch_size"]}'
    extra = " ".join(f"{k}={r[k]}" for k in ("precision", "tf32", "dtype", "fused_adamw") if k in r)
    print(f'{what}  {r["median_step_s"]*1000:8.1f} ms  {r["tokens_per_s"]:10.0f} tok/s  {extra}')
PY
