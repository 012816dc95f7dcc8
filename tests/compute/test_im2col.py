"""compute.im2col: im2col columns and both conv2d paths against a naive element-by-element loop."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compute.im2col import conv2d_direct, conv2d_im2col, im2col


def naive_conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    groups: int,
) -> np.ndarray:
    """One Python loop per output element and per kernel tap (cross-correlation, zero padding)."""
    n_batch, _, height, width = x.shape
    out_channels, group_channels, kh, kw = weight.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    out_h = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    out_w = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n_batch, out_channels, out_h, out_w))
    per_group = out_channels // groups
    for n in range(n_batch):
        for o in range(out_channels):
            first_channel = (o // per_group) * group_channels
            for i in range(out_h):
                for j in range(out_w):
                    total = 0.0 if bias is None else float(bias[o])
                    for c in range(group_channels):
                        for u in range(kh):
                            for v in range(kw):
                                r = i * sh - ph + u * dh
                                q = j * sw - pw + v * dw
                                if 0 <= r < height and 0 <= q < width:
                                    total += weight[o, c, u, v] * x[n, first_channel + c, r, q]
                    out[n, o, i, j] = total
    return out


@st.composite
def conv_cases(draw: st.DrawFn) -> dict[str, Any]:
    groups = draw(st.integers(1, 3))
    channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    min_h = max(1, dilation[0] * (kh - 1) + 1 - 2 * padding[0])
    min_w = max(1, dilation[1] * (kw - 1) + 1 - 2 * padding[1])
    height = draw(st.integers(min_h, min_h + 5))
    width = draw(st.integers(min_w, min_w + 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "x": rng.normal(size=(draw(st.integers(1, 2)), channels, height, width)),
        "weight": rng.normal(size=(out_channels, channels // groups, kh, kw)),
        "bias": rng.normal(size=out_channels) if draw(st.booleans()) else None,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "groups": groups,
    }


@settings(max_examples=60, deadline=None)
@given(conv_cases())
def test_conv2d_im2col_equals_the_naive_loop(case: dict[str, Any]) -> None:
    expected = naive_conv2d(**case)
    np.testing.assert_allclose(conv2d_im2col(**case), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(conv_cases())
def test_conv2d_direct_equals_the_naive_loop(case: dict[str, Any]) -> None:
    expected = naive_conv2d(**case)
    np.testing.assert_allclose(conv2d_direct(**case), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(conv_cases())
def test_im2col_columns_are_the_windows_in_unfold_order(case: dict[str, Any]) -> None:
    x = np.asarray(case["x"])[0]
    kh, kw = np.asarray(case["weight"]).shape[2:]
    (sh, sw), (ph, pw), (dh, dw) = case["stride"], case["padding"], case["dilation"]
    cols = im2col(x, (kh, kw), (sh, sw), (ph, pw), (dh, dw))
    channels, height, width = x.shape
    out_h = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    out_w = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    assert cols.shape == (channels * kh * kw, out_h * out_w)
    for c in range(channels):
        for u in range(kh):
            for v in range(kw):
                for i in range(out_h):
                    for j in range(out_w):
                        r, q = i * sh - ph + u * dh, j * sw - pw + v * dw
                        inside = 0 <= r < height and 0 <= q < width
                        value = x[c, r, q] if inside else 0.0
                        assert cols[(c * kh + u) * kw + v, i * out_w + j] == value


def test_same_padding_keeps_the_size_and_pads_the_odd_zero_at_the_end() -> None:
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    weight = np.ones((1, 1, 2, 2))
    out = conv2d_im2col(x, weight, padding="same")
    assert out.shape == (1, 1, 4, 4)
    # Kernel 2 pads 0 on top/left and 1 on bottom/right: the first output is x[0:2, 0:2].sum().
    assert out[0, 0, 0, 0] == 0 + 1 + 4 + 5
    assert out[0, 0, 3, 3] == 15
    np.testing.assert_array_equal(conv2d_direct(x, weight, padding="same"), out)
    np.testing.assert_array_equal(
        conv2d_im2col(x, weight, padding="valid"), conv2d_im2col(x, weight)
    )


def test_plain_lists_are_accepted() -> None:
    out = conv2d_im2col([[[[1.0, 2.0], [3.0, 4.0]]]], [[[[1.0, 1.0], [1.0, 1.0]]]], [0.5])
    assert out.tolist() == [[[[10.5]]]]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"x": np.zeros((1, 4, 5, 5)), "weight": np.zeros((2, 2, 3, 3)), "groups": 3}, "groups"),
        ({"x": np.zeros((1, 4, 5, 5)), "weight": np.zeros((2, 3, 3, 3))}, "weight"),
        ({"x": np.zeros((1, 4, 5, 5)), "weight": np.zeros((2, 4, 7, 3))}, "kernel"),
        ({"x": np.zeros((4, 5, 5)), "weight": np.zeros((2, 4, 3, 3))}, "x"),
        ({"x": np.zeros((1, 4, 5, 5)), "weight": np.zeros((2, 4, 3, 3)), "stride": 0}, "stride"),
        ({"x": np.zeros((1, 4, 5, 5)), "weight": np.zeros((2, 4, 3, 3)), "padding": -1}, "padding"),
        (
            {"x": np.zeros((1, 4, 5, 5)), "weight": np.zeros((2, 4, 3, 3)), "dilation": 0},
            "dilation",
        ),
        ({"x": np.zeros((1, 4, 5, 5)), "weight": np.zeros((2, 4, 3, 3)), "bias": [1.0]}, "bias"),
        (
            {
                "x": np.zeros((1, 4, 5, 5)),
                "weight": np.zeros((2, 4, 3, 3)),
                "stride": 2,
                "padding": "same",
            },
            "padding",
        ),
        ({"x": np.full((1, 4, 5, 5), np.nan), "weight": np.zeros((2, 4, 3, 3))}, "x"),
    ],
)
def test_invalid_conv_arguments_raise_naming_the_argument(
    kwargs: dict[str, Any], argument: str
) -> None:
    for conv in (conv2d_im2col, conv2d_direct):
        with pytest.raises(ValueError, match=argument):
            conv(**kwargs)


def test_im2col_rejects_a_batched_input_and_a_kernel_that_does_not_fit() -> None:
    with pytest.raises(ValueError, match="x"):
        im2col(np.zeros((1, 1, 5, 5)), 3)
    with pytest.raises(ValueError, match="kernel"):
        im2col(np.zeros((1, 5, 5)), 3, dilation=3)
