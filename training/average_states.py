#!/usr/bin/env python3
"""Average training states element-wise (a "model soup"): runs that went on from one common state for a while, with
different data or settings, often sit in one basin of the loss, and their mean can beat each of them. The result is
a state folder like training/state/ID: it converts, evaluates and resumes as any other (the trainer rebuilds the
optimizer's moments, as after every resume from exported files).

  /usr/bin/python3 training/average_states.py runs/ab15-control/control runs/ab15-shape/shape --out runs/soup15 \
      [--weights 0.5,0.5]

Each input is a folder with ckpt.npz (or ckpt_fp16.npz), heads.npz and stage.json (aux_heads.npz where they have
it): a run's output folder or training/state/ID. All must have the same model shape, the same tensors and the same
head input scale; anything else is refused with the difference named. The output's stage.json is that of the input
with the highest global step, with the data position past everything any input read and one more history entry naming
what was averaged, so that a later resume neither repeats data nor forgets where the mixture came from.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clippo.export import atomic_savez, atomic_write_json, state_checkpoint  # noqa: E402

FILES = ("ckpt.npz", "heads.npz", "aux_heads.npz")


def read_arrays(path: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception as e:  # noqa: BLE001 - a damaged or foreign file: name it
        raise SystemExit(f"{path}: not a readable .npz file ({e})") from e


def average(arrays: list[dict[str, np.ndarray]], weights: list[float], names: list[str]) -> dict[str, np.ndarray]:
    """The weighted mean of same-named tensors; the inputs must hold exactly the same names and shapes."""
    first = arrays[0]
    for other, name in zip(arrays[1:], names[1:]):
        if set(other) != set(first):
            diff = sorted(set(other) ^ set(first))
            raise SystemExit(f"{name} holds other tensors than {names[0]}: {', '.join(diff[:6])}")
        for k, v in first.items():
            if other[k].shape != v.shape:
                raise SystemExit(f"{name}: {k} has shape {other[k].shape}, {names[0]} has {v.shape}")
    out = {}
    for k, v in first.items():
        if not np.issubdtype(v.dtype, np.floating):
            if any(not np.array_equal(a[k], v) for a in arrays[1:]):
                raise SystemExit(f"{k} is not a floating-point tensor and differs between the inputs; it cannot be averaged")
            out[k] = v
            continue
        acc = np.zeros(v.shape, np.float64)
        for a, w in zip(arrays, weights):
            acc += w * a[k].astype(np.float64)
        out[k] = acc.astype(np.float32 if v.dtype == np.float16 else v.dtype)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("states", nargs="+", help="two or more state folders (ckpt.npz, heads.npz, stage.json)")
    ap.add_argument("--out", required=True, help="the folder to write (must not exist, or be empty)")
    ap.add_argument("--weights", help="comma-separated weights, one per input (default: equal); they are normalised to sum 1")
    a = ap.parse_args(argv)
    if len(a.states) < 2:
        raise SystemExit("give at least two state folders to average")
    if a.weights:
        try:
            weights = [float(x) for x in a.weights.split(",")]
        except ValueError as e:
            raise SystemExit(f"--weights: {a.weights!r} is not a comma-separated list of numbers") from e
        if len(weights) != len(a.states) or any(not np.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
            raise SystemExit(f"--weights: give {len(a.states)} non-negative numbers with a positive sum")
    else:
        weights = [1.0] * len(a.states)
    weights = [w / sum(weights) for w in weights]
    if os.path.exists(a.out) and (not os.path.isdir(a.out) or os.listdir(a.out)):
        raise SystemExit(f"--out: {a.out} exists and is not an empty folder")

    stages = []
    for s in a.states:
        if not os.path.isdir(s) or not os.path.exists(os.path.join(s, "stage.json")):
            raise SystemExit(f"{s}: not a state folder (no stage.json)")
        with open(os.path.join(s, "stage.json")) as f:
            stages.append(json.load(f))
    for s, st in zip(a.states[1:], stages[1:]):
        for key in ("config", "head_hidden", "head_input_scale", "vqa_classes", "pair_classes"):
            if st.get(key) != stages[0].get(key):
                raise SystemExit(f"{s}: {key} is {st.get(key)!r}, {a.states[0]} has {stages[0].get(key)!r}; only states of one "
                                 f"model shape and head scale can be averaged")

    has_aux = [os.path.exists(os.path.join(s, "aux_heads.npz")) for s in a.states]
    results = {}
    for name in FILES:
        if name == "aux_heads.npz" and not all(has_aux):
            if any(has_aux):
                print("aux_heads.npz is missing from some inputs: the average has none (a resume starts those "
                      "training-only heads afresh)", file=sys.stderr)
            continue
        paths = [(state_checkpoint(s) or os.path.join(s, name)) if name == "ckpt.npz" else os.path.join(s, name) for s in a.states]
        for p in paths:
            if not os.path.exists(p):
                raise SystemExit(f"{p} does not exist")
        results[name] = average([read_arrays(p) for p in paths], weights, paths)

    # Counters, totals and history of the state that went furthest, so that they agree with one another; the data
    # position past everything any input read.
    out_stage = dict(max(stages, key=lambda st: int(st.get("global_step", 0))))
    out_stage["data_next_start"] = max(int(st.get("data_next_start", 0)) for st in stages)
    out_stage["logit_bias"] = float(sum(w * float(st.get("logit_bias", -10.0)) for st, w in zip(stages, weights)))
    out_stage["stages"] = list(out_stage.get("stages", [])) + [{
        "event": "average", "stage": "average",
        "of": [{"state": os.path.normpath(s), "weight": round(w, 6), "global_step": st.get("global_step"),
                "last_stage": (st.get("stages") or [{}])[-1].get("stage")} for s, w, st in zip(a.states, weights, stages)],
        "global_step": out_stage["global_step"]}]

    os.makedirs(a.out, exist_ok=True)
    for name, arrays in results.items():
        atomic_savez(os.path.join(a.out, name), arrays)
    atomic_write_json(os.path.join(a.out, "stage.json"), out_stage)
    print(f"{a.out}: the mean of {len(a.states)} states (weights {', '.join(f'{w:.3g}' for w in weights)}), "
          f"{sum(len(v) for v in results.values())} tensors, global step {out_stage['global_step']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
