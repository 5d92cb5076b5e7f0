#!/usr/bin/env bash
# Measures one model directory the way the bundled default was judged, through the HTTP API on held-out data, and writes
# every report into OUT (the same files a model card's eval/ folder holds):
#   bash training/judge.sh MODEL_DIR OUT [PORT]
#   tour-world.md/json       VQA on 1-3 shapes without emoji, templates, 300 questions per language (3,600), and
#                            image-caption retrieval among 1,000 such scenes in each language
#   other-wordings.md/json   the same scenes asked with --other-wordings 1 (the generator's other wordings)
#   colour-predicates.md/json the same scenes asked with --colour-predicates 1 (a colour said as the predicate where a
#                            question names one: "How many circles are red?"; the others in the templates)
#   single-attribute-exists.md/json existence questions about such scenes that name a shape alone or a colour alone
#                            (--questions exists --single-attribute-exists 1: "Is there a star?", "Is anything red?")
#   count-distractors.md/json count questions about such scenes whose scene always holds an object that is not counted
#                            (--questions count --count-distractors 1: the number of all objects is not the answer)
#   eval.md/json             the full suite on the full world (VQA, entailment, paraphrase, retrieval, zero-shot)
#   paraphrase-check.md/json training/paraphrase_check.py: templates beside users' own words no generator option writes
#   tour-scene.md            the README tour's nine questions (docs/tour/ask.sh)
# Run one model at a time (2 cores: two at once halves both and changes nothing else). It builds Cli, Api and GeneratorTool
# in Release first (each carries its own copy of the generator, and a stale one asks other questions).
set -euo pipefail
MODEL=${1:?model directory}; OUT=${2:?output folder}; PORT=${3:-5093}
cd "$(dirname "$0")/.."
for p in Cli/Cli.csproj Api/Api.csproj GeneratorTool/GeneratorTool.csproj; do dotnet build -c Release -v q -nologo "$p" > /dev/null; done
[ -f "$MODEL/manifest.json" ] || { echo "judge.sh: $MODEL has no manifest.json (not a model directory)" >&2; exit 2; }
mkdir -p "$OUT"
CLI="dotnet Cli/bin/Release/net10.0/vqa.dll"
SMALL="--quick --vqa-per-language 300 --objects 1-3 --emoji-share 0 --caption-styles list,sentence,word"
FOUR="--questions count,color,shape,exists"
tmp=$(mktemp -d)
trap 'kill "${api:-}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
$CLI eval --model "$MODEL" --out "$tmp/tw" $SMALL $FOUR --gallery 1000 > /dev/null
cp "$tmp/tw/eval.md" "$OUT/tour-world.md"; cp "$tmp/tw/eval.json" "$OUT/tour-world.json"
$CLI eval --model "$MODEL" --out "$tmp/ow" $SMALL $FOUR --other-wordings 1 > /dev/null
cp "$tmp/ow/eval.md" "$OUT/other-wordings.md"; cp "$tmp/ow/eval.json" "$OUT/other-wordings.json"
$CLI eval --model "$MODEL" --out "$tmp/cp" $SMALL $FOUR --colour-predicates 1 > /dev/null
cp "$tmp/cp/eval.md" "$OUT/colour-predicates.md"; cp "$tmp/cp/eval.json" "$OUT/colour-predicates.json"
$CLI eval --model "$MODEL" --out "$tmp/se" $SMALL --questions exists --single-attribute-exists 1 > /dev/null
cp "$tmp/se/eval.md" "$OUT/single-attribute-exists.md"; cp "$tmp/se/eval.json" "$OUT/single-attribute-exists.json"
$CLI eval --model "$MODEL" --out "$tmp/cd" $SMALL --questions count --count-distractors 1 > /dev/null
cp "$tmp/cd/eval.md" "$OUT/count-distractors.md"; cp "$tmp/cd/eval.json" "$OUT/count-distractors.json"
$CLI eval --model "$MODEL" --out "$tmp/full" > /dev/null
cp "$tmp/full/eval.md" "$OUT/eval.md"; cp "$tmp/full/eval.json" "$OUT/eval.json"
dotnet Api/bin/Release/net10.0/VqaApi.dll --urls "http://127.0.0.1:$PORT" --Model:Path="$MODEL" --Collections:Root="$tmp/collections" \
  > "$tmp/api.log" 2>&1 &
api=$!
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null 2>&1 && break; sleep 1; done
curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null || { echo "judge.sh: the API did not start:" >&2; cat "$tmp/api.log" >&2; exit 1; }
python3 training/paraphrase_check.py --url "http://127.0.0.1:$PORT" --out "$OUT/paraphrase-check.json" > "$OUT/paraphrase-check.md"
{ echo "| question | right answer | answer (score) | |"; echo "|---|---|---|---|"; bash docs/tour/ask.sh "http://127.0.0.1:$PORT"; } > "$OUT/tour-scene.md"
python3 - "$OUT" <<'EOF'
import json, sys
out = sys.argv[1]
def acc(path, section="vqa", name="accuracy"):
    d = json.load(open(f"{out}/{path}"))
    return {m["group"]: m["value"] for s in d["sections"] if s["id"] == section for m in s["metrics"] if m["name"] == name}
tw, ow, cp, se, cd, full = (acc(f) for f in ("tour-world.json", "other-wordings.json", "colour-predicates.json", "single-attribute-exists.json",
                                            "count-distractors.json", "eval.json"))
print(f"VQA 1-3 shapes, templates   {100 * tw.get('all', 0):.1f}%")
print(f"VQA 1-3 shapes, other words {100 * ow.get('all', 0):.1f}%")
print(f"VQA 1-3 shapes, colour said as the predicate {100 * cp.get('all', 0):.1f}%")
print(f"VQA 1-3 shapes, existence of a shape or a colour alone {100 * se.get('all', 0):.1f}% (both named: {100 * tw.get('type: exists', 0):.1f}%)")
print(f"VQA 1-3 shapes, counts with an object not counted {100 * cd.get('all', 0):.1f}% (templates' counts: {100 * tw.get('type: count', 0):.1f}%)")
print(f"VQA full world              {100 * full.get('all', 0):.1f}%")
print(f"entailment full world       {100 * acc('eval.json', 'entailment').get('all', 0):.1f}%")
for path, world in (("tour-world.json", "1-3 shapes"), ("eval.json", "full world")):
    r = acc(path, "retrieval", "caption→image R@1")
    if r:
        print(f"caption→image R@1 among 1,000, {world}: {100 * min(r.values()):.1f}% ({min(r, key=r.get)}) - {100 * max(r.values()):.1f}% ({max(r, key=r.get)})")
for line in open(f"{out}/paraphrase-check.md"):
    if line.startswith("| **all"):
        cells = [c.strip(" *") for c in line.split("|")]
        print(f"paraphrase check: {cells[1]:60} {cells[3]:>7} of {cells[4]}")
print(open(f"{out}/tour-scene.md").read().strip().splitlines()[-1])
EOF
