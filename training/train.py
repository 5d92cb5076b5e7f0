#!/usr/bin/env python3
"""Train a CLIPPO pixels-only encoder on the generator's stream, against a wall-clock budget.

  python3 training/train.py --config ti16 --time-budget 480 --workers 14 --out runs/NAME \
      --generator "./vqa-generate stream --seed 1 --split train --size 224 --mix caption=4,text=2,vqa=3,pair=1"

Objective: symmetric InfoNCE with a learned temperature over the batch's two-canvas records (kind 0 image +
caption and kind 1 text + text, mixed in one contrastive batch), plus cross-entropy heads on the
L2-normalised embedding for VQA (kind 2, answer classes from the stream header) and sentence pairs
(kind 3). Writes OUT/ckpt.npz (big_vision layout, what `VqaApi convert` reads), OUT/heads.npz,
OUT/train_log.jsonl and OUT/config.json. See training/README.md.
"""
from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import platform
import shlex
import signal
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clippo.data import ShardFile, ShardLoader, StreamLoader, to_device, LoaderError  # noqa: E402
from clippo.export import export_heads, export_npz, load_npz, config_from_npz  # noqa: E402
from clippo.model import CONFIGS, ClippoViT, get_config  # noqa: E402

T0 = time.monotonic()


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="tiny", choices=sorted(CONFIGS), help="model size")
    ap.add_argument("--out", required=True, help="run directory (created)")
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
    ap.add_argument("--warmup", type=int, default=200, help="warm-up steps (warm-up also ends at 10%% of the budget)")
    ap.add_argument("--wd", type=float, default=1e-4, help="AdamW weight decay (kernels only)")
    ap.add_argument("--b2", type=float, default=0.95)
    ap.add_argument("--clip", type=float, default=1.0, help="gradient norm clip (0 = off)")
    ap.add_argument("--vqa-weight", type=float, default=1.0)
    ap.add_argument("--pair-weight", type=float, default=1.0)
    ap.add_argument("--head-lr-mult", type=float, default=10.0, help="learning-rate multiplier of the aux heads")
    ap.add_argument("--head-scale", type=float, default=1.0, help="aux heads see embedding * this (folded into heads.npz)")
    ap.add_argument("--plain-patch-init", action="store_true", help="do not make the patch filters zero-mean at init")
    ap.add_argument("--init", help="start from a big_vision-layout .npz (ours or a released CLIPPO checkpoint)")
    ap.add_argument("--image", type=int, default=None, help="override the model image size (default: the stream's canvas size)")
    ap.add_argument("--eval-data", nargs="+", help="held-out shard file(s): retrieval and head accuracy at the end")
    ap.add_argument("--eval-count", type=int, default=1000, help="records of --eval-data used")
    ap.add_argument("--log-every", type=int, default=None, help="steps between log lines (default 50 on CUDA, 5 on CPU)")
    ap.add_argument("--fp16-export", action="store_true", help="also write ckpt_fp16.npz")
    ap.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = all cores)")
    ap.add_argument("--compile", action="store_true", help="torch.compile the encoder (PyTorch 2.x)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    if bool(a.generator) == bool(a.data):
        ap.error("give exactly one of --generator or --data")
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


def contrastive_loss(za, zb, scale):
    sims = scale * (za @ zb.t())
    target = torch.arange(za.shape[0], device=za.device)
    loss = 0.5 * (F.cross_entropy(sims, target) + F.cross_entropy(sims.t(), target))
    return loss, sims


def make_optimizer(model, heads, args, device):
    """AdamW; weight decay on the encoder's kernels only. The aux heads get `--head-lr-mult` times the
    learning rate (and no decay) so their biases absorb the answer priors quickly: a slow head pulls every
    embedding towards the most frequent answers' weights, which collapses the contrastive embedding."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.ndim >= 2 and name not in ("pos_embedding", "map_head.probe"):
            decay.append(p)
        else:
            no_decay.append(p)
    groups = [{"params": decay, "weight_decay": args.wd, "lr_mult": 1.0},
              {"params": no_decay, "weight_decay": 0.0, "lr_mult": 1.0},
              {"params": list(heads.parameters()), "weight_decay": 0.0, "lr_mult": args.head_lr_mult}]
    kw = dict(lr=args.lr, betas=(0.9, args.b2), eps=1e-8)
    if device.type == "cuda" and "fused" in inspect.signature(torch.optim.AdamW).parameters:
        try:
            return torch.optim.AdamW(groups, fused=True, **kw)
        except (RuntimeError, TypeError, ValueError):
            pass
    return torch.optim.AdamW(groups, **kw)


class Schedule:
    """Linear warm-up (ends after `warmup` steps or at 10% of the training time, whichever is first), then a
    cosine decay over the *remaining wall-clock time* (or steps, with --max-steps, whichever runs out first)."""

    def __init__(self, peak, warmup, train_seconds, max_steps, min_frac):
        self.peak, self.warmup, self.seconds, self.max_steps, self.min_frac = peak, warmup, train_seconds, max_steps, min_frac
        self.warm_end = None  # progress at the end of warm-up

    def progress(self, step, elapsed):
        p = elapsed / self.seconds
        if self.max_steps:
            p = max(p, step / self.max_steps)
        return p

    def __call__(self, step, elapsed):
        p = self.progress(step, elapsed)
        if self.warm_end is None:
            w = max((step + 1) / max(1, self.warmup), p / 0.1)
            if w < 1:
                return self.peak * w
            self.warm_end = min(p, 0.5)
        f = min(1.0, max(0.0, (p - self.warm_end) / (1 - self.warm_end)))
        return self.peak * (self.min_frac + (1 - self.min_frac) * 0.5 * (1 + math.cos(math.pi * f)))


@torch.no_grad()
def evaluate(model, heads, loader, device, autocast, head_scale, deadline, count):
    """Retrieval R@1 (both directions) among the held-out kind-0 (caption) and kind-1 (text) pairs, and the
    aux heads' accuracy. Stops early at `deadline` (monotonic seconds) and reports what it covered."""
    model.eval()
    za, zb, kinds, hv, yv, hp, yp = [], [], [], [], [], [], []
    seen = 0
    for buf in loader:
        db = to_device(buf, device)
        loader.release(buf)
        with autocast():
            emb, _, _ = model(db.images)
        emb = emb.float()
        n, nv = db.n_pairs, db.n_vqa
        za.append(emb[:n]); zb.append(emb[n:2 * n])
        kinds.append(torch.cat([torch.zeros(db.n_caption), torch.ones(n - db.n_caption)]))
        if "vqa" in heads and nv:
            hv.append(heads["vqa"](emb[2 * n:2 * n + nv] * head_scale).argmax(-1)); yv.append(db.vqa_labels)
        if "pair" in heads and db.n_nli:
            hp.append(heads["pair"](emb[2 * n + nv:] * head_scale).argmax(-1)); yp.append(db.pair_labels)
        seen += db.records
        if seen >= count or time.monotonic() > deadline:
            break
    model.train()
    res = {"eval_records": seen}
    if za:
        za, zb, kinds = torch.cat(za), torch.cat(zb), torch.cat(kinds).to(za[0].device)
        for name, sel in (("caption", kinds == 0), ("text", kinds == 1)):
            a, b = za[sel], zb[sel]
            if len(a) >= 2:
                s = a @ b.t()
                t = torch.arange(len(a), device=s.device)
                res[f"eval_{name}_pairs"] = len(a)
                res[f"eval_{name}_r1_a2b"] = (s.argmax(1) == t).float().mean().item()
                res[f"eval_{name}_r1_b2a"] = (s.argmax(0) == t).float().mean().item()
    if hv:
        res["eval_vqa_acc"] = (torch.cat(hv) == torch.cat(yv)).float().mean().item()
        res["eval_vqa_n"] = int(sum(len(x) for x in yv))
    if hp:
        res["eval_pair_acc"] = (torch.cat(hp) == torch.cat(yp)).float().mean().item()
        res["eval_pair_n"] = int(sum(len(x) for x in yp))
    return res


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
    batch = args.batch or (256 if cuda else 32)
    log_every = args.log_every or (50 if cuda else 5)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    stop = {"flag": False, "why": None}

    def on_signal(sig, _frame):
        stop["flag"], stop["why"] = True, signal.Signals(sig).name

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    log = Logger(os.path.join(args.out, "train_log.jsonl"))
    if args.generator:
        loader = StreamLoader(shlex.split(args.generator), args.workers, batch, pin_memory=cuda,
                              log_dir=os.path.join(args.out, "generator_logs"))
    else:
        loader = ShardLoader(args.data, batch, pin_memory=cuda, shuffle=True, seed=args.seed)
    header = loader.header
    try:
        if args.eval_data:  # check the held-out files now, not after the training
            for path in args.eval_data:
                h = ShardFile(path).header
                if h.size != header.size or h.vqa_classes != header.vqa_classes or h.pair_classes != header.pair_classes:
                    raise SystemExit(f"{path}: {h.size} px, {h.vqa_classes} VQA / {h.pair_classes} pair classes; the "
                                     f"training stream has {header.size} px, {header.vqa_classes} / {header.pair_classes}")
        if args.init:
            cfg = config_from_npz(args.init)
        else:
            cfg = get_config(args.config, image=args.image or header.size, center_patch_init=not args.plain_patch_init)
        if cfg.image != header.size:
            raise SystemExit(f"the model takes {cfg.image} px canvases, the stream has {header.size} px")
        model = ClippoViT(cfg)
        if args.init:
            load_npz(args.init, model)
        model.to(device).train()
        e = cfg.embed_dim
        heads = nn.ModuleDict()
        if header.vqa_classes:
            heads["vqa"] = nn.Linear(e, header.vqa_classes)
        if header.pair_classes:
            heads["pair"] = nn.Linear(e, header.pair_classes)
        for h in heads.values():
            nn.init.normal_(h.weight, std=0.01)
            nn.init.zeros_(h.bias)
        heads.to(device)
        opt = make_optimizer(model, heads, args, device)
        fwd = torch.compile(model) if args.compile and hasattr(torch, "compile") else model
        params = list(model.parameters()) + list(heads.parameters())

        def autocast():
            if cuda:
                return torch.autocast("cuda", dtype=torch.bfloat16)
            return torch.autocast("cpu", enabled=False)

        train_seconds = args.time_budget - args.margin - (time.monotonic() - T0)
        if train_seconds <= 0:
            raise SystemExit(f"--time-budget {args.time_budget} leaves no training time after the {args.margin} s margin")
        sched = Schedule(args.lr, args.warmup, train_seconds, args.max_steps, args.min_lr_frac)
        run_cfg = {
            "model": cfg.to_dict(), "config_name": args.config, "parameters": model.num_params(),
            "stream": {"size": header.size, "seed": header.seed, "split": header.split,
                       "vqa_classes": header.vqa_classes, "pair_classes": header.pair_classes},
            "args": vars(args), "batch": batch, "device": str(device),
            "device_name": torch.cuda.get_device_name(device) if cuda else platform.processor() or platform.machine(),
            "torch": torch.__version__, "head_input_scale": args.head_scale,
        }
        with open(os.path.join(args.out, "config.json"), "w") as f:
            json.dump(run_cfg, f, indent=2)
        print(f"model {args.config}: {model.num_params() / 1e6:.2f}M parameters, {cfg.image} px, batch {batch} "
              f"records, device {run_cfg['device_name']}, {train_seconds:.0f} s of training", flush=True)

        t_train = time.monotonic()
        step = 0
        totals = {"records": 0, "pairs": 0, "images": 0}
        win = {"records": 0, "pairs": 0, "images": 0, "t": t_train, "wait": 0.0}
        collapse_hits, collapse_warned = 0, False
        first_loss = None
        last = {}
        step_ema, t_step = None, t_train
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
            lr = sched(step, elapsed)
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
            if n >= 2:
                loss_c, sims = contrastive_loss(emb[:n], emb[n:2 * n], scale)
            lv = lp = None
            if nv and "vqa" in heads:
                lv = heads["vqa"](emb[2 * n:2 * n + nv] * args.head_scale)
                loss_v = F.cross_entropy(lv, db.vqa_labels)
            if nn_ and "pair" in heads:
                lp = heads["pair"](emb[2 * n + nv:] * args.head_scale)
                loss_p = F.cross_entropy(lp, db.pair_labels)
            loss = loss_c + args.vqa_weight * loss_v + args.pair_weight * loss_p
            opt.zero_grad(set_to_none=True)
            loss.backward()
            gnorm = torch.nn.utils.clip_grad_norm_(params, args.clip if args.clip > 0 else float("inf"))
            opt.step()
            with torch.no_grad():
                model.t.clamp_(max=math.log(100.0))
            step += 1
            totals["records"] += db.records; totals["pairs"] += n; totals["images"] += db.images.shape[0]
            win["records"] += db.records; win["pairs"] += n; win["images"] += db.images.shape[0]
            if step % log_every == 0 or step == 1:
                with torch.no_grad():
                    rec = {"step": step, "elapsed": round(time.monotonic() - T0, 2), "lr": lr,
                           "loss": loss.item(), "loss_contrast": loss_c.item(), "loss_vqa": loss_v.item(),
                           "loss_pair": loss_p.item(), "temperature": scale.item(), "grad_norm": float(gnorm),
                           "batch_pairs": n, "ln_pairs": math.log(n) if n else 0.0}
                    if sims is not None:
                        t = torch.arange(n, device=sims.device)
                        hit = (sims.argmax(1) == t) & (sims.argmax(0) == t)
                        rec["acc_a2b"] = (sims.argmax(1) == t).float().mean().item()
                        rec["acc_b2a"] = (sims.argmax(0) == t).float().mean().item()
                        nc = db.n_caption
                        if nc:
                            rec["acc_caption"] = hit[:nc].float().mean().item()
                        if n - nc:
                            rec["acc_text"] = hit[nc:].float().mean().item()
                        za = emb[:n]
                        rec["mean_cos"] = ((za.sum(0).pow(2).sum() - n) / max(1, n * (n - 1))).item()
                    if lv is not None:
                        rec["acc_vqa"] = (lv.argmax(-1) == db.vqa_labels).float().mean().item()
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
                if sched.warm_end is not None and n >= 8 and abs(rec["loss_contrast"] - rec["ln_pairs"]) < 0.005 * rec["ln_pairs"] \
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
                log(rec, f"step {step:6d} {rec['elapsed']:7.1f}s lr {lr:.2e} loss {rec['loss']:.4f} "
                         f"(c {rec['loss_contrast']:.4f}/ln {rec['ln_pairs']:.2f} vqa {rec['loss_vqa']:.3f} "
                         f"pair {rec['loss_pair']:.3f}) T {rec['temperature']:.2f} "
                         f"acc {rec.get('acc_a2b', 0):.2f}/{rec.get('acc_b2a', 0):.2f} vqa {rec.get('acc_vqa', 0):.2f} "
                         f"pair {rec.get('acc_pair', 0):.2f} | {rec['pairs_per_s']:.1f} rec/s "
                         f"{rec['images_per_s']:.1f} img/s wait {rec['data_wait_frac']:.2f}")
        if cuda:
            torch.cuda.synchronize()
        train_time = time.monotonic() - t_train
    finally:
        loader.close()  # kills the generator processes

    summary = {"event": "end", "stop": stop["why"], "steps": step, "train_seconds": round(train_time, 1),
               "records": totals["records"], "contrast_pairs": totals["pairs"], "images": totals["images"],
               "pairs_per_s": round(totals["records"] / max(train_time, 1e-9), 1),
               "first_loss_contrast": first_loss, "last": last, "collapse_warned": collapse_warned}
    deadline = T0 + args.time_budget - min(8.0, args.margin / 2)  # the rest of the margin is for export
    if args.eval_data:
        ev_loader = ShardLoader(args.eval_data, batch, pin_memory=cuda, shuffle=False)
        summary.update(evaluate(model, heads, ev_loader, device, autocast, args.head_scale, deadline, args.eval_count))
    export_npz(model, os.path.join(args.out, "ckpt.npz"))
    if args.fp16_export:
        export_npz(model, os.path.join(args.out, "ckpt_fp16.npz"), fp16=True)
    export_heads(dict(heads.items()), os.path.join(args.out, "heads.npz"), input_scale=args.head_scale,
                 meta={"vqa_classes": header.vqa_classes, "pair_classes": header.pair_classes})
    summary["elapsed"] = round(time.monotonic() - T0, 1)
    log(summary, "end: " + json.dumps({k: v for k, v in summary.items() if k != "last"}))
    run_cfg["result"] = summary
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(run_cfg, f, indent=2)
    log.close()
    return summary


if __name__ == "__main__":
    main()
