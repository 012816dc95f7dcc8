"""Output sizes of convolution, transposed convolution and pooling layers.

The scalar functions work on ONE spatial axis; the ``*2d_output_shape`` wrappers take an NCHW
shape and int-or-``(height, width)`` arguments like ``torch.nn.Conv2d``. Unless a docstring says
otherwise the semantics are PyTorch's: ``padding`` is added on both sides of the axis, division
is floor division, and ``dilation`` spreads the kernel taps apart.
"""

from __future__ import annotations

from typing import Literal

from compute._validate import check_non_negative_int, check_pair, check_positive_int

__all__ = [
    "conv2d_output_shape",
    "conv_output_length",
    "conv_transpose_output_length",
    "effective_kernel_size",
    "keras_conv_output_length",
    "pool2d_output_shape",
    "pool_output_length",
    "same_padding",
]

IntOrPair = int | tuple[int, int]
ConvPadding = int | tuple[int, int] | Literal["same", "valid"]


def effective_kernel_size(kernel: int, dilation: int = 1) -> int:
    """Return the span of a dilated kernel: ``k + (k - 1) * (d - 1)``, i.e. ``d * (k - 1) + 1``.

    ``kernel`` and ``dilation`` are integers >= 1. A 3-tap kernel with dilation 2 spans 5 input
    positions. Same definition as PyTorch's ``dilation`` and Keras's ``dilation_rate``.
    """
    k = check_positive_int("kernel", kernel)
    d = check_positive_int("dilation", dilation)
    return k + (k - 1) * (d - 1)


def conv_output_length(
    length: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Return the output length of a convolution along one axis (``torch.nn.Conv2d`` rule).

    ``out = floor((length + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1``.

    ``padding`` zeros are added on each side. Raise ``ValueError`` when the dilated kernel does
    not fit in the padded input (PyTorch: "Kernel size can't be greater than actual input size").
    """
    n = check_positive_int("length", length)
    s = check_positive_int("stride", stride)
    p = check_non_negative_int("padding", padding)
    eff = effective_kernel_size(kernel, dilation)
    if eff > n + 2 * p:
        raise ValueError(
            f"kernel (effective size {eff}) is larger than the padded input ({n} + 2*{p})"
        )
    return (n + 2 * p - eff) // s + 1


def same_padding(kernel: int, dilation: int = 1) -> int:
    """Return the symmetric padding that keeps the length unchanged at stride 1.

    ``padding = (k_eff - 1) / 2`` with ``k_eff = k + (k - 1)(d - 1)``; F=3 -> 1, F=5 -> 2,
    F=7 -> 3. Only an odd effective kernel has a symmetric answer; an even one raises
    ``ValueError`` (PyTorch's ``padding="same"`` then pads one extra zero on the right).
    """
    eff = effective_kernel_size(kernel, dilation)
    if eff % 2 == 0:
        raise ValueError(
            f"kernel: effective size {eff} is even, so no symmetric padding keeps the size"
        )
    return (eff - 1) // 2


def conv2d_output_shape(
    input_shape: tuple[int, int, int, int],
    out_channels: int,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: ConvPadding = 0,
    dilation: IntOrPair = 1,
) -> tuple[int, int, int, int]:
    """Return the NCHW output shape of ``torch.nn.Conv2d`` on an NCHW ``input_shape``.

    ``kernel_size``, ``stride``, ``padding`` and ``dilation`` are an int (both axes) or an
    ``(height, width)`` pair. ``padding="valid"`` means 0; ``padding="same"`` keeps H and W and,
    like PyTorch, is only allowed with stride 1. Each axis follows :func:`conv_output_length`.
    Result: ``(N, out_channels, H_out, W_out)``.
    """
    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (N, C, H, W), got {input_shape!r}")
    batch = check_non_negative_int("input_shape[0]", input_shape[0])
    check_positive_int("input_shape[1]", input_shape[1])
    height = check_positive_int("input_shape[2]", input_shape[2])
    width = check_positive_int("input_shape[3]", input_shape[3])
    out_c = check_positive_int("out_channels", out_channels)
    kh, kw = check_pair("kernel_size", kernel_size, minimum=1)
    sh, sw = check_pair("stride", stride, minimum=1)
    dh, dw = check_pair("dilation", dilation, minimum=1)
    if isinstance(padding, str):
        if padding == "valid":
            ph = pw = 0
        elif padding == "same":
            if (sh, sw) != (1, 1):
                raise ValueError("padding='same' is not supported for strided convolutions")
            # PyTorch pads d*(k-1) in total per axis (the odd one on the right): size is kept.
            return batch, out_c, height, width
        else:
            raise ValueError(f"padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    else:
        ph, pw = check_pair("padding", padding, minimum=0)
    return (
        batch,
        out_c,
        conv_output_length(height, kh, sh, ph, dh),
        conv_output_length(width, kw, sw, pw, dw),
    )


def keras_conv_output_length(
    length: int,
    kernel: int,
    stride: int = 1,
    padding: Literal["same", "valid"] = "valid",
    dilation: int = 1,
) -> int:
    """Return the output length of a Keras ``Conv2D`` / ``MaxPooling2D`` along one axis.

    Keras semantics: ``"same"`` gives ``ceil(length / stride)`` (Keras/TensorFlow pad as needed,
    the extra zero going to the end); ``"valid"`` gives ``ceil((length - k_eff + 1) / stride)``
    with ``k_eff = k + (k - 1)(d - 1)``. Keras rejects ``stride > 1`` together with
    ``dilation_rate > 1``, and so does this function.
    """
    n = check_positive_int("length", length)
    s = check_positive_int("stride", stride)
    eff = effective_kernel_size(kernel, dilation)
    if s > 1 and dilation > 1:
        raise ValueError("dilation > 1 is incompatible with stride > 1 in Keras")
    if padding == "same":
        return -(-n // s)
    if padding == "valid":
        if eff > n:
            raise ValueError(f"kernel (effective size {eff}) is larger than the input ({n})")
        return -(-(n - eff + 1) // s)
    raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")


def conv_transpose_output_length(
    length: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Return the output length of ``torch.nn.ConvTranspose2d`` along one axis.

    ``out = (length - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1``;
    with dilation 1 and no output padding this is the textbook ``(i - 1) * s + k - 2p``.
    As in PyTorch, ``output_padding`` must be smaller than ``stride`` or than ``dilation``
    (i.e. ``< max(stride, dilation)``), and the result must be at least 1.
    """
    n = check_positive_int("length", length)
    s = check_positive_int("stride", stride)
    p = check_non_negative_int("padding", padding)
    op = check_non_negative_int("output_padding", output_padding)
    d = check_positive_int("dilation", dilation)
    eff = effective_kernel_size(kernel, d)
    if op >= max(s, d):
        raise ValueError(
            f"output_padding must be smaller than stride or dilation, got {op} "
            f"(stride {s}, dilation {d})"
        )
    out = (n - 1) * s - 2 * p + (eff - 1) + op + 1
    if out < 1:
        raise ValueError(f"padding {p} is too large: the output length would be {out}")
    return out


def pool_output_length(
    length: int,
    kernel: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Return the output length of ``torch.nn.MaxPool2d`` / ``AvgPool2d`` along one axis.

    ``stride`` defaults to ``kernel``. PyTorch's rule::

        out = floor_or_ceil((length + 2p - d(k - 1) - 1) / stride) + 1
        if ceil_mode and (out - 1) * stride >= length + p: out -= 1

    i.e. in ceil mode a last, partial window is kept only if it starts inside the input or the
    left padding, never in the right padding. PyTorch also requires ``padding <= kernel // 2``
    and an output of at least 1; both raise ``ValueError`` here.
    """
    n = check_positive_int("length", length)
    k = check_positive_int("kernel", kernel)
    s = k if stride is None else check_positive_int("stride", stride)
    p = check_non_negative_int("padding", padding)
    eff = effective_kernel_size(k, dilation)
    if p > k // 2:
        raise ValueError(f"padding must be <= kernel // 2 = {k // 2}, got {p}")
    numerator = n + 2 * p - eff
    if ceil_mode:
        out = -(-numerator // s) + 1
        if (out - 1) * s >= n + p:
            out -= 1
    else:
        out = numerator // s + 1
    if out < 1:
        raise ValueError(
            f"kernel (effective size {eff}) does not fit in the padded input ({n} + 2*{p})"
        )
    return out


def pool2d_output_shape(
    input_shape: tuple[int, int, int, int],
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> tuple[int, int, int, int]:
    """Return the NCHW output shape of ``torch.nn.MaxPool2d`` on an NCHW ``input_shape``.

    Arguments are an int (both axes) or an ``(height, width)`` pair; ``stride=None`` means
    ``kernel_size``. Channels are unchanged; each axis follows :func:`pool_output_length`.
    """
    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (N, C, H, W), got {input_shape!r}")
    batch = check_non_negative_int("input_shape[0]", input_shape[0])
    channels = check_positive_int("input_shape[1]", input_shape[1])
    height = check_positive_int("input_shape[2]", input_shape[2])
    width = check_positive_int("input_shape[3]", input_shape[3])
    kh, kw = check_pair("kernel_size", kernel_size, minimum=1)
    sh, sw = (kh, kw) if stride is None else check_pair("stride", stride, minimum=1)
    ph, pw = check_pair("padding", padding, minimum=0)
    dh, dw = check_pair("dilation", dilation, minimum=1)
    return (
        batch,
        channels,
        pool_output_length(height, kh, sh, ph, dh, ceil_mode),
        pool_output_length(width, kw, sw, pw, dw, ceil_mode),
    )
