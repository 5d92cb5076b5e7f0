#!/usr/bin/env python3
"""Train a CLIPPO pixels-only encoder on the generator's stream, against a wall-clock budget.

  python3 training/train.py --config ti16 --time-budget 480 --workers 14 --out runs/NAME \
      --generator "./vqa-generate stream --seed 1 --split train --size 224 --mix caption=4,text=2,vqa=3,pair=1"

Objective: symmetric InfoNCE (or the sigmoid loss of SigLIP) with a learned temperature over the batch's
two-canvas records (kind 0 image + caption and kind 1 text + text, mixed in one contrastive batch; records with
the same content key are not counted as negatives), plus cross-entropy heads (linear or one-hidden-layer MLP) on
the L2-normalised embedding for VQA (kind 2, answer classes from the stream header) and sentence pairs (kind 3).
Writes OUT/ckpt.npz (big_vision layout, what `vqa convert` reads), OUT/heads.npz (what `convert --heads`
turns into the service's heads), OUT/state.pt (everything `--resume` needs to go on), OUT/train_log.jsonl and
OUT/config.json. See training/README.md.
"""
from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import math
import os
import platform
import shlex
import signal
import sys
import time

# Before torch loads libgomp: its idle worker threads would otherwise spin after every parallel region and take the
# cores from the BLAS library's own threads (Debian's PyTorch calls OpenBLAS), which halved the speed of a CPU training
# step on the 2-core build machine (a mini-model step of 64 records: 0.81 s spinning, 0.41 s passive; training/README.md).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clippo.data import ShardFile, ShardLoader, StreamLoader, to_device, LoaderError  # noqa: E402
from clippo.export import atomic_write_json, export_heads, export_npz, load_npz, config_from_npz, state_checkpoint  # noqa: E402
from clippo.model import CONFIGS, POSEMBS, ClippoViT, ViTConfig, get_config, sincos2d_posemb  # noqa: E402

T0 = time.monotonic()


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="tiny", choices=sorted(CONFIGS), help="model size")
    ap.add_argument("--patch", type=int, default=None, help="override the config's patch size")
    ap.add_argument("--pool", default=None, choices=("map", "gap"), help="override the config's pooling (MAP head or mean of tokens)")
    ap.add_argument("--posemb", default=None, choices=POSEMBS,
                    help="position embedding of a new model (default learn) or of the --init checkpoint's (default: as it has): "
                         "learn, or sincos2d, fixed 2D sine-cosine. Another than the --init checkpoint's or the resumed model's "
                         "replaces it (sincos2d for a learned one; a learned one starting at the sincos2d values), with fresh "
                         "optimizer moments after a resume (--rewarm)")
    ap.add_argument("--out", required=True, help="run directory (created)")
    ap.add_argument("--resume", help="go on from a run directory: its state.pt (weights, heads, optimizer, step, schedule and "
                                     "stream position), or, where only the exported files are there (a GPU stage brought back "
                                     "through the device's 16 MiB file limit), ckpt.npz or ckpt_fp16.npz + heads.npz + stage.json: "
                                     "the same without the optimizer's moments, which --rewarm rebuilds; the model shape comes from it")
    ap.add_argument("--rewarm", type=int, default=50, help="steps of linear learning-rate warm-up after a resume without optimizer state")
    ap.add_argument("--stage", default=None, help="a name for this run in the stage history (config.json, state.pt)")
    ap.add_argument("--save-every", type=float, default=0, help="also write state.pt every this many seconds (0 = at the end only)")
    src = ap.add_argument_group("data (one of)")
    src.add_argument("--generator", help="generator command, e.g. \"vqa-generate stream --seed 1 --split train "
                                         "--size 224 --mix caption=4,text=2,vqa=3,pair=1\"; "
                                         "`--worker k --workers N` are appended")
    src.add_argument("--data", nargs="+", help="shard files (vqa-generate shard --out F.bin), cycled in random order")
    ap.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 2), help="generator processes")
    ap.add_argument("--time-budget", type=float, default=600, help="seconds for the whole command, export included")
    ap.add_argument("--margin", type=float, default=20, help="seconds kept at the end for evaluation and export")
    ap.add_argument("--max-steps", type=int, default=0, help="also stop after this many steps (0 = budget only)")
    ap.add_argument("--batch", type=int, default=None, help="records per step (default 256 on CUDA, 32 on CPU)")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--min-lr-frac", type=float, default=0.0, help="cosine decays to lr * this")
    ap.add_argument("--warmup", type=int, default=200, help="warm-up steps (cosine: also ends at 10%% of the budget; "
                                                             "constant/decay: counted in steps of the whole training, so a resumed run does not warm up again)")
    ap.add_argument("--schedule", default="cosine", choices=("cosine", "constant", "decay"),
                    help="cosine: warm-up then cosine over this run (one-run training); constant: warm-up once, then the peak "
                         "(the middle stages); decay: the peak, then a cosine to lr * min-lr-frac over the last --decay-frac of this run (the last stage)")
    ap.add_argument("--decay-frac", type=float, default=1.0, help="with --schedule decay: the share of this run's time that decays")
    ap.add_argument("--wd", type=float, default=1e-4, help="AdamW weight decay (kernels only; PyTorch's form: each step shrinks by lr * wd)")
    ap.add_argument("--b2", type=float, default=0.95)
    ap.add_argument("--clip", type=float, default=1.0, help="gradient norm clip (0 = off)")
    ap.add_argument("--vqa-weight", type=float, default=1.0)
    ap.add_argument("--pair-weight", type=float, default=1.0)
    ap.add_argument("--head-lr-mult", type=float, default=10.0, help="learning-rate multiplier of the aux heads")
    ap.add_argument("--head-scale", type=float, default=1.0, help="aux heads see embedding * this (folded into heads.npz)")
    ap.add_argument("--head-hidden", type=int, default=0, help="hidden width of the VQA and pair heads (0 = linear); "
                                                                "a ReLU MLP, exported in the service's head format by `convert --heads`")
    ap.add_argument("--loss", default="softmax", choices=("softmax", "sigmoid"), help="contrastive loss: symmetric InfoNCE or SigLIP's sigmoid")
    ap.add_argument("--same-content", default="mask", choices=("mask", "positive", "off"),
                    help="records with equal content keys: left out of each other's negatives (mask), counted as extra "
                         "positives (positive), or treated as negatives like any other record (off)")
    ap.add_argument("--fixed-temperature", action="store_true", help="keep the temperature at its initial value")
    ap.add_argument("--attribute-weight", type=float, default=0.0,
                    help="weight of the attribute loss: a training-only head predicts, from the embedding of each scene and "
                         "text canvas, the colours and shapes it shows or names, whether an emoji does, and the object count "
                         "(record header bytes 24..27). 0 = off")
    ap.add_argument("--vqa-attributes", choices=["on", "off"], default="on",
                    help="with --attribute-weight: also ask the scene's attributes of the VQA canvases (on), or leave their "
                         "embeddings to the question's answer alone (off)")
    ap.add_argument("--position-weight", type=float, default=None,
                    help="weight of the position loss: from the embedding of each scene canvas (image canvases and VQA canvases), "
                         "where one object of a unique colour lies, left or right half and upper or lower half (record byte 31, "
                         "docs/generator-format.md); a training-only head, not exported. 0: off (and no such head). "
                         "Default: a resumed run keeps the weight its state was trained with, a new model 0")
    ap.add_argument("--order-weight", type=float, default=None,
                    help="weight of the order loss: from the embedding of each spatial VQA canvas, whether the object the "
                         "question asks about comes first (lies left of, or above) the other one on the axis the question "
                         "asks about (read from the relation, record byte 28, and the yes/no answer: a 'no' asks the "
                         "opposite of a relation that holds); a training-only head, not exported. It gives the encoder the "
                         "two objects' order without the relation word's direction, which the VQA answer crosses it with. "
                         "0: off. Default: a resumed run keeps its state's weight, a new model 0")
    ap.add_argument("--question-weight", type=float, default=0.0,
                    help="weight of the question loss: a training-only head predicts, from the embedding of each VQA canvas, "
                         "the question's type and the colour and shape its subject names (record header bytes 3 and 28..30), "
                         "so the embedding carries what the question band asks beside what the image shows. 0 = off")
    ap.add_argument("--teacher", help="distil from a trained model: a folder with ckpt.npz, heads.npz and stage.json (a run's "
                    "output or training/state/NAME). The student's embedding of every canvas is pulled towards the "
                    "teacher's (relational: KL divergence of each canvas's similarities to the batch's teacher embeddings, at "
                    "--distill-scale; --distill-weight); the teacher is frozen and must take the same canvases "
                    "and give an embedding of the same width")
    ap.add_argument("--distill-weight", type=float, default=1.0, help="weight of the distillation loss (with --teacher)")
    ap.add_argument("--distill-scale", type=float, default=0.0,
                    help="the similarities' scale in the distillation loss (inverse temperature); 0: the teacher's own learned scale "
                         "(100 for v9: each canvas must pick out its own teacher embedding); lower spreads the target over similar canvases")
    ap.add_argument("--distill-vqa", choices=["on", "off"], default="on",
                    help="with --teacher: also distil the VQA canvases (on), or leave them to the VQA, question and position "
                         "losses (off), so that a teacher blind to positions does not pull a spatial answer out of them")
    ap.add_argument("--distill-answers", type=float, default=0.0,
                    help="with --teacher: weight of answer distillation on the VQA canvases whose question type is in "
                         "--distill-answer-types: the student's VQA head, on its own embedding, should give the answer "
                         "distribution the teacher's VQA head gives on the teacher's embedding (KL divergence at "
                         "--distill-temperature, times its square), beside the true answer's cross-entropy. 0 = off. "
                         "With --distill-weight 0 the teacher sees only those canvases")
    ap.add_argument("--distill-answer-types", default="count,color,shape,exists",
                    help="question types whose answers are distilled (of count, color, shape, exists, spatial; the default "
                         "leaves out spatial, which a teacher blind to positions answers at chance)")
    ap.add_argument("--distill-temperature", type=float, default=2.0,
                    help="temperature of the answer distillation: both heads' logits are divided by it")
    ap.add_argument("--teacher-heads", action="store_true",
                    help="with --teacher, for a new model: start the VQA and pair heads (and the training-only heads whose "
                         "shapes match) from the teacher's, which read an embedding the distillation makes like the teacher's")
    ap.add_argument("--init-temperature", type=float, default=10.0, help="exp(t) at initialisation (a new model only)")
    ap.add_argument("--plain-patch-init", action="store_true", help="do not make the patch filters zero-mean at init")
    ap.add_argument("--init", help="start from a big_vision-layout .npz (ours or a released CLIPPO checkpoint)")
    ap.add_argument("--image", type=int, default=None, help="override the model image size (default: the stream's canvas size)")
    ap.add_argument("--eval-data", nargs="+", help="held-out shard file(s): retrieval and head accuracy at the end")
    ap.add_argument("--eval-count", type=int, default=1000, help="records of --eval-data used")
    ap.add_argument("--log-every", type=int, default=None, help="steps between log lines (default 50 on CUDA, 5 on CPU)")
    ap.add_argument("--fp16-export", action="store_true", help="also write ckpt_fp16.npz")
    ap.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = all cores)")
    ap.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                    help="matrix products under autocast: auto = bfloat16 on CUDA, float32 on the CPU; bf16 on the CPU runs them "
                         "on oneDNN's bfloat16 kernels (AVX512-BF16/AMX), LayerNorm, softmax and the losses stay float32; refused on "
                         "a CPU without those instructions (see --allow-emulated-bf16)")
    ap.add_argument("--allow-emulated-bf16", action="store_true",
                    help="run --precision bf16 on a CPU without AVX512-BF16/AMX anyway: PyTorch then emulates bfloat16 products, "
                         "many times slower than float32 (for tests)")
    ap.add_argument("--compile", action="store_true", help="torch.compile the encoder (PyTorch 2.x)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    if bool(a.generator) == bool(a.data):
        ap.error("give exactly one of --generator or --data")
    if a.teacher_heads and not a.teacher:
        ap.error("--teacher-heads needs --teacher")
    if a.distill_answers > 0 and not a.teacher:
        ap.error("--distill-answers needs --teacher")
    if a.distill_temperature <= 0:
        ap.error("--distill-temperature must be positive")
    names = [t.strip() for t in a.distill_answer_types.split(",") if t.strip()]
    unknown = [t for t in names if t not in QUESTION_TYPES]
    if unknown or not names:
        ap.error(f"--distill-answer-types: unknown type(s) {', '.join(unknown) or '(none given)'}; "
                 f"use some of {', '.join(QUESTION_TYPES)}")
    a.distill_answer_type_ids = sorted({QUESTION_TYPES.index(t) for t in names})
    return a


class Logger:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)

    def __call__(self, rec: dict, echo: str = None):
        self.f.write(json.dumps(rec) + "\n")
        if echo:
            print(echo, flush=True)

    def close(self):
        self.f.close()


def same_content(keys):
    """[n, n] bool: records i != j that say the same thing (equal, non-zero content keys)."""
    if keys is None:
        return None
    same = (keys[:, None] == keys[None, :]) & (keys[:, None] != 0)
    same.fill_diagonal_(False)
    return same if bool(same.any()) else None


def contrastive_loss(za, zb, scale, bias=None, loss="softmax", same=None, same_mode="mask"):
    """The contrastive loss over n pairs (za[i], zb[i]) and the similarity logits.

    softmax: symmetric InfoNCE. sigmoid: SigLIP's pairwise loss, -log sigmoid(z * (scale * s + bias)) with z = +1 on
    the diagonal and -1 elsewhere, summed over each row and averaged over rows. `same` marks off-diagonal pairs that
    share content: left out (mask) or counted as positives (positive)."""
    sims = scale * (za @ zb.t())
    n = za.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=za.device)
    if loss == "sigmoid":
        logits = sims + bias
        pos = eye | same if (same is not None and same_mode == "positive") else eye
        z = pos.float() * 2 - 1
        per = -F.logsigmoid(z * logits)
        if same is not None and same_mode == "mask":
            per = per.masked_fill(same, 0.0)
        return per.sum() / n, sims
    if same is None or same_mode == "off":
        target = torch.arange(n, device=za.device)
        return 0.5 * (F.cross_entropy(sims, target) + F.cross_entropy(sims.t(), target)), sims
    if same_mode == "mask":
        masked = sims.masked_fill(same, float("-inf"))
        target = torch.arange(n, device=za.device)
        return 0.5 * (F.cross_entropy(masked, target) + F.cross_entropy(masked.t(), target)), sims
    pos = (eye | same).float()
    tgt = pos / pos.sum(1, keepdim=True)
    lr = -(tgt * F.log_softmax(sims, 1)).sum(1).mean()
    lc = -(tgt * F.log_softmax(sims.t(), 1)).sum(1).mean()  # pos is symmetric
    return 0.5 * (lr + lc), sims


ATTRIBUTE_OUTPUTS = 8 + 8 + 2 + 9 + 64  # colours, shapes, emoji yes/no, objects 0..8, objects per colour and shape
ATTRIBUTE_SCALE = 10.0  # the attribute head reads the unit embedding times this (logits start large enough to learn fast)


def attribute_loss(logits, attrs, pairs=None):
    """Softmax cross-entropies (shift-invariant, so no base rates to learn first): the colours present (target spread
    evenly over them), the shapes present, emoji yes/no, the object count where known, and where known (flag 16) the
    objects of each colour and shape (target spread over the 64 colour-shape pairs in proportion to their counts: which
    colour goes with which shape, and how many). logits [m, 91] for the canvases, attrs uint8 [m, 4] (flags, colour
    mask, shape mask, objects), pairs uint8 [m, 64] or None (a stream without them)."""
    flags, colors, shapes, objects = (attrs[:, i].long() for i in range(4))
    bits = torch.arange(8, device=attrs.device)
    total, parts = logits.sum() * 0.0, 0
    for mask, lo in ((colors, 0), (shapes, 8)):
        target = ((mask[:, None] >> bits) & 1).float()
        sel = target.sum(1) > 0
        if bool(sel.any()):
            t = target[sel] / target[sel].sum(1, keepdim=True)
            total = total - (t * F.log_softmax(logits[sel, lo:lo + 8], 1)).sum(1).mean()
            parts += 1
    total = total + F.cross_entropy(logits[:, 16:18], ((flags & 4) > 0).long())
    known = (flags & 8) > 0
    if bool(known.any()):
        total = total + F.cross_entropy(logits[known, 18:27], objects[known].clamp(max=8))
    if pairs is not None:
        counts = pairs.float()
        sel = ((flags & 16) > 0) & (counts.sum(1) > 0)
        if bool(sel.any()):
            t = counts[sel] / counts[sel].sum(1, keepdim=True)
            total = total - (t * F.log_softmax(logits[sel, 27:91], 1)).sum(1).mean()
    return total


# Per colour, one logit each: its one object is in the left half; is in the upper half; and the two again for a scene
# drawn inside a VQA canvas. The two frames need their own logits: a VQA canvas draws the scene below the question, as
# large as the question leaves room for, centred across; so "left half of the scene" is the canvas's left half in both,
# but "upper half of the scene" is above the canvas's middle for a scene canvas and, for a VQA canvas, above a line
# between the middle and three quarters down that moves with the question's height. With one logit for both the target contradicted
# itself across canvas kinds. Removing the contradiction did not by itself teach the sincos lineage up from down;
# --position-weight 10 did (training/README.md, "Why up and down were not learnt").
POSITION_FRAMES = 2
POSITION_PER_FRAME = 8 * 2
POSITION_OUTPUTS = POSITION_PER_FRAME * POSITION_FRAMES


def position_picks(logits, where, frame=None):
    """The logits and targets the position loss compares (record byte 31: bit 7 known, bits 0-2 its colour c, bit 3
    left half, bit 4 upper half): logit 16 f + c says 'left half', logit 16 f + 8 + c 'upper half', for the colour the
    record names, in frame f (frame [m]: 0 for a scene canvas, 1 for a VQA canvas; None: all 0). Returns (known [m] bool,
    picked logits [k, 2], targets [k, 2]) for the k canvases whose byte is known."""
    known = (where & 0x80) > 0
    w = where[known].long()
    c = w & 7
    if frame is not None:
        c = c + POSITION_PER_FRAME * frame[known].long()
    lg = logits[known]
    pick = torch.stack([lg.gather(1, c[:, None])[:, 0], lg.gather(1, (c + 8)[:, None])[:, 0]], 1)
    target = torch.stack([(w >> 3) & 1, (w >> 4) & 1], 1).float()
    return known, pick, target


def position_loss(logits, where, frame=None):
    """Binary cross-entropies of where one object lies (position_picks). Returns (loss, accuracy of both halves
    together) over the canvases whose byte is known."""
    return picked_bce(logits, *position_picks(logits, where, frame))


def picked_bce(logits, known, pick, target):
    """Binary cross-entropy of picked logits against their targets (a training-only head's *_picks), and the share of
    canvases with every pick right; (0, None) when no canvas of the batch is known."""
    if not bool(known.any()):
        return logits.sum() * 0.0, None
    loss = F.binary_cross_entropy_with_logits(pick, target)
    with torch.no_grad():
        acc = ((pick > 0).float() == target).reshape(len(target), -1).all(1).float().mean()
    return loss, acc


# Spatial questions, one logit per axis (left/right, above/below): the object the question asks about comes first on
# that axis. A spatial answer is this order crossed with the relation word's direction, so neither the order nor the
# word alone correlates with the answer and the VQA loss gives the encoder no first step towards the order (the
# sincos lineage learnt both halves of the scene and the word, and still answered at chance: training/README.md, "Why
# up and down were not learnt"). This target is the order alone.
ORDER_OUTPUTS = 2
TRAINING_HEADS = ("attributes", "question", "position", "order")  # not exported for the service


def order_picks(logits, labels, subjects, yes_class):
    """The logits and targets the order loss compares, for the spatial VQA canvases (subjects [m, 3] as question_loss;
    bits 2-4 of the flags: the relation + 1, 1 left of, 2 right of, 3 above, 4 below) answered yes (class yes_class) or
    no (yes_class + 1; the generator's last two answers). 'Is A left of B?' answered yes, or 'is A right of B?' answered
    no, says A comes first on the horizontal axis (the generator asks 'no' questions as the opposite of a relation that
    holds, so a 'no' is never a near tie). Returns (known [m] bool, picked logits [k], targets [k])."""
    flags = subjects[:, 0].long()
    rel = ((flags >> 2) & 7) - 1
    yes, no = labels == yes_class, labels == yes_class + 1
    known = ((flags & 1) > 0) & (rel >= 0) & (rel < 4) & (yes | no)
    r = rel[known]
    pick = logits[known].gather(1, (r // 2)[:, None])[:, 0]
    target = (yes[known] ^ (r % 2 == 1)).float()
    return known, pick, target


def order_loss(logits, labels, subjects, yes_class):
    """Binary cross-entropy of the asked-about object's order on the asked axis (order_picks). Returns (loss, accuracy)
    over the spatial canvases, or (0, None) where the batch has none."""
    return picked_bce(logits, *order_picks(logits, labels, subjects, yes_class))


# question type; subject colour (0 = none named, k + 1 = colour k); subject shape likewise; the relation a spatial
# question asks (0 = none, 1 left of, 2 right of, 3 above, 4 below: record byte 28, bits 2-4)
QUESTION_OUTPUTS = 5 + 9 + 9 + 5


def question_loss(logits, qtypes, subjects):
    """Cross-entropies of the question's type, its subject's colour and shape (each with a 'none named' class) and the
    relation a spatial question asks (with a 'none' class), for the VQA canvases whose record says what the question
    asks (subjects [m, 3]: flags, colour + 1, shape + 1; flags bits 2-4 the relation + 1). The relation is asked on its
    own because a spatial answer is the relation word crossed with where the two objects lie: neither alone correlates
    with the answer, so the VQA loss by itself gives the encoder no first step towards reading the word
    (training/README.md, "Spatial questions"). Returns (loss, accuracy of all four together)."""
    known = (subjects[:, 0] & 1) > 0
    if not bool(known.any()):
        z = logits.sum() * 0.0
        return z, None
    lg, t, sb = logits[known], qtypes[known], subjects[known].long()
    rel = ((sb[:, 0] >> 2) & 7).clamp(max=4)
    loss = (F.cross_entropy(lg[:, :5], t) + F.cross_entropy(lg[:, 5:14], sb[:, 1].clamp(max=8)) + F.cross_entropy(lg[:, 14:23], sb[:, 2].clamp(max=8))
            + F.cross_entropy(lg[:, 23:28], rel))
    with torch.no_grad():
        ok = ((lg[:, :5].argmax(1) == t) & (lg[:, 5:14].argmax(1) == sb[:, 1]) & (lg[:, 14:23].argmax(1) == sb[:, 2])
              & (lg[:, 23:28].argmax(1) == rel))
    return loss, ok.float().mean()


def make_head(e, classes, hidden):
    if hidden and hidden > 0:
        h = nn.Sequential(nn.Linear(e, hidden), nn.ReLU(), nn.Linear(hidden, classes))
        nn.init.xavier_uniform_(h[0].weight)
        nn.init.zeros_(h[0].bias)
        nn.init.normal_(h[2].weight, std=0.01)
        nn.init.zeros_(h[2].bias)
        return h
    lin = nn.Linear(e, classes)
    nn.init.normal_(lin.weight, std=0.01)
    nn.init.zeros_(lin.bias)
    return lin


def make_optimizer(model, heads, extra, args, device):
    """AdamW; weight decay on the encoder's kernels only. The aux heads get `--head-lr-mult` times the
    learning rate (and no decay) so their biases absorb the answer priors quickly: a slow head pulls every
    embedding towards the most frequent answers' weights, which collapses the contrastive embedding.
    `extra` (the sigmoid loss's bias) learns with the encoder, without decay."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if name == "t" and args.fixed_temperature:
            p.requires_grad_(False)
            continue
        if p.ndim >= 2 and name not in ("pos_embedding", "map_head.probe"):
            decay.append(p)
        else:
            no_decay.append(p)
    groups = [{"params": decay, "weight_decay": args.wd, "lr_mult": 1.0},
              {"params": no_decay + list(extra), "weight_decay": 0.0, "lr_mult": 1.0},
              {"params": list(heads.parameters()), "weight_decay": 0.0, "lr_mult": args.head_lr_mult}]
    kw = dict(lr=args.lr, betas=(0.9, args.b2), eps=1e-8)
    if device.type == "cuda" and "fused" in inspect.signature(torch.optim.AdamW).parameters:
        try:
            return torch.optim.AdamW(groups, fused=True, **kw)
        except (RuntimeError, TypeError, ValueError):
            pass
    return torch.optim.AdamW(groups, **kw)


class Schedule:
    """The learning rate.

    cosine: linear warm-up (ends after `warmup` steps or at 10% of the training time, whichever is first), then a
    cosine decay over the *remaining wall-clock time* (or steps, with --max-steps, whichever runs out first).
    constant: linear warm-up over the first `warmup` steps of the whole training (a resumed run past them does not
    warm up again), then the peak. decay: as constant, then a cosine from the peak to peak * min_frac over the last
    `decay_frac` of this run. A staged training runs constant stages and ends with one decay stage."""

    def __init__(self, peak, warmup, train_seconds, max_steps, min_frac, mode="cosine", decay_frac=1.0, start_step=0):
        self.peak, self.warmup, self.seconds, self.max_steps, self.min_frac = peak, warmup, train_seconds, max_steps, min_frac
        self.mode, self.decay_frac, self.start_step = mode, decay_frac, start_step
        self.warm_end = None  # progress at the end of warm-up (cosine)

    def progress(self, step, elapsed):
        p = elapsed / self.seconds
        if self.max_steps:
            p = max(p, step / self.max_steps)
        return p

    def warmed_up(self, step):
        if self.mode == "cosine":
            return self.warm_end is not None
        return self.start_step + step >= self.warmup

    def __call__(self, step, elapsed):
        p = self.progress(step, elapsed)
        if self.mode != "cosine":
            g = self.start_step + step
            w = min(1.0, (g + 1) / max(1, self.warmup))
            if self.mode == "constant":
                return self.peak * w
            f = min(1.0, max(0.0, (p - (1 - self.decay_frac)) / max(1e-9, self.decay_frac)))
            return self.peak * w * (self.min_frac + (1 - self.min_frac) * 0.5 * (1 + math.cos(math.pi * f)))
        if self.warm_end is None:
            w = max((step + 1) / max(1, self.warmup), p / 0.1)
            if w < 1:
                return self.peak * w
            self.warm_end = min(p, 0.5)
        f = min(1.0, max(0.0, (p - self.warm_end) / (1 - self.warm_end)))
        return self.peak * (self.min_frac + (1 - self.min_frac) * 0.5 * (1 + math.cos(math.pi * f)))


QTYPES = ("count", "color", "shape", "exists", "spatial")


@torch.no_grad()
def evaluate(model, heads, loader, device, autocast, head_scale, deadline, count):
    """Retrieval R@1 (both directions) among the held-out kind-0 (caption) and kind-1 (text) pairs (a retrieved
    record with the same content key counts as right), and the aux heads' accuracy, overall and per question type.
    Stops early at `deadline` (monotonic seconds) and reports what it covered."""
    model.eval()
    heads.eval()
    za, zb, kinds, keys, hv, yv, tv, hp, yp = [], [], [], [], [], [], [], [], []
    seen = 0
    for buf in loader:
        db = to_device(buf, device)
        loader.release(buf)
        with autocast():
            emb, _, _ = model(db.images)
        emb = emb.float()
        n, nv = db.n_pairs, db.n_vqa
        za.append(emb[:n]); zb.append(emb[n:2 * n]); keys.append(db.keys)
        kinds.append(torch.cat([torch.zeros(db.n_caption), torch.ones(n - db.n_caption)]))
        if "vqa" in heads and nv:
            hv.append(heads["vqa"](emb[2 * n:2 * n + nv] * head_scale).argmax(-1)); yv.append(db.vqa_labels); tv.append(db.vqa_types)
        if "pair" in heads and db.n_nli:
            hp.append(heads["pair"](emb[2 * n + nv:] * head_scale).argmax(-1)); yp.append(db.pair_labels)
        seen += db.records
        if seen >= count or time.monotonic() > deadline:
            break
    model.train()
    heads.train()
    res = {"eval_records": seen}
    if za:
        za, zb, kinds, keys = torch.cat(za), torch.cat(zb), torch.cat(kinds).to(za[0].device), torch.cat(keys)
        for name, sel in (("caption", kinds == 0), ("text", kinds == 1)):
            a, b, k = za[sel], zb[sel], keys[sel]
            if len(a) >= 2:
                s = a @ b.t()
                right = (k[:, None] == k[None, :]) & (k[:, None] != 0) | torch.eye(len(a), dtype=torch.bool, device=s.device)
                idx = torch.arange(len(a), device=s.device)
                res[f"eval_{name}_pairs"] = len(a)
                res[f"eval_{name}_r1_a2b"] = right[idx, s.argmax(1)].float().mean().item()
                res[f"eval_{name}_r1_b2a"] = right[s.argmax(0), idx].float().mean().item()
    if hv:
        pred, gold, types = torch.cat(hv), torch.cat(yv), torch.cat(tv)
        res["eval_vqa_acc"] = (pred == gold).float().mean().item()
        res["eval_vqa_n"] = int(len(gold))
        for t, name in enumerate(QTYPES):
            sel = types == t
            if bool(sel.any()):
                res[f"eval_vqa_acc_{name}"] = (pred[sel] == gold[sel]).float().mean().item()
                res[f"eval_vqa_n_{name}"] = int(sel.sum())
    if hp:
        res["eval_pair_acc"] = (torch.cat(hp) == torch.cat(yp)).float().mean().item()
        res["eval_pair_n"] = int(sum(len(x) for x in yp))
    return res


def save_state(path, model, heads, opt, logit_bias, info):
    """state.pt: everything a resumed run needs, written next to its final name and renamed into place."""
    tmp = path + ".partial"
    torch.save({"format": 1, "model": model.state_dict(), "heads": heads.state_dict(), "optimizer": opt.state_dict(),
                "logit_bias": logit_bias.detach().cpu(), **info}, tmp)
    os.replace(tmp, path)


def write_stage_file(path, info, head_scale, logit_bias):
    """stage.json: the counters and history a resume needs beside ckpt.npz and heads.npz (no tensors but the bias)."""
    keep = {k: v for k, v in info.items() if k != "rng"}
    keep.update({"format": 1, "head_input_scale": head_scale, "logit_bias": float(logit_bias.detach().cpu().reshape(-1)[0])})
    atomic_write_json(path, keep, default=float)


def load_light_state(folder):
    """A resume from exported files: weights from the checkpoint, heads from heads.npz, counters from stage.json."""
    with open(os.path.join(folder, "stage.json")) as f:
        st = json.load(f)
    ckpt = state_checkpoint(folder)
    if ckpt is None or not os.path.exists(os.path.join(folder, "heads.npz")):
        raise SystemExit(f"--resume: {folder} has stage.json but not ckpt.npz (or ckpt_fp16.npz) and heads.npz")
    cfg = config_from_npz(ckpt)
    model = ClippoViT(dataclasses.replace(cfg, center_patch_init=True))
    load_npz(ckpt, model)
    scale = float(st.get("head_input_scale", 1.0))
    heads_sd = {}
    with np.load(os.path.join(folder, "heads.npz")) as z:
        for name in ("vqa", "pair"):
            if f"{name}/kernel" not in z.files:
                continue
            if f"{name}/hidden/kernel" in z.files:
                heads_sd[f"{name}.0.weight"] = torch.from_numpy(z[f"{name}/hidden/kernel"].T / scale).float()
                heads_sd[f"{name}.0.bias"] = torch.from_numpy(z[f"{name}/hidden/bias"]).float()
                heads_sd[f"{name}.2.weight"] = torch.from_numpy(z[f"{name}/kernel"].T.copy()).float()
                heads_sd[f"{name}.2.bias"] = torch.from_numpy(z[f"{name}/bias"]).float()
            else:
                heads_sd[f"{name}.weight"] = torch.from_numpy(z[f"{name}/kernel"].T / scale).float()
                heads_sd[f"{name}.bias"] = torch.from_numpy(z[f"{name}/bias"]).float()
    aux = os.path.join(folder, "aux_heads.npz")
    if os.path.exists(aux):  # the training-only heads (attribute and question losses), when the stage brought them back
        with np.load(aux) as z:
            heads_sd.update({k: torch.from_numpy(z[k]).float() for k in z.files})
    st.update({"model": {k: v.float() for k, v in model.state_dict().items()}, "heads": heads_sd, "optimizer": None,
               "logit_bias": torch.tensor([st.get("logit_bias", -10.0)]), "config": dataclasses.asdict(cfg), "light": ckpt})
    return st


def distill_loss(student, teacher, scale):
    """Relational distillation over a batch of canvases: each student embedding, compared with every teacher embedding
    of the batch, should give the distribution the teacher's own embedding gives (KL divergence, similarities times
    `scale`). Unlike 1 - cosine it cannot be met by the direction all embeddings share (a trained encoder's
    embeddings of rendered canvases lie close to their mean), and where the batch spans the teacher's
    space it is met only by the teacher's own embedding. student, teacher [m, e], unit rows."""
    target = F.softmax(scale * teacher @ teacher.t(), dim=1)
    logp = F.log_softmax(scale * student @ teacher.t(), dim=1)
    return F.kl_div(logp, target, reduction="batchmean")


# The generator's question type codes (record header byte 3; docs/generator-format.md).
QUESTION_TYPES = ("count", "color", "shape", "exists", "spatial")


def answer_distill_loss(student_logits, teacher_logits, temperature):
    """Knowledge distillation of answers (Hinton et al.): KL divergence of the student's answer distribution to the
    teacher's, both at `temperature`, times its square so that the gradient's size does not depend on it."""
    t = temperature
    target = F.softmax(teacher_logits / t, dim=1)
    logp = F.log_softmax(student_logits / t, dim=1)
    return F.kl_div(logp, target, reduction="batchmean") * (t * t)


def load_teacher(path, cfg, head_hidden, device):
    """The frozen teacher of --teacher (from its exported files) and its heads' state, checked against the student."""
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    if not os.path.exists(os.path.join(folder, "stage.json")):
        raise SystemExit(f"--teacher: {folder} has no stage.json (give a run's output folder or training/state/NAME)")
    st = load_light_state(folder)
    tcfg = ViTConfig(**st["config"])
    if tcfg.image != cfg.image or tcfg.embed_dim != cfg.embed_dim:
        raise SystemExit(f"--teacher: {folder} takes {tcfg.image} px canvases and embeds to {tcfg.embed_dim} dimensions; "
                         f"the student takes {cfg.image} px and embeds to {cfg.embed_dim}")
    teacher = ClippoViT(tcfg)
    teacher.load_state_dict(st["model"])
    teacher.to(device).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    if int(st.get("head_hidden", 0)) != head_hidden:
        st["heads"] = {k: v for k, v in st["heads"].items() if not k.startswith(("vqa.", "pair."))}
    return teacher, st["heads"], float(st.get("head_input_scale", 1.0))


def load_state(path):
    if os.path.isdir(path) and not os.path.exists(os.path.join(path, "state.pt")) and os.path.exists(os.path.join(path, "stage.json")):
        return load_light_state(path)
    if os.path.isdir(path):
        path = os.path.join(path, "state.pt")
    if not os.path.exists(path):
        raise SystemExit(f"--resume: {path} does not exist (a run directory written by this trainer has state.pt, or stage.json with its checkpoint)")
    try:
        # PyTorch 2.6 and later unpickle only tensors and plain types by default (weights_only), which is all a state
        # holds since 2026-12-06; PyTorch 1.13's weights-only reader cannot read floats, so it reads as before.
        st = torch.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001
        light = os.path.dirname(path)
        if os.path.exists(os.path.join(light, "stage.json")):
            # Earlier states also held numpy's random state, which that default refuses (the first GPU continuation
            # met it); a damaged state.pt likewise: go on from the exported files beside it, moments rebuilt (--rewarm).
            print(f"--resume: {path} does not load ({str(e).splitlines()[0][:200]}); going on from the exported files "
                  f"beside it (ckpt.npz, heads.npz, stage.json), with the optimizer's moments rebuilt", flush=True)
            return load_light_state(light)
        raise SystemExit(f"--resume: {path} is not a readable training state ({e})")
    if not isinstance(st, dict) or st.get("format") != 1 or "model" not in st:
        raise SystemExit(f"--resume: {path} is not a training state written by training/train.py")
    return st


def cpu_bfloat16_instructions(cpuinfo: str = "/proc/cpuinfo"):
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX-BF16), from the kernel's flag list: True, False,
    or None where the list cannot be read (not Linux). Without them PyTorch 1.13 falls back to a slow generic
    kernel for bfloat16 products: on an AVX2-only EPYC the 25 `mini` steps that take 22 s in float32 had not finished after five minutes."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    flags = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            flags.update(value.split())
    if not flags:
        return None
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    if cuda:
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    else:
        torch.set_num_threads(args.threads or os.cpu_count() or 1)
        if args.precision == "bf16" and cpu_bfloat16_instructions() is False and not args.allow_emulated_bf16:
            raise SystemExit("--precision bf16: this CPU has no bfloat16 instructions (neither avx512_bf16 nor amx_bf16 in "
                             "/proc/cpuinfo), so PyTorch would emulate every bfloat16 product, many times slower than float32; "
                             "use --precision fp32 (or auto), or --allow-emulated-bf16 to run it anyway")
    batch = args.batch or (256 if cuda else 32)
    log_every = args.log_every or (50 if cuda else 5)
    resume = load_state(args.resume) if args.resume else None
    stage_no = len(resume.get("stages", [])) if resume else 0
    torch.manual_seed(args.seed + 1000 * stage_no)
    np.random.seed(args.seed + 1000 * stage_no)

    stop = {"flag": False, "why": None}

    def on_signal(sig, _frame):
        stop["flag"], stop["why"] = True, signal.Signals(sig).name

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    log = Logger(os.path.join(args.out, "train_log.jsonl"))
    stream_start = int(resume.get("data_next_start") or 0) if resume else 0
    if args.generator:
        loader = StreamLoader(shlex.split(args.generator), args.workers, batch, pin_memory=cuda,
                              log_dir=os.path.join(args.out, "generator_logs"), start=stream_start)
    else:
        loader = ShardLoader(args.data, batch, pin_memory=cuda, shuffle=True, seed=args.seed + stage_no)
    header = loader.header
    try:
        if args.eval_data:  # check the held-out files now, not after the training
            for path in args.eval_data:
                h = ShardFile(path).header
                if h.size != header.size or h.vqa_classes != header.vqa_classes or h.pair_classes != header.pair_classes:
                    raise SystemExit(f"{path}: {h.size} px, {h.vqa_classes} VQA / {h.pair_classes} pair classes; the "
                                     f"training stream has {header.size} px, {header.vqa_classes} / {header.pair_classes}")
        head_hidden = args.head_hidden
        if resume:
            cfg = ViTConfig(**resume["config"])
            head_hidden = int(resume.get("head_hidden", 0))
            if args.head_hidden and args.head_hidden != head_hidden:
                raise SystemExit(f"--head-hidden {args.head_hidden}: the resumed heads have hidden width {head_hidden}")
            if (resume.get("vqa_classes"), resume.get("pair_classes")) != (header.vqa_classes, header.pair_classes):
                raise SystemExit(f"the resumed heads have {resume.get('vqa_classes')} VQA / {resume.get('pair_classes')} pair classes; "
                                 f"the stream has {header.vqa_classes} / {header.pair_classes}")
        elif args.init:
            cfg = config_from_npz(args.init)
            if args.posemb and args.posemb != cfg.posemb:
                print(f"--posemb {args.posemb}: the position embedding of {args.init} ({cfg.posemb}) is replaced", flush=True)
                cfg = dataclasses.replace(cfg, posemb=args.posemb)
        else:
            cfg = get_config(args.config, image=args.image or header.size, center_patch_init=not args.plain_patch_init,
                             patch=args.patch, pool=args.pool, posemb=args.posemb)
        if resume and args.posemb and args.posemb != cfg.posemb:
            # A resumed model's position embedding replaced: sincos2d for a learned one, or a learned one that starts at the
            # sincos2d values. The optimizer's parameters change with it, so its moments are rebuilt (--rewarm).
            print(f"--posemb {args.posemb}: the resumed model's position embedding ({cfg.posemb}) is replaced; fresh optimizer "
                  f"moments and {args.rewarm} steps of warm-up", flush=True)
            cfg = dataclasses.replace(cfg, posemb=args.posemb)
            if args.posemb == "sincos2d":
                resume["model"] = {**resume["model"], "pos_embedding": sincos2d_posemb(cfg.image // cfg.patch, cfg.width)}
            resume["optimizer"] = None
        if cfg.image != header.size:
            raise SystemExit(f"the model takes {cfg.image} px canvases, the stream has {header.size} px")
        model = ClippoViT(cfg)
        if args.init and not resume:
            load_npz(args.init, model)
        if not args.init and not resume:
            with torch.no_grad():
                model.t.fill_(math.log(args.init_temperature))
        for name in ("position", "order"):
            if getattr(args, f"{name}_weight") is None:
                # A continuation keeps its state's position (and order) loss: left out silently, it lets the embedding forget
                # where things are (the sincos lineage's second stage: the probe's left/upper half fell from 0.88/0.85 to
                # 0.61/0.62).
                had = resume.get(f"{name}_weight") if resume else 0.0
                if had is None:  # states written before the weight was recorded: the head says whether it was on (the committed ones used 1)
                    had = 1.0 if any(k.startswith(f"{name}.") for k in resume["heads"]) else 0.0
                setattr(args, f"{name}_weight", float(had))
                if had > 0:
                    print(f"--{name}-weight {had:g}, as the resumed state was trained (--{name}-weight 0 leaves "
                          f"the {name} loss out)", flush=True)
        e = cfg.embed_dim
        heads = nn.ModuleDict()
        if header.vqa_classes:
            heads["vqa"] = make_head(e, header.vqa_classes, head_hidden)
        if header.pair_classes:
            heads["pair"] = make_head(e, header.pair_classes, head_hidden)
        heads["attributes"] = make_head(e, ATTRIBUTE_OUTPUTS, 0)  # training only: not exported
        heads["question"] = make_head(e, QUESTION_OUTPUTS, 0)  # training only: not exported
        if args.position_weight > 0:
            heads["position"] = make_head(e, POSITION_OUTPUTS, 0)  # training only: not exported
        if args.order_weight > 0:
            heads["order"] = make_head(e, ORDER_OUTPUTS, 0)  # training only: not exported
        # The sigmoid loss's learned bias (SigLIP's init -10); present whatever the loss, so a state resumes either way.
        logit_bias = nn.Parameter(torch.full((1,), -10.0))
        teacher = None
        teacher_vqa = None
        if args.teacher:
            teacher, teacher_heads, teacher_head_scale = load_teacher(args.teacher, cfg, head_hidden, device)
            teacher_scale = args.distill_scale or float(teacher.t.exp().clamp(max=100.0))
            if args.teacher_heads and not resume:
                have = heads.state_dict()
                took = {k: v for k, v in teacher_heads.items() if k in have and have[k].shape == v.shape}
                heads.load_state_dict(took, strict=False)
                print(f"--teacher-heads: {len(took)} head tensors from the teacher "
                      f"({', '.join(sorted({k.split('.')[0] for k in took})) or 'none'})", flush=True)
            if args.distill_answers > 0:
                tv = {k[len("vqa."):]: v for k, v in teacher_heads.items() if k.startswith("vqa.")}
                if not tv or "vqa" not in heads:
                    raise SystemExit(f"--distill-answers: {args.teacher} has no VQA head of the student's shape "
                                     f"(hidden {head_hidden}), or the stream has no VQA records")
                teacher_vqa = make_head(cfg.embed_dim, header.vqa_classes, head_hidden)
                try:
                    teacher_vqa.load_state_dict(tv)
                except RuntimeError as err:
                    raise SystemExit(f"--distill-answers: the teacher's VQA head does not fit the stream's "
                                     f"{header.vqa_classes} answers: {err}")
                teacher_vqa.to(device).eval()
                for p in teacher_vqa.parameters():
                    p.requires_grad_(False)
                answer_types = torch.tensor(args.distill_answer_type_ids, device=device)
            print(f"--teacher {args.teacher}: {teacher.num_params() / 1e6:.2f}M parameters, distillation weight "
                  f"{args.distill_weight} at scale {teacher_scale:.1f}, VQA canvases {'distilled' if args.distill_vqa == 'on' else 'left out'}"
                  + (f"; answers of {args.distill_answer_types} distilled at weight {args.distill_answers:g}, temperature "
                     f"{args.distill_temperature:g}" if teacher_vqa is not None else ""), flush=True)
        if resume:
            # A state from before a training-only head existed, or had fewer outputs: that head starts afresh, and as its
            # optimizer moments do not fit, the run goes on as after a resume without optimizer state (--rewarm).
            have = heads.state_dict()
            # A linear training-only head that has since gained outputs (the question head's relation, 2026-12-06) keeps
            # the rows it had and starts the new ones afresh; its optimizer moments no longer fit, so they are rebuilt.
            grown = [k for k in ("question.weight", "question.bias", "position.weight", "position.bias") if k in resume["heads"] and k in have
                     and resume["heads"][k].shape[1:] == have[k].shape[1:] and resume["heads"][k].shape[0] < have[k].shape[0]]
            # The position head's second frame (VQA canvases, 2026-12-07) starts as a copy of the one frame it had.
            for k in grown:
                old_rows = resume["heads"][k].to(have[k].dtype)
                if k.startswith("position.") and 2 * old_rows.shape[0] == have[k].shape[0]:
                    resume["heads"][k] = torch.cat([old_rows, old_rows])
                else:
                    resume["heads"][k] = torch.cat([old_rows, have[k][old_rows.shape[0]:]])
            if grown and resume.get("optimizer") is not None:
                print(f"the resumed {' and '.join(sorted({k.split('.')[0] for k in grown}))} head has fewer outputs than this trainer's: "
                      f"its rows are kept, the new ones start afresh (the position head's as a copy of its scene frame), with fresh "
                      f"optimizer moments and {args.rewarm} steps of warm-up", flush=True)
                resume["optimizer"] = None
            stale = sorted({k.split(".")[0] for k, v in have.items() if k not in resume["heads"] or resume["heads"][k].shape != v.shape}
                           # and a training-only head the state has but this run does not make (--position-weight 0)
                           | {k.split(".")[0] for k in resume["heads"] if k not in have})
            if stale:
                resume["heads"] = {k: v for k, v in resume["heads"].items() if k.split(".")[0] not in stale}
                if resume.get("optimizer") is not None:
                    print(f"the resumed state lacks the heads {stale} as this trainer makes them (or has them and this run does not): they start afresh (or are left out), with fresh "
                          f"optimizer moments and {args.rewarm} steps of warm-up", flush=True)
                    resume["optimizer"] = None
        if resume:
            model.load_state_dict(resume["model"])
            heads.load_state_dict(resume["heads"], strict=resume.get("optimizer") is not None)
            with torch.no_grad():
                logit_bias.copy_(resume["logit_bias"])
        model.to(device).train()
        heads.to(device).train()
        logit_bias.data = logit_bias.data.to(device)
        opt = make_optimizer(model, heads, [logit_bias], args, device)
        if resume and resume.get("optimizer") is not None:
            opt.load_state_dict(resume["optimizer"])
            # This run's own settings win over the saved hyperparameters (a later stage may change them).
            for g, (wd, mult) in zip(opt.param_groups, ((args.wd, 1.0), (0.0, 1.0), (0.0, args.head_lr_mult))):
                g["weight_decay"], g["lr_mult"], g["betas"] = wd, mult, (0.9, args.b2)
        fwd = torch.compile(model) if args.compile and hasattr(torch, "compile") else model
        params = [p for p in list(model.parameters()) + list(heads.parameters()) + [logit_bias] if p.requires_grad]

        low = args.precision == "bf16" or (args.precision == "auto" and cuda)

        def autocast():
            return torch.autocast(device.type, dtype=torch.bfloat16, enabled=low)

        train_seconds = args.time_budget - args.margin - (time.monotonic() - T0)
        if train_seconds <= 0:
            raise SystemExit(f"--time-budget {args.time_budget} leaves no training time after the {args.margin} s margin")
        g0 = int(resume.get("global_step", 0)) if resume else 0
        sched = Schedule(args.lr, args.warmup, train_seconds, args.max_steps, args.min_lr_frac, args.schedule, args.decay_frac, g0)
        history = list(resume.get("stages", [])) if resume else []
        stage_name = args.stage or f"stage{len(history) + 1}"
        run_cfg = {
            "model": cfg.to_dict(), "config_name": args.config if not resume else resume.get("config_name", args.config),
            "parameters": model.num_params(),
            "stream": {"size": header.size, "seed": header.seed, "split": header.split,
                       "vqa_classes": header.vqa_classes, "pair_classes": header.pair_classes, "start": stream_start},
            "args": vars(args), "batch": batch, "device": str(device),
            "device_name": torch.cuda.get_device_name(device) if cuda else platform.processor() or platform.machine(),
            "torch": torch.__version__, "head_input_scale": args.head_scale, "head_hidden": head_hidden,
            "stage": stage_name, "resumed_from": args.resume, "global_step_start": g0, "stages_before": history,
        }
        with open(os.path.join(args.out, "config.json"), "w") as f:
            json.dump(run_cfg, f, indent=2)
        print(f"model {run_cfg['config_name']}: {model.num_params() / 1e6:.2f}M parameters, {cfg.image} px, patch {cfg.patch}, "
              f"{cfg.posemb} position embedding, batch {batch} "
              f"records, {'bfloat16' if low else 'float32'} products, device {run_cfg['device_name']}, {train_seconds:.0f} s of training"
              + (f", resumed at step {g0} (stream from example {stream_start})" if resume else ""), flush=True)

        t_train = time.monotonic()
        step = 0
        totals = {"records": 0, "pairs": 0, "images": 0, "vqa": 0, "nli": 0}
        g_totals = {k: int(resume.get("totals", {}).get(k, 0)) if resume else 0 for k in totals}
        win = {"records": 0, "pairs": 0, "images": 0, "t": t_train, "wait": 0.0}
        collapse_hits, collapse_warned = 0, False
        first_loss = None
        last = {}
        step_ema, t_step = None, t_train
        last_save = t_train

        def state_info(summary=None):
            return {"config": cfg.to_dict(), "config_name": run_cfg["config_name"], "head_hidden": head_hidden,
                    "vqa_classes": header.vqa_classes, "pair_classes": header.pair_classes,
                    "global_step": g0 + step, "totals": {k: g_totals[k] + totals[k] for k in totals},
                    "data_next_start": loader.next_start() if isinstance(loader, StreamLoader) else None,
                    "stages": history + ([summary] if summary else []), "position_weight": args.position_weight, "order_weight": args.order_weight,
                    "rng": {"torch": torch.get_rng_state()}}  # tensors and plain types only: loads with weights_only

        while not stop["flag"]:
            now = time.monotonic()
            if step:
                dt_step = now - t_step
                step_ema = dt_step if step_ema is None else 0.9 * step_ema + 0.1 * dt_step
            t_step = now
            elapsed = now - t_train
            # Stop when the next step would not finish inside the budget (steps are long on a CPU).
            if sched.progress(step, elapsed + (step_ema or 0.0)) >= 1.0:
                stop["why"] = "max steps" if args.max_steps and step >= args.max_steps else "time budget"
                break
            if args.save_every and now - last_save > args.save_every:
                save_state(os.path.join(args.out, "state.pt"), model, heads, opt, logit_bias, state_info())
                last_save = now
            lr = sched(step, elapsed)
            if resume and resume.get("optimizer") is None and args.rewarm > 0:
                lr *= min(1.0, (step + 1) / args.rewarm)  # fresh Adam moments: warm up again, briefly
            for g in opt.param_groups:
                g["lr"] = lr * g["lr_mult"]
            tw = time.monotonic()
            buf = loader.next()
            win["wait"] += time.monotonic() - tw
            db = to_device(buf, device)
            loader.release(buf)
            n, nv, nn_ = db.n_pairs, db.n_vqa, db.n_nli
            with autocast():
                emb, _, _ = fwd(db.images)
            emb = emb.float()
            scale = model.t.exp()
            zero = emb.sum() * 0.0
            loss_c, loss_v, loss_p = zero, zero, zero
            sims = None
            same = same_content(db.keys) if args.same_content != "off" and n >= 2 else None
            if n >= 2:
                loss_c, sims = contrastive_loss(emb[:n], emb[n:2 * n], scale, logit_bias, args.loss, same, args.same_content)
            lv = lp = None
            if nv and "vqa" in heads:
                lv = heads["vqa"](emb[2 * n:2 * n + nv] * args.head_scale)
                loss_v = F.cross_entropy(lv, db.vqa_labels)
            if nn_ and "pair" in heads:
                lp = heads["pair"](emb[2 * n + nv:] * args.head_scale)
                loss_p = F.cross_entropy(lp, db.pair_labels)
            loss_a = zero
            if args.attribute_weight > 0 and db.attributes is not None:
                # Scene and text canvases of the contrastive records, and the scenes inside VQA canvases.
                at, av = db.attributes, db.vqa_attributes
                on_a, on_b, on_v = (at[:, 0] & 1) > 0, (at[:, 0] & 2) > 0, (av[:, 0] & 1) > 0
                if args.vqa_attributes == "off":
                    on_v = torch.zeros_like(on_v)
                if bool(on_a.any()) or bool(on_b.any()) or bool(on_v.any()):
                    z = torch.cat([emb[:n][on_a], emb[n:2 * n][on_b], emb[2 * n:2 * n + nv][on_v]])
                    pc, pv = db.pair_counts, db.vqa_pair_counts
                    pairs = None if pc is None else torch.cat([pc[on_a], pc[on_b], pv[on_v]])
                    loss_a = attribute_loss(heads["attributes"](z * ATTRIBUTE_SCALE), torch.cat([at[on_a], at[on_b], av[on_v]]), pairs)
            loss_q, acc_q = zero, None
            if args.question_weight > 0 and nv and db.vqa_subjects is not None:
                loss_q, acc_q = question_loss(heads["question"](emb[2 * n:2 * n + nv] * ATTRIBUTE_SCALE), db.vqa_types, db.vqa_subjects)
            loss_w, acc_w = zero, None
            if args.position_weight > 0 and db.positions is not None:
                # The scene canvases: image canvases of image-caption records (canvas A) and the VQA canvases.
                nc = db.n_caption
                frame = (torch.arange(nc + nv, device=emb.device) >= nc).long()  # 0: scene canvases, 1: VQA canvases
                loss_w, acc_w = position_loss(heads["position"](torch.cat([emb[:nc], emb[2 * n:2 * n + nv]]) * ATTRIBUTE_SCALE),
                                              torch.cat([db.positions[:nc], db.vqa_positions]), frame)
            loss_o, acc_o = zero, None
            if args.order_weight > 0 and nv and db.vqa_subjects is not None:
                loss_o, acc_o = order_loss(heads["order"](emb[2 * n:2 * n + nv] * ATTRIBUTE_SCALE), db.vqa_labels, db.vqa_subjects,
                                           header.vqa_classes - 2)
            loss_d = zero
            if teacher is not None and args.distill_weight > 0:
                # Every canvas but, with --distill-vqa off, the VQA canvases.
                keep = slice(None) if args.distill_vqa == "on" or not nv else torch.cat(
                    [torch.arange(2 * n, device=emb.device), torch.arange(2 * n + nv, emb.shape[0], device=emb.device)])
                with torch.no_grad(), autocast():
                    t_emb, _, _ = teacher(db.images[keep])
                loss_d = distill_loss(emb[keep], t_emb.float(), teacher_scale)
            loss_k = zero
            if teacher_vqa is not None and lv is not None:
                pick = torch.isin(db.vqa_types, answer_types)
                if bool(pick.any()):
                    with torch.no_grad(), autocast():
                        t_emb, _, _ = teacher(db.images[2 * n:2 * n + nv][pick])
                        t_logits = teacher_vqa(t_emb.float() * teacher_head_scale)
                    loss_k = answer_distill_loss(lv[pick], t_logits.float(), args.distill_temperature)
            loss = (loss_c + args.vqa_weight * loss_v + args.pair_weight * loss_p + args.attribute_weight * loss_a + args.question_weight * loss_q
                    + args.position_weight * loss_w + args.order_weight * loss_o + args.distill_weight * loss_d
                    + args.distill_answers * loss_k)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            gnorm = torch.nn.utils.clip_grad_norm_(params, args.clip if args.clip > 0 else float("inf"))
            opt.step()
            with torch.no_grad():
                model.t.clamp_(max=math.log(100.0))
            step += 1
            totals["records"] += db.records; totals["pairs"] += n; totals["images"] += db.images.shape[0]
            totals["vqa"] += nv; totals["nli"] += nn_
            win["records"] += db.records; win["pairs"] += n; win["images"] += db.images.shape[0]
            if step % log_every == 0 or step == 1:
                with torch.no_grad():
                    rec = {"step": step, "global_step": g0 + step, "elapsed": round(time.monotonic() - T0, 2), "lr": lr,
                           "loss": loss.item(), "loss_contrast": loss_c.item(), "loss_vqa": loss_v.item(),
                           "loss_pair": loss_p.item(), "loss_attributes": loss_a.item(), "loss_question": loss_q.item(), "loss_distill": loss_d.item(), "loss_distill_answers": loss_k.item(), "temperature": scale.item(), "grad_norm": float(gnorm),
                           "batch_pairs": n, "ln_pairs": math.log(n) if n else 0.0,
                           "same_content_pairs": int(same.sum()) // 2 if same is not None else 0}
                    if args.loss == "sigmoid":
                        rec["logit_bias"] = logit_bias.item()
                    if sims is not None:
                        t = torch.arange(n, device=sims.device)
                        ok = torch.eye(n, dtype=torch.bool, device=sims.device)
                        ok = ok | same if same is not None else ok
                        a2b, b2a = ok[t, sims.argmax(1)], ok[sims.argmax(0), t]
                        hit = a2b & b2a
                        rec["acc_a2b"] = a2b.float().mean().item()
                        rec["acc_b2a"] = b2a.float().mean().item()
                        nc = db.n_caption
                        if nc:
                            rec["acc_caption"] = hit[:nc].float().mean().item()
                        if n - nc:
                            rec["acc_text"] = hit[nc:].float().mean().item()
                        za = emb[:n]
                        rec["mean_cos"] = ((za.sum(0).pow(2).sum() - n) / max(1, n * (n - 1))).item()
                    if lv is not None:
                        rec["acc_vqa"] = (lv.argmax(-1) == db.vqa_labels).float().mean().item()
                    if acc_q is not None:
                        rec["acc_question"] = acc_q.item()
                    if acc_w is not None:
                        rec["loss_position"], rec["acc_position"] = loss_w.item(), acc_w.item()
                    if acc_o is not None:
                        rec["loss_order"], rec["acc_order"] = loss_o.item(), acc_o.item()
                    if lp is not None:
                        rec["acc_pair"] = (lp.argmax(-1) == db.pair_labels).float().mean().item()
                now = time.monotonic()
                dt = max(1e-9, now - win["t"])
                rec["pairs_per_s"] = round(win["records"] / dt, 1)
                rec["contrast_pairs_per_s"] = round(win["pairs"] / dt, 1)
                rec["images_per_s"] = round(win["images"] / dt, 1)
                rec["data_wait_frac"] = round(win["wait"] / dt, 3)
                win = {"records": 0, "pairs": 0, "images": 0, "t": now, "wait": 0.0}
                if first_loss is None:
                    first_loss = rec["loss_contrast"]
                # Collapse: the contrastive loss sits at ln(pairs) (every embedding the same) after warm-up.
                if args.loss == "softmax" and sched.warmed_up(step) and n >= 8 and abs(rec["loss_contrast"] - rec["ln_pairs"]) < 0.005 * rec["ln_pairs"] \
                        and rec.get("mean_cos", 0) > 0.999:
                    collapse_hits += 1
                else:
                    collapse_hits = 0
                if collapse_hits >= 5:
                    rec["warning"] = "collapse"
                    if not collapse_warned:
                        print(f"WARNING: collapse suspected at step {step}: contrastive loss {rec['loss_contrast']:.4f} "
                              f"= ln({n}) = {rec['ln_pairs']:.4f} and mean cosine {rec['mean_cos']:.3f} after warm-up; "
                              f"lower --lr or keep --clip 1.0", flush=True)
                        collapse_warned = True
                last = rec
                log(rec, f"step {g0 + step:6d} {rec['elapsed']:7.1f}s lr {lr:.2e} loss {rec['loss']:.4f} "
                         f"(c {rec['loss_contrast']:.4f}/ln {rec['ln_pairs']:.2f} vqa {rec['loss_vqa']:.3f} "
                         f"pair {rec['loss_pair']:.3f}{f' distil {loss_d.item():.3f}' if teacher is not None and args.distill_weight > 0 else ''}{f' answers {loss_k.item():.3f}' if teacher_vqa is not None else ''}) T {rec['temperature']:.2f} "
                         f"acc {rec.get('acc_a2b', 0):.2f}/{rec.get('acc_b2a', 0):.2f} vqa {rec.get('acc_vqa', 0):.2f} "
                         f"pair {rec.get('acc_pair', 0):.2f} | {rec['pairs_per_s']:.1f} rec/s "
                         f"{rec['images_per_s']:.1f} img/s wait {rec['data_wait_frac']:.2f}")
        if cuda:
            torch.cuda.synchronize()
        train_time = time.monotonic() - t_train
    finally:
        loader.close()  # kills the generator processes

    summary = {"event": "end", "stage": stage_name, "stop": stop["why"], "steps": step, "global_step": g0 + step,
               "train_seconds": round(train_time, 1),
               "records": totals["records"], "contrast_pairs": totals["pairs"], "images": totals["images"],
               "pairs_per_s": round(totals["records"] / max(train_time, 1e-9), 1),
               "first_loss_contrast": first_loss, "last": last, "collapse_warned": collapse_warned,
               "generator": args.generator, "schedule": args.schedule, "lr": args.lr, "batch": batch}
    deadline = T0 + args.time_budget - min(8.0, args.margin / 2)  # the rest of the margin is for export
    if args.eval_data:
        ev_loader = ShardLoader(args.eval_data, batch, pin_memory=cuda, shuffle=False)
        summary.update(evaluate(model, heads, ev_loader, device, autocast, args.head_scale, deadline, args.eval_count))
    save_state(os.path.join(args.out, "state.pt"), model, heads, opt, logit_bias, state_info(summary))
    write_stage_file(os.path.join(args.out, "stage.json"), state_info(summary), args.head_scale, logit_bias)
    # The training-only heads, so a stage resumed from the exported files goes on with them (not exported for the service).
    np.savez(os.path.join(args.out, "aux_heads.npz"),
             **{k: v.detach().cpu().numpy() for k, v in heads.state_dict().items() if k.split(".")[0] in TRAINING_HEADS})
    export_npz(model, os.path.join(args.out, "ckpt.npz"))
    if args.fp16_export:
        export_npz(model, os.path.join(args.out, "ckpt_fp16.npz"), fp16=True)
    metrics = {"vqa_classes": header.vqa_classes, "pair_classes": header.pair_classes}
    all_totals = {k: g_totals[k] + totals[k] for k in totals}
    for key, kind, acc, loss_name in (("vqa", "vqa", "acc_vqa", "loss_vqa"), ("pair", "nli", "acc_pair", "loss_pair")):
        # float64 [1] arrays: what `convert --heads` puts into the head file's metrics
        for m, v in (("train_accuracy", last.get(acc)), ("train_loss", last.get(loss_name)), ("train_examples", all_totals[kind]),
                     ("heldout_accuracy", summary.get(f"eval_{key}_acc")), ("heldout_examples", summary.get(f"eval_{key}_n")),
                     ("seconds", train_time)):
            if v is not None:
                metrics[f"metric_{key}_{m}"] = np.asarray([float(v)], dtype=np.float64)
    export_heads({k: v for k, v in heads.items() if k not in TRAINING_HEADS}, os.path.join(args.out, "heads.npz"), input_scale=args.head_scale, meta=metrics)
    summary["elapsed"] = round(time.monotonic() - T0, 1)
    log(summary, "end: " + json.dumps({k: v for k, v in summary.items() if k != "last"}))
    run_cfg["result"] = summary
    run_cfg["stages"] = history + [summary]
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(run_cfg, f, indent=2)
    log.close()
    return summary


if __name__ == "__main__":
    main()
