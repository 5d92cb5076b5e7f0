#!/usr/bin/env python3
"""Whether an answer restricted to the question's kind would help: on held-out VQA records, the trained VQA head's
accuracy, how often its answer is of the kind the question asks (a count, a colour, a shape, yes/no), how often the
training-only question head (aux_heads.npz, first 5 outputs: the question type) names the right kind, and the accuracy
when the VQA head may only answer within the kind the question head names.

  /usr/bin/python3 training/kind_check.py --state training/state/clippo-mini128-gpu-v9 --world "..." [--extra "--rare-words 1"]

Records: `vqa-generate shard --split heldout --mix vqa=1` in --world, once as trained and once with --extra added
(wordings the model did not train on). Needs the Release generator (dotnet build -c Release GeneratorTool).
"""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clippo.export import config_from_npz, head_logits, load_npz  # noqa: E402
from clippo.model import ClippoViT  # noqa: E402
from probe import GENERATOR, QTYPES, TorchEncoder, canvases, generator_cmd, read_meta  # noqa: E402
from train import ATTRIBUTE_SCALE  # noqa: E402  (the aux heads read the unit embedding times this)
KIND = {"count": "count", "color": "color", "shape": "shape", "exists": "yes/no", "spatial": "yes/no"}


def label_kind(label: str) -> str:
    return {"count": "count", "color": "color", "shape": "shape", "yes": "yes/no", "no": "yes/no"}[label.split("_")[0]]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--state", required=True, help="a folder with ckpt.npz, heads.npz and aux_heads.npz (training/state/ID)")
    ap.add_argument("--world", default="", help="generator flags of the world the model trained in")
    ap.add_argument("--extra", default="--rare-words 1", help="flags added for the second set of records")
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--generator", default=GENERATOR)
    a = ap.parse_args(argv)
    ckpt = os.path.join(a.state, "ckpt.npz")
    model = ClippoViT(config_from_npz(ckpt))
    load_npz(ckpt, model)
    encode = TorchEncoder(model, 128)
    heads, aux = np.load(os.path.join(a.state, "heads.npz")), np.load(os.path.join(a.state, "aux_heads.npz"))
    size = model.cfg.image
    with tempfile.TemporaryDirectory() as folder:
        for name, flags in (("as trained", ""), (f"with {a.extra}", a.extra)):
            out = os.path.join(folder, "records")
            subprocess.run([*generator_cmd(a.generator), "shard", "--seed", str(a.seed), "--split", "heldout", "--size", str(size),
                            "--threads", "2", "--mix", "vqa=1", *shlex.split(a.world), *shlex.split(flags), "--count", str(a.count),
                            "--out", out + ".bin", "--meta", out + ".jsonl"], check=True, capture_output=True)
            meta = read_meta(out + ".jsonl")
            emb = encode(canvases(folder, "records", 0))
            emb /= np.linalg.norm(emb, axis=1, keepdims=True)
            logits = head_logits(heads, "vqa", emb)
            names = {r["labelIndex"]: r["label"] for r in meta}
            classes = np.array(sorted(names))
            kinds = np.array([label_kind(names[c]) for c in classes])
            # Answers the records never have cannot be scored by kind: the head is restricted to the labels seen.
            pred = classes[logits[:, classes].argmax(1)]
            y = np.array([r["labelIndex"] for r in meta])
            asked = np.array([KIND[r["questionType"]] for r in meta])
            answered = kinds[np.searchsorted(classes, pred)]
            qhead = np.array([KIND[t] for t in np.array(QTYPES)[((emb * ATTRIBUTE_SCALE) @ aux["question.weight"].T + aux["question.bias"])[:, :5].argmax(1)]])
            masked = np.array([classes[kinds == qhead[i]][logits[i, classes[kinds == qhead[i]]].argmax()] for i in range(len(meta))])
            print(f"{name}: {len(meta)} questions; VQA head right {np.mean(pred == y):.1%}, its answer of the asked kind "
                  f"{np.mean(answered == asked):.1%}; question head names the asked kind {np.mean(qhead == asked):.1%}; "
                  f"answers restricted to the question head's kind right {np.mean(masked == y):.1%}")
            qt = np.array([r["questionType"] for r in meta])
            for t in QTYPES:
                s = qt == t
                if s.any():
                    print(f"  {t:8s} {s.sum():5d}: head {np.mean(pred[s] == y[s]):.1%}, kind {np.mean(answered[s] == asked[s]):.1%}, "
                          f"question head's kind {np.mean(qhead[s] == asked[s]):.1%}, restricted {np.mean(masked[s] == y[s]):.1%}")


if __name__ == "__main__":
    main()
