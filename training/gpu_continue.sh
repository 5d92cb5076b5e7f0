#!/usr/bin/env bash
# Continues the bundled CPU-trained model (clippo-mini128-cpu-vN) on the GPU machine (no .NET there): the same
# model, canvas size and recipe as the CPU continuations (training/cpu_gate.py --from ...), but fed by 14 generator
# processes instead of one, so a few GPU minutes see more examples than an hour and a half of the 2-core machine.
# It resumes from a training state (state.pt with the optimizer's moments, or the exported ckpt.npz + heads.npz +
# stage.json), trains BUDGET seconds with a decaying learning rate, and writes the next state to $OUT.
#
#   here:   bash training/publish-generator.sh && mv dist/parallel-train.tsv /tmp/     (the tree + dist must stay under 64 MiB)
#           mkdir -p dist/state && cp runs/RUN/STAGE/{ckpt.npz,heads.npz,aux_heads.npz,stage.json,state.pt} dist/state/
#           python3 training/device_tree.py slim
#   device: bash training/gpu_continue.sh dist/state 450          (run tool: carry ["dist"], timeout_s 540)
#           and, on the same warm machine at once, a second one from the first's end:
#           rm -rf /tmp/prev && cp -r /tmp/run /tmp/prev && bash training/gpu_continue.sh /tmp/prev 320
#   here:   python3 training/device_tree.py restore
#           dotnet Cli/bin/Release/net10.0/vqa.dll convert FILES_AT/ckpt.npz DIR/model --profile shaped --id ID \
#             --overwrite --heads FILES_AT/heads.npz
#           bash training/judge.sh DIR/model DIR/judge
# The first such run (2026-12-06, H100) is recorded in training/gate/continuation-gpu/.
#
# Environment overrides: WORLD, MIX, BATCH, LR, SEED, WORKERS, SIZE, TRAIN_EXTRA. If the trainer fails within its first two
# minutes (something this machine's PyTorch does differently), it is run once more from the exported files alone
# (moments rebuilt over --rewarm steps) with fewer generator processes, in the time that is left. (On 2026-12-06 it
# did: PyTorch 2.11 refused the numpy random state inside state.pt; train.py now writes states without it, and goes
# on from the exported files by itself when a state.pt does not load.)
set -u -o pipefail
FROM=${1:?a training state folder (state.pt, or ckpt.npz + heads.npz + stage.json)}; BUDGET=${2:-450}
OUTDIR=${OUT:-$PWD/continue-out}
export PYTHONUNBUFFERED=1; PY=${PYTHON:-python3}
cd "$(dirname "$0")/.."
mkdir -p "$OUTDIR"
exec > >(tee "$OUTDIR/gpu_continue.log") 2>&1
START=$(date +%s)
date -u; nproc; nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null; $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
# v8's recipe (training/gate/continuation-distractors) and the colour said with the word for colour in 30% of the
# count, shape and existence questions that name one (--colour-word, docs/generator.md).
WORLD=${WORLD:-"--objects 1-5 --emoji-share 0.1 --caption-styles list,sentence,relation,word --count-all 0.3 --other-wordings 0.5 --scrambled-words 0.2 --filler-words 0.3 --colour-predicates 0.3 --single-attribute-exists 0.5 --count-distractors 1 --colour-word 0.3"}
MIX=${MIX:-"caption=2,text=1,vqa=6,pair=1"}
BATCH=${BATCH:-256}; LR=${LR:-4e-4}; SEED=${SEED:-9}; WORKERS=${WORKERS:-14}; SIZE=${SIZE:-128}
# Further trainer arguments, e.g. TRAIN_EXTRA="--position-weight 2" (where one object of a unique colour lies, from each
# scene canvas's embedding: spatial questions were at chance in every model, training/README.md), or
# TRAIN_EXTRA="--posemb sincos2d" (the resumed model's learned position embedding replaced by the fixed 2D sine-cosine one),
# or TRAIN_EXTRA="--position-weight 10 --order-weight 10" (which of the two objects a spatial question names comes first:
# with it the sincos lineage learnt spatial answers on the CPU, training/README.md, "The order of the two objects").
# The lineage's next GPU stage (training/README.md, "Batches of 256 on the CPU too", "Stages 15 and 16", "Stage 17" and "Stages 19 and 20"), from
# dist/state = training/state/clippo-mini128-sincos-20 (or, for more capacity where records are cheap, that state grown
# with training/grow_state.py --depth 6, which tied it on the CPU in equal time on 27% fewer records), which keeps both
# weights in its stage.json (batch 256 is this
# script's default, and won on the CPU as well; a peak of 2e-4, not 4e-4: on the CPU re-warming the annealed state to
# 4e-4 gave its VQA back during the stage, 2e-4 kept it and added to it):
#   LR=2e-4 WORLD="--objects 1-5 --emoji-share 0.1 --caption-styles list,sentence,relation,word --count-all 0.3 --other-wordings 0.5 --questions count,count,color,shape,shape,exists,spatial,spatial,spatial" \
#   TRAIN_EXTRA="--position-weight 10 --order-weight 10" bash training/gpu_continue.sh dist/state 450
TRAIN_EXTRA=${TRAIN_EXTRA:-}
[ -f dist/genpub.tar.xz ] || { echo "dist/genpub.tar.xz is missing: run training/publish-generator.sh here and carry dist"; exit 2; }
[ -f "$FROM/stage.json" ] || [ -f "$FROM/state.pt" ] || { echo "$FROM holds no training state (state.pt or stage.json)"; exit 2; }
$PY -c "import tarfile; tarfile.open('dist/genpub.tar.xz').extractall('/tmp')" || exit 3
GEN=/tmp/genpub/vqa-generate
# Held-out examples of the same world (another split, another seed) for the trainer's own accuracy at the end.
$GEN shard --count 2000 --seed 99 --split heldout --size "$SIZE" --mix "$MIX" $WORLD --threads 8 --out /tmp/heldout.bin || exit 4
train() {  # $1 resume folder, $2 workers, $3 seconds
  rm -rf /tmp/run
  $PY training/train.py --resume "$1" --time-budget "$3" --margin 40 --workers "$2" --batch "$BATCH" --lr "$LR" \
    --warmup 50 --rewarm 50 --head-hidden 256 --attribute-weight 1 --question-weight 1 --schedule decay --stage gpu-continue \
    --seed "$SEED" --save-every 0 --log-every 200 --out /tmp/run --eval-data /tmp/heldout.bin --eval-count 2000 $TRAIN_EXTRA \
    --generator "$GEN stream --seed $SEED --split train --size $SIZE --mix $MIX $WORLD"
}
T1=$(date +%s)
train "$FROM" "$WORKERS" "$BUDGET"; rc=$?
if [ $rc -ne 0 ] && [ $(( $(date +%s) - T1 )) -lt 120 ] && [ -f "$FROM/stage.json" ]; then
  LEFT=$(( BUDGET - ($(date +%s) - T1) - 10 ))
  echo "the trainer failed (rc $rc) within two minutes: once more from the exported files, 8 generator processes, ${LEFT} s"
  mkdir -p /tmp/exported && cp "$FROM"/ckpt.npz "$FROM"/heads.npz "$FROM"/stage.json /tmp/exported/ && cp "$FROM"/aux_heads.npz /tmp/exported/ 2>/dev/null
  [ "$LEFT" -gt 120 ] && { train /tmp/exported 8 "$LEFT"; rc=$?; }
fi
# What comes back (at most 8 files of 16 MiB each): the next state and the record of this run.
cp /tmp/run/ckpt.npz /tmp/run/heads.npz /tmp/run/aux_heads.npz /tmp/run/stage.json /tmp/run/state.pt /tmp/run/train_log.jsonl /tmp/run/config.json "$OUTDIR"/ 2>/dev/null
ls -la "$OUTDIR"; date -u; echo "wall $(( $(date +%s) - START )) s, trainer rc $rc"
exit $rc
