#!/usr/bin/env bash
# On the GPU machine: joins the published GPU benchmark from its parts (checking its SHA-256), unpacks it and runs the
# GPU table (ONNX Runtime CUDA from C#, plain and with IO binding, beside PyTorch eager bfloat16), writing it to $OUT/gpu.md.
#   bash benchmarks/gpu/run.sh [gpu options, e.g. --batches 1,32,256 --seconds 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
d=dist/gpu-bench
ls "$d"/gpu-bench.tar.xz.part-* >/dev/null 2>&1 || { echo "no $d/gpu-bench.tar.xz.part-*: carry every part first (README.md)" >&2; exit 2; }
[ "$(cat "$d"/gpu-bench.tar.xz.part-* | sha256sum | awk '{print $1}')" = "$(cat "$d/gpu-bench.sha256")" ] \
  || { echo "the joined parts do not match gpu-bench.sha256: a part is missing or damaged" >&2; exit 3; }
work=/tmp/gpu-bench && rm -rf "$work" && mkdir -p "$work"
cat "$d"/gpu-bench.tar.xz.part-* | xz -d | tar -C "$work" -xf -
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
python3 -c "import torch; print('PyTorch', torch.__version__, 'CUDA', torch.version.cuda)" || true
out="${OUT:-$work}" && mkdir -p "$out"
"$work/app/VqaApi.Benchmarks" gpu "$@" | tee "$out/gpu.md"
