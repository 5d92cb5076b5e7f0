#!/usr/bin/env python3
"""Test helper: a stand-in for `vqa-generate` that writes the exact VQAGEN v1 stream format
(docs/generator-format.md) with synthetic, learnable content -- NOT a renderer.

A "scene" is a 2x2 grid whose cells are empty or hold one of 8 things (4 colours x 2 shapes). The
"caption" of a scene is a grey barcode that encodes the 4 cell values (ink 0 on background 127, like the
text canvases); kind 1 pairs two barcode styles of one scene; kind 2 shows a question barcode (which cell)
above a small copy of the scene, label = that cell's value (9 classes); kind 3 shows two barcodes, label
0 = same scene, 1 = one cell changed, 2 = unrelated.

Same CLI shape as the real generator:
  fake_generator.py stream --seed S --split train --size 64 --mix caption=4,text=2,vqa=3,pair=1 --worker k --workers N
  fake_generator.py shard  --seed S --split heldout --count C --out F.bin [--size 64]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from clippo.data import StreamHeader, pack_record_header  # noqa: E402

COLOURS = np.array([[220, 40, 40], [40, 180, 60], [40, 80, 220], [230, 200, 40]], dtype=np.uint8)
SPLITS = {"train": 0, "heldout": 1, "novel": 2}
VQA_CLASSES, PAIR_CLASSES = 9, 3


def draw_scene(cells, size, rng, canvas=None, y0=0, side=None):
    side = side or size
    img = canvas if canvas is not None else np.full((size, size, 3), 255, np.uint8)
    half = side // 2
    for c, v in enumerate(cells):
        if v == 0:
            continue
        colour, shape = COLOURS[(v - 1) % 4], (v - 1) // 4
        cy, cx = y0 + (c // 2) * half, (c % 2) * half
        j = rng.integers(0, max(1, half // 8) + 1, size=2)
        if shape == 0:  # square
            s = half * 5 // 8
            img[cy + j[0]: cy + j[0] + s, cx + j[1]: cx + j[1] + s] = colour
        else:  # horizontal bar
            h = half // 4
            img[cy + half // 3 + j[0]: cy + half // 3 + j[0] + h, cx + j[1]: cx + j[1] + half * 7 // 8] = colour
    return img


def draw_code(values, size, style, canvas=None, y0=0, rows=None):
    """A barcode of small integers: each value becomes a block of bits drawn as ink columns."""
    img = canvas if canvas is not None else np.full((size, size, 3), 127, np.uint8)
    unit = max(1, size // 64)
    h = rows or size // 4
    top = y0 + (style * size // 3 if canvas is None else 0)
    x = unit
    for v in values:
        for bit in range(4):
            if (v >> bit) & 1:
                img[top: top + h, x: x + unit] = 0
            x += unit * (2 if style == 0 else 1) + unit
        x += unit * 2
    return img


def position_byte(cells):
    """Byte 31 as vqa-generate writes it: the first drawn cell whose colour no other drawn cell has, its colour, and
    whether it is in the left half (even cell) and the upper half (cells 0 and 1); 0 when no colour is unique."""
    colours = [(v - 1) % 4 if v else None for v in cells]
    for c, col in enumerate(colours):
        if col is not None and colours.count(col) == 1:
            return 0x80 | col | (8 if c % 2 == 0 else 0) | (16 if c // 2 == 0 else 0)
    return 0


def example(kind, idx, size, rng):
    b = np.zeros((size, size, 3), np.uint8)
    cells = rng.integers(0, 9, size=4)
    if kind == 0:
        a = draw_scene(cells, size, rng)
        b = draw_code(cells, size, rng.integers(0, 2))
        return a, b, position_byte(cells), 0, 0, -1
    if kind == 1:
        a = draw_code(cells, size, 0)
        b = draw_code(cells, size, 1)
        return a, b, 0, 1, 0, -1
    if kind == 2:
        q = int(rng.integers(0, 4))
        a = np.full((size, size, 3), 127, np.uint8)
        draw_code([q + 1], size, 0, canvas=a, rows=size // 4)
        sub = np.full((size * 3 // 4, size * 3 // 4, 3), 255, np.uint8)
        draw_scene(cells, size * 3 // 4, rng, canvas=sub)
        a[size // 4:, : size * 3 // 4] = sub
        return a, b, position_byte(cells), 255, q % 5, int(cells[q])
    label = int(rng.integers(0, 3))
    other = cells.copy()
    if label == 1:
        c = int(rng.integers(0, 4))
        other[c] = (other[c] + 1 + rng.integers(0, 8)) % 9
    elif label == 2:
        other = rng.integers(0, 9, size=4)
    a = np.full((size, size, 3), 127, np.uint8)
    draw_code(cells, size, 0, canvas=a, rows=size // 4)
    draw_code(other, size, 0, canvas=a, y0=size // 2, rows=size // 4)
    return a, b, 0, 0, 0, label


def parse_mix(text):
    names = {"caption": 0, "text": 1, "vqa": 2, "pair": 3}
    weights = np.zeros(4)
    for part in text.split(","):
        k, v = part.split("=")
        weights[names[k.strip()]] = float(v)
    return weights / weights.sum()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("verb", choices=["stream", "shard"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--split", default="train")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--mix", default="caption=4,text=2,vqa=3,pair=1")
    ap.add_argument("--worker", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--start", type=int, default=0, help="index of the first example (worker k writes start + k, start + k + workers, ...)")
    ap.add_argument("--out")
    ap.add_argument("--spatial-share", type=float, default=0.0,
                    help="test: this share of VQA records asks a spatial question (byte 28: a relation; type 4; the answer one "
                         "of the last two classes, yes or no, drawn at random: for the order loss's plumbing, not learnable)")
    ap.add_argument("--fail-after", type=int, default=-1, help="test: exit with an error after this many records")
    a = ap.parse_args()
    split = SPLITS[a.split]
    header = StreamHeader(1, a.size, 3, 32, a.seed, VQA_CLASSES, PAIR_CLASSES, split).pack()
    mix = parse_mix(a.mix)
    out = open(a.out, "wb") if a.verb == "shard" else sys.stdout.buffer
    out.write(header)
    i = a.start + a.worker
    n = 0
    try:
        while a.verb == "stream" or i < a.start + a.count:
            rng = np.random.default_rng([a.seed, split, i])
            kind = int(rng.choice(4, p=mix))
            A, B, where, lb, qt, label = example(kind, i, a.size, rng)
            la = 0
            lb = lb if kind in (0, 1) else 255
            if kind == 0:
                lb = 0
            # A VQA question's subject (bytes 28..30): the cell it asks about, in the shape slot.
            # Where one object of the scene lies (byte 31): image-caption and VQA records.
            subject = (1, 0, qt + 1) if kind == 2 else None
            if kind == 2 and a.spatial_share > 0 and rng.random() < a.spatial_share:
                relation = int(rng.integers(0, 4))
                qt, label, subject = 4, VQA_CLASSES - 2 + int(rng.integers(0, 2)), (1 | (relation + 1) << 2, 0, 0)
            out.write(pack_record_header(kind, la, lb, qt, label, i, subject=subject, position=where))
            out.write(A.tobytes())
            out.write(B.tobytes())
            i += a.workers
            n += 1
            if a.fail_after >= 0 and n >= a.fail_after:
                out.flush()
                print("fake generator: failing on purpose", file=sys.stderr)
                sys.exit(3)
    except BrokenPipeError:
        return
    out.flush()


if __name__ == "__main__":
    main()
