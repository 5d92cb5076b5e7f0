#!/usr/bin/env bash
# Prepares the GPU benchmark (benchmarks/GpuBench.cs) for the GPU machine, which has CUDA and PyTorch but no .NET and no
# network: a self-contained publish of the benchmarks with ONNX Runtime's GPU libraries. The CUDA provider library
# (about 284 MB) is more than one transfer to that machine carries (64 MiB a call), so it is compressed and split into
# parts under dist/gpu-bench/, each carried by its own call, and joined there by run.sh (see README.md here).
#   bash benchmarks/gpu/publish.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=dist/gpu-bench
rm -rf "$out" && mkdir -p "$out"
dotnet publish benchmarks -c Release -r linux-x64 --self-contained -p:TreatWarningsAsErrors=false -o "$out/app" >/dev/null
cuda="$out/app/libonnxruntime_providers_cuda.so"
[ -f "$cuda" ] || { echo "the publish has no libonnxruntime_providers_cuda.so" >&2; exit 2; }
xz -T0 -6 -c "$cuda" | split -b 60M -d - "$out/cuda.xz.part-"
sha256sum "$cuda" | awk '{print $1}' > "$out/cuda.sha256"
rm "$cuda"
tar -C "$out" -cJf "$out/app.tar.xz" app
rm -rf "$out/app"
ls -la "$out"
