"""Live cross-check of the convolution side of compute/ against PyTorch (CPU, float64).

Thousands of seeded random cases per function: output shapes of real ``torch.nn`` modules
(including the cases PyTorch rejects, which must raise ``ValueError`` here), ``F.unfold``,
``F.conv2d`` with groups and dilation, and parameter counts of ``torch.nn`` modules.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

from compute.conv import conv2d_output_shape, conv_transpose_output_length, pool2d_output_shape
from compute.im2col import conv2d_direct, conv2d_im2col, im2col
from compute.params import (
    batchnorm_params,
    conv2d_params,
    depthwise_separable_params,
    linear_params,
)

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

pytestmark = pytest.mark.crosscheck

SEED = 20_261_122


@pytest.fixture(autouse=True, scope="module")
def single_torch_thread() -> Iterator[None]:
    # Thousands of tiny ops: thread hand-offs cost more than the work (10x on a busy 2-core box).
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@contextmanager
def quiet() -> Iterator[None]:
    # PyTorch warns about padding="same" with even kernels; the shapes are what we compare.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def torch_result(build: Callable[..., Any], *args: Any) -> Any:
    """Return ``build(*args)`` with PyTorch, or None when PyTorch rejects the arguments."""
    try:
        with quiet(), torch.no_grad():
            return build(*args)
    except (RuntimeError, ValueError):
        return None


def ours_result(call: Callable[..., Any], *args: Any) -> Any:
    """Return ``call(*args)``, or None when it raises ValueError (our only rejection)."""
    try:
        return call(*args)
    except ValueError:
        return None


def torch_conv_shape(size: Any, kernel: Any, stride: Any, padding: Any, dilation: Any) -> Any:
    conv = nn.Conv2d(1, 3, kernel, stride, padding, dilation, bias=False)
    return tuple(conv(torch.empty(2, 1, *size)).shape)


def torch_pool_shape(
    size: Any, kernel: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool
) -> Any:
    pool = nn.MaxPool2d(kernel, stride, padding, dilation, ceil_mode=ceil_mode)
    return tuple(pool(torch.empty(1, 2, *size)).shape)


def torch_transpose_length(
    length: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int
) -> int:
    # A (k, 1) kernel makes the width axis trivial; the height axis is the one under test.
    layer = nn.ConvTranspose2d(
        1,
        1,
        (kernel, 1),
        (stride, 1),
        (padding, 0),
        (output_padding, 0),
        bias=False,
        dilation=(dilation, 1),
    )
    return int(layer(torch.empty(1, 1, length, 1)).shape[2])


def torch_unfold(x: np.ndarray, kernel: Any, stride: Any, padding: Any, dilation: Any) -> Any:
    return F.unfold(torch.from_numpy(x)[None], kernel, dilation, padding, stride)[0].numpy()


def torch_conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> Any:
    offsets = None if bias is None else torch.from_numpy(bias)
    return F.conv2d(
        torch.from_numpy(x), torch.from_numpy(weight), offsets, stride, padding, dilation, groups
    ).numpy()


def pair(rng: np.random.Generator, low: int, high: int) -> tuple[int, int]:
    return int(rng.integers(low, high + 1)), int(rng.integers(low, high + 1))


def test_conv2d_output_shape_matches_nn_conv2d_on_3000_cases() -> None:
    rng = np.random.default_rng(SEED)
    outcomes: Counter[str] = Counter()
    for _ in range(3000):
        size = pair(rng, 1, 40)
        kernel = pair(rng, 1, 7)
        stride = pair(rng, 1, 4)
        dilation = pair(rng, 1, 3)
        choice = rng.integers(0, 6)
        padding: Any = {0: "same", 1: "valid"}.get(int(choice), pair(rng, 0, 4))
        if padding == "same" and rng.random() < 0.7:
            stride = (1, 1)

        arguments = (kernel, stride, padding, dilation)
        expected = torch_result(torch_conv_shape, size, *arguments)
        got = ours_result(conv2d_output_shape, (2, 1, *size), 3, *arguments)
        assert got == expected, (size, kernel, stride, padding, dilation)
        outcomes["rejected" if expected is None else "shape"] += 1
    assert outcomes["shape"] > 1000 and outcomes["rejected"] > 100


def test_pool2d_output_shape_matches_nn_maxpool2d_on_4000_cases() -> None:
    rng = np.random.default_rng(SEED + 1)
    outcomes: Counter[str] = Counter()
    for index in range(4000):
        kernel = pair(rng, 1, 6)
        stride = pair(rng, 1, 5)
        dilation = pair(rng, 1, 3) if rng.random() < 0.5 else (1, 1)
        # Mostly legal padding; sometimes one more than kernel // 2, which PyTorch rejects.
        extra = int(rng.random() < 0.1)
        padding = (
            int(rng.integers(0, kernel[0] // 2 + 1)) + extra,
            int(rng.integers(0, kernel[1] // 2 + 1)),
        )
        ceil_mode = bool(index % 2)
        size = pair(rng, 1, 30)
        if index % 4 == 1:
            # Aim at the PyTorch ceil-mode rule: pick a height whose last ceil window would
            # start exactly at the right padding (or past it) when that is possible.
            size = (max(1, (int(rng.integers(1, 6))) * stride[0] - padding[0]), size[1])
        arguments = (kernel, stride, padding, dilation, ceil_mode)
        expected = torch_result(torch_pool_shape, size, *arguments)
        got = ours_result(pool2d_output_shape, (1, 2, *size), *arguments)
        assert got == expected, (size, kernel, stride, padding, dilation, ceil_mode)
        if expected is None:
            outcomes["rejected"] += 1
            continue
        outcomes["shape"] += 1
        if ceil_mode:
            eff = dilation[0] * (kernel[0] - 1) + 1
            numerator = size[0] + 2 * padding[0] - eff
            raw = -(-numerator // stride[0]) + 1
            if (raw - 1) * stride[0] >= size[0] + padding[0]:
                outcomes["ceil window dropped"] += 1
            if raw - 1 > numerator // stride[0]:
                outcomes["ceil window kept"] += 1
    assert outcomes["shape"] > 2500 and outcomes["rejected"] > 100
    assert outcomes["ceil window dropped"] > 50 and outcomes["ceil window kept"] > 200
    # The seed's example: MaxPool2d(3, 2, 1) on (20, 16, 50, 32).
    assert pool2d_output_shape((20, 16, 50, 32), 3, 2, 1) == tuple(
        nn.MaxPool2d(3, 2, 1)(torch.empty(20, 16, 50, 32)).shape
    )


def test_conv_transpose_length_matches_nn_convtranspose2d_on_3000_cases() -> None:
    rng = np.random.default_rng(SEED + 2)
    outcomes: Counter[str] = Counter()
    for _ in range(3000):
        length = int(rng.integers(1, 20))
        kernel = int(rng.integers(1, 7))
        stride = int(rng.integers(1, 5))
        padding = int(rng.integers(0, 6))
        dilation = int(rng.integers(1, 4))
        # Up to max(stride, dilation), one past PyTorch's limit.
        output_padding = int(rng.integers(0, max(stride, dilation) + 1))

        arguments = (length, kernel, stride, padding, output_padding, dilation)
        expected = torch_result(torch_transpose_length, *arguments)
        got = ours_result(conv_transpose_output_length, *arguments)
        assert got == expected, (length, kernel, stride, padding, output_padding, dilation)
        outcomes["rejected" if expected is None else "length"] += 1
        if expected is not None and output_padding >= stride:
            outcomes["output_padding allowed by dilation"] += 1
    assert outcomes["length"] > 1500 and outcomes["rejected"] > 300
    assert outcomes["output_padding allowed by dilation"] > 20


def test_im2col_equals_f_unfold_on_2000_cases() -> None:
    rng = np.random.default_rng(SEED + 3)
    checked = 0
    for _ in range(2000):
        kernel, stride, dilation, padding = (
            pair(rng, 1, 4),
            pair(rng, 1, 3),
            pair(rng, 1, 3),
            pair(rng, 0, 2),
        )
        shape = (int(rng.integers(1, 4)), *pair(rng, 1, 12))
        x = rng.normal(size=shape)
        expected = torch_result(torch_unfold, x, kernel, stride, padding, dilation)
        got = ours_result(im2col, x, kernel, stride, padding, dilation)
        if expected is None:
            assert got is None
            continue
        checked += 1
        np.testing.assert_array_equal(got, expected)
    assert checked > 1000


def test_conv2d_im2col_and_direct_equal_f_conv2d_on_3000_cases() -> None:
    rng = np.random.default_rng(SEED + 4)
    outcomes: Counter[str] = Counter()
    for index in range(3000):
        groups = int(rng.integers(1, 4))
        channels = groups * int(rng.integers(1, 3))
        out_channels = groups * int(rng.integers(1, 3))
        kernel, stride, dilation = pair(rng, 1, 4), pair(rng, 1, 3), pair(rng, 1, 3)
        padding: Any = pair(rng, 0, 3)
        if index % 5 == 0:
            padding, stride = "same", (1, 1)
        x = rng.normal(size=(int(rng.integers(1, 3)), channels, *pair(rng, 1, 12)))
        weight = rng.normal(size=(out_channels, channels // groups, *kernel))
        bias = rng.normal(size=out_channels) if rng.random() < 0.5 else None
        arguments = (x, weight, bias, stride, padding, dilation, groups)
        expected = torch_result(torch_conv2d, *arguments)
        got = ours_result(conv2d_im2col, *arguments)
        if expected is None:
            assert got is None, arguments[3:]
            outcomes["rejected"] += 1
            continue
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)
        if index % 4 == 0:
            np.testing.assert_allclose(conv2d_direct(*arguments), expected, rtol=1e-10, atol=1e-10)
        outcomes["groups" if groups > 1 else "plain"] += 1
        outcomes["dilated"] += int(dilation != (1, 1))
    assert outcomes["groups"] > 1000 and outcomes["dilated"] > 1000 and outcomes["rejected"] > 60


def count_parameters(module: Any) -> int:
    return sum(int(p.numel()) for p in module.parameters())


def test_parameter_counts_equal_torch_modules_on_4000_cases() -> None:
    rng = np.random.default_rng(SEED + 5)
    for _ in range(1000):
        groups = int(rng.integers(1, 5))
        c_in, c_out = groups * int(rng.integers(1, 9)), groups * int(rng.integers(1, 9))
        kernel = pair(rng, 1, 7)
        bias = bool(rng.random() < 0.5)
        conv = nn.Conv2d(c_in, c_out, kernel, groups=groups, bias=bias)
        assert conv2d_params(c_in, c_out, kernel, bias, groups) == count_parameters(conv)

        separable = nn.Sequential(
            nn.Conv2d(c_in, c_in, kernel, groups=c_in, bias=bias),
            nn.Conv2d(c_in, c_out, 1, bias=bias),
        )
        assert depthwise_separable_params(c_in, c_out, kernel, bias) == count_parameters(separable)

        n_in, n_out = int(rng.integers(1, 300)), int(rng.integers(1, 300))
        assert linear_params(n_in, n_out, bias) == count_parameters(nn.Linear(n_in, n_out, bias))

        features = int(rng.integers(1, 300))
        affine, tracked = bool(rng.random() < 0.5), bool(rng.random() < 0.5)
        bn = nn.BatchNorm2d(features, affine=affine, track_running_stats=tracked)
        counts = batchnorm_params(features, affine, tracked)
        assert counts.learnable == count_parameters(bn)
        assert counts.buffers == sum(int(b.numel()) for b in bn.buffers())
