#!/usr/bin/env python3
"""The mean of logged training figures over equal parts of a run, from the trainer's train_log.jsonl: does a stage
climb during its decay and give it back when the next one re-warms?

  /usr/bin/python3 training/log_phases.py training/gate/sincos-lineage/stage15-ab-control-train_log.jsonl \
      [--parts 5] [--fields acc_vqa,loss_vqa,loss_contrast]

One row per log file, one column per part and field (the lines that carry the field, split into --parts runs of
equal length; the final summary line has none of them).
"""
from __future__ import annotations

import argparse
import json
import sys


def phases(lines: list[dict], field: str, parts: int) -> list[float]:
    values = [float(d[field]) for d in lines if field in d]
    if len(values) < parts:
        raise SystemExit(f"{field}: {len(values)} logged values, fewer than --parts {parts}")
    n = len(values) // parts
    return [sum(values[i * n:(i + 1) * n]) / n for i in range(parts)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("logs", nargs="+", help="train_log.jsonl files")
    ap.add_argument("--parts", type=int, default=5)
    ap.add_argument("--fields", default="acc_vqa,loss_vqa,loss_contrast")
    a = ap.parse_args(argv)
    if a.parts < 1:
        raise SystemExit("--parts: give 1 or more")
    fields = [f for f in a.fields.split(",") if f]
    print("| log | field | " + " | ".join(f"part {i + 1}" for i in range(a.parts)) + " |")
    print("|---|---|" + "---:|" * a.parts)
    for path in a.logs:
        try:
            with open(path, encoding="utf-8") as f:
                lines = [json.loads(x) for x in f if x.strip().startswith("{")]
        except (OSError, ValueError) as e:
            raise SystemExit(f"{path}: not a readable train_log.jsonl ({e})") from e
        for field in fields:
            print(f"| {path} | {field} | " + " | ".join(f"{v:.3f}" for v in phases(lines, field, a.parts)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
