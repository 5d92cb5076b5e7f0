#!/usr/bin/env bash
# GPU check of the trainer with the fake stream (no .NET needed): PyTorch 2.x + CUDA, bf16 autocast, SDPA,
# fused AdamW, pinned-memory loader. Usage: bash training/tests/gpu_check.sh OUTDIR [SECONDS_PER_RUN]
set -u
OUT=${1:-/tmp/gpu_check}
SECS=${2:-60}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
cd "$(dirname "$0")/../.."
$PY -c "import torch,sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0)); import torch.nn.functional as F; print('sdpa', hasattr(F,'scaled_dot_product_attention'))"
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader || true
$PY training/tests/test_export_parity.py 2>&1 | tail -5

# Shards for a data-bound-free model throughput measurement: 14 fake workers in parallel.
T=$(date +%s)
for k in $(seq 0 13); do
  $PY training/tests/fake_generator.py shard --size 224 --seed $k --count 200 --out "$OUT/shard_$k.bin" &
done
wait
$PY training/tests/fake_generator.py shard --size 224 --seed 99 --split heldout --count 1000 --out "$OUT/heldout.bin"
echo "shards written in $(( $(date +%s) - T )) s"

run() {  # NAME ARGS...
  local name=$1; shift
  echo "=== $name: $*"
  $PY training/train.py --out "$OUT/$name" "$@" 2>&1 | tail -14
  rm -f "$OUT/$name"/ckpt*.npz
}
run ti16_shards --config ti16 --time-budget $SECS --margin 8 --data "$OUT"/shard_*.bin --eval-data "$OUT/heldout.bin" --log-every 50
run s16_shards --config s16 --time-budget $SECS --margin 8 --data "$OUT"/shard_*.bin --log-every 50
run ti16_stream --config ti16 --time-budget $SECS --margin 8 --workers 14 --log-every 50 \
  --generator "$PY training/tests/fake_generator.py stream --size 224 --seed 5"
rm -f "$OUT"/*.bin
