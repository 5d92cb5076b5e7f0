#!/usr/bin/env bash
# Short side-by-side trainer runs on the GPU machine with the real generator (the self-contained publish in
# dist/genpub.tar.xz, carried there with the run): one held-out shard, then one run per variant.
#   bash training/tests/gpu_compare.sh OUTDIR SECONDS CONFIG "name1:extra args" "name2:extra args" ...
set -u -o pipefail
OUT=${1:?out}; SECS=${2:-120}; CONFIG=${3:-ti16}; shift 3
PY=${PYTHON:-python3}
cd "$(dirname "$0")/../.."
mkdir -p "$OUT"
if [ ! -x /tmp/genpub/vqa-generate ]; then
  $PY -c "import tarfile; tarfile.open('dist/genpub.tar.xz').extractall('/tmp')" || exit 2
  ln -sfn "$PWD/fonts" /tmp/genpub/fonts
fi
GEN=/tmp/genpub/vqa-generate
[ -f /tmp/heldout224.bin ] || $GEN shard --count 1000 --seed 77 --split heldout --threads 8 --out /tmp/heldout224.bin || exit 3
PAR=""; [ -f dist/parallel-train.tsv ] && PAR="--parallel-file $PWD/dist/parallel-train.tsv"
for v in "$@"; do
  name=${v%%:*}; extra=${v#*:}
  echo "=== $name: $extra"
  $PY training/train.py --config "$CONFIG" --time-budget "$SECS" --margin 12 --workers 14 --log-every 50 \
    --generator "$GEN stream --seed 1 --split train --size 224 $PAR" --eval-data /tmp/heldout224.bin \
    --out "$OUT/$name" $extra 2>&1 | tail -8 | cut -c1-400
  rm -f "$OUT/$name"/ckpt*.npz
done
