#!/usr/bin/env python3
"""PyTorch eager forward pass of a CLIPPO one_tower ViT loaded from a big_vision-layout .npz.

Used by the encoder benchmark as the side-by-side baseline: same checkpoint, same inputs, same threads.
Usage: torch_vit.py CKPT.npz INPUT.npy BATCH ITERS THREADS OUT.npy
Prints one JSON line: {"images_per_s": ..., "seconds": ..., "threads": ...}; writes the embeddings of
the first batch to OUT.npy so the caller can check that both runtimes computed the same thing.
"""
import json, math, sys, time
import numpy as np
import torch
import torch.nn.functional as F


def load(path):
    z = np.load(path)
    return {k[len("params/"):]: torch.from_numpy(np.asarray(z[k], dtype=np.float32)) for k in z.files if k.startswith("params/")}


class Vit(torch.nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p
        k = p["img/embedding/kernel"]  # [P, P, 3, D] HWIO
        self.patch = k.shape[0]
        self.width = k.shape[3]
        self.conv_w = k.permute(3, 2, 0, 1).contiguous()  # OIHW
        self.heads = p["img/Transformer/encoderblock_0/MultiHeadDotProductAttention_0/query/kernel"].shape[1]
        self.depth = sum(1 for key in p if key.endswith("/LayerNorm_0/scale") and "encoderblock_" in key)
        # nn.Linear layout ([out, in], contiguous) once, so every dense layer is one fused addmm, as nn.Linear does.
        self.linear = {}
        for key in p:
            if key.endswith("/kernel") and key != "img/embedding/kernel":
                pre = key[: -len("/kernel")]
                kernel = p[key]
                fan_in = kernel.shape[0] * (kernel.shape[1] if pre.endswith("/out") else 1)
                self.linear[pre] = (kernel.reshape(fan_in, -1).t().contiguous(), p[pre + "/bias"].reshape(-1))

    def ln(self, x, pre):
        return F.layer_norm(x, (self.width,), self.p[pre + "/scale"], self.p[pre + "/bias"], eps=1e-6)

    def dense(self, x, pre):
        weight, bias = self.linear[pre]
        return F.linear(x, weight, bias)

    def mha(self, q_in, kv_in, pre):
        n, tq, d = q_in.shape
        h, hd = self.heads, d // self.heads
        q = self.dense(q_in, pre + "/query").reshape(n, tq, h, hd).transpose(1, 2)
        k = self.dense(kv_in, pre + "/key").reshape(n, -1, h, hd).transpose(1, 2)
        v = self.dense(kv_in, pre + "/value").reshape(n, -1, h, hd).transpose(1, 2)
        w = torch.softmax((q / math.sqrt(hd)) @ k.transpose(-1, -2), dim=-1)
        ctx = (w @ v).transpose(1, 2).reshape(n, tq, d)
        return self.dense(ctx, pre + "/out")

    def mlp(self, x, pre):
        return self.dense(F.gelu(self.dense(x, pre + "/Dense_0"), approximate="tanh"), pre + "/Dense_1")

    def forward(self, nhwc):
        x = F.conv2d(nhwc.permute(0, 3, 1, 2), self.conv_w, self.p["img/embedding/bias"], stride=self.patch)
        x = x.flatten(2).transpose(1, 2) + self.p["img/pos_embedding"]
        for i in range(self.depth):
            b = f"img/Transformer/encoderblock_{i}"
            y = self.ln(x, b + "/LayerNorm_0")
            x = x + self.mha(y, y, b + "/MultiHeadDotProductAttention_0")
            x = x + self.mlp(self.ln(x, b + "/LayerNorm_1"), b + "/MlpBlock_0")
        x = self.ln(x, "img/Transformer/encoder_norm")
        if "img/MAPHead_0/probe" in self.p:
            probe = self.p["img/MAPHead_0/probe"].expand(x.shape[0], -1, -1)
            y = self.mha(probe, x, "img/MAPHead_0/MultiHeadDotProductAttention_0")
            y = y + self.mlp(self.ln(y, "img/MAPHead_0/LayerNorm_0"), "img/MAPHead_0/MlpBlock_0")
            pooled = y[:, 0]
        else:
            pooled = x.mean(dim=1)
        logits = self.dense(pooled, "img/head") if "img/head/kernel" in self.p else pooled
        return logits / (logits.norm(dim=-1, keepdim=True) + 1e-8)


def main():
    ckpt, inputs, batch, iters, threads, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    torch.set_num_threads(threads)
    model = Vit(load(ckpt)).eval()
    x = torch.from_numpy(np.load(inputs))[:batch].contiguous()
    with torch.inference_mode():
        emb = model(x)  # warm-up, and the result to compare
        np.save(out, emb.numpy())
        start = time.perf_counter()
        for _ in range(iters):
            model(x)
        seconds = time.perf_counter() - start
    print(json.dumps({"images_per_s": batch * iters / seconds, "seconds": seconds, "threads": threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
