"""CLIPPO one-tower ViT in PyTorch, matching big_vision's `one_tower` + `vit` (see shared/clippo-reference.md).

Input: N x S x S x 3 float, channels last (NHWC), values in [-1, 1] -- the same layout the exported ONNX
encoder takes. Parameters are held in PyTorch's usual layouts; `export.py` maps them to big_vision's
names and shapes (HWIO conv kernel, [in, out] Dense kernels, [D, H, D/H] attention kernels).

Works on PyTorch 1.13 (CPU) and 2.x (CUDA): fused scaled_dot_product_attention is used when present.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

_HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


@dataclasses.dataclass
class ViTConfig:
    width: int
    depth: int
    heads: int
    mlp_dim: int
    patch: int = 16
    image: int = 224
    out_dim: Optional[int] = None  # the `head` Dense width E; None = width
    pool: str = "map"  # "map" or "gap"
    center_patch_init: bool = True  # zero-mean patch filters at init (see reset_parameters)
    # "learn": a learned position embedding (CLIPPO's); "sincos2d": a fixed 2D sine-cosine one (big_vision's
    # posemb="sincos2d"), exported as the checkpoint's pos_embedding like a learned one, so converter and service take
    # it as they take any. Fixed, it keeps left and right apart: see sincos2d_posemb.
    posemb: str = "learn"

    @property
    def embed_dim(self) -> int:
        return self.out_dim or self.width

    @property
    def tokens(self) -> int:
        return (self.image // self.patch) ** 2

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


CONFIGS = {
    # CI / smoke tests on a CPU: learns visibly in a couple of minutes on 2 cores.
    "tiny": ViTConfig(width=64, depth=2, heads=2, mlp_dim=256, patch=16),
    # The CPU gate (training/cpu_gate.sh): 96 px canvases in 12 px patches (64 tokens), 4 blocks of width 128.
    "mini": ViTConfig(width=128, depth=4, heads=4, mlp_dim=512, patch=12),
    "ti16": ViTConfig(width=192, depth=12, heads=3, mlp_dim=768, patch=16),
    "s16": ViTConfig(width=384, depth=12, heads=6, mlp_dim=1536, patch=16),
    "b16": ViTConfig(width=768, depth=12, heads=12, mlp_dim=3072, patch=16),
}


POSEMBS = ("learn", "sincos2d")


def sincos2d_posemb(grid: int, width: int, temperature: float = 10_000.0) -> torch.Tensor:
    """[1, grid * grid, width]: the fixed 2D sine-cosine position embedding of a grid of patches in row-major order.

    A quarter of the channels each: sin(x w), cos(x w), sin(y w), cos(y w), for the column x and row y of the patch and
    width / 4 frequencies w = temperature ** -(k / (width / 4 - 1)), k = 0 .. width / 4 - 1 (the layout of big_vision's
    posemb_sincos_2d). The lowest frequencies make sin(x w) rise monotonically across the grid, so which half of the
    canvas a patch lies in is a linear function of its embedding from the first step, and no two columns look alike. Our
    learned embeddings grew alike in mirrored columns (training/README.md, "Spatial questions")."""
    if width % 4:
        raise ValueError(f"the sincos2d position embedding needs a width divisible by 4, not {width}")
    q = width // 4
    omega = 1.0 / temperature ** (torch.arange(q, dtype=torch.float64) / max(q - 1, 1))
    y, x = torch.meshgrid(torch.arange(grid, dtype=torch.float64), torch.arange(grid, dtype=torch.float64), indexing="ij")
    xw, yw = x.reshape(-1, 1) * omega, y.reshape(-1, 1) * omega
    return torch.cat([xw.sin(), xw.cos(), yw.sin(), yw.cos()], dim=1).float()[None]


def get_config(name: str, image: Optional[int] = None, **overrides) -> ViTConfig:
    if name not in CONFIGS:
        raise KeyError(f"unknown config {name!r}; known: {', '.join(CONFIGS)}")
    cfg = dataclasses.replace(CONFIGS[name], **{k: v for k, v in overrides.items() if v is not None})
    if image is not None:
        cfg = dataclasses.replace(cfg, image=image)
    if cfg.image % cfg.patch:
        raise ValueError(f"image size {cfg.image} is not a multiple of the patch size {cfg.patch}")
    if cfg.posemb not in POSEMBS:
        raise ValueError(f"unknown position embedding {cfg.posemb!r}; known: {', '.join(POSEMBS)}")
    if cfg.width % cfg.heads:
        raise ValueError(f"width {cfg.width} is not divisible by {cfg.heads} heads")
    return cfg


class LayerNorm(nn.LayerNorm):
    """A LayerNorm that always normalises in float32 and returns float32, also under autocast.

    CUDA's autocast already runs layer_norm in float32; PyTorch 1.13's CPU autocast does not list it, so a bfloat16
    residual stream would meet float32 weights there. Same parameters and state-dict keys as nn.LayerNorm."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):
            return F.layer_norm(x.float(), self.normalized_shape, self.weight, self.bias, self.eps)


class MultiHeadAttention(nn.Module):
    """Flax MultiHeadDotProductAttention: separate q/k/v/out Dense layers, q scaled by 1/sqrt(head dim)."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.head_dim = width // heads
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(width, width)
        self.value = nn.Linear(width, width)
        self.out = nn.Linear(width, width)

    def forward(self, q_in: torch.Tensor, kv_in: torch.Tensor) -> torch.Tensor:
        n, lq, d = q_in.shape
        lk = kv_in.shape[1]
        h, hd = self.heads, self.head_dim
        q = self.query(q_in).view(n, lq, h, hd).transpose(1, 2)
        k = self.key(kv_in).view(n, lk, h, hd).transpose(1, 2)
        v = self.value(kv_in).view(n, lk, h, hd).transpose(1, 2)
        if _HAS_SDPA:
            o = F.scaled_dot_product_attention(q, k, v)
        else:
            w = torch.matmul(q * (1.0 / math.sqrt(hd)), k.transpose(-2, -1))
            w = torch.softmax(w.float(), dim=-1).to(v.dtype)
            o = torch.matmul(w, v)
        o = o.transpose(1, 2).reshape(n, lq, d)
        return self.out(o)


_GELU_C = 2.0 * math.sqrt(2.0 / math.pi)


class _GeluTanhCpu(torch.autograd.Function):
    """GELU with the tanh approximation (flax's nn.gelu), written as x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3):
    the same function (0.5 x (1 + tanh u) = x sigmoid(2u)), within float rounding. Debian's PyTorch 1.13 runs tanh one
    element at a time but sigmoid vectorised; on bfloat16 activations this made a CPU training step 1.27 times as fast
    as with F.gelu(approximate="tanh"), on float32 ones it was slower (more passes over twice the bytes), so it is used
    for bfloat16 on the CPU only (training/README.md, "Faster CPU steps"; training/step_rate.py)."""

    @staticmethod
    def forward(ctx, x):
        s = torch.sigmoid(_GELU_C * x * (1.0 + 0.044715 * (x * x)))
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        # d/dx [x s] = s + x s (1 - s) * 2u'(x),  2u'(x) = C (1 + 3 * 0.044715 x^2)
        return g * (s + x * s * (1.0 - s) * (_GELU_C * (1.0 + 0.134145 * (x * x))))


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    if x.device.type == "cpu" and x.dtype == torch.bfloat16:
        return _GeluTanhCpu.apply(x)
    return F.gelu(x, approximate="tanh")


class MlpBlock(nn.Module):
    def __init__(self, width: int, mlp_dim: int):
        super().__init__()
        self.fc1 = nn.Linear(width, mlp_dim)  # Dense_0
        self.fc2 = nn.Linear(mlp_dim, width)  # Dense_1

    def forward(self, x):
        return self.fc2(gelu_tanh(self.fc1(x)))


class EncoderBlock(nn.Module):
    def __init__(self, width: int, heads: int, mlp_dim: int):
        super().__init__()
        self.ln0 = LayerNorm(width, eps=1e-6)
        self.attn = MultiHeadAttention(width, heads)
        self.ln1 = LayerNorm(width, eps=1e-6)
        self.mlp = MlpBlock(width, mlp_dim)

    def forward(self, x):
        y = self.ln0(x)
        x = x + self.attn(y, y)
        return x + self.mlp(self.ln1(x))


class MAPHead(nn.Module):
    """Multihead attention pooling: a learned probe attends over the tokens, then y + MLP(LN(y))."""

    def __init__(self, width: int, heads: int, mlp_dim: int):
        super().__init__()
        self.probe = nn.Parameter(torch.empty(1, 1, width))
        self.attn = MultiHeadAttention(width, heads)
        self.ln = LayerNorm(width, eps=1e-6)
        self.mlp = MlpBlock(width, mlp_dim)

    def forward(self, x):
        y = self.attn(self.probe.expand(x.shape[0], -1, -1).to(x.dtype), x)
        y = y + self.mlp(self.ln(y))
        return y[:, 0]


class ClippoViT(nn.Module):
    """The image tower; `forward` returns (embedding, logits, pre_logits)."""

    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.width
        self.embedding = nn.Conv2d(3, d, kernel_size=cfg.patch, stride=cfg.patch)
        if cfg.posemb == "sincos2d":  # fixed: a buffer, saved in the state and exported, never trained
            self.register_buffer("pos_embedding", sincos2d_posemb(cfg.image // cfg.patch, d))
        else:
            self.pos_embedding = nn.Parameter(torch.empty(1, cfg.tokens, d))
        self.blocks = nn.ModuleList(EncoderBlock(d, cfg.heads, cfg.mlp_dim) for _ in range(cfg.depth))
        self.encoder_norm = LayerNorm(d, eps=1e-6)
        self.map_head = MAPHead(d, cfg.heads, cfg.mlp_dim) if cfg.pool == "map" else None
        self.head = nn.Linear(d, cfg.embed_dim)
        # Learned log temperature, exp(t) = 10 at init (params/t).
        self.t = nn.Parameter(torch.full((1,), math.log(10.0)))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """big_vision-like init: lecun-normal patch conv (filters made zero-mean), pos-emb N(0, 1/sqrt(D)) (or the fixed sincos2d one), xavier-uniform Dense
        kernels, tiny normal MLP biases, zero other biases, unit LayerNorms."""
        d = self.cfg.width
        fan_in = 3 * self.cfg.patch * self.cfg.patch
        nn.init.trunc_normal_(self.embedding.weight, std=math.sqrt(1.0 / fan_in) / 0.87962566103423978)
        # Zero-mean filters: a uniform patch (the white or grey background that fills most rendered canvases)
        # embeds to the bias alone. Without this the shared background dominates every embedding at init
        # (mean pairwise cosine ~0.99 on generator batches, ~0.5 with it) and the contrastive loss starts
        # on the collapsed plateau at ln(batch).
        if self.cfg.center_patch_init:
            self.embedding.weight.sub_(self.embedding.weight.mean(dim=(1, 2, 3), keepdim=True))
        nn.init.zeros_(self.embedding.bias)
        if self.cfg.posemb == "sincos2d":
            self.pos_embedding.copy_(sincos2d_posemb(self.cfg.image // self.cfg.patch, d))
        else:
            nn.init.normal_(self.pos_embedding, std=1.0 / math.sqrt(d))
        for m in self.modules():
            if isinstance(m, MultiHeadAttention):
                for lin in (m.query, m.key, m.value, m.out):
                    nn.init.xavier_uniform_(lin.weight)
                    nn.init.zeros_(lin.bias)
            elif isinstance(m, MlpBlock):
                for lin in (m.fc1, m.fc2):
                    nn.init.xavier_uniform_(lin.weight)
                    nn.init.normal_(lin.bias, std=1e-6)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if self.map_head is not None:
            nn.init.xavier_uniform_(self.map_head.probe.view(1, d))
        nn.init.trunc_normal_(self.head.weight, std=math.sqrt(1.0 / d) / 0.87962566103423978)
        nn.init.zeros_(self.head.bias)
        self.t.fill_(math.log(10.0))

    def forward(self, x: torch.Tensor):
        """x: [N, S, S, 3] in [-1, 1] (channels last). Returns (embedding, logits, pre_logits)."""
        x = self.embedding(x.permute(0, 3, 1, 2))  # [N, D, S/P, S/P]
        x = x.flatten(2).transpose(1, 2)  # row-major patch grid -> tokens
        x = x + self.pos_embedding.to(x.dtype)
        for blk in self.blocks:
            x = blk(x)
        x = self.encoder_norm(x)
        pre = self.map_head(x) if self.map_head is not None else x.mean(dim=1)
        logits = self.head(pre)
        lf = logits.float()
        emb = lf / (lf.norm(dim=-1, keepdim=True) + 1e-8)
        return emb, logits, pre

    def temperature(self) -> torch.Tensor:
        return self.t.exp()

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
