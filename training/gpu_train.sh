#!/usr/bin/env bash
# The full training run on one GPU machine (no .NET there): unpacks the self-contained generator that
# training/publish-generator.sh put in dist/, checks it reproduces this repository's bytes, then trains
# for BUDGET seconds with 14 generator processes feeding the trainer, and copies the checkpoint out.
#   bash training/gpu_train.sh OUTDIR BUDGET_SECONDS [CONFIG]
set -u -o pipefail
OUT=${1:?output folder}; BUDGET=${2:-480}; CONFIG=${3:-ti16}
export PYTHONUNBUFFERED=1; PY=${PYTHON:-python3}
cd "$(dirname "$0")/.."
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_train.log") 2>&1
date -u; nproc; nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
$PY -c "import tarfile; tarfile.open('dist/genpub.tar.xz').extractall('/tmp')" || exit 2
[ -d /tmp/genpub/fonts ] || ln -sfn "$PWD/fonts" /tmp/genpub/fonts
GEN=/tmp/genpub/vqa-generate
# Same seed, same bytes: compare with the hash printed by the same command on the development machine.
$GEN shard --count 200 --seed 5 --out /tmp/det.bin || exit 3
sha256sum /tmp/det.bin
# Per kind and canvas, against the hashes the development machine committed (training/probe-hashes.txt).
$PY training/determinism_probe.py $GEN > /tmp/probe.txt; cat /tmp/probe.txt
if cmp -s /tmp/probe.txt training/probe-hashes.txt; then echo "probe: same bytes as training/probe-hashes.txt"; else echo "probe: DIFFERENT from training/probe-hashes.txt"; fi
$GEN shard --count 1500 --seed 5 --threads 1 --out /tmp/speed.bin   # one core's throughput
$GEN shard --count 1000 --seed 77 --split heldout --threads 8 --out /tmp/heldout.bin || exit 4
PAR=""; [ -f dist/parallel-train.tsv ] && PAR="--parallel-file $PWD/dist/parallel-train.tsv"
$PY training/train.py --config "$CONFIG" --time-budget "$BUDGET" --margin 30 --workers 14 --fp16-export \
  --generator "$GEN stream --seed 1 --split train --size 224 $PAR" \
  --eval-data /tmp/heldout.bin --log-every 100 --out /tmp/run
rc=$?
cp /tmp/run/ckpt_fp16.npz /tmp/run/heads.npz /tmp/run/train_log.jsonl /tmp/run/config.json "$OUT"/ 2>/dev/null
ls -la "$OUT"; date -u
exit $rc
