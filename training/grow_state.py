#!/usr/bin/env python3
"""Grow a trained state deeper without changing what it computes: new encoder blocks go in between the trained ones,
each starting as the identity (its attention's output projection and its MLP's second layer are zero, so the block
adds nothing to the residual stream until training moves them). The grown state converts, evaluates and resumes
as any other (the trainer rebuilds the optimizer's moments, as after every resume from exported files); its first
steps start from the trained model's own answers instead of from nothing.

  /usr/bin/python3 training/grow_state.py training/state/clippo-mini128-sincos-20 --depth 6 --out runs/grown6 \
      [--after 1,3] [--seed 0]

By default the new blocks are spread evenly (4 -> 6 puts one after block 1 and one after block 3); --after names the
trained blocks (0-based, one per new block, repeats allowed) that a new block follows. The new blocks' other weights
(query, key, value, the MLP's first layer, unit LayerNorms) take the model's own initialisation with --seed. Heads,
training-only heads and counters are kept; stage.json gets the new depth and a history entry naming the growth.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clippo.export import atomic_write_json, export_npz, load_npz, state_checkpoint  # noqa: E402
from clippo.model import ClippoViT  # noqa: E402


def spread(old_depth: int, new_blocks: int) -> list[int]:
    """The trained block each new block follows, spread evenly over the depth (4 blocks, 2 new: after 1 and 3)."""
    return [max(0, round((j + 1) * old_depth / new_blocks) - 1) for j in range(new_blocks)]


@torch.no_grad()
def grow(old: ClippoViT, depth: int, after: list[int], seed: int) -> tuple[ClippoViT, list[int]]:
    """The model with len(after) identity blocks inserted; returns it and the new blocks' positions."""
    cfg = old.cfg
    torch.manual_seed(seed)
    new = ClippoViT(dataclasses.replace(cfg, depth=depth))
    # Everything outside the blocks as trained.
    kept = {k: v for k, v in old.state_dict().items() if not k.startswith("blocks.")}
    missing, _ = new.load_state_dict(kept, strict=False)
    assert all(k.startswith("blocks.") for k in missing), missing
    order: list[tuple[str, int]] = []  # ("old", i) or ("new", j), in the grown order
    for i in range(cfg.depth):
        order.append(("old", i))
        order.extend(("new", j) for j, a in enumerate(after) if a == i)
    positions = []
    for pos, (kind, i) in enumerate(order):
        block = new.blocks[pos]
        if kind == "old":
            block.load_state_dict(old.blocks[i].state_dict())
        else:
            for lin in (block.attn.out, block.mlp.fc2):
                lin.weight.zero_()
                lin.bias.zero_()
            positions.append(pos)
    return new, positions


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("state", help="a state folder (ckpt.npz or ckpt_fp16.npz, heads.npz, stage.json)")
    ap.add_argument("--depth", type=int, required=True, help="the grown depth (more than the state's)")
    ap.add_argument("--out", required=True, help="the folder to write (must not exist, or be empty)")
    ap.add_argument("--after", help="comma-separated trained blocks (0-based) that each new block follows (default: spread evenly)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the new blocks' initialisation")
    a = ap.parse_args(argv)

    if not os.path.isdir(a.state) or not os.path.exists(os.path.join(a.state, "stage.json")):
        raise SystemExit(f"{a.state}: not a state folder (no stage.json)")
    ckpt = state_checkpoint(a.state)
    if ckpt is None or not os.path.exists(os.path.join(a.state, "heads.npz")):
        raise SystemExit(f"{a.state}: no ckpt.npz (or ckpt_fp16.npz) and heads.npz beside stage.json")
    if os.path.exists(a.out) and (not os.path.isdir(a.out) or os.listdir(a.out)):
        raise SystemExit(f"--out: {a.out} exists and is not an empty folder")
    with open(os.path.join(a.state, "stage.json")) as f:
        stage = json.load(f)
    try:
        old = load_npz(ckpt)
    except Exception as e:  # noqa: BLE001 - a damaged or foreign checkpoint: name it
        raise SystemExit(f"{ckpt}: not a readable checkpoint of this trainer's model ({e})") from e
    d = old.cfg.depth
    if a.depth <= d:
        raise SystemExit(f"--depth: {a.depth} is not more than the state's depth {d}")
    k = a.depth - d
    if a.after:
        try:
            after = [int(x) for x in a.after.split(",")]
        except ValueError as e:
            raise SystemExit(f"--after: {a.after!r} is not a comma-separated list of block numbers") from e
        if len(after) != k or any(not 0 <= x < d for x in after):
            raise SystemExit(f"--after: give {k} block numbers between 0 and {d - 1} (one per new block)")
    else:
        after = spread(d, k)

    new, positions = grow(old, a.depth, after, a.seed)
    os.makedirs(a.out, exist_ok=True)
    export_npz(new, os.path.join(a.out, "ckpt.npz"))
    for name in ("heads.npz", "aux_heads.npz"):
        if os.path.exists(os.path.join(a.state, name)):
            shutil.copyfile(os.path.join(a.state, name), os.path.join(a.out, name))
    stage = dict(stage)
    stage["config"] = {**stage.get("config", {}), "depth": a.depth}
    stage["stages"] = list(stage.get("stages", [])) + [{
        "event": "grow", "stage": "grow", "state": os.path.normpath(a.state), "from_depth": d, "depth": a.depth,
        "new_blocks": positions, "after": after, "seed": a.seed, "global_step": stage.get("global_step")}]
    atomic_write_json(os.path.join(a.out, "stage.json"), stage)
    print(f"{a.out}: depth {d} -> {a.depth} (new identity blocks at {', '.join(map(str, positions))}), "
          f"{old.num_params() / 1e6:.2f}M -> {new.num_params() / 1e6:.2f}M parameters, global step {stage.get('global_step')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
