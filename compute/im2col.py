"""im2col and 2-D convolution (cross-correlation, as in every deep-learning framework).

``im2col`` lays every sliding window of the input out as one column, so a convolution becomes
one matrix product: ``weight[O, C*kh*kw] @ columns[C*kh*kw, L]``. Column and row order follow
``torch.nn.functional.unfold``. :func:`conv2d_direct` is a slow, independent reference that
accumulates one kernel tap at a time.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from compute._validate import check_finite, check_pair, check_positive_int
from compute.conv import conv_output_length

__all__ = ["conv2d_direct", "conv2d_im2col", "im2col"]

IntOrPair = int | tuple[int, int]
ConvPadding = int | tuple[int, int] | Literal["same", "valid"]
FloatArray = npt.NDArray[np.float64]


def _as_float_array(name: str, value: npt.ArrayLike, ndim: int) -> FloatArray:
    array = np.asarray(value)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {array.shape}")
    check_finite(name, array)
    return array.astype(np.float64)


def _windows(
    x: FloatArray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int, int, int],
    dilation: tuple[int, int],
) -> FloatArray:
    """Return the sliding windows of ``x[..., H, W]`` as ``[..., H_out, W_out, kh, kw]``.

    ``padding`` is ``(top, bottom, left, right)``. The result is a strided view, not a copy.
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    top, bottom, left, right = padding
    height, width = x.shape[-2:]
    # Validates the sizes (raises if the dilated kernel does not fit the padded input).
    conv_output_length(height + top + bottom, kh, sh, 0, dh)
    conv_output_length(width + left + right, kw, sw, 0, dw)
    pad_width = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    padded = np.pad(x, pad_width)
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    views = sliding_window_view(padded, (span_h, span_w), axis=(-2, -1))  # [..., Hp', Wp', sh, sw]
    return views[..., ::sh, ::sw, ::dh, ::dw]  # [..., H_out, W_out, kh, kw]


def im2col(
    x: npt.ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> FloatArray:
    """Return the im2col matrix of one image ``x: [C, H, W]`` -> ``[C * kh * kw, L]`` (float64).

    ``L = H_out * W_out`` with the PyTorch conv sizes (:func:`compute.conv.conv_output_length`).
    Row ``c * kh * kw + i * kw + j`` holds input channel ``c`` at kernel tap ``(i, j)``; column
    ``oh * W_out + ow`` is the window of output position ``(oh, ow)``: the order of
    ``torch.nn.functional.unfold`` (for one image). Zero padding on both sides of each axis.
    """
    image = _as_float_array("x", x, 3)
    kh, kw = check_pair("kernel_size", kernel_size, minimum=1)
    sh, sw = check_pair("stride", stride, minimum=1)
    ph, pw = check_pair("padding", padding, minimum=0)
    dh, dw = check_pair("dilation", dilation, minimum=1)
    check_positive_int("x.shape[1]", image.shape[1])
    check_positive_int("x.shape[2]", image.shape[2])
    windows = _windows(image, (kh, kw), (sh, sw), (ph, ph, pw, pw), (dh, dw))  # [C,Ho,Wo,kh,kw]
    channels, out_h, out_w = windows.shape[:3]
    columns = windows.transpose(0, 3, 4, 1, 2)  # [C, kh, kw, Ho, Wo]
    return np.ascontiguousarray(columns).reshape(channels * kh * kw, out_h * out_w)


def _conv_arguments(
    x: npt.ArrayLike,
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None,
    stride: IntOrPair,
    padding: ConvPadding,
    dilation: IntOrPair,
    groups: int,
) -> tuple[
    FloatArray,
    FloatArray,
    FloatArray | None,
    tuple[int, int],
    tuple[int, int, int, int],
    tuple[int, int],
    int,
]:
    """Validate conv2d arguments; return arrays, stride, (top, bottom, left, right), dilation."""
    inputs = _as_float_array("x", x, 4)
    kernels = _as_float_array("weight", weight, 4)
    g = check_positive_int("groups", groups)
    _, channels, height, width = inputs.shape
    out_channels, group_channels, kh, kw = kernels.shape
    check_positive_int("x.shape[1]", channels)
    check_positive_int("x.shape[2]", height)
    check_positive_int("x.shape[3]", width)
    check_positive_int("weight.shape[0]", out_channels)
    check_positive_int("weight.shape[2]", kh)
    check_positive_int("weight.shape[3]", kw)
    if channels % g or out_channels % g:
        raise ValueError(
            f"groups ({g}) must divide the input channels ({channels}) and the output "
            f"channels ({out_channels})"
        )
    if group_channels != channels // g:
        raise ValueError(
            f"weight must have shape [O, C/groups, kh, kw] = [{out_channels}, {channels // g}, "
            f"{kh}, {kw}], got {kernels.shape}"
        )
    offsets: FloatArray | None = None
    if bias is not None:
        offsets = _as_float_array("bias", bias, 1)
        if offsets.shape != (out_channels,):
            raise ValueError(f"bias must have shape [{out_channels}], got {offsets.shape}")
    sh, sw = check_pair("stride", stride, minimum=1)
    dh, dw = check_pair("dilation", dilation, minimum=1)
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if (sh, sw) != (1, 1):
                raise ValueError("padding='same' is not supported for strided convolutions")
            # PyTorch: total d*(k-1) per axis, the odd extra zero on the bottom/right.
            total_h, total_w = dh * (kh - 1), dw * (kw - 1)
            pads = (total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2)
        else:
            raise ValueError(f"padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    else:
        ph, pw = check_pair("padding", padding, minimum=0)
        pads = (ph, ph, pw, pw)
    return inputs, kernels, offsets, (sh, sw), pads, (dh, dw), g


def conv2d_im2col(
    x: npt.ArrayLike,
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: ConvPadding = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> FloatArray:
    """Return ``torch.nn.functional.conv2d(x, weight, bias, ...)`` computed by im2col + matmul.

    Shapes: ``x: [N, C, H, W]``, ``weight: [O, C / groups, kh, kw]``, ``bias: [O]`` or None ->
    ``[N, O, H_out, W_out]`` float64. Cross-correlation (no kernel flip), PyTorch semantics for
    ``stride``, ``padding`` (int, pair, ``"valid"`` or ``"same"`` at stride 1), ``dilation`` and
    ``groups`` (input channels and filters split into ``groups`` independent blocks)::

        out[n, o, i, j] = bias[o] + sum_{c, u, v} weight[o, c, u, v]
                          * x_pad[n, g(o) * C/groups + c, i * sh + u * dh, j * sw + v * dw]
    """
    inputs, kernels, offsets, stride2, pads, dilation2, g = _conv_arguments(
        x, weight, bias, stride, padding, dilation, groups
    )
    batch = inputs.shape[0]
    out_channels, group_channels, kh, kw = kernels.shape
    windows = _windows(inputs, (kh, kw), stride2, pads, dilation2)  # [N, C, Ho, Wo, kh, kw]
    out_h, out_w = windows.shape[2:4]
    windows = windows.reshape(batch, g, group_channels, out_h, out_w, kh, kw)
    columns = windows.transpose(0, 1, 2, 5, 6, 3, 4).reshape(
        batch, g, group_channels * kh * kw, out_h * out_w
    )  # [N, g, C/g*kh*kw, L]
    rows = kernels.reshape(g, out_channels // g, group_channels * kh * kw)  # [g, O/g, C/g*kh*kw]
    product: FloatArray = np.matmul(rows[np.newaxis], columns)  # [N, g, O/g, L]
    out = product.reshape(batch, out_channels, out_h, out_w)
    if offsets is not None:
        out = out + offsets[np.newaxis, :, np.newaxis, np.newaxis]
    return out


def conv2d_direct(
    x: npt.ArrayLike,
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: ConvPadding = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> FloatArray:
    """Return the same result as :func:`conv2d_im2col`, computed tap by tap (the slow reference).

    For every kernel tap ``(u, v)`` it takes the strided slice of the padded input that the tap
    sees and adds ``weight[:, :, u, v]`` times it, per group. Same shapes and semantics as
    :func:`conv2d_im2col`; no im2col matrix is built.
    """
    inputs, kernels, offsets, (sh, sw), pads, (dh, dw), g = _conv_arguments(
        x, weight, bias, stride, padding, dilation, groups
    )
    batch, _, height, width = inputs.shape
    out_channels, group_channels, kh, kw = kernels.shape
    top, bottom, left, right = pads
    out_h = conv_output_length(height + top + bottom, kh, sh, 0, dh)
    out_w = conv_output_length(width + left + right, kw, sw, 0, dw)
    padded = np.pad(inputs, [(0, 0), (0, 0), (top, bottom), (left, right)])
    padded = padded.reshape(batch, g, group_channels, *padded.shape[2:])  # [N, g, C/g, Hp, Wp]
    filters = kernels.reshape(g, out_channels // g, group_channels, kh, kw)
    out = np.zeros((batch, g, out_channels // g, out_h, out_w))
    for u in range(kh):
        for v in range(kw):
            rows = slice(u * dh, u * dh + (out_h - 1) * sh + 1, sh)
            cols = slice(v * dw, v * dw + (out_w - 1) * sw + 1, sw)
            seen = padded[:, :, :, rows, cols]  # [N, g, C/g, Ho, Wo]
            out += np.einsum("goc,ngchw->ngohw", filters[:, :, :, u, v], seen)
    result = out.reshape(batch, out_channels, out_h, out_w)
    if offsets is not None:
        result = result + offsets[np.newaxis, :, np.newaxis, np.newaxis]
    return result
