"""Live cross-check of compute.attention and compute.architectures against PyTorch (CPU).

Seeded random cases: parameter counts of ``nn.MultiheadAttention`` (with and without bias, with
``kdim``/``vdim``, with ``add_bias_kv``) and ``nn.TransformerEncoderLayer``; attention FLOPs
against ``torch.utils.flop_counter.FlopCounterMode``; grouped ``nn.Conv2d`` parameters and FLOPs;
the four normalization layers' outputs, learnable parameters and the number of means their ATen
kernels return.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from compute import architectures as arch
from compute import attention as attn

torch = pytest.importorskip("torch")
nn = torch.nn

pytestmark = pytest.mark.crosscheck

SEED = 20_261_203


@pytest.fixture(autouse=True, scope="module")
def single_torch_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def n_params(module: object) -> int:
    return sum(p.numel() for p in module.parameters())  # type: ignore[attr-defined]


def test_mha_params_match_torch() -> None:
    rng = np.random.default_rng(SEED)
    for _ in range(1500):
        h = int(rng.integers(1, 9))
        d = h * int(rng.integers(1, 17))
        bias = bool(rng.random() < 0.6)
        bias_kv = bool(rng.random() < 0.2)
        kv = rng.random() < 0.3
        kdim = int(rng.integers(1, 100)) if kv else None
        vdim = int(rng.integers(1, 100)) if kv else None
        module = nn.MultiheadAttention(d, h, bias=bias, kdim=kdim, vdim=vdim, add_bias_kv=bias_kv)
        expected = n_params(module)
        got = attn.mha_params(d, h, bias=bias, kdim=kdim, vdim=vdim, add_bias_kv=bias_kv)
        assert got == expected, (d, h, bias, kdim, vdim, bias_kv)


def test_encoder_layer_params_match_torch() -> None:
    rng = np.random.default_rng(SEED + 1)
    for _ in range(600):
        h = int(rng.integers(1, 9))
        d = h * int(rng.integers(1, 17))
        f = int(rng.integers(1, 300))
        bias = bool(rng.random() < 0.7)
        layer = nn.TransformerEncoderLayer(d, h, dim_feedforward=f, bias=bias, norm_first=False)
        assert attn.encoder_layer_params(d, h, f, bias=bias) == n_params(layer), (d, h, f, bias)
        pre = nn.TransformerEncoderLayer(d, h, dim_feedforward=f, bias=bias, norm_first=True)
        assert n_params(pre) == n_params(layer)  # pre-LN moves the norms, it adds none


def test_mha_flops_match_flop_counter() -> None:
    from torch.utils.flop_counter import FlopCounterMode

    rng = np.random.default_rng(SEED + 2)
    for _ in range(120):
        h = int(rng.integers(1, 5))
        d = h * int(rng.integers(1, 9))
        n = int(rng.integers(1, 40))
        m = int(rng.integers(1, 40)) if rng.random() < 0.4 else n
        # train mode keeps the composite path (the fused eval fast path is invisible to the counter)
        module = nn.MultiheadAttention(d, h, batch_first=True).train()
        q = torch.randn(1, n, d)
        kv = torch.randn(1, m, d)
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            module(q, kv, kv, need_weights=True)  # the bmm path; the CPU SDPA kernel is uncounted
        assert attn.mha_flops(n, d, kv_len=m) == counter.get_total_flops(), (n, m, d, h)


def test_group_conv_params_and_flops_match_torch() -> None:
    from torch.utils.flop_counter import FlopCounterMode

    rng = np.random.default_rng(SEED + 3)
    for i in range(1500):
        g = int(rng.integers(1, 9))
        ci = g * int(rng.integers(1, 9))
        co = g * int(rng.integers(1, 9))
        k = int(rng.choice([1, 3, 5]))
        conv = nn.Conv2d(ci, co, k, groups=g, bias=False, padding=k // 2)
        assert arch.group_conv_params(ci, co, k, g) == n_params(conv)
        if i % 10 == 0:
            size = int(rng.integers(1, 12))
            counter = FlopCounterMode(display=False)
            with counter, torch.no_grad():
                conv(torch.randn(1, ci, size, size))
            assert arch.group_conv_flops(ci, co, k, g, size) == counter.get_total_flops()


def _torch_norm(kind: str, c: int, hw: tuple[int, int], g: int) -> object:
    if kind == "batch":
        return nn.BatchNorm2d(c)
    if kind == "layer":
        return nn.LayerNorm([c, *hw])
    if kind == "instance":
        return nn.InstanceNorm2d(c, affine=True)
    return nn.GroupNorm(g, c)


def _aten_means(kind: str, x: object, g: int) -> int:
    t = x  # an (N, C, H, W) float64 tensor
    n, c, h, w = t.shape  # type: ignore[attr-defined]
    ops = torch.ops.aten
    if kind == "batch":
        _, mean, _ = ops.native_batch_norm(t, None, None, None, None, True, 0.1, 1e-5)
    elif kind == "layer":
        _, mean, _ = ops.native_layer_norm(t, [c, h, w], None, None, 1e-5)
    elif kind == "instance":  # instance norm is batch norm over the (1, N*C, H, W) view
        v = t.reshape(1, n * c, h, w)  # type: ignore[attr-defined]
        _, mean, _ = ops.native_batch_norm(v, None, None, None, None, True, 0.1, 1e-5)
    else:
        _, mean, _ = ops.native_group_norm(t, None, None, n, c, h * w, g, 1e-5)
    return int(mean.numel())


@pytest.mark.parametrize("kind", arch.NORM_KINDS)
def test_norms_match_torch(kind: str) -> None:
    rng = np.random.default_rng(SEED + 4)
    for _ in range(300):
        g = int(rng.integers(1, 5))
        c = g * int(rng.integers(1, 5))
        n = int(rng.integers(2, 5))
        hw = (int(rng.integers(1, 6)), int(rng.integers(2, 6)))
        shape = (n, c, *hw)
        x = rng.normal(size=shape) * rng.uniform(0.1, 10) + rng.uniform(-5, 5)
        module = _torch_norm(kind, c, hw, g).double().train()  # type: ignore[attr-defined]
        with torch.no_grad():
            expected = module(torch.from_numpy(x)).numpy()
        got = arch.norm_forward(x, kind, groups=g)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
        assert arch.norm_affine_params(kind, shape, groups=g) == n_params(module)
        means = _aten_means(kind, torch.from_numpy(x), g)
        assert arch.norm_statistics(kind, shape, groups=g) == means


def test_instance_norm_default_has_no_parameters() -> None:
    assert n_params(nn.InstanceNorm2d(16)) == 0
    assert arch.norm_affine_params("instance", (2, 16, 4, 4), affine=False) == 0
