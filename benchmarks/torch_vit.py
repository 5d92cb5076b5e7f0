#!/usr/bin/env python3
"""PyTorch eager forward pass of a CLIPPO one_tower ViT loaded from a big_vision-layout .npz.

Used by the encoder benchmark as the side-by-side baseline: same checkpoint, same inputs, same threads. The model is
the trainer's own (training/clippo, copied beside this script by the benchmark project), not a second implementation.
Usage: torch_vit.py CKPT.npz INPUT.npy BATCH ITERS THREADS OUT.npy [DEVICE [DTYPE]]
DEVICE is cpu (default) or cuda; DTYPE float32 (default) or bfloat16 (autocast, as a GPU user would run it).
Prints one JSON line: {"images_per_s": ..., "seconds": ..., "threads": ...}; writes the embeddings of
the first batch to OUT.npy so the caller can check that both runtimes computed the same thing.
"""
import json
import os
import sys
import time

import numpy as np
import torch

# training/clippo is copied next to this script (benchmarks/Benchmarks.csproj); from the source tree, it is ../training.
here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here, os.path.join(here, "..", "training")]
from clippo.export import load_npz  # noqa: E402


def main():
    ckpt, inputs, batch, iters, threads, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    device = sys.argv[7] if len(sys.argv) > 7 else "cpu"
    dtype = sys.argv[8] if len(sys.argv) > 8 else "float32"
    torch.set_num_threads(threads)
    model = load_npz(ckpt).eval().to(device)
    x = torch.from_numpy(np.load(inputs))[:batch].contiguous().to(device)
    autocast = torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=dtype == "bfloat16")
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    with torch.inference_mode(), autocast:
        emb = model(x)[0]  # warm-up, and the result to compare
        np.save(out, emb.float().cpu().numpy())
        sync()
        start = time.perf_counter()
        for _ in range(iters):
            model(x)
        sync()
        seconds = time.perf_counter() - start
    print(json.dumps({"images_per_s": batch * iters / seconds, "seconds": seconds, "threads": threads, "torch": torch.__version__,
                      "device": device, "dtype": dtype}))


if __name__ == "__main__":
    main()
