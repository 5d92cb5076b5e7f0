"""Export parity: the PyTorch model vs big_vision's own numbers and vs our C# converter's ONNX encoder.

Run: python3 -m pytest training/tests/test_export_parity.py   (or: python3 training/tests/test_export_parity.py)

1. The shared big_vision fixture (../shared/fixtures/bigvision_mu3_*.npz) loaded into ClippoViT reproduces
   big_vision's pre_logits / logits / embedding / temperature, and exporting it gives back the same arrays.
2. A randomly initialised tiny model exported to .npz (fp32 and fp16), converted with
   `vqa convert CKPT.npz DIR --profile shaped` and run with `vqa embed --tensor X.npy` matches the
   PyTorch forward: max abs diff < 1e-4 on the embedding (fp16 export: against the fp16-rounded weights); also for a
   model with the fixed sincos2d position embedding.
   Skipped when `dotnet` is absent (e.g. on the GPU machine). VQAAPI_CLI overrides the command
   (default: `dotnet run --project Cli --no-launch-profile --`).
"""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "training"))

from clippo.export import export_npz, load_npz, state_to_bigvision  # noqa: E402
from clippo.model import ClippoViT, get_config  # noqa: E402

FIXTURES = [os.path.join(REPO, "..", "shared", "fixtures"), os.path.join(REPO, "tests", "fixtures")]

try:
    import pytest
except ImportError:  # plain-python run
    pytest = None


_MAIN = False


def _skip(msg):
    if pytest and not _MAIN:
        pytest.skip(msg)
    raise _Skipped(msg)


class _Skipped(Exception):
    pass


def _fixture(name):
    for d in FIXTURES:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return None


def test_bigvision_fixture_forward():
    ckpt, io = _fixture("bigvision_mu3_ckpt.npz"), _fixture("bigvision_mu3_io.npz")
    if not ckpt or not io:
        _skip("big_vision fixture not found")
    model = load_npz(ckpt).eval()
    ref = np.load(io)
    with torch.no_grad():
        emb, logits, pre = model(torch.from_numpy(ref["images_nhwc"]))
    assert np.abs(pre.numpy() - ref["pre_logits"]).max() < 1e-4
    assert np.abs(logits.numpy() - ref["logits"]).max() < 1e-4
    assert np.abs(emb.numpy() - ref["zimg"]).max() < 1e-5
    assert abs(model.temperature().item() - float(ref["t"][0])) < 1e-4
    src = np.load(ckpt)
    out = state_to_bigvision(model)
    assert set(out) == {k for k in src.files if k.startswith("params/")}
    for k, v in out.items():
        assert v.shape == src[k].shape, k
        assert np.array_equal(v, src[k].astype(np.float32)), k


def _random_tiny(seed=0, posemb="learn"):
    torch.manual_seed(seed)
    model = ClippoViT(get_config("tiny", image=64, posemb=posemb)).eval()
    with torch.no_grad():  # randomise everything so biases, LayerNorms and the temperature matter
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


def test_export_roundtrip():
    model = _random_tiny(1)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "ckpt.npz")
        export_npz(model, path)
        back = load_npz(path).eval()
        x = torch.rand(2, 64, 64, 3) * 2 - 1
        with torch.no_grad():
            assert torch.equal(model(x)[1], back(x)[1])
        z = np.load(path)
        assert z["params/img/embedding/kernel"].shape == (16, 16, 3, 64)
        assert z["params/img/Transformer/encoderblock_0/MultiHeadDotProductAttention_0/query/kernel"].shape == (64, 2, 32)
        assert z["params/img/Transformer/encoderblock_0/MultiHeadDotProductAttention_0/out/kernel"].shape == (2, 32, 64)
        assert z["params/img/MAPHead_0/probe"].shape == (1, 1, 64)
        assert z["params/t"].shape == (1,)
        assert all(z[k].dtype == np.float32 for k in z.files)


def _cli():
    env = os.environ.get("VQAAPI_CLI")
    if env:
        return shlex.split(env)
    if not shutil.which("dotnet"):
        return None
    return ["dotnet", "run", "--project", os.path.join(REPO, "Cli"), "--no-launch-profile", "--"]


def _run(cmd):
    r = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout.decode(errors='replace')[-4000:]}")
    return r.stdout.decode(errors="replace")


def _onnx_parity(fp16: bool, posemb: str = "learn"):
    cli = _cli()
    if cli is None:
        _skip("dotnet not available")
    model = _random_tiny(2, posemb)
    with tempfile.TemporaryDirectory() as d:
        ckpt = os.path.join(d, "ckpt.npz")
        export_npz(model, ckpt, fp16=fp16)
        if fp16:
            model = load_npz(ckpt).eval()  # compare against the weights the file really holds
        mdir = os.path.join(d, "model")
        _run(cli + ["convert", ckpt, mdir, "--profile", "shaped"])
        rng = np.random.default_rng(0)
        x = rng.uniform(-1, 1, size=(5, 64, 64, 3)).astype(np.float32)
        x[0] = np.round((x[0] + 1) * 127.5) / 127.5 - 1  # one input on the generator's byte grid
        xp, zp = os.path.join(d, "x.npy"), os.path.join(d, "z.npy")
        np.save(xp, x)
        _run(cli + ["embed", "--model", mdir, "--tensor", xp, "--out", zp])
        z_onnx = np.load(zp)
        with torch.no_grad():
            z_torch = model(torch.from_numpy(x))[0].numpy()
        diff = np.abs(z_onnx - z_torch).max()
        print(f"ONNX vs PyTorch embedding ({'fp16' if fp16 else 'fp32'} export): max abs diff {diff:.2e}")
        assert z_onnx.shape == z_torch.shape
        assert diff < 1e-4, diff


def test_onnx_parity_fp32():
    _onnx_parity(False)


def test_onnx_parity_fp16():
    _onnx_parity(True)


def test_onnx_parity_sincos2d():
    """A model with the fixed sincos2d position embedding converts like any: the converter takes pos_embedding as it is."""
    _onnx_parity(False, "sincos2d")


if __name__ == "__main__":
    _MAIN = True
    failed = 0
    for name, fn in list(globals().items()):
        if name.startswith("test_") and callable(fn):
            try:
                fn()
                print(f"PASS {name}")
            except _Skipped as e:
                print(f"SKIP {name}: {e}")
            except Exception as e:  # noqa: BLE001
                failed += 1
                print(f"FAIL {name}: {e!r}")
    sys.exit(1 if failed else 0)
