"""big_vision checkpoint layout <-> the PyTorch model in model.py.

`export_npz` writes `numpy.savez` of `params/img/...` and `params/t` with exactly the names and shapes of
shared/clippo-reference.md, which `vqa convert` reads. `load_npz` reads such a file (a released CLIPPO
checkpoint, or one of ours) back into a ClippoViT.
"""
from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Dict, Optional

import numpy as np
import torch

from .model import ClippoViT, MultiHeadAttention, MlpBlock, ViTConfig, sincos2d_posemb

IMG = "params/img/"


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float32).numpy()


def _mha(prefix: str, m: MultiHeadAttention, out: Dict[str, np.ndarray]):
    d = m.query.in_features
    h, hd = m.heads, m.head_dim
    for name in ("query", "key", "value"):
        lin = getattr(m, name)
        out[f"{prefix}/{name}/kernel"] = _np(lin.weight).T.reshape(d, h, hd)
        out[f"{prefix}/{name}/bias"] = _np(lin.bias).reshape(h, hd)
    out[f"{prefix}/out/kernel"] = _np(m.out.weight).T.reshape(h, hd, d)
    out[f"{prefix}/out/bias"] = _np(m.out.bias)


def _mlp(prefix: str, m: MlpBlock, out: Dict[str, np.ndarray]):
    out[f"{prefix}/Dense_0/kernel"] = _np(m.fc1.weight).T
    out[f"{prefix}/Dense_0/bias"] = _np(m.fc1.bias)
    out[f"{prefix}/Dense_1/kernel"] = _np(m.fc2.weight).T
    out[f"{prefix}/Dense_1/bias"] = _np(m.fc2.bias)


def _ln(prefix: str, m: torch.nn.LayerNorm, out: Dict[str, np.ndarray]):
    out[f"{prefix}/scale"] = _np(m.weight)
    out[f"{prefix}/bias"] = _np(m.bias)


def state_to_bigvision(model: ClippoViT) -> Dict[str, np.ndarray]:
    """The model's parameters as a flat dict in big_vision's names and shapes (float32, C-contiguous)."""
    out: Dict[str, np.ndarray] = {}
    out[IMG + "embedding/kernel"] = _np(model.embedding.weight).transpose(2, 3, 1, 0)  # OIHW -> HWIO
    out[IMG + "embedding/bias"] = _np(model.embedding.bias)
    out[IMG + "pos_embedding"] = _np(model.pos_embedding)
    for i, blk in enumerate(model.blocks):
        p = f"{IMG}Transformer/encoderblock_{i}"
        _ln(p + "/LayerNorm_0", blk.ln0, out)
        _mha(p + "/MultiHeadDotProductAttention_0", blk.attn, out)
        _ln(p + "/LayerNorm_1", blk.ln1, out)
        _mlp(p + "/MlpBlock_0", blk.mlp, out)
    _ln(IMG + "Transformer/encoder_norm", model.encoder_norm, out)
    if model.map_head is not None:
        out[IMG + "MAPHead_0/probe"] = _np(model.map_head.probe)
        _mha(IMG + "MAPHead_0/MultiHeadDotProductAttention_0", model.map_head.attn, out)
        _ln(IMG + "MAPHead_0/LayerNorm_0", model.map_head.ln, out)
        _mlp(IMG + "MAPHead_0/MlpBlock_0", model.map_head.mlp, out)
    out[IMG + "head/kernel"] = _np(model.head.weight).T
    out[IMG + "head/bias"] = _np(model.head.bias)
    out["params/t"] = _np(model.t).reshape(1)
    return {k: np.ascontiguousarray(v) for k, v in out.items()}


def state_checkpoint(folder: str) -> Optional[str]:
    """The checkpoint of a state folder (a run's output or training/state/ID): ckpt.npz, else ckpt_fp16.npz (what a GPU
    stage brings back); None when it has neither."""
    for name in ("ckpt.npz", "ckpt_fp16.npz"):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    return None


def atomic_savez(path: str, arrays: Dict[str, np.ndarray]):
    """numpy.savez to a temporary name beside PATH, synced and renamed into place."""
    tmp = f"{path}.partial-{os.getpid()}"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: str, obj, **dump_args):
    """json.dump to a temporary name beside PATH, synced and renamed into place, as atomic_savez (a resume never reads
    half a stage.json)."""
    tmp = f"{path}.partial-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, **dump_args)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def export_npz(model: ClippoViT, path: str, fp16: bool = False) -> Dict[str, np.ndarray]:
    """Write the big_vision-layout checkpoint (float32, or float16 with fp16=True); returns the arrays."""
    arrays = state_to_bigvision(model)
    if fp16:
        arrays = {k: v.astype(np.float16) for k, v in arrays.items()}
    atomic_savez(path, arrays)
    return arrays


def export_heads(heads: Dict[str, torch.nn.Module], path: str, input_scale: float = 1.0, meta: Optional[dict] = None):
    """heads.npz: for each head NAME, `NAME/kernel` [in, out] and `NAME/bias` [out], applied to the
    L2-normalised embedding: logits = embedding @ kernel + bias (the training-time input scale is folded in).
    An MLP head (Linear, ReLU, Linear) also has `NAME/hidden/kernel` [E, H] and `NAME/hidden/bias` [H]:
    logits = relu(embedding @ hidden/kernel + hidden/bias) @ kernel + bias, the service's head format."""
    arrays: Dict[str, np.ndarray] = {}
    for name, head in heads.items():
        if isinstance(head, torch.nn.Sequential):
            first, last = head[0], head[-1]
            arrays[f"{name}/hidden/kernel"] = np.ascontiguousarray(_np(first.weight).T * input_scale)
            arrays[f"{name}/hidden/bias"] = _np(first.bias)
            arrays[f"{name}/kernel"] = np.ascontiguousarray(_np(last.weight).T)
            arrays[f"{name}/bias"] = _np(last.bias)
        else:
            arrays[f"{name}/kernel"] = np.ascontiguousarray(_np(head.weight).T * input_scale)
            arrays[f"{name}/bias"] = _np(head.bias)
    for k, v in (meta or {}).items():
        arrays[f"meta/{k}"] = np.asarray(v)
    atomic_savez(path, arrays)


def head_logits(heads, name: str, embeddings: np.ndarray) -> np.ndarray:
    """Logits of head NAME of an exported heads.npz (as loaded by np.load) on L2-normalised embeddings [N, E], computed as the
    service computes them (export_heads' format: linear, or Linear-ReLU-Linear when NAME/hidden/kernel is there)."""
    x = embeddings
    if f"{name}/hidden/kernel" in heads:
        x = np.maximum(x @ heads[f"{name}/hidden/kernel"] + heads[f"{name}/hidden/bias"], 0)
    return x @ heads[f"{name}/kernel"] + heads[f"{name}/bias"]


# ---------------------------------------------------------------------------------------------------------------
# Import


def _read_array(npz: np.lib.npyio.NpzFile, key: str) -> np.ndarray:
    a = npz[key]
    if a.dtype.kind == "V" and a.dtype.itemsize == 2:  # bfloat16 stored as |V2: upper half of a float32
        a = (a.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
    return a.astype(np.float32)


def config_from_npz(path: str) -> ViTConfig:
    """Infer width, depth, heads, MLP width, patch, image size, pooling and out dim from the shapes, and whether the
    position embedding is the fixed sincos2d one from its values."""
    with np.load(path) as z:
        keys = set(z.files)
        shapes = {k: z[k].shape for k in keys if k.startswith(IMG)}
        pe = torch.from_numpy(_read_array(z, IMG + "pos_embedding"))
    p, _, _, d = shapes[IMG + "embedding/kernel"]
    n = shapes[IMG + "pos_embedding"][1]
    depth = 0
    while f"{IMG}Transformer/encoderblock_{depth}/LayerNorm_0/scale" in shapes:
        depth += 1
    b0 = f"{IMG}Transformer/encoderblock_0"
    heads = shapes[b0 + "/MultiHeadDotProductAttention_0/query/kernel"][1]
    mlp = shapes[b0 + "/MlpBlock_0/Dense_0/kernel"][1]
    side = int(round(n ** 0.5))
    pool = "map" if IMG + "MAPHead_0/probe" in shapes else "gap"
    if IMG + "head/kernel" not in shapes:
        raise ValueError("checkpoints without a `head` Dense are not supported by the trainer")
    out_dim = shapes[IMG + "head/kernel"][1]
    # A fixed sincos2d embedding is known by its values (to bfloat16's rounding at most); a learned one is never that.
    fixed = d % 4 == 0 and side * side == n and torch.allclose(pe, sincos2d_posemb(side, d), atol=5e-3, rtol=0)
    return ViTConfig(width=d, depth=depth, heads=heads, mlp_dim=mlp, patch=p, image=side * p, out_dim=out_dim, pool=pool,
                     posemb="sincos2d" if fixed else "learn")


@torch.no_grad()
def load_npz(path: str, model: Optional[ClippoViT] = None) -> ClippoViT:
    """Load a big_vision-layout checkpoint (float32/16/64 or bfloat16 arrays; `opt/` entries ignored)."""
    if model is None:
        model = ClippoViT(config_from_npz(path))
    with np.load(path) as z:
        def g(key):
            return torch.from_numpy(_read_array(z, key))

        def mha(prefix, m: MultiHeadAttention):
            d = m.query.in_features
            for name in ("query", "key", "value"):
                getattr(m, name).weight.copy_(g(f"{prefix}/{name}/kernel").reshape(d, d).T)
                getattr(m, name).bias.copy_(g(f"{prefix}/{name}/bias").reshape(d))
            m.out.weight.copy_(g(f"{prefix}/out/kernel").reshape(d, d).T)
            m.out.bias.copy_(g(f"{prefix}/out/bias"))

        def mlp(prefix, m: MlpBlock):
            m.fc1.weight.copy_(g(f"{prefix}/Dense_0/kernel").T)
            m.fc1.bias.copy_(g(f"{prefix}/Dense_0/bias"))
            m.fc2.weight.copy_(g(f"{prefix}/Dense_1/kernel").T)
            m.fc2.bias.copy_(g(f"{prefix}/Dense_1/bias"))

        def ln(prefix, m):
            m.weight.copy_(g(prefix + "/scale"))
            m.bias.copy_(g(prefix + "/bias"))

        model.embedding.weight.copy_(g(IMG + "embedding/kernel").permute(3, 2, 0, 1))
        model.embedding.bias.copy_(g(IMG + "embedding/bias"))
        if model.cfg.posemb == "learn":
            model.pos_embedding.copy_(g(IMG + "pos_embedding"))
        # else a fixed sincos2d embedding stays as the model made it: what a sincos2d checkpoint holds (config_from_npz
        # knows one by it), or, from a checkpoint with a learned one (train.py --init X --posemb sincos2d), its replacement.
        for i, blk in enumerate(model.blocks):
            p = f"{IMG}Transformer/encoderblock_{i}"
            ln(p + "/LayerNorm_0", blk.ln0)
            mha(p + "/MultiHeadDotProductAttention_0", blk.attn)
            ln(p + "/LayerNorm_1", blk.ln1)
            mlp(p + "/MlpBlock_0", blk.mlp)
        ln(IMG + "Transformer/encoder_norm", model.encoder_norm)
        if model.map_head is not None:
            model.map_head.probe.copy_(g(IMG + "MAPHead_0/probe"))
            mha(IMG + "MAPHead_0/MultiHeadDotProductAttention_0", model.map_head.attn)
            ln(IMG + "MAPHead_0/LayerNorm_0", model.map_head.ln)
            mlp(IMG + "MAPHead_0/MlpBlock_0", model.map_head.mlp)
        model.head.weight.copy_(g(IMG + "head/kernel").T)
        model.head.bias.copy_(g(IMG + "head/bias"))
        if "params/t" in z.files:
            model.t.copy_(g("params/t").reshape(1))
    return model
