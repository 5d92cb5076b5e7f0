#!/usr/bin/env python3
"""Writes a fixture for tests/Api.Tests/TrainedHeadsTests.cs: a small random checkpoint (ckpt.npz), MLP heads exported
by the trainer's own export_heads (heads.npz, input scale 2 folded in), embeddings and the logits PyTorch computes for
them with the heads as trained (embedding x 2 -> head).
  /usr/bin/python3 training/tests/make_head_fixture.py OUT_DIR
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import train  # noqa: E402
from clippo.export import export_heads, export_npz  # noqa: E402
from clippo.model import ClippoViT, get_config  # noqa: E402

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(3)
model = ClippoViT(get_config("tiny", image=32))
export_npz(model, os.path.join(out, "ckpt.npz"))
heads = {"vqa": train.make_head(64, 27, 16), "pair": train.make_head(64, 3, 16)}
for h in heads.values():
    torch.nn.init.normal_(h[2].weight, std=0.5)
    torch.nn.init.normal_(h[0].bias, std=0.1)
export_heads(heads, os.path.join(out, "heads.npz"), input_scale=2.0,
             meta={"vqa_classes": 27, "pair_classes": 3, "metric_vqa_heldout_accuracy": np.asarray([0.75]),
                   "metric_vqa_train_examples": np.asarray([1234.0])})
x = torch.randn(5, 64)
x = x / x.norm(dim=1, keepdim=True)
with torch.no_grad():
    np.save(os.path.join(out, "embeddings.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out, "logits_vqa.npy"), heads["vqa"](x * 2.0).numpy().astype(np.float32))
    np.save(os.path.join(out, "logits_pair.npy"), heads["pair"](x * 2.0).numpy().astype(np.float32))
print("fixture written to", out)
