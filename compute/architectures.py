"""Block-level counts of post-ResNet architectures and of the normalization layers they use.

Conventions: parameter counts equal ``sum(p.numel() for p in module.parameters())`` of the
matching PyTorch / torchvision module; BatchNorm contributes its 2 learnable vectors (gamma, beta)
per channel when counted, never its running statistics (buffers). Memory access cost (MAC, from
ShuffleNet V2) counts numbers read or written, not bytes. FLOPs count a multiply-accumulate as 2.

Every function raises ``ValueError`` (message starting with the argument's name) on a non-integer
or non-positive size, on a group count that does not divide the channels, on an unknown
normalization kind, or on a shape that does not fit the layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from compute._validate import check_finite, check_positive_int
from compute.params import conv2d_macs, conv2d_params

__all__ = [
    "NORM_KINDS",
    "DenseNetChannels",
    "densenet_channels",
    "group_conv_flops",
    "group_conv_params",
    "inverted_residual_params",
    "norm_affine_params",
    "norm_forward",
    "norm_reduce_axes",
    "norm_statistics",
    "pointwise_mac",
    "pointwise_mac_lower_bound",
    "se_params",
]

FloatArray = npt.NDArray[np.float64]

#: The normalization layers compared here, as named in prompts and tests.
NORM_KINDS = ("batch", "layer", "instance", "group")


def se_params(channels: int, squeeze_channels: int) -> int:
    """Return the parameters of a squeeze-and-excitation block (torchvision ``SqueezeExcitation``).

    Global average pooling has none; the excitation is two 1x1 convolutions with biases,
    ``C -> s`` and ``s -> C``: ``C s + s + s C + C = 2Cs + s + C``. In the SE paper
    ``s = C / r`` for a reduction ratio ``r`` (16 there; MobileNetV3 uses ``C / 4`` rounded to 8).
    """
    c = check_positive_int("channels", channels)
    s = check_positive_int("squeeze_channels", squeeze_channels)
    return conv2d_params(c, s, 1) + conv2d_params(s, c, 1)


def inverted_residual_params(
    in_channels: int,
    out_channels: int,
    expand_ratio: int,
    kernel_size: int = 3,
    count_bn: bool = True,
) -> int:
    """Return the parameters of a MobileNetV2 inverted-residual block (torchvision layout).

    Hidden width ``t = round(C_in * expand_ratio)``. Layers: a 1x1 expansion ``C_in -> t`` (left
    out when ``expand_ratio == 1``), a ``k x k`` depthwise conv on ``t`` channels, a linear 1x1
    projection ``t -> C_out``; every conv has ``bias=False`` and is followed by a BatchNorm whose
    ``2 x channels`` gamma and beta are included when ``count_bn``. The stride and the residual
    connection add no parameters.
    """
    c_in = check_positive_int("in_channels", in_channels)
    c_out = check_positive_int("out_channels", out_channels)
    t = check_positive_int("expand_ratio", expand_ratio)
    k = check_positive_int("kernel_size", kernel_size)
    if not isinstance(count_bn, bool):
        raise ValueError(f"count_bn must be True or False, got {count_bn!r}")
    hidden = c_in * t  # torchvision rounds c_in * t; with an integer t it is exact
    total = 0
    bn_channels = 0
    if t != 1:
        total += conv2d_params(c_in, hidden, 1, bias=False)
        bn_channels += hidden
    total += conv2d_params(hidden, hidden, k, bias=False, groups=hidden)
    total += conv2d_params(hidden, c_out, 1, bias=False)
    bn_channels += hidden + c_out
    return total + (2 * bn_channels if count_bn else 0)


@dataclass(frozen=True)
class DenseNetChannels:
    """Channel counts through a DenseNet: after each dense block and after each transition."""

    after_block: tuple[int, ...]
    after_transition: tuple[int, ...]


def densenet_channels(
    init_channels: int, growth_rate: int, block_layers: Sequence[int], compression: float = 0.5
) -> DenseNetChannels:
    """Return the channels leaving each dense block and each transition layer.

    A dense block of ``L`` layers concatenates ``k`` new maps per layer onto its input:
    ``c -> c + L k``. Each transition (every block but the last) keeps ``floor(compression * c)``
    channels (torchvision: ``num_features // 2`` for compression 0.5). ``compression`` must lie
    in (0, 1].
    """
    c = check_positive_int("init_channels", init_channels)
    k = check_positive_int("growth_rate", growth_rate)
    layers = [check_positive_int("block_layers", n) for n in block_layers]
    if not layers:
        raise ValueError("block_layers must list at least one block")
    if not 0.0 < float(compression) <= 1.0:
        raise ValueError(f"compression must lie in (0, 1], got {compression!r}")
    blocks: list[int] = []
    transitions: list[int] = []
    for i, n in enumerate(layers):
        c += n * k
        blocks.append(c)
        if i < len(layers) - 1:
            c = int(np.floor(compression * c))
            transitions.append(c)
    return DenseNetChannels(tuple(blocks), tuple(transitions))


def pointwise_mac(height: int, width: int, in_channels: int, out_channels: int) -> int:
    """Return ShuffleNet V2's memory access cost of a 1x1 convolution: ``hw(c1 + c2) + c1 c2``.

    Read the ``h w c1`` input, write the ``h w c2`` output, read the ``c1 c2`` weights once
    (the paper's assumption: on-chip memory holds everything else).
    """
    h = check_positive_int("height", height)
    w = check_positive_int("width", width)
    c1 = check_positive_int("in_channels", in_channels)
    c2 = check_positive_int("out_channels", out_channels)
    return h * w * (c1 + c2) + c1 * c2


def pointwise_mac_lower_bound(height: int, width: int, flops: int) -> float:
    """Return the smallest MAC of a 1x1 conv with ``B = h w c1 c2`` multiply-adds.

    By AM-GM, ``hw(c1 + c2) >= 2 hw sqrt(c1 c2) = 2 sqrt(hw B)``, so
    ``MAC >= 2 sqrt(hw B) + B / (hw)``, with equality exactly when ``c1 = c2``.
    """
    h = check_positive_int("height", height)
    w = check_positive_int("width", width)
    b = check_positive_int("flops", flops)
    hw = h * w
    return float(2.0 * np.sqrt(hw * b) + b / hw)


def group_conv_params(
    in_channels: int, out_channels: int, kernel_size: int, groups: int, bias: bool = False
) -> int:
    """Return ``nn.Conv2d(..., groups=g)``'s parameters: ``C_out (C_in / g) k^2`` (+ ``C_out``)."""
    return conv2d_params(in_channels, out_channels, kernel_size, bias=bias, groups=groups)


def group_conv_flops(
    in_channels: int, out_channels: int, kernel_size: int, groups: int, output_size: int
) -> int:
    """Return the FLOPs of a grouped conv without bias: ``2 H W C_out (C_in / g) k^2``.

    ``g`` times fewer than the ungrouped convolution with the same channels.
    """
    return 2 * conv2d_macs(in_channels, out_channels, kernel_size, output_size, groups)


def _check_kind(kind: str, groups: int | None, channels: int) -> int:
    if kind not in NORM_KINDS:
        raise ValueError(f"kind must be one of {', '.join(NORM_KINDS)}, got {kind!r}")
    if kind != "group":
        return 1
    g = check_positive_int("groups", groups)
    if channels % g:
        raise ValueError(f"groups ({g}) must divide the channels ({channels})")
    return g


def _check_shape(shape: Sequence[int]) -> tuple[int, int, int, int]:
    if len(shape) != 4:
        raise ValueError(f"shape must be (N, C, H, W), got {tuple(shape)!r}")
    n, c, h, w = (check_positive_int("shape", s) for s in shape)
    return n, c, h, w


def norm_reduce_axes(kind: str) -> tuple[int, ...]:
    """Return the axes of an ``(N, C, H, W)`` tensor one mean is taken over, per kind.

    batch: ``(N, H, W)`` per channel; layer: ``(C, H, W)`` per sample; instance: ``(H, W)`` per
    sample and channel; group: ``(C / G, H, W)`` per sample and group (returned as the axes of
    the ``(N, G, C / G, H, W)`` view: ``(2, 3, 4)``).
    """
    axes = {"batch": (0, 2, 3), "layer": (1, 2, 3), "instance": (2, 3), "group": (2, 3, 4)}
    if kind not in axes:
        raise ValueError(f"kind must be one of {', '.join(NORM_KINDS)}, got {kind!r}")
    return axes[kind]


def norm_statistics(kind: str, shape: Sequence[int], groups: int | None = None) -> int:
    """Return how many means (and as many variances) one training forward pass computes.

    For an ``(N, C, H, W)`` input: batch ``C``, layer ``N``, instance ``N C``, group ``N G``.
    """
    n, c, _, _ = _check_shape(shape)
    g = _check_kind(kind, groups, c)
    return {"batch": c, "layer": n, "instance": n * c, "group": n * g}[kind]


def norm_affine_params(
    kind: str, shape: Sequence[int], groups: int | None = None, affine: bool = True
) -> int:
    """Return the learnable parameters of the PyTorch layer normalizing ``(N, C, H, W)`` inputs.

    ``BatchNorm2d(C)``, ``InstanceNorm2d(C, affine=...)`` and ``GroupNorm(G, C)``: ``2C`` (gamma
    and beta per channel); ``LayerNorm([C, H, W])``: ``2 C H W`` (one pair per normalized element).
    ``affine=False`` gives 0 (PyTorch's ``InstanceNorm2d`` default).
    """
    _, c, h, w = _check_shape(shape)
    _check_kind(kind, groups, c)
    if not isinstance(affine, bool):
        raise ValueError(f"affine must be True or False, got {affine!r}")
    if not affine:
        return 0
    return 2 * c * h * w if kind == "layer" else 2 * c


def norm_forward(
    x: npt.ArrayLike, kind: str, groups: int | None = None, eps: float = 1e-5
) -> FloatArray:
    """Normalize ``x: ndarray[N, C, H, W]`` with training-mode statistics, no affine transform.

    Subtract the mean and divide by ``sqrt(var + eps)`` with the biased variance over the axes of
    :func:`norm_reduce_axes` (what BatchNorm2d in training mode, LayerNorm([C, H, W]),
    InstanceNorm2d and GroupNorm compute before their gamma and beta). Returns the same shape.
    """
    a = np.asarray(x, dtype=np.float64)
    check_finite("x", a)
    n, c, h, w = _check_shape(a.shape)
    g = _check_kind(kind, groups, c)
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    view = a.reshape(n, g, c // g, h, w) if kind == "group" else a
    axes = norm_reduce_axes(kind)
    mean = view.mean(axis=axes, keepdims=True)
    var = view.var(axis=axes, keepdims=True)  # biased, as every normalization layer uses
    out: FloatArray = ((view - mean) / np.sqrt(var + eps)).reshape(n, c, h, w)
    return out
