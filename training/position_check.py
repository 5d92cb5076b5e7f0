#!/usr/bin/env python3
"""Can an encoder learn where things are, with nothing else to learn?

Spatial questions stayed at chance in every model (training/README.md, "Spatial questions"): the image embedding does
not say where each colour is. This check trains a checkpoint's encoder (or the same architecture from scratch) with the
position loss alone (train.py --position-weight's loss: from the embedding, whether the one object of a unique colour
lies in the left half and in the upper half; record byte 31, docs/generator-format.md), on canvases of one kind of
record, and prints the loss and accuracy on held-out canvases as it goes (both halves right, and each half alone).
Chance: loss ln 2 = 0.693, both halves 0.25, each half 0.5.

  /usr/bin/python3 training/position_check.py --ckpt training/state/clippo-mini128-gpu-v9/ckpt.npz [--kind caption|vqa]
  /usr/bin/python3 training/position_check.py --ckpt training/state/clippo-mini128-gpu-v9/ckpt.npz --scratch [--posemb sincos2d]
  /usr/bin/python3 training/position_check.py --ckpt training/state/clippo-mini128-sincos-5/ckpt.npz --kind both --frames shared|separate

Data: `vqa-generate shard` of 5,000 records of the kind asked (2-object scenes, no emoji, spatial questions), the
first 500 held out. AdamW at --lr, no clipping, batch 64.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as train.py: libgomp's spinning threads halve a CPU step

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train  # noqa: E402
from clippo.data import ShardFile  # noqa: E402
from clippo.export import config_from_npz, load_npz  # noqa: E402
from clippo.model import POSEMBS, ClippoViT  # noqa: E402

GENERATOR = os.path.join(HERE, "..", "GeneratorTool", "bin", "Release", "net10.0", "vqa-generate.dll")
KINDS = {"caption": (0,), "vqa": (2,), "both": (0, 2)}


def mirror_cosines(model):
    """Mean cosine between the position embeddings of mirrored columns (same row) and of mirrored rows (same column), and
    of neighbouring columns and rows."""
    g = model.cfg.image // model.cfg.patch
    pe = model.pos_embedding.detach()[0].reshape(g, g, -1)
    pe = pe / pe.norm(dim=-1, keepdim=True)
    cols = (pe[:, : g // 2] * pe.flip(1)[:, : g // 2]).sum(-1).mean()
    rows = (pe[: g // 2] * pe.flip(0)[: g // 2]).sum(-1).mean()
    beside_cols = (pe[:, :-1] * pe[:, 1:]).sum(-1).mean()
    beside_rows = (pe[:-1] * pe[1:]).sum(-1).mean()
    return float(cols), float(rows), float(beside_cols), float(beside_rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True, help="a big_vision-layout .npz: its weights, or only its architecture with --scratch")
    ap.add_argument("--scratch", action="store_true", help="the checkpoint's architecture at its initialisation")
    ap.add_argument("--posemb", choices=POSEMBS, default=None,
                    help="the position embedding (default: the checkpoint's); sincos2d on a checkpoint with a learned one replaces it")
    ap.add_argument("--kind", choices=sorted(KINDS), default="caption",
                    help="caption: the scene image; vqa: the VQA canvas; both: half of each")
    ap.add_argument("--frames", choices=("separate", "shared"), default="separate",
                    help="with --kind both: the trainer's logits for each frame (separate), or one set for both canvas kinds "
                         "(shared, as the trainer had it before 2026-12-07)")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--seed", type=int, default=11, help="generator seed of the records")
    ap.add_argument("--generator", default=GENERATOR)
    a = ap.parse_args(argv)
    torch.manual_seed(0)
    cfg = config_from_npz(a.ckpt)
    if a.posemb:
        cfg = dataclasses.replace(cfg, posemb=a.posemb)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "records.bin")
        gen = ["dotnet", a.generator] if a.generator.endswith(".dll") else [a.generator]
        mix = ",".join(f"{k}=1" for k in (("caption", "vqa") if a.kind == "both" else (a.kind,)))
        subprocess.run([*gen, "shard", "--seed", str(a.seed), "--split", "train", "--size", str(cfg.image), "--mix", mix,
                        "--objects", "2-2", "--emoji-share", "0", "--questions", "spatial", "--count", "5000", "--out", path],
                       check=True, stdout=subprocess.DEVNULL)
        sf = ShardFile(path)
        rh, size = sf.header.record_header, sf.header.size
        raw = sf.records  # a memory map of the file: copy out what is needed before it goes
        where = np.array(raw[:, 31])
        kinds = np.array(raw[:, 0])
        keep = np.flatnonzero(((where & 0x80) > 0) & np.isin(kinds, KINDS[a.kind]))
        # The frame of each canvas: 0 where the scene fills it, 1 for a VQA canvas (train.position_loss).
        frame = (kinds[keep] == 2).astype(np.int64) if a.frames == "separate" else np.zeros(len(keep), np.int64)
        x = np.ascontiguousarray(raw[keep, rh:rh + size * size * 3]).reshape(-1, size, size, 3)
        # Image-caption records: the first 64 captions (canvas B), for the gradient comparison below.
        captions = np.ascontiguousarray(raw[keep[:64], rh + size * size * 3:]).reshape(-1, size, size, 3) if a.kind == "caption" else None
        is_vqa = kinds[keep] == 2
        del raw, sf
    w = torch.from_numpy(where[keep].copy())
    f = torch.from_numpy(frame)
    held = 500
    xt, wt, ft, xv, wv, fv, vv = x[held:], w[held:], f[held:], x[:held], w[:held], f[:held], torch.from_numpy(is_vqa[:held])

    def canvases(u8):
        return torch.from_numpy(u8.astype(np.float32) / 127.5 - 1.0)

    model = ClippoViT(cfg)
    if not a.scratch:
        load_npz(a.ckpt, model)
    cols, rows, beside_cols, beside_rows = mirror_cosines(model)
    print(f"position embedding: mean cosine of column j to column G-1-j {cols:.2f}, of row i to row G-1-i {rows:.2f}; "
          f"of neighbouring columns {beside_cols:.2f}, rows {beside_rows:.2f} (a grid mirrored left to right looks alike where the first is high)")
    head = train.make_head(cfg.embed_dim, train.POSITION_OUTPUTS, 0)
    if captions is not None:
        # What the trainer's mixed objective meets: the gradient each loss sends into the encoder on the same 64 records,
        # the contrastive one at the checkpoint's temperature, the position one through a fresh head.
        def encoder_gradient(loss):
            model.zero_grad()
            loss.backward(retain_graph=True)
            return float(torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters() if p.grad is not None)))
        emb = model(canvases(x[:64]))[0].float()
        contrast, _ = train.contrastive_loss(emb, model(canvases(captions))[0].float(), model.t.exp())
        where_loss, _ = train.position_loss(head(emb * train.ATTRIBUTE_SCALE), w[:64], f[:64])
        gc, gw = encoder_gradient(contrast), encoder_gradient(where_loss)
        model.zero_grad()
        head.zero_grad()
        print(f"gradient into the encoder on 64 image-caption records: contrastive loss (temperature {float(model.t.exp()):.0f}) "
              f"{gc:.3f}, position loss {gw:.4f} ({gc / max(gw, 1e-12):.0f} times smaller)")
    opt = torch.optim.AdamW(list(model.parameters()) + list(head.parameters()), lr=a.lr, weight_decay=0.0)

    def held_out():
        """Loss, both halves right, left half right, upper half right (on the held-out canvases); with --kind both also
        the upper half on scene canvases and on VQA canvases."""
        model.eval()
        with torch.no_grad():
            emb = torch.cat([model(canvases(xv[i:i + 100]))[0] for i in range(0, held, 100)])
            logits = head(emb.float() * train.ATTRIBUTE_SCALE)
            loss, acc = train.position_loss(logits, wv, fv)
            _, pick, target = train.position_picks(logits, wv, fv)  # every held-out byte is known
            left, upper = ((pick > 0).float() == target).unbind(1)
        model.train()
        parts = [float(upper[~vv].float().mean()), float(upper[vv].float().mean())] if a.kind == "both" else []
        return (float(loss), float(acc), float(left.float().mean()), float(upper.float().mean()), *parts)

    source = f"{a.ckpt} {'(architecture only, from scratch)' if a.scratch else ''}".strip() + f", {cfg.posemb} position embedding"
    both = a.kind == "both"
    frames = f", {a.frames} frames" if both else ""
    print(f"{source}: position loss alone on {a.kind} canvases{frames} ({len(xt)} training, {held} held out), lr {a.lr}")
    extra = " upper: scene canvases | upper: VQA canvases |" if both else ""
    print("| step | training loss | held-out loss | held-out: both halves right | left half right | upper half right |" + extra + " seconds |")
    print("|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if both else "") + "---:|")
    t0 = time.monotonic()

    def cells(values):
        return " | ".join(f"{v:.3f}" for v in values)
    print(f"| 0 | | {cells(held_out())} | 0 |", flush=True)
    rng = np.random.default_rng(0)
    for step in range(1, a.steps + 1):
        idx = rng.integers(0, len(xt), 64)
        loss, acc = train.position_loss(head(model(canvases(xt[idx]))[0].float() * train.ATTRIBUTE_SCALE), wt[idx], ft[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % a.every == 0:
            print(f"| {step} | {float(loss):.3f} | {cells(held_out())} | {time.monotonic() - t0:.0f} |", flush=True)


if __name__ == "__main__":
    main()
