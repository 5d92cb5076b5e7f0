#!/usr/bin/env bash
# Prepares the GPU benchmark (benchmarks/GpuBench.cs) for the GPU machine, which has CUDA and PyTorch but no .NET and no
# network: a self-contained publish of the benchmarks with ONNX Runtime's GPU libraries (the CUDA provider library alone
# is about 284 MB), packed as one tar.xz and split into 48 MiB parts under dist/gpu-bench/, because one transfer to that
# machine carries 64 MiB with the working tree. Each part travels in its own call; run.sh joins them (README.md here).
#   bash benchmarks/gpu/publish.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=dist/gpu-bench
rm -rf "$out" && mkdir -p "$out"
# No fonts (the GPU table draws no text) and none of the Windows libraries the ONNX Runtime GPU package also brings.
dotnet publish benchmarks -c Release -r linux-x64 --self-contained -p:TreatWarningsAsErrors=false -p:BundleFonts=false -o "$out/app" >/dev/null
rm -f "$out"/app/*onnxruntime*.dll "$out"/app/*onnxruntime*.lib
rm -rf "$out/app/fonts"
[ -f "$out/app/libonnxruntime_providers_cuda.so" ] || { echo "the publish has no libonnxruntime_providers_cuda.so" >&2; exit 2; }
tar -C "$out" -cf - app | xz -T0 -6 | tee >(sha256sum | awk '{print $1}' > "$out/gpu-bench.sha256") | split -b 48M -d - "$out/gpu-bench.tar.xz.part-"
rm -rf "$out/app"
sleep 1 # the checksum is written by the process substitution
ls -la "$out"
