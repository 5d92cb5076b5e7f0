#!/usr/bin/env bash
# On the GPU machine: joins the CUDA provider library from its parts, unpacks the published benchmark and runs the GPU
# table (ONNX Runtime CUDA from C#, plain and with IO binding, beside PyTorch eager bfloat16), writing it to $OUT/gpu.md.
#   bash benchmarks/gpu/run.sh [gpu options, e.g. --batches 1,32,256 --seconds 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
d=dist/gpu-bench
ls "$d"/cuda.xz.part-* >/dev/null 2>&1 || { echo "no $d/cuda.xz.part-*: carry every part first (README.md)" >&2; exit 2; }
work=/tmp/gpu-bench && rm -rf "$work" && mkdir -p "$work"
tar -C "$work" -xJf "$d/app.tar.xz"
cat "$d"/cuda.xz.part-* | xz -d > "$work/app/libonnxruntime_providers_cuda.so"
echo "$(cat "$d/cuda.sha256")  $work/app/libonnxruntime_providers_cuda.so" | sha256sum -c - >/dev/null || { echo "the joined CUDA provider library is damaged (a part is missing?)" >&2; exit 3; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
python3 -c "import torch; print('PyTorch', torch.__version__, 'CUDA', torch.version.cuda)" || true
out="${OUT:-$work}"
"$work/app/VqaApi.Benchmarks" gpu "$@" | tee "$out/gpu.md"
