#!/usr/bin/env python3
"""The CPU gate: before any GPU minute, show on this machine's 2 cores, in about 14 minutes, that the training
recipe teaches an encoder to read colour and shape words, across languages, and to answer questions.

  /usr/bin/python3 training/cpu_gate.py [--out runs/gate] [--minutes 12]

The mini world: 96 px canvases (12 px patches: 64 tokens), one or two plain shapes (4 shapes x 6 colours, no emoji,
drawn 2.2 times the full world's size), English and German, short captions and single-word captions, VQA on count,
colour, shape and existence. The model: `mini` (width 128,
depth 4). The training runs in three resumable stages, as the GPU stages do, each resumed
from the previous one's state (weights, heads, optimizer, step, stream position):

  1. reading:   image-caption and text pairs with the attribute loss, warm-up then a constant learning rate (20%);
  2. questions: the same with half the records VQA (30%);
  3. answers:   mostly VQA, the learning rate decaying to zero over the stage (50%).

Every stage has the attribute loss (colours, shapes, counts and colour-shape pairs of each scene and caption) and the
question loss (the type and subject of each VQA canvas's question); the trainer runs with OpenBLAS's AVX-512 kernels
where the CPU has them (--openblas). Attempts and what each changed: training/gate/README.md.

Then: training/probe.py on the state (zero-shot colour and shape words, cross-language probes, the VQA head), the
checkpoint converted with its heads (`vqa convert --heads`), and `VqaApi eval` through the HTTP API on the same
world. Criteria (issue 14): zero-shot colour words >= 0.85 and shape words (or averaged one-object captions) >= 0.85
in both languages; cross-language probes >= 0.9; VQA >= 85% on each of count, colour, shape, exists through the API;
the API's VQA accuracy within 5 points of the trainer's own. Writes OUT/GATE.md and OUT/gate.json; exits 0 only if
every criterion holds.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PY = sys.executable
WORLD = ("--objects 1-2 --emoji-share 0 --languages en,de --shapes circle,square,triangle,star "
         "--colors red,orange,yellow,green,blue,purple --plain-scenes --object-scale 2.2 --caption-styles list,sentence,word "
         "--questions count,color,shape,exists")
SIZE = 96
STAGES = [
    # name, share of the training minutes, mix, schedule, extra trainer arguments (attempts 1-4 in training/gate/)
    ("reading", 0.2, "caption=6,text=2", "constant", []),
    ("questions", 0.3, "caption=4,text=1,vqa=5", "constant", []),
    ("answers", 0.5, "caption=2,text=1,vqa=7", "decay", []),
]
TRAIN_ARGS = ["--config", "mini", "--batch", "64", "--lr", "1e-3", "--warmup", "50", "--head-hidden", "256",
              "--attribute-weight", "1", "--question-weight", "1", "--log-every", "25", "--margin", "15"]


def sh(cmd, log=None, **kw):
    t = time.monotonic()
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    p = subprocess.run(cmd, cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)
    if log:
        with open(log, "w") as f:
            f.write(p.stdout)
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}) after {time.monotonic() - t:.0f} s:\n{p.stdout[-4000:]}")
    return p.stdout


def blas_env(choice):
    """The environment of the trainer: with --openblas auto, OpenBLAS's AVX-512 kernels (SkylakeX) on a CPU that has
    AVX-512 even where the environment pins an older kernel (this build machine sets OPENBLAS_CORETYPE=Haswell: a mini
    step of 64 records took 0.47 s with the Haswell kernels, 0.33 s with SkylakeX; training/README.md)."""
    env = dict(os.environ)
    if choice == "auto":
        try:
            with open("/proc/cpuinfo") as f:
                flags = set(next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), []))
        except OSError:
            flags = set()
        if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags:
            env["OPENBLAS_CORETYPE"] = "SkylakeX"
    return env


def main():
    global WORLD, STAGES, SIZE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "runs", "gate"))
    ap.add_argument("--minutes", type=float, default=13.0, help="training minutes, all stages together")
    ap.add_argument("--no-build", action="store_true", help="use the existing Release builds")
    ap.add_argument("--train-args", default="", help="further trainer arguments for every stage (an attempt's change, e.g. \"--pool gap\"; "
                                                     "model settings take effect in the first stage, later stages resume its configuration)")
    ap.add_argument("--world-args", default="", help="further generator world options for training, probe and eval (an attempt's change, "
                                                      "e.g. \"--separation 1.4\")")
    ap.add_argument("--early-world-args", default="", help="generator world options for the training streams of the first two stages only "
                                                            "(a curriculum, e.g. \"--count-single-attribute\"); probe, eval and the last stage use the world")
    ap.add_argument("--openblas", choices=("auto", "keep"), default="auto",
                    help="auto: the trainer uses OpenBLAS's AVX-512 kernels where the CPU has AVX-512; keep: the environment's OPENBLAS_CORETYPE")
    ap.add_argument("--seed", type=int, default=1, help="the training stream's seed and the trainer's (another seed: another draw of the "
                                                       "same recipe; the held-out data, probe and eval stay the same)")
    ap.add_argument("--world", default="", help="replace the gate's world (generator options for training, probe and eval), e.g. a "
                                               "candidate for the bundled model: \"--objects 1-3 --emoji-share 0 --questions count,color,shape,exists\"")
    ap.add_argument("--size", type=int, default=SIZE, help="canvas size in pixels (the shaped profile shaped-SIZE)")
    ap.add_argument("--mixes", default="", help="the stages' example mixes separated by '|' (default: as in STAGES), e.g. "
                                               "\"caption=6,text=2|caption=4,text=1,vqa=4,pair=1|caption=2,text=1,vqa=6,pair=1\"")
    ap.add_argument("--id", default="clippo-mini-gate", help="the converted model's id")
    ap.add_argument("--shares", default="", help="the stages' shares of the training minutes, e.g. 0.2,0.3,0.5 (default: as in STAGES)")
    ap.add_argument("--stages", default="", help="replace the stages: NAME:SHARE:SCHEDULE:MIX separated by '|', e.g. "
                                                "\"widen:0.6:constant:caption=3,text=1,vqa=5,pair=1|settle:0.4:decay:caption=2,text=1,vqa=6,pair=1\"")
    ap.add_argument("--measure", action="store_true", help="train nothing: probe, convert and evaluate the state --from names (a run "
                                                          "made elsewhere, e.g. on the GPU machine by training/gpu_continue.sh) and "
                                                          "write GATE.md for it; --world should be the world it trained in")
    ap.add_argument("--from", dest="start_from", default="", help="the first stage resumes from this training state (a run directory "
                                                                  "or an exported state such as training/state/clippo-mini128-cpu): "
                                                                  "a continuation, e.g. on a wider world; the model shape comes from it")
    a = ap.parse_args()
    SIZE = a.size
    if a.world.strip():
        WORLD = a.world.strip()
    if a.mixes.strip():
        mixes = [m.strip() for m in a.mixes.split("|")]
        if len(mixes) != len(STAGES) or not all(mixes):
            ap.error(f"--mixes: {len(STAGES)} mixes separated by '|'")
        STAGES = [(n, x, m, sc, e) for (n, x, _, sc, e), m in zip(STAGES, mixes)]
    if a.shares.strip():
        shares = [float(x) for x in a.shares.split(",")]
        if len(shares) != len(STAGES) or any(x <= 0 for x in shares) or abs(sum(shares) - 1) > 1e-6:
            ap.error(f"--shares: {len(STAGES)} positive shares that sum to 1")
        STAGES = [(n, x, m, sc, e) for (n, _, m, sc, e), x in zip(STAGES, shares)]
    if a.stages.strip():
        if a.mixes.strip() or a.shares.strip():
            ap.error("--stages replaces --mixes and --shares")
        parsed = []
        for spec in a.stages.split("|"):
            parts = spec.strip().split(":")
            if len(parts) != 4 or parts[2] not in ("constant", "decay", "cosine") or not parts[0] or not parts[3]:
                ap.error(f"--stages: '{spec}' is not NAME:SHARE:SCHEDULE:MIX (schedule constant, decay or cosine)")
            try:
                share = float(parts[1])
            except ValueError:
                ap.error(f"--stages: '{parts[1]}' is not a share")
            parsed.append((parts[0], share, parts[3], parts[2], []))
        if any(x[1] <= 0 for x in parsed) or abs(sum(x[1] for x in parsed) - 1) > 1e-6:
            ap.error("--stages: positive shares that sum to 1")
        if len({x[0] for x in parsed}) != len(parsed):
            ap.error("--stages: each stage needs its own name")
        STAGES = parsed
    if a.measure and not a.start_from:
        ap.error("--measure: name the state to measure with --from")
    if a.start_from and not os.path.isdir(a.start_from):
        ap.error(f"--from: {a.start_from} is not a directory")
    if a.world_args.strip():
        WORLD = WORLD + " " + a.world_args.strip()
    t0 = time.monotonic()
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    gen_dll = os.path.join(REPO, "GeneratorTool", "bin", "Release", "net10.0", "vqa-generate.dll")
    cli_dll = os.path.join(REPO, "Cli", "bin", "Release", "net10.0", "vqa.dll")
    if not a.no_build:
        sh(["dotnet", "build", "-c", "Release", "-v", "q", "-nologo", "Cli/Cli.csproj"])
        sh(["dotnet", "build", "-c", "Release", "-v", "q", "-nologo", "GeneratorTool/GeneratorTool.csproj"])
    gen = f"dotnet {gen_dll}"
    heldout = os.path.join(out, "heldout.bin")  # the trainer's own held-out data: not needed when only measuring
    if not a.measure:
        sh(["dotnet", gen_dll, "shard", "--seed", "99", "--split", "heldout", "--size", str(SIZE), "--mix", "caption=4,text=1,vqa=5",
            *shlex.split(WORLD), "--count", "2000", "--out", heldout])
    build_s = time.monotonic() - t0

    train_env = blas_env(a.openblas)
    kernels = train_env.get("OPENBLAS_CORETYPE", "OpenBLAS's own choice")
    print(f"trainer: OPENBLAS_CORETYPE {kernels}", flush=True)
    prev = os.path.abspath(a.start_from) if a.start_from else None
    stage_results = []
    measured = None
    if a.measure:
        with open(os.path.join(prev, "config.json")) as f:
            measured = json.load(f)
        stage_results.append(measured["result"])
    for name, share, mix, schedule, extra in ([] if a.measure else STAGES):
        run = os.path.join(out, name)
        budget = a.minutes * 60 * share + 15
        cmd = [PY, "training/train.py", *TRAIN_ARGS, *extra, *shlex.split(a.train_args), "--seed", str(a.seed), "--time-budget", f"{budget:.0f}", "--schedule", schedule, "--stage", name,
               "--workers", "1", "--out", run, "--eval-data", heldout, "--eval-count", "2000",
               "--generator", f"{gen} stream --seed {a.seed} --split train --size {SIZE} --mix {mix} {WORLD}" +
               (f" {a.early_world_args.strip()}" if a.early_world_args.strip() and name != STAGES[-1][0] else "")]
        if prev:
            cmd += ["--resume", prev]
        sh(cmd, log=os.path.join(out, f"{name}.log"), env=train_env)
        with open(os.path.join(run, "config.json")) as f:
            stage_results.append(json.load(f)["result"])
        prev = run
    train_s = time.monotonic() - t0 - build_s

    final = prev
    probe_json = os.path.join(out, "probe.json")
    sh([PY, "training/probe.py", "--state", final, "--world", WORLD, "--captions", "2000", "--vqa", "1000", "--singles", "800",
        "--json", probe_json, "--cli", cli_dll, "--generator", gen_dll], log=os.path.join(out, "probe.log"))
    model = os.path.join(out, "model")
    sh(["dotnet", cli_dll, "convert", os.path.join(final, "ckpt.npz"), model, "--profile", "shaped", "--id", a.id,
        "--overwrite", "--heads", os.path.join(final, "heads.npz")])
    eval_dir = os.path.join(out, "eval")
    world = shlex.split(WORLD)
    langs = []
    if "--languages" in world:
        i = world.index("--languages")
        langs = ["--languages", world[i + 1]]
        del world[i:i + 2]
    sh(["dotnet", cli_dll, "eval", "--model", model, "--out", eval_dir, "--quick", *langs, "--vqa-per-language", "300", *world],
       log=os.path.join(out, "eval.log"))
    total_s = time.monotonic() - t0

    with open(probe_json) as f:
        probe = json.load(f)
    with open(os.path.join(eval_dir, "eval.json")) as f:
        ev = json.load(f)
    m = probe["model"]
    vqa_api = {x["group"]: x["value"] for s in ev["sections"] if s["id"] == "vqa" for x in s["metrics"]}
    trainer_vqa = stage_results[-1].get("eval_vqa_acc")
    checks = []

    def check(what, value, threshold, base=None):
        checks.append({"criterion": what, "value": value, "threshold": threshold, "untrained": base,
                       "pass": value is not None and value >= threshold})

    u = probe.get("untrained") or {}
    for lang, z in m["zero_shot"].items():
        uz = (u.get("zero_shot") or {}).get(lang, {})
        check(f"zero-shot colour words, {lang}", z["color_words"], 0.85, uz.get("color_words"))
        best = max(z["shape_words"], z["shape_captions"])
        check(f"zero-shot shape words or averaged one-object captions, {lang}", best, 0.85,
              max(uz.get("shape_words", 0), uz.get("shape_captions", 0)) if uz else None)
    for pair, r in m["cross_language"].items():
        ur = (u.get("cross_language") or {}).get(pair, {})
        check(f"cross-language probe {pair}, colours", r.get("colors"), 0.9, ur.get("colors"))
        check(f"cross-language probe {pair}, shapes", r.get("shapes"), 0.9, ur.get("shapes"))
    for t in ("count", "color", "shape", "exists"):
        check(f"VQA through the API, {t}", vqa_api.get(f"type: {t}"), 0.85)
    api_all = vqa_api.get("all")
    agree = None if api_all is None or trainer_vqa is None else 1 - abs(api_all - trainer_vqa)
    check("API VQA accuracy within 5 points of the trainer's held-out accuracy (1 - |difference|)", agree, 0.95)

    ok = all(c["pass"] for c in checks)
    lines = [f"# CPU gate: {'PASSED' if ok else 'FAILED'}", "",
             *([f"{'Measured (no training here)' if a.measure else 'Continued from'} `{a.start_from}`.", ""] if a.start_from else []),
             f"`/usr/bin/python3 training/cpu_gate.py{''.join(' ' + shlex.quote(x) for x in sys.argv[1:])}` on {os.cpu_count()} cores: "
             f"{total_s / 60:.1f} min in all "
             f"(build and held-out data {build_s / 60:.1f}, training {train_s / 60:.1f}, probe + convert + API eval "
             f"{(total_s - build_s - train_s) / 60:.1f}).", "",
             f"World: `{WORLD}`, {SIZE} px. Model: `mini`{' with `' + a.train_args.strip() + '`' if a.train_args.strip() else ''}. OpenBLAS kernels of the trainer: {kernels}. Training seed {a.seed}. Stages:", ""]
    if measured:
        r, g = measured["result"], measured["args"]
        lines.append(f"- **{measured['stage']}** (trained elsewhere and only measured here: {measured.get('device_name')}, torch "
                     f"{measured.get('torch')}, batch {measured.get('batch')}, `--lr {g.get('lr')} --schedule {g.get('schedule')}`, "
                     f"{g.get('workers')} generator processes): {r['steps']} steps to global step {r['global_step']}, "
                     f"{r['records']:,} records in {r['train_seconds']:.0f} s; held-out caption R@1 {r.get('eval_caption_r1_a2b', 0):.2f} / "
                     f"{r.get('eval_caption_r1_b2a', 0):.2f}, text R@1 {r.get('eval_text_r1_a2b', 0):.2f}, VQA {r.get('eval_vqa_acc', float('nan')):.2f}")
    for (name, share, mix, schedule, extra), r in zip([] if measured else STAGES, stage_results):
        lines.append(f"- **{name}** (`--mix {mix}`, `--schedule {schedule}`{', `' + ' '.join(extra) + '`' if extra else ''}): {r['steps']} steps to global step {r['global_step']}, "
                     f"{r['records']:,} records in {r['train_seconds']:.0f} s; held-out caption R@1 {r.get('eval_caption_r1_a2b', 0):.2f} / "
                     f"{r.get('eval_caption_r1_b2a', 0):.2f}, text R@1 {r.get('eval_text_r1_a2b', 0):.2f}, VQA {r.get('eval_vqa_acc', float('nan')):.2f}")
    lines += ["", "| criterion | model | untrained | needed | |", "|---|---:|---:|---:|---|"]
    for c in checks:
        v = "-" if c["value"] is None else f"{c['value']:.3f}"
        b = "-" if c["untrained"] is None else f"{c['untrained']:.3f}"
        lines.append(f"| {c['criterion']} | {v} | {b} | {c['threshold']} | {'pass' if c['pass'] else '**FAIL**'} |")
    lines += ["", f"Trainer's held-out VQA accuracy: {trainer_vqa}; through the API: {api_all}.", "",
              "## Probe table", "", probe["table"], ""]
    with open(os.path.join(out, "GATE.md"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(out, "gate.json"), "w") as f:
        json.dump({"passed": ok, "checks": checks, "stages": stage_results, "seconds": total_s, "world": WORLD}, f, indent=1)
    print("\n".join(lines))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
