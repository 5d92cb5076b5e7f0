#!/usr/bin/env bash
# One stage of the staged training of the bundled model, on the GPU machine (no .NET there). Each stage resumes from
# the previous one's exported files in training/stages/current/ (ckpt_fp16.npz + heads.npz + stage.json: weights,
# heads, step, stream position; the optimizer's moments are rebuilt by --rewarm), trains BUDGET seconds, and writes
# the same three files (plus its log and config) to $OUT for the next stage. Stage A starts from scratch.
#
#   here:   bash training/publish-generator.sh && python3 training/device_tree.py slim
#   device: bash training/gpu_stage.sh A 480          (run tool: carry ["dist"], timeout_s 600)
#   here:   python3 training/device_tree.py restore && bash training/after_stage.sh A /work/.device/...  (files_at)
#
# Stages (the curriculum; every stage trains the VQA and pair heads, the attribute loss (colours, shapes, counts and
# colour-shape pairs) and the question loss with the encoder; CPU gate attempts 10-13 in training/gate/):
#   A  1-3 plain objects, no emoji, all 12 languages, list and sentence captions     constant learning rate
#   B  1-8 objects, 15% emoji, relations and spatial questions                         constant
#   C  the full world (30% emoji, noise and blur), real parallel sentences             constant
#   D  the full world, mostly VQA and sentence pairs (task fine-tuning)               decaying to 0
set -u -o pipefail
STAGE=${1:?stage A, B, C or D}; BUDGET=${2:-480}; CONFIG=${CONFIG:-ti16}
OUTDIR=${OUT:-$PWD/stage-out}
export PYTHONUNBUFFERED=1; PY=${PYTHON:-python3}
cd "$(dirname "$0")/.."
mkdir -p "$OUTDIR"
exec > >(tee "$OUTDIR/gpu_stage.log") 2>&1
date -u; nproc; nvidia-smi --query-gpu=name,memory.total --format=csv,noheader; $PY -c "import torch; print('torch', torch.__version__)"
# From stage B on, questions are also worded as users word them (what the CPU runs of clippo-mini128-cpu-v2 to -v8
# found to carry over to wordings no option writes): count-all questions, other frames and preambles, a fifth with
# their words shuffled, almost a third wrapped in filler words, some with the colour said as the predicate, half
# of the existence questions about a shape alone or a colour alone, count questions whose scene always holds an
# object not counted (so counting every object is not the answer), and some subjects' colours said with the word for
# colour (clippo-mini128-gpu-v9).
WORDS="--count-all 0.3 --other-wordings 0.5 --scrambled-words 0.2 --filler-words 0.3 --colour-predicates 0.3 --single-attribute-exists 0.5 --count-distractors 1 --colour-word 0.3"
case "$STAGE" in
  A) WORLD="--objects 1-3 --emoji-share 0 --plain-scenes --caption-styles list,sentence"; MIX="caption=5,text=2,vqa=3"; SCHED=constant; RESUME="" ;;
  B) WORLD="--objects 1-8 --emoji-share 0.15 $WORDS"; MIX="caption=4,text=2,vqa=3,pair=1"; SCHED=constant; RESUME=training/stages/current ;;
  C) WORLD="$WORDS"; MIX="caption=4,text=2,vqa=3,pair=1"; SCHED=constant; RESUME=training/stages/current ;;
  D) WORLD="$WORDS"; MIX="caption=2,text=1,vqa=5,pair=2"; SCHED=decay; RESUME=training/stages/current ;;
  *) echo "unknown stage '$STAGE' (A, B, C or D)"; exit 2 ;;
esac
[ -f dist/genpub.tar.xz ] || { echo "dist/genpub.tar.xz is missing: run training/publish-generator.sh here and carry dist"; exit 2; }
if [ -n "$RESUME" ] && [ ! -f "$RESUME/stage.json" ]; then echo "$RESUME/stage.json is missing: stage $STAGE goes on from the previous stage"; exit 2; fi
$PY -c "import tarfile; tarfile.open('dist/genpub.tar.xz').extractall('/tmp')" || exit 3
GEN=/tmp/genpub/vqa-generate
# Same seed, same bytes as the development machine (training/probe-hashes.txt), before any GPU minute is spent.
$PY training/determinism_probe.py $GEN > /tmp/probe.txt; cat /tmp/probe.txt
if cmp -s /tmp/probe.txt training/probe-hashes.txt; then echo "probe: same bytes as training/probe-hashes.txt"; else echo "probe: DIFFERENT from training/probe-hashes.txt"; fi
$GEN shard --count 2000 --seed 77 --split heldout --size 224 --mix "$MIX" $WORLD --threads 8 --out /tmp/heldout.bin || exit 4
PAR=""; [ "$STAGE" = C ] || [ "$STAGE" = D ] && [ -f dist/parallel-train.tsv ] && PAR="--parallel-file $PWD/dist/parallel-train.tsv"
# The position loss (where one object of a unique colour lies) on every stage; the question loss includes the relation
# word of spatial questions. Both, with the fixed sincos2d position embedding that stage A gives the new model, are what
# first answered spatial questions (CPU A/B, training/README.md "Spatial questions"); TRAIN_EXTRA adds more.
ARGS=(--time-budget "$BUDGET" --margin 40 --workers 14 --batch 256 --lr 1e-3 --wd 0.05 --warmup 300 --rewarm 100 --head-hidden 256
      --attribute-weight 1 --question-weight 1 --position-weight 1 --schedule "$SCHED" --stage "$STAGE" --fp16-export --log-every 100 --out /tmp/run
      --eval-data /tmp/heldout.bin --eval-count 2000
      --generator "$GEN stream --seed 1 --split train --size 224 --mix $MIX $WORLD $PAR")
if [ -n "$RESUME" ]; then ARGS+=(--resume "$RESUME"); else ARGS+=(--config "$CONFIG" --posemb sincos2d); fi
$PY training/train.py "${ARGS[@]}" ${TRAIN_EXTRA:-}
rc=$?
# What comes back (at most 8 files of 16 MiB): the next stage's starting point and the record of this one.
cp /tmp/run/ckpt_fp16.npz /tmp/run/heads.npz /tmp/run/aux_heads.npz /tmp/run/stage.json /tmp/run/train_log.jsonl /tmp/run/config.json "$OUTDIR"/ 2>/dev/null
ls -la "$OUTDIR"; date -u
exit $rc
