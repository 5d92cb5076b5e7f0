#!/usr/bin/env python3
"""What an encoder's embedding knows about the generated world, beside the same numbers for its untrained
initialisation.

  /usr/bin/python3 training/probe.py --model models/clippo-ti16-gen                 # a model directory (through the .NET CLI)
  /usr/bin/python3 training/probe.py --state runs/gate/state.pt --world "--objects 1-2 --languages en,de ..."
  /usr/bin/python3 training/probe.py --ckpt runs/x/ckpt.npz

Data: held-out generator records drawn here with `vqa-generate shard --meta` (and `words`), in the world given by
--world (generator flags; the full world by default) at the model's canvas size. Measurements:

- linear probes (ridge regression, 5-fold cross-validation) on the embedding of the scene image and, separately,
  of its caption canvas: the number of objects, whether an emoji is present, and whether each colour and each shape
  is present (balanced accuracy, chance 0.5). On the caption side a same-language probe can be high at
  initialisation when the world has few distinct captions (every canvas is linearly separable), so:
- cross-language probes: fitted on one language's caption embeddings, tested on another's;
- zero-shot: an image of one plain shape against the rendered colour words and shape words of each language
  (`vqa-generate words`), and against the average embedding of one-object captions per colour or shape;
- where things are: for each colour, on the scenes with exactly one object of it, whether that object lies in the left
  half and in the upper half (a probe per colour, balanced accuracy): a colour bound to a place, which spatial
  questions need and presence alone does not give; from the image embedding and from the VQA canvas's;
- the VQA canvas: question type and answer, by probe, and by the trained VQA head when --state has one.

Every number is printed beside the untrained baseline (the same architecture at its initialisation, seed 0),
unless --no-baseline. --json FILE writes them all.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

# Before torch loads libgomp: its idle worker threads would otherwise spin after every parallel region and take the
# cores from the BLAS library's own threads (Debian's PyTorch calls OpenBLAS), which halved the speed of a CPU training
# step on the 2-core build machine (a mini-model step of 64 records: 0.81 s spinning, 0.41 s passive; training/README.md).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clippo.data import ShardFile  # noqa: E402
from clippo.export import config_from_npz, load_npz  # noqa: E402
from clippo.model import ClippoViT, ViTConfig  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
GENERATOR = os.path.join(REPO, "GeneratorTool", "bin", "Release", "net10.0", "vqa-generate.dll")
CLI = os.path.join(REPO, "Cli", "bin", "Release", "net10.0", "vqa.dll")
COLORS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "black")
SHAPES = ("circle", "square", "triangle", "star", "heart", "diamond", "hexagon", "cross")
QTYPES = ("count", "color", "shape", "exists", "spatial")
LANGS = ("en", "de", "fr", "es", "ru", "ar", "he", "hi", "th", "zh", "ja", "ko")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_argument_group("the encoder (one of)")
    src.add_argument("--model", help="a model directory (encoder.onnx + manifest.json), embedded through the .NET CLI")
    src.add_argument("--ckpt", help="a big_vision-layout .npz (ours or released)")
    src.add_argument("--state", help="a trainer state.pt (or its run directory): the encoder and its trained heads")
    ap.add_argument("--world", default="", help="generator flags for the world the data is drawn from, e.g. "
                                               "\"--objects 1-2 --emoji-share 0 --languages en,de\" (default: the full world)")
    ap.add_argument("--seed", type=int, default=777, help="generator seed of the held-out data")
    ap.add_argument("--captions", type=int, default=2000, help="caption records (image and caption probes)")
    ap.add_argument("--vqa", type=int, default=1000, help="VQA records")
    ap.add_argument("--singles", type=int, default=800, help="one-object scenes (zero-shot)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the untrained baseline")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--data", help="keep the generated data in this folder (reused when it is already there)")
    ap.add_argument("--generator", default=GENERATOR, help="vqa-generate.dll (dotnet) or a self-contained vqa-generate")
    ap.add_argument("--cli", default=CLI, help="vqa.dll (the Cli build), for --model")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--batch", type=int, default=128)
    a = ap.parse_args(argv)
    if sum(x is not None for x in (a.model, a.ckpt, a.state)) != 1:
        ap.error("give exactly one of --model, --ckpt or --state")
    return a


# ---- data -------------------------------------------------------------------------------------------------------

def generator_cmd(path):
    return ["dotnet", path] if path.endswith(".dll") else [path]


def make_data(args, size, folder):
    """Shards + meta of the held-out split, drawn by the generator (skipped when present)."""
    world = shlex.split(args.world)
    # Captions that describe the whole scene: the "word" style (one attribute named) is left out of the probe data.
    for i in range(len(world) - 1):
        if world[i] == "--caption-styles":
            world[i + 1] = ",".join(x for x in world[i + 1].split(",") if x != "word") or "list,sentence"
    gen = generator_cmd(args.generator)
    common = ["--seed", str(args.seed), "--split", "heldout", "--size", str(size), "--threads", "2"]
    # One-object scenes: the world's shapes, colours, languages and object size, plain, no emoji.
    keep = []
    i = 0
    while i < len(world):
        if world[i] in ("--shapes", "--colors", "--languages", "--object-scale", "--separation"):
            keep += world[i:i + 2]
            i += 2
        else:
            i += 1
    jobs = {
        "captions": (["--mix", "caption=1", *world], args.captions),
        "vqa": (["--mix", "vqa=1", *world], args.vqa),
        "singles": (["--mix", "caption=1", *keep, "--objects", "1-1", "--emoji-share", "0", "--plain-scenes", "--caption-styles", "list,sentence"], args.singles),
    }
    for name, (flags, count) in jobs.items():
        out = os.path.join(folder, name + ".bin")
        if not os.path.exists(out):
            run([*gen, "shard", *common, *flags, "--count", str(count), "--out", out, "--meta", os.path.join(folder, name + ".jsonl")])
    out = os.path.join(folder, "words.bin")
    if not os.path.exists(out):
        langs = sorted({m["language"] for m in read_meta(os.path.join(folder, "captions.jsonl"))})
        run([*gen, "words", "--size", str(size), "--languages", ",".join(langs), "--out", out, "--meta", os.path.join(folder, "words.jsonl")])


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")


def read_meta(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def canvases(folder, name, which):
    """uint8 [N, S, S, 3] canvas A (which=0) or B (which=1) of a shard."""
    sf = ShardFile(os.path.join(folder, name + ".bin"))
    rh, s = sf.header.record_header, sf.header.size
    c = s * s * 3
    return sf.records[:, rh + which * c: rh + (which + 1) * c].reshape(-1, s, s, 3)


# ---- encoders ---------------------------------------------------------------------------------------------------

class TorchEncoder:
    def __init__(self, model, batch):
        self.model, self.batch = model.eval(), batch

    @torch.no_grad()
    def __call__(self, u8):
        out = []
        for i in range(0, len(u8), self.batch):
            x = torch.from_numpy(np.ascontiguousarray(u8[i:i + self.batch])).float().mul_(1 / 127.5).sub_(1)
            out.append(self.model(x)[0].numpy())
        return np.concatenate(out)


class CliEncoder:
    """The served encoder (encoder.onnx) through `vqa embed --tensor`: exactly what the API computes."""

    def __init__(self, model_dir, cli, batch=256):
        self.model_dir, self.cli, self.batch = model_dir, cli, batch
        if not os.path.exists(cli):
            raise SystemExit(f"{cli} is missing: dotnet build -c Release VqaApi.sln")

    def __call__(self, u8):
        out = []
        with tempfile.TemporaryDirectory() as d:
            for i in range(0, len(u8), self.batch):
                x = np.ascontiguousarray(u8[i:i + self.batch]).astype(np.float32) / 127.5 - 1
                np.save(os.path.join(d, "x.npy"), x)
                run(["dotnet", self.cli, "embed", "--model", self.model_dir, "--tensor", os.path.join(d, "x.npy"),
                     "--out", os.path.join(d, "e.npy")])
                out.append(np.load(os.path.join(d, "e.npy")))
        return np.concatenate(out)


def model_dir_config(path):
    with open(os.path.join(path, "manifest.json")) as f:
        a = json.load(f)["architecture"]
    return ViTConfig(width=a["width"], depth=a["depth"], heads=a["heads"], mlp_dim=a["mlpDim"], patch=a["patchSize"],
                     image=a["imageSize"], out_dim=a.get("outDim"), pool=a.get("pool", "map"))


def load_encoder(args):
    """(encoder, config, heads or None) for the one given source."""
    if args.model:
        return CliEncoder(args.model, args.cli), model_dir_config(args.model), None
    if args.ckpt:
        cfg = config_from_npz(args.ckpt)
        m = ClippoViT(cfg)
        load_npz(args.ckpt, m)
        return TorchEncoder(m, args.batch), cfg, None
    path = os.path.join(args.state, "state.pt") if os.path.isdir(args.state) else args.state
    st = torch.load(path, map_location="cpu")
    cfg = ViTConfig(**st["config"])
    m = ClippoViT(cfg)
    m.load_state_dict(st["model"])
    heads = None
    if st.get("vqa_classes"):
        import torch.nn as nn
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from train import make_head  # noqa: E402
        heads = nn.ModuleDict({"vqa": make_head(cfg.embed_dim, st["vqa_classes"], st.get("head_hidden", 0)),
                               "pair": make_head(cfg.embed_dim, st["pair_classes"], st.get("head_hidden", 0))})
        heads.load_state_dict(st["heads"], strict=False)
        heads.eval()
    return TorchEncoder(m, args.batch), cfg, heads


# ---- probes -----------------------------------------------------------------------------------------------------

def ridge_fit(x, y_onehot, lam):
    mu, sd = x.mean(0), x.std(0) + 1e-6
    z = (x - mu) / sd
    z = np.hstack([z, np.ones((len(z), 1))])
    a = z.T @ z + lam * np.eye(z.shape[1])
    a[-1, -1] -= lam  # no penalty on the bias
    w = np.linalg.solve(a, z.T @ y_onehot)
    return mu, sd, w


def ridge_predict(model, x):
    mu, sd, w = model
    z = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    return (z @ w).argmax(1)


def score(pred, y, balanced):
    if not balanced:
        return float((pred == y).mean())
    return float(np.mean([(pred[y == c] == c).mean() for c in np.unique(y)]))


def cv_probe(x, y, folds=5, lam=10.0, balanced=False, seed=0):
    """5-fold cross-validated accuracy of a ridge classifier (balanced accuracy for binary targets)."""
    classes = np.unique(y)
    if len(classes) < 2:
        return None
    yi = np.searchsorted(classes, y)
    order = np.random.default_rng(seed).permutation(len(x))
    parts = np.array_split(order, folds)
    pred = np.empty(len(x), dtype=int)
    for k in range(folds):
        test = parts[k]
        train = np.concatenate([parts[j] for j in range(folds) if j != k])
        oh = np.eye(len(classes))[yi[train]]
        pred[test] = ridge_predict(ridge_fit(x[train], oh, lam), x[test])
    return score(pred, yi, balanced)


def transfer_probe(xa, ya, xb, yb, lam=10.0, balanced=True):
    classes = np.unique(np.concatenate([ya, yb]))
    if len(np.unique(ya)) < 2 or len(np.unique(yb)) < 2:
        return None
    oh = np.eye(len(classes))[np.searchsorted(classes, ya)]
    pred = ridge_predict(ridge_fit(xa, oh, lam), xb)
    return score(pred, np.searchsorted(classes, yb), balanced)


def scene_targets(meta):
    """Per record with a scene: object count, emoji present, colour / shape presence, and presence of each colour-shape
    pair that at least 2% of the records show (which colour goes with which shape)."""
    t = {"objects": np.array([len(m["objects"]) for m in meta]),
         "emoji": np.array([any(o["emoji"] is not None for o in m["objects"]) for m in meta], dtype=int)}
    for c in COLORS:
        t["color:" + c] = np.array([any(o["color"] == c for o in m["objects"]) for m in meta], dtype=int)
    for s in SHAPES:
        t["shape:" + s] = np.array([any(o["shape"] == s for o in m["objects"]) for m in meta], dtype=int)
    for c in COLORS:
        for s in SHAPES:
            v = np.array([any(o["color"] == c and o["shape"] == s for o in m["objects"]) for m in meta], dtype=int)
            if v.sum() >= 0.02 * len(meta):
                t[f"pair:{c} {s}"] = v
    return t


def position_targets(meta, size):
    """Where each colour is: for the records whose scene holds exactly one object of colour c, whether it lies in the left
    half ("left:c") and in the upper half ("top:c"), with the records' indices. A probe for these must bind a colour to a
    place, which spatial questions need; presence alone does not tell it."""
    out = {}
    half = size / 2
    for c in COLORS:
        idx, left, top = [], [], []
        for i, m in enumerate(meta):
            objs = [o for o in m["objects"] if o["color"] == c and o["emoji"] is None]
            if len(objs) == 1 and sum(o["color"] == c for o in m["objects"]) == 1:
                idx.append(i)
                left.append(int(objs[0]["x"] < half))
                top.append(int(objs[0]["y"] < half))
        if len(idx) >= 40:
            out[c] = (np.array(idx), np.array(left), np.array(top))
    return out


def probe_positions(emb, targets):
    """{'left': (mean, min, max, n), 'top': ...}: balanced accuracy of a probe per colour, on its own records."""
    out = {}
    for k, key in ((1, "left"), (2, "top")):
        vals = [cv_probe(emb[t[0]], t[k], balanced=True) for t in targets.values()]
        vals = [v for v in vals if v is not None]
        if vals:
            out[key] = {"mean": float(np.mean(vals)), "min": float(np.min(vals)), "max": float(np.max(vals)), "n": len(vals)}
    return out


def probe_scene_side(emb, targets):
    """{'objects': acc, 'emoji': bal.acc, 'colors': (mean, min, max, n), 'shapes': (...)}, skipping constant targets."""
    out = {}
    for name in ("objects", "emoji"):
        v = cv_probe(emb, targets[name], balanced=name != "objects")
        if v is not None:
            out[name] = v
    for group in ("color", "shape", "pair"):
        vals = [cv_probe(emb, targets[k], balanced=True) for k in targets if k.startswith(group + ":")]
        vals = [v for v in vals if v is not None]
        if vals:
            out[group + "s"] = {"mean": float(np.mean(vals)), "min": float(np.min(vals)), "max": float(np.max(vals)), "n": len(vals)}
    return out


def cross_language(emb, targets, langs):
    """Caption side: fit on one language, test on another (colour and shape presence, object count)."""
    codes = sorted((c for c in dict.fromkeys(langs) if (langs == c).sum() >= 40), key=lambda c: LANGS.index(c) if c in LANGS else 99)
    out = {}
    if len(codes) < 2:
        return out
    # Fit on the first language (English when present), test on every other, and back.
    pairs = [(codes[0], b) for b in codes[1:]] + [(b, codes[0]) for b in codes[1:]]
    for a, b in pairs:
        sa, sb = langs == a, langs == b
        res = {}
        for group in ("color", "shape"):
            vals = [transfer_probe(emb[sa], targets[k][sa], emb[sb], targets[k][sb]) for k in targets if k.startswith(group + ":")]
            vals = [v for v in vals if v is not None]
            if vals:
                res[group + "s"] = float(np.mean(vals))
        v = transfer_probe(emb[sa], targets["objects"][sa], emb[sb], targets["objects"][sb], balanced=False)
        if v is not None:
            res["objects"] = v
        out[f"{a}->{b}"] = res
    return out


def zero_shot(img, cap, single_meta, words, word_meta):
    """Per language: accuracy of the colour (shape) of one plain shape, by the nearest rendered word and by the
    nearest average of one-object caption embeddings (captions of the other half of the scenes)."""
    colors = np.array([m["objects"][0]["color"] for m in single_meta])
    shapes = np.array([m["objects"][0]["shape"] for m in single_meta])
    langs = np.array([m["language"] for m in single_meta])
    half = np.arange(len(single_meta)) % 2 == 0  # prototypes from even records, tested on odd ones
    out = {}
    for lang in dict.fromkeys(m["language"] for m in word_meta):
        res = {}
        for group, truth, names in (("color", colors, COLORS), ("shape", shapes, SHAPES)):
            present = [n for n in names if (truth == n).any()]
            wv = []
            for n in present:
                k = [i for i, m in enumerate(word_meta) if m["language"] == lang and m["answer"] == f"{group}_{n}"]
                wv.append(words[k[0]])
            sims = img @ np.stack(wv).T
            pred = np.array(present)[sims.argmax(1)]
            res[f"{group}_words"] = float((pred == truth).mean())
            protos = []
            for n in present:
                sel = half & (truth == n) & (langs == lang)
                protos.append(cap[sel].mean(0) if sel.any() else np.zeros(cap.shape[1]))
            p = np.stack(protos)
            p /= np.linalg.norm(p, axis=1, keepdims=True) + 1e-9
            pred = np.array(present)[(img[~half] @ p.T).argmax(1)]
            res[f"{group}_captions"] = float((pred == truth[~half]).mean())
            res[f"{group}_chance"] = 1.0 / len(present)
        out[lang] = res
    return out


def vqa_probes(emb, meta, heads):
    qtype = np.array([m["questionType"] for m in meta])
    answer = np.array([m["labelIndex"] for m in meta])
    out = {"question_type": cv_probe(emb, qtype), "answer": cv_probe(emb, answer)}
    # What the question asks about (its subject's colour and shape, "none" when it names none), read from the band.
    subject = [m.get("question", {}).get("subject") or {} for m in meta]
    out["question_color"] = cv_probe(emb, np.array([str(s.get("color")) for s in subject]))
    out["question_shape"] = cv_probe(emb, np.array([str(s.get("shape")) for s in subject]))
    per = {}
    for t in QTYPES:
        sel = qtype == t
        if sel.sum() >= 20:
            per[t] = cv_probe(emb[sel], answer[sel])
    out["answer_by_type"] = per
    if heads is not None:
        with torch.no_grad():
            pred = heads["vqa"](torch.from_numpy(emb).float()).argmax(-1).numpy()
        out["head_accuracy"] = float((pred == answer).mean())
        out["head_by_type"] = {t: float((pred[qtype == t] == answer[qtype == t]).mean()) for t in QTYPES if (qtype == t).any()}
        out["head_by_language"] = {l: float((pred[np.array([m["language"] for m in meta]) == l] == answer[np.array([m["language"] for m in meta]) == l]).mean())
                                   for l in dict.fromkeys(m["language"] for m in meta)}
    return out


def measure(encode, folder, heads, log):
    cap_meta = read_meta(os.path.join(folder, "captions.jsonl"))
    t = time.monotonic()
    img = encode(canvases(folder, "captions", 0))
    cap = encode(canvases(folder, "captions", 1))
    log(f"  embedded {2 * len(cap_meta)} caption-record canvases in {time.monotonic() - t:.0f} s")
    targets = scene_targets(cap_meta)
    langs = np.array([m["language"] for m in cap_meta])
    size = ShardFile(os.path.join(folder, "captions.bin")).header.size  # scenes are drawn at the canvas size; objects' x, y are in its pixels
    positions = position_targets(cap_meta, size)
    res = {"image": probe_scene_side(img, targets) | {"positions": probe_positions(img, positions)},
           "caption": probe_scene_side(cap, targets),
           "cross_language": cross_language(cap, targets, langs),
           "objects_majority": float(np.bincount(targets["objects"]).max() / len(targets["objects"]))}
    s_meta = read_meta(os.path.join(folder, "singles.jsonl"))
    w_meta = read_meta(os.path.join(folder, "words.jsonl"))
    res["zero_shot"] = zero_shot(encode(canvases(folder, "singles", 0)), encode(canvases(folder, "singles", 1)), s_meta,
                                 encode(canvases(folder, "words", 0)), w_meta)
    v_meta = read_meta(os.path.join(folder, "vqa.jsonl"))
    v_emb = encode(canvases(folder, "vqa", 0))
    res["vqa"] = vqa_probes(v_emb, v_meta, heads)
    res["vqa"]["scene"] = probe_scene_side(v_emb, scene_targets(v_meta))  # the image inside the VQA canvas
    res["vqa"]["scene"]["positions"] = probe_positions(v_emb, position_targets(v_meta, size))
    res["counts"] = {"captions": len(cap_meta), "singles": len(s_meta), "vqa": len(v_meta), "languages": sorted(set(langs))}
    return res


# ---- report -----------------------------------------------------------------------------------------------------

def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, dict) and "mean" in v:
        return f"{v['mean']:.2f} ({v['min']:.2f}-{v['max']:.2f})"
    return f"{v:.2f}"


def report(res, base):
    rows = []

    def row(what, a, b, chance=""):
        rows.append(f"| {what} | {fmt(a)} | {fmt(b) if base is not None else ''} | {chance} |")

    g = (lambda *path: _get(base, path)) if base is not None else (lambda *path: None)
    for side in ("image", "caption"):
        r = res[side]
        row(f"{side}: number of objects (probe)", r.get("objects"), g(side, "objects"),
            f"{res['objects_majority']:.2f}" if "objects_majority" in res else "majority")
        row(f"{side}: emoji present (probe, balanced)", r.get("emoji"), g(side, "emoji"), "0.50")
        row(f"{side}: each colour present (probe, balanced; mean, min-max)", r.get("colors"), g(side, "colors"), "0.50")
        row(f"{side}: each shape present (probe, balanced; mean, min-max)", r.get("shapes"), g(side, "shapes"), "0.50")
        row(f"{side}: each colour-shape pair present (probe, balanced; mean, min-max)", r.get("pairs"), g(side, "pairs"), "0.50")
        if side == "image":
            for key, where in (("left", "in the left half"), ("top", "in the upper half")):
                row(f"image: each colour's one object {where} (probe per colour, balanced; mean, min-max)",
                    r.get("positions", {}).get(key), g(side, "positions", key), "0.50")
    order = {c: i for i, c in enumerate(LANGS)}
    sources = sorted({p.split("->")[0] for p in res["cross_language"]}, key=lambda c: order.get(c, 99))
    for src in sources:
        pairs = [p for p in res["cross_language"] if p.startswith(src + "->")]
        for group, label in (("colors", "colours"), ("shapes", "shapes")):
            vals = [res["cross_language"][p].get(group) for p in pairs]
            bvals = [g("cross_language", p, group) for p in pairs]
            mean = lambda xs: None if not xs or any(x is None for x in xs) else float(np.mean(xs))  # noqa: E731
            targets = ", ".join(p.split("->")[1] for p in pairs)
            row(f"caption, cross-language: fit on {src}, tested on {targets}: {label} (mean)", mean(vals), mean(bvals) if base is not None else None, "0.50")
    for lang in sorted(res["zero_shot"], key=lambda c: order.get(c, 99)):
        r = res["zero_shot"][lang]
        four = lambda z: None if not z else " / ".join(f"{z[k]:.2f}" for k in ("color_words", "shape_words", "color_captions", "shape_captions"))  # noqa: E731
        rows.append(f"| zero-shot {lang}: colour words / shape words / colour, averaged captions / shape, averaged captions | "
                    f"{four(r)} | {four(g('zero_shot', lang)) or ''} | {r['color_chance']:.2f} / {r['shape_chance']:.2f} |")
    v = res["vqa"]
    for key, what in (("objects", "number of objects"), ("colors", "each colour present"), ("shapes", "each shape present"),
                      ("pairs", "each colour-shape pair present")):
        row(f"VQA canvas, its image: {what} (probe{'' if key == 'objects' else ', balanced; mean, min-max'})",
            v.get("scene", {}).get(key), g("vqa", "scene", key), "" if key == "objects" else "0.50")
    for key, where in (("left", "in the left half"), ("top", "in the upper half")):
        row(f"VQA canvas, its image: each colour's one object {where} (probe per colour, balanced; mean, min-max)",
            v.get("scene", {}).get("positions", {}).get(key), g("vqa", "scene", "positions", key), "0.50")
    row("VQA canvas: question type (probe)", v["question_type"], g("vqa", "question_type"))
    row("VQA canvas: question's subject colour, incl. none named (probe)", v.get("question_color"), g("vqa", "question_color"))
    row("VQA canvas: question's subject shape, incl. none named (probe)", v.get("question_shape"), g("vqa", "question_shape"))
    row("VQA canvas: answer (probe)", v["answer"], g("vqa", "answer"))
    for t, a in v["answer_by_type"].items():
        row(f"VQA canvas: answer, {t} questions (probe)", a, g("vqa", "answer_by_type", t))
    if "head_accuracy" in v:
        row("VQA: trained head, all", v["head_accuracy"], None)
        for t, a in v["head_by_type"].items():
            row(f"VQA: trained head, {t}", a, None)
        for l, a in v["head_by_language"].items():
            row(f"VQA: trained head, {l}", a, None)
    head = "| measurement | model | untrained | chance |\n|---|---:|---:|---:|"
    return head + "\n" + "\n".join(rows)


def _get(d, path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    encode, cfg, heads = load_encoder(args)
    folder = args.data or tempfile.mkdtemp(prefix="probe-")
    os.makedirs(folder, exist_ok=True)
    log(f"data: {folder} ({cfg.image} px, world: {args.world or 'full'})")
    make_data(args, cfg.image, folder)
    log("measuring the model ...")
    res = measure(encode, folder, heads, log)
    base = None
    if not args.no_baseline:
        log("measuring the untrained initialisation ...")
        torch.manual_seed(0)
        base = measure(TorchEncoder(ClippoViT(cfg), args.batch), folder, None, log)
    table = report(res, base)
    print(table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"source": args.model or args.ckpt or args.state, "world": args.world, "seed": args.seed,
                       "model": res, "untrained": base, "table": table}, f, indent=1)
    if not args.data:
        import shutil
        shutil.rmtree(folder, ignore_errors=True)
    return res, base


if __name__ == "__main__":
    main()
