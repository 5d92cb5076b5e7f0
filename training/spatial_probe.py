#!/usr/bin/env python3
"""What the embedding of a spatial question's VQA canvas holds, piece by piece.

A spatial answer ("is the red circle left of the blue square?") needs four things at once: the relation word, which
object the question names, which other object, and where the two lie. This check embeds held-out spatial VQA canvases
with each checkpoint given, freezes the embeddings, and fits a small MLP probe (one hidden layer of 256) for each piece
and for the answer itself, on 7,000 canvases, tested on 1,000 others. A piece the probe cannot read is not in the
embedding; the answer can only be read where every piece is.

  /usr/bin/python3 training/spatial_probe.py CKPT.npz [CKPT.npz ...] [--size 96] [--world "generator world options"]

Data: `vqa-generate shard --meta` (the meta file gives where each object lies, record by record), read with
probe.py's helpers. The default world is the CPU gate's, two objects, spatial
questions only, English and German (training/README.md, "Spatial questions").
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as train.py

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from clippo.export import load_npz  # noqa: E402
from probe import GENERATOR, canvases, generator_cmd, read_meta, run  # noqa: E402
WORLD = ("--objects 2-2 --emoji-share 0 --languages en,de --shapes circle,square,triangle,star "
         "--colors red,orange,yellow,green,blue,purple --plain-scenes --object-scale 2.2 --caption-styles list,sentence,word")
COLOURS = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "black"]
RELATIONS = {"LeftOf": 0, "RightOf": 1, "Above": 2, "Below": 3}


def targets(examples):
    """Per example: the relation, the subject's colour, the other object's colour, whether the subject lies left of and
    above the other (scene coordinates), and the answer."""
    t = {"relation word (4 classes)": [], "colour of the object asked about (8)": [], "colour of the other object (8)": [],
         "object asked about lies left of the other (2)": [], "object asked about lies above the other (2)": [], "answer (2)": []}
    for e in examples:
        q, objs = e["question"], e["objects"]
        s = q["subject"]
        i = next(k for k, o in enumerate(objs) if o["shape"] == s["shape"] and o["color"] == s["color"])
        sub, other = objs[i], objs[1 - i]
        vals = [RELATIONS[q["relation"]], COLOURS.index(sub["color"]), COLOURS.index(other["color"]),
                int(sub["x"] < other["x"]), int(sub["y"] < other["y"]), int(e["label"] == "yes")]
        for k, v in zip(t, vals):
            t[k].append(v)
    return {k: torch.tensor(v) for k, v in t.items()}


def probe(emb, y, fit, seed=0):
    torch.manual_seed(seed)
    k = int(y.max()) + 1
    head = torch.nn.Sequential(torch.nn.Linear(emb.shape[1], 256), torch.nn.ReLU(), torch.nn.Linear(256, k))
    opt = torch.optim.Adam(head.parameters(), 1e-3, weight_decay=1e-4)
    g = torch.Generator().manual_seed(seed)
    for _ in range(2000):
        idx = torch.randint(0, fit, (256,), generator=g)
        loss = F.cross_entropy(head(emb[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float((head(emb[fit:]).argmax(1) == y[fit:]).float().mean())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt", nargs="+", help="big_vision-layout checkpoints (ckpt.npz of a run)")
    ap.add_argument("--size", type=int, default=96, help="canvas size of the checkpoints")
    ap.add_argument("--world", default=WORLD, help="generator world options (spatial questions are added)")
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--generator", default=GENERATOR)
    a = ap.parse_args(argv)
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    fit, n = 7000, 8000
    with tempfile.TemporaryDirectory() as d:
        run([*generator_cmd(a.generator), "shard", "--seed", str(a.seed), "--split", "heldout", "--size", str(a.size), "--mix", "vqa=1",
             *shlex.split(a.world), "--questions", "spatial", "--count", str(n), "--out", os.path.join(d, "spatial.bin"),
             "--meta", os.path.join(d, "spatial.jsonl")])
        examples = read_meta(os.path.join(d, "spatial.jsonl"))
        x = np.array(canvases(d, "spatial", 0))  # a copy: the shard's memory map goes with the folder
    t = targets(examples)
    print(f"{n} spatial VQA canvases ({a.size} px, seed {a.seed}, world {a.world}); MLP probes on the frozen embedding, "
          f"{fit:,} fitted, {n - fit:,} held out")
    rows = {k: [] for k in t}
    for ck in a.ckpt:
        model = load_npz(ck).eval()
        with torch.no_grad():
            emb = torch.cat([model(torch.from_numpy(x[i:i + 250].astype(np.float32) / 127.5 - 1))[0]
                             for i in range(0, n, 250)]) * 10
        for k, y in t.items():
            rows[k].append(probe(emb, y, fit))
        print(f"  probed {ck} ({model.cfg.posemb} position embedding)", flush=True)
    print("\n| held out | " + " | ".join(a.ckpt) + " | majority class |")
    print("|---|" + "---:|" * (len(a.ckpt) + 1))
    for k, accs in rows.items():
        majority = np.bincount(t[k][fit:].numpy()).max() / (n - fit)
        print(f"| {k} | " + " | ".join(f"{v:.3f}" for v in accs) + f" | {majority:.3f} |")


if __name__ == "__main__":
    main()
