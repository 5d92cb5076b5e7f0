#!/usr/bin/env python3
"""Where a model's answers to one kind of question go wrong: on held-out VQA records of one question type, the trained
VQA head's confusion matrix (true answer by predicted answer) and its accuracy by the number of objects in the scene
and by the size of the object the question is about, for each training state given.

  /usr/bin/python3 training/answer_check.py training/state/clippo-mini128-gpu-v9 training/state/clippo-mini128-sincos-20 \
      --type shape [--world "--objects 1-5 --emoji-share 0.1 --caption-styles list,sentence,relation,word"] [--count 1500]

Each state folder holds ckpt.npz and heads.npz (training/state/ID, or a run's stage folder). The records come from
`vqa-generate shard --split heldout --mix vqa=1 --questions TYPE` (needs the Release generator: dotnet build -c Release
GeneratorTool); every state answers the same records. One torch thread, so that it can run beside a training.
"""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clippo.export import config_from_npz, head_logits, load_npz  # noqa: E402
from clippo.model import ClippoViT  # noqa: E402
from probe import GENERATOR, TorchEncoder, canvases, generator_cmd, read_meta  # noqa: E402

WORLD = "--objects 1-5 --emoji-share 0.1 --caption-styles list,sentence,relation,word"


def subject_radius(record) -> float | None:
    """The radius of the one object the question names by its colour, shape or emoji (None when it names none or several)."""
    subject = record["question"]["subject"] or {}
    keys = [k for k in ("color", "shape", "emoji") if subject.get(k)]
    if not keys:
        return None
    hits = [o for o in record["objects"] if all(o.get(k) == subject[k] for k in keys)]
    return hits[0]["radius"] if len(hits) == 1 else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("states", nargs="+", help="folders with ckpt.npz and heads.npz")
    ap.add_argument("--type", default="shape", choices=["count", "color", "shape", "exists", "spatial"])
    ap.add_argument("--world", default=WORLD, help="generator flags of the world to ask in")
    ap.add_argument("--count", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=77)
    ap.add_argument("--generator", default=GENERATOR)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "records")
        for state in a.states:  # every state is checked before any work
            if not all(os.path.isfile(os.path.join(state, f)) for f in ("ckpt.npz", "heads.npz")):
                sys.exit(f"{state}: no ckpt.npz and heads.npz there")
        sizes = {state: config_from_npz(os.path.join(state, "ckpt.npz")).image for state in a.states}
        if len(set(sizes.values())) > 1:
            sys.exit("the states take canvases of different sizes: " + ", ".join(f"{s} {px} px" for s, px in sizes.items()))
        size = sizes[a.states[0]]
        subprocess.run([*generator_cmd(a.generator), "shard", "--seed", str(a.seed), "--split", "heldout", "--size", str(size),
                        "--threads", "1", "--mix", "vqa=1", *shlex.split(a.world), "--questions", a.type, "--count", str(a.count),
                        "--out", out + ".bin", "--meta", out + ".jsonl"], check=True, capture_output=True)
        meta = read_meta(out + ".jsonl")
        y = np.array([r["labelIndex"] for r in meta])
        names = {r["labelIndex"]: r["label"] for r in meta}
        labels = sorted(names)
        objects = np.array([len(r["objects"]) for r in meta])
        radius = np.array([subject_radius(r) or np.nan for r in meta])
        print(f"{len(meta)} held-out {a.type} questions, {size} px, world: {a.world}")
        for state in a.states:
            ckpt = os.path.join(state, "ckpt.npz")
            model = ClippoViT(config_from_npz(ckpt))
            load_npz(ckpt, model)
            emb = TorchEncoder(model, 128)(canvases(folder, "records", 0))
            emb /= np.linalg.norm(emb, axis=1, keepdims=True)
            heads = np.load(os.path.join(state, "heads.npz"))
            logits = head_logits(heads, "vqa", emb)
            pred = logits.argmax(1)
            print(f"\n## {state}: {np.mean(pred == y):.1%} right")
            short = [names[c].split("_", 1)[1][:7] for c in labels]
            print("| true \\ predicted | " + " | ".join(short) + " | other |")
            print("|---|" + "---:|" * (len(labels) + 1))
            for c, name in zip(labels, short):
                s = y == c
                row = [int(np.sum(pred[s] == d)) for d in labels]
                print(f"| {name} | " + " | ".join(map(str, row)) + f" | {int(s.sum()) - sum(row)} |")
            print("\nby objects in the scene: " + ", ".join(
                f"{k}: {np.mean(pred[objects == k] == y[objects == k]):.0%} ({int(np.sum(objects == k))})"
                for k in sorted(set(objects.tolist()))))
            known = ~np.isnan(radius)
            if known.any():
                median = float(np.median(radius[known]))
                small, large = known & (radius < median), known & (radius >= median)
                print(f"by the named object's radius: below {median:.1f} px {np.mean(pred[small] == y[small]):.0%} ({int(small.sum())}), "
                      f"at or above {np.mean(pred[large] == y[large]):.0%} ({int(large.sum())})")


if __name__ == "__main__":
    main()
