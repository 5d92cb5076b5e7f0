#!/usr/bin/env bash
# After a GPU stage (training/gpu_stage.sh), on this machine (with .NET): keep what came back as the next stage's
# starting point, convert it with its trained heads, measure it (eval through the API on held-out seeds, and the
# probes), and compare it with the bundled default.
#   bash training/after_stage.sh STAGE FILES_DIR [--promote]
# FILES_DIR: where the device's $OUT files landed (the run tool's files_at). The candidate is compared with the bundled
# default (appsettings.json's Model:Path, its eval/eval.json); --promote copies it to models/clippo-ti16-gen-stageSTAGE
# when it is better on VQA and caption retrieval (then judge it with training/judge.sh and, if it also wins on own
# words, make it the default as the model cards describe); otherwise it is only reported.
set -euo pipefail
STAGE=${1:?stage}; FILES=${2:?folder of the files the stage brought back}; PROMOTE=${3:-}
cd "$(dirname "$0")/.."
for f in ckpt_fp16.npz heads.npz stage.json; do [ -f "$FILES/$f" ] || { echo "$FILES/$f is missing"; exit 2; }; done
mkdir -p training/stages/current "training/stages/logs/$STAGE"
cp "$FILES"/ckpt_fp16.npz "$FILES"/heads.npz "$FILES"/stage.json training/stages/current/
[ -f "$FILES/aux_heads.npz" ] && cp "$FILES"/aux_heads.npz training/stages/current/  # the training-only heads, when they came back
cp "$FILES"/train_log.jsonl "$FILES"/config.json "$FILES"/gpu_stage.log "training/stages/logs/$STAGE/" 2>/dev/null || true
dotnet build -c Release -v q -nologo VqaApi.sln
CLI="dotnet Cli/bin/Release/net10.0/vqa.dll"
CAND="models/.candidate-$STAGE"
$CLI convert training/stages/current/ckpt_fp16.npz "$CAND" --fp16 --profile shaped --id "clippo-ti16-gen-stage$STAGE" --overwrite \
  --heads training/stages/current/heads.npz
$CLI eval --model "$CAND" --out "training/stages/logs/$STAGE/eval" --seed 20261204 | tee "training/stages/logs/$STAGE/eval.txt" >/dev/null
/usr/bin/python3 training/probe.py --model "$CAND" --json "training/stages/logs/$STAGE/probe.json" > "training/stages/logs/$STAGE/probe.md"
/usr/bin/python3 - "$STAGE" "$PROMOTE" <<'EOF'
import json, sys, shutil, os
stage, promote = sys.argv[1], sys.argv[2] == "--promote"
def metrics(path):
    d = json.load(open(path))
    return {(s["id"], m["name"], m["group"]): m["value"] for s in d["sections"] for m in s["metrics"]}
new = metrics(f"training/stages/logs/{stage}/eval/eval.json")
default = json.load(open("appsettings.json"))["Model"]["Path"]
old = metrics(os.path.join(default, "eval", "eval.json"))
print(f"default: {default}")
keys = [("vqa", "accuracy", "all"), ("entailment", "accuracy", "all")] + [k for k in new if k[0] == "retrieval" and k[2] == "all"]
better = True
for k in keys:
    a, b = old.get(k), new.get(k)
    print(f"{' / '.join(k):50} default {a if a is None else round(a, 3)}  candidate {b if b is None else round(b, 3)}")
    if a is not None and b is not None and k[0] in ("vqa", "retrieval") and b < a:
        better = False
print("candidate is better on VQA and retrieval" if better else "candidate is NOT better: the default stays")
if promote and better:
    kept = f"models/clippo-ti16-gen-stage{stage}"
    shutil.rmtree(kept, ignore_errors=True)
    shutil.copytree(f"models/.candidate-{stage}", kept)
    print(f"kept: {kept}; judge it (bash training/judge.sh {kept} OUT) before it replaces {default}")
EOF
