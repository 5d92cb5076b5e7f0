#!/usr/bin/env python3
"""How many generated VQA questions do not fit the model's question band?

Draws VQA examples with `vqa-generate preview` (the world given by --world; v9's by default), sends each question with
its scene to a running service's `/v1/render` (VQA layout, `Accept: application/json`) and counts the canvases whose
render report says the text was truncated, by question type and by language.

  python3 training/band_check.py --url http://127.0.0.1:5090 [--count 1200] [--seed 5] [--size 128]

Standard library only (the API does the drawing, so the counts are the served render profile's).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATOR = os.path.join(HERE, "..", "GeneratorTool", "bin", "Release", "net10.0", "vqa-generate.dll")
V9_WORLD = ("--objects 1-5 --emoji-share 0.1 --caption-styles list,sentence,relation,word --count-all 0.3 --other-wordings 0.5 "
            "--scrambled-words 0.2 --filler-words 0.3 --colour-predicates 0.3 --single-attribute-exists 0.5 "
            "--count-distractors 1 --colour-word 0.3")


def render_report(url, question, png):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"question\"\r\n\r\n".encode() + question.encode("utf-8") +
            f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"scene.png\"\r\n"
            "Content-Type: image/png\r\n\r\n".encode() + png + f"\r\n--{boundary}--\r\n".encode())
    request = urllib.request.Request(url.rstrip("/") + "/v1/render", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["report"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True, help="a running VqaApi serving the model whose profile is measured")
    ap.add_argument("--count", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--size", type=int, default=128, help="canvas size of the generated scenes (the model's)")
    ap.add_argument("--world", default=V9_WORLD, help="generator world options")
    ap.add_argument("--generator", default=GENERATOR)
    a = ap.parse_args(argv)
    gen = ["dotnet", a.generator] if a.generator.endswith(".dll") else [a.generator]
    cut = collections.defaultdict(lambda: [0, 0])
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([*gen, "preview", "--count", str(a.count), "--size", str(a.size), "--mix", "vqa=1", "--seed", str(a.seed),
                        *a.world.split(), "--out", d], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(d, "examples.jsonl"), encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        for r in rows:
            with open(os.path.join(d, f"{r['index']:04d}-scene.png"), "rb") as f:
                truncated = render_report(a.url, r["textA"], f.read())["truncated"]
            for key in ("all", "type: " + r["questionType"], "language: " + r["language"]):
                cut[key][0] += truncated
                cut[key][1] += 1
    print(f"{len(rows)} VQA questions (seed {a.seed}, {a.size} px, world: {a.world}) drawn by {a.url}")
    print("| questions | truncated | of | share |")
    print("|---|---:|---:|---:|")
    for key in sorted(cut, key=lambda k: (k != "all", k)):
        n, of = cut[key]
        print(f"| {key} | {n} | {of} | {100 * n / of:.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
