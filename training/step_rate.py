#!/usr/bin/env python3
"""How fast does the trainer step on this CPU, with float32 or bfloat16 products, and with PyTorch's own tanh GELU or
the same function as x * sigmoid(2u) with its own backward (clippo.model._GeluTanhCpu, which the trainer uses for
bfloat16 on the CPU)? A benchmark, not a test: it prints a table.

Each configuration runs train.py (its own process, as a training run does) for --steps steps of --batch records from
the same generated shard (no generator process, so the figure is the trainer's alone), resumed from --state, in
alternating rounds so that the machine's drift between minutes falls on every configuration alike. records/s counts
from the third logged step to the last (the first steps pay for start-up).

  /usr/bin/python3 training/step_rate.py --state training/state/clippo-mini128-sincos-1 --rounds 2
  /usr/bin/python3 training/step_rate.py --products --threads 1      # one product of a step's size, both precisions

Debian's PyTorch 1.13 (the build machine's) runs tanh one element at a time and its float32 products on OpenBLAS; its
bfloat16 products go to oneDNN, which uses AVX512-BF16 where the CPU has it (training/README.md, "Faster CPU steps").
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATOR = os.path.join(HERE, "..", "GeneratorTool", "bin", "Release", "net10.0", "vqa-generate.dll")
CONFIGS = [("float32", "torch"), ("float32", "ours"), ("bfloat16", "torch"), ("bfloat16", "ours")]
PRECISION = {"float32": "fp32", "bfloat16": "bf16"}


def child(gelu: str, argv: list[str]) -> None:
    """Run the trainer in this process with the GELU asked for."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    sys.path.insert(0, HERE)
    import torch.nn.functional as F
    import clippo.model as model
    if gelu == "torch":
        model.gelu_tanh = lambda x: F.gelu(x, approximate="tanh")
    else:  # x * sigmoid(2u) in both precisions (the trainer takes it for bfloat16 only)
        model.gelu_tanh = model._GeluTanhCpu.apply
    import train
    train.main(argv)


def products(threads: int) -> None:
    """One product the size of a `mini` Dense layer's on a step (4160 tokens x 128 by 128 x 512), float32 and bfloat16."""
    import time
    import torch
    torch.set_num_threads(threads or os.cpu_count() or 1)
    a, w = torch.randn(4160, 128), torch.randn(128, 512)
    for dtype in (torch.float32, torch.bfloat16):
        x, y = a.to(dtype), w.to(dtype)
        for _ in range(3):
            x @ y
        best = float("inf")
        for _ in range(5):  # best of 5 runs of 20 products: the least disturbed by the rest of the machine
            t = time.perf_counter()
            for _ in range(20):
                x @ y
            best = min(best, (time.perf_counter() - t) / 20)
        print(f"{str(dtype).removeprefix('torch.')}: {2 * 4160 * 128 * 512 / best / 1e9:.1f} GFLOP/s")


def rate(out: str, batch: int) -> tuple[float, float]:
    rows = [json.loads(line) for line in open(os.path.join(out, "train_log.jsonl"))]
    rows = [r for r in rows if "loss" in r]
    if len(rows) < 4:
        raise SystemExit(f"{out}: only {len(rows)} logged steps; give more --steps")
    a, b = rows[2], rows[-1]
    return (b["step"] - a["step"]) * batch / (b["elapsed"] - a["elapsed"]), b["loss"]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--state", help="a training state folder to resume from (its model shape is measured)")
    ap.add_argument("--world", default="--objects 1-3 --emoji-share 0 --caption-styles list,sentence,word --questions count,color,shape,exists,spatial")
    ap.add_argument("--mix", default="caption=2,text=1,vqa=6,pair=1")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = all cores)")
    ap.add_argument("--train-args", default="--attribute-weight 1 --question-weight 1 --position-weight 1 --head-hidden 256",
                    help="the trainer's loss settings, as a training run has them")
    ap.add_argument("--products", action="store_true",
                    help="only time one matrix product of a step's size in float32 and bfloat16 (seconds, no training)")
    args = ap.parse_args()
    if args.products:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        print(f"threads {args.threads or os.cpu_count()}, 4160 x 128 by 128 x 512:")
        products(args.threads)
        return
    if not args.state:
        ap.error("--state is needed (a training state folder to resume from)")
    if not os.path.exists(GENERATOR):
        raise SystemExit(f"{GENERATOR} is missing: dotnet build -c Release GeneratorTool")
    sys.path.insert(0, HERE)
    from train import cpu_bfloat16_instructions
    configs = CONFIGS
    if cpu_bfloat16_instructions() is False:  # the trainer refuses bf16 here: PyTorch would emulate it
        configs = [c for c in CONFIGS if c[0] == "float32"]
        print("this CPU has no bfloat16 instructions (avx512_bf16, amx_bf16): float32 rows only", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        shard = os.path.join(tmp, "data.bin")
        subprocess.run(["dotnet", GENERATOR, "shard", "--seed", "21", "--split", "train", "--size", str(args.size), "--mix", args.mix,
                        *args.world.split(), "--count", str(args.batch * (args.steps + 10)), "--out", shard],
                       check=True, stdout=subprocess.DEVNULL)
        results: dict[tuple[str, str], list[tuple[float, float]]] = {c: [] for c in configs}
        for r in range(args.rounds):
            for prec, gelu in configs:
                out = os.path.join(tmp, f"{prec}-{gelu}-{r}")
                argv = ["--config", "mini", "--batch", str(args.batch), "--lr", "3e-4", "--warmup", "5", "--log-every", "10",
                        "--margin", "5", "--seed", "1", "--time-budget", "3600", "--schedule", "constant", "--workers", "1",
                        "--out", out, "--data", shard, "--max-steps", str(args.steps), "--resume", args.state,
                        "--precision", PRECISION[prec], "--threads", str(args.threads), *args.train_args.split()]
                p = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", gelu, *argv],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                if p.returncode != 0:
                    raise SystemExit(f"the trainer failed ({prec}, {gelu} GELU):\n{p.stdout[-3000:]}")
                results[(prec, gelu)].append(rate(out, args.batch))
                print(f"round {r + 1}: {prec}, {gelu} GELU: {results[(prec, gelu)][-1][0]:.1f} records/s", file=sys.stderr, flush=True)
    base = [v for v, _ in results[CONFIGS[0]]]
    print(f"\nTrainer steps on this CPU ({os.cpu_count()} cores, threads {args.threads or 'all'}): `mini` from {args.state}, "
          f"batch {args.batch}, {args.steps} steps a run timed from its third logged step, {args.rounds} alternating rounds\n")
    print("| products | GELU | records/s (each round) | x float32 with PyTorch's GELU | loss at the last step |")
    print("|---|---|---|---:|---:|")
    for prec, gelu in configs:
        vals = results[(prec, gelu)]
        ratio = sum(v for v, _ in vals) / sum(base)
        name = "PyTorch's F.gelu(approximate=\"tanh\")" if gelu == "torch" else "x * sigmoid(2u), own backward"
        print(f"| {prec} | {name} | {' / '.join(f'{v:.1f}' for v, _ in vals)} | {ratio:.2f} | {vals[-1][1]:.4f} |")


if __name__ == "__main__":
    main()
