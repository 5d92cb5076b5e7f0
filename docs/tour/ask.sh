#!/usr/bin/env bash
# Asks a running service the nine questions about docs/tour/scene.png (a purple circle, a blue cross, a blue square)
# and prints each answer beside the right one, then how many are right. Used to compare models on the README's scene:
#   dotnet Api/bin/Release/net10.0/VqaApi.dll --urls http://127.0.0.1:5000 --Model:Path=models/NAME &
#   bash docs/tour/ask.sh [http://127.0.0.1:5000]
set -euo pipefail
base=${1:-http://127.0.0.1:5000}
scene="$(dirname "$0")/scene.png"
right=0; total=0
while IFS='|' read -r expected question; do
  answer=$(curl -sf "$base/v1/vqa" -F "image=@$scene" -F "question=$question" |
    python3 -c 'import json,sys; a=json.load(sys.stdin)["answers"][0]; print("%s (%.2f)" % (a["label"], a["score"]))')
  total=$((total + 1)); mark="wrong"
  if [ "${answer%% *}" = "$expected" ]; then right=$((right + 1)); mark="right"; fi
  printf '| %s | %s | %s | %s |\n' "$question" "$expected" "$answer" "$mark"
done <<'QUESTIONS'
count_2|How many blue shapes are there?
color_purple|Welche Farbe hat der Kreis?
count_2|青い図形は何個ありますか？
count_3|How many shapes are there?
shape_circle|What shape is the purple object?
yes|Is there a blue square?
no|Is there a red star?
color_blue|Quelle est la couleur de la croix ?
shape_circle|紫の図形は何の形ですか？
QUESTIONS
echo "$right of $total right"
