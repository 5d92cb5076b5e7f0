#!/usr/bin/env bash
# Prepares dist/ for training on a machine without .NET (the GPU machine): a self-contained, trimmed publish of
# vqa-generate with its fonts, packed as dist/genpub.tar.xz (xz shrinks the CJK and Unifont files; the device tree
# can then leave fonts/ behind, see training/device_tree.py), and dist/parallel-train.tsv, real parallel sentences from this machine's gettext catalogues
# (training split only; they carry their packages' licences, so dist/ is never committed).
#   bash training/publish-generator.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist/genpub && mkdir -p dist
dotnet publish GeneratorTool -c Release -r linux-x64 --self-contained  \
  -p:PublishTrimmed=true -p:TrimMode=partial -p:TreatWarningsAsErrors=false -p:SuppressTrimAnalysisWarnings=true \
  -p:JsonSerializerIsReflectionEnabledByDefault=true -o dist/genpub
tar -C dist -cJf dist/genpub.tar.xz genpub
dist/genpub/vqa-generate parallel-export --out dist/parallel-train.tsv
rm -rf dist/genpub
ls -la dist
