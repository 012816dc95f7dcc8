"""Parameter counts and multiply-accumulate / FLOP counts of convolution and dense layers.

Parameter counts equal ``sum(p.numel() for p in module.parameters())`` of the matching PyTorch
module (``torch.nn.Conv2d``, ``Linear``, ``BatchNorm2d``); buffers such as BatchNorm's running
statistics are reported separately by :func:`batchnorm_params` and never counted as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from compute._validate import check_pair, check_positive_int

__all__ = [
    "NAMED_NETWORKS",
    "BatchNormCounts",
    "LayerSpec",
    "batchnorm_params",
    "conv2d_flops",
    "conv2d_macs",
    "conv2d_params",
    "depthwise_conv_params",
    "depthwise_separable_params",
    "linear_params",
    "named_network_params",
    "network_params",
    "seed_conv_flops",
]

IntOrPair = int | tuple[int, int]
LayerSpec = tuple[str | int | bool | tuple[int, int], ...]


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def _check_groups(in_channels: int, out_channels: int, groups: object) -> int:
    g = check_positive_int("groups", groups)
    if in_channels % g or out_channels % g:
        raise ValueError(
            f"groups ({g}) must divide in_channels ({in_channels}) and out_channels "
            f"({out_channels})"
        )
    return g


def conv2d_params(
    in_channels: int,
    out_channels: int,
    kernel_size: IntOrPair,
    bias: bool = True,
    groups: int = 1,
) -> int:
    """Return the parameter count of ``torch.nn.Conv2d(in, out, kernel_size, bias, groups)``.

    ``weight: [out, in / groups, kh, kw]`` plus ``bias: [out]``, so
    ``out * (in / groups) * kh * kw + out``; with groups 1 this is the textbook
    ``(kh * kw * C_in + 1) * C_out``.
    """
    c_in = check_positive_int("in_channels", in_channels)
    c_out = check_positive_int("out_channels", out_channels)
    kh, kw = check_pair("kernel_size", kernel_size, minimum=1)
    g = _check_groups(c_in, c_out, groups)
    weights = c_out * (c_in // g) * kh * kw
    return weights + (c_out if _check_bool("bias", bias) else 0)


def depthwise_conv_params(
    channels: int, kernel_size: IntOrPair, bias: bool = False, multiplier: int = 1
) -> int:
    """Return the parameters of a depthwise convolution (``Conv2d`` with ``groups=channels``).

    Each of the ``channels`` inputs gets ``multiplier`` own ``kh x kw`` filters:
    ``channels * multiplier * kh * kw`` weights, plus ``channels * multiplier`` biases.
    ``bias`` defaults to False as in MobileNet, where BatchNorm follows every convolution.
    """
    c = check_positive_int("channels", channels)
    m = check_positive_int("multiplier", multiplier)
    return conv2d_params(c, c * m, kernel_size, bias=bias, groups=c)


def depthwise_separable_params(
    in_channels: int, out_channels: int, kernel_size: IntOrPair, bias: bool = False
) -> int:
    """Return the parameters of a depthwise ``kh x kw`` conv followed by a pointwise 1x1 conv.

    ``C_in * kh * kw + C_in * C_out`` (+ ``C_in + C_out`` with bias). Example (MobileNet,
    seed 002): 3 -> 4 channels with 3x3 kernels is 27 + 12 = 39 against 108 for a plain conv.
    """
    c_in = check_positive_int("in_channels", in_channels)
    c_out = check_positive_int("out_channels", out_channels)
    depthwise = depthwise_conv_params(c_in, kernel_size, bias=bias)
    return depthwise + conv2d_params(c_in, c_out, 1, bias=bias)


def linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """Return the parameters of ``torch.nn.Linear``: ``in * out`` weights + ``out`` biases."""
    n_in = check_positive_int("in_features", in_features)
    n_out = check_positive_int("out_features", out_features)
    return n_in * n_out + (n_out if _check_bool("bias", bias) else 0)


@dataclass
class BatchNormCounts:
    """Learnable parameters (gamma, beta) and buffers (running statistics) of a BatchNorm."""

    learnable: int
    buffers: int


def batchnorm_params(
    num_features: int, affine: bool = True, track_running_stats: bool = True
) -> BatchNormCounts:
    """Return the counts of ``torch.nn.BatchNorm2d(num_features, affine, track_running_stats)``.

    ``learnable = 2C`` (gamma and beta) when ``affine``; ``buffers = 2C + 1`` (running_mean,
    running_var, and the scalar num_batches_tracked) when ``track_running_stats``.
    """
    c = check_positive_int("num_features", num_features)
    learnable = 2 * c if _check_bool("affine", affine) else 0
    buffers = 2 * c + 1 if _check_bool("track_running_stats", track_running_stats) else 0
    return BatchNormCounts(learnable=learnable, buffers=buffers)


def conv2d_macs(
    in_channels: int,
    out_channels: int,
    kernel_size: IntOrPair,
    output_size: IntOrPair,
    groups: int = 1,
) -> int:
    """Return the multiply-accumulates of one ``Conv2d`` forward pass for one image.

    Every output value takes ``(C_in / groups) * kh * kw`` MACs, and there are
    ``C_out * H_out * W_out`` of them. ``output_size`` is the output's ``H_out`` (= ``W_out``)
    or an ``(H_out, W_out)`` pair. Bias additions are not MACs.
    """
    c_in = check_positive_int("in_channels", in_channels)
    c_out = check_positive_int("out_channels", out_channels)
    kh, kw = check_pair("kernel_size", kernel_size, minimum=1)
    oh, ow = check_pair("output_size", output_size, minimum=1)
    g = _check_groups(c_in, c_out, groups)
    return oh * ow * c_out * (c_in // g) * kh * kw


def conv2d_flops(
    in_channels: int,
    out_channels: int,
    kernel_size: IntOrPair,
    output_size: IntOrPair,
    groups: int = 1,
    bias: bool = True,
) -> int:
    """Return the FLOPs of one ``Conv2d`` forward pass: ``2 * MACs`` (+ one add per output).

    Convention: a multiply-accumulate is two floating-point operations; with ``bias`` every one
    of the ``C_out * H_out * W_out`` outputs costs one more addition.
    """
    macs = conv2d_macs(in_channels, out_channels, kernel_size, output_size, groups)
    oh, ow = check_pair("output_size", output_size, minimum=1)
    return 2 * macs + (oh * ow * out_channels if _check_bool("bias", bias) else 0)


def seed_conv_flops(
    in_channels: int, out_channels: int, kernel_size: IntOrPair, input_size: IntOrPair
) -> int:
    """Return the convolution "FLOPs" as printed in seed 001 section 3.6.

    ``In_w * In_h * (k_w * k_h * C_in + 1) * C_out``: that source's convention counts one
    operation per multiply-accumulate plus one for the bias, and multiplies by the INPUT size.
    That equals the output-position count only for stride 1 with "same" padding; for the real
    count use :func:`conv2d_macs` or :func:`conv2d_flops` with the output size.
    """
    c_in = check_positive_int("in_channels", in_channels)
    c_out = check_positive_int("out_channels", out_channels)
    kh, kw = check_pair("kernel_size", kernel_size, minimum=1)
    ih, iw = check_pair("input_size", input_size, minimum=1)
    return iw * ih * (kw * kh * c_in + 1) * c_out


def network_params(spec: Sequence[LayerSpec]) -> int:
    """Return the total learnable parameters of a network written in a small spec language.

    Each entry is a tuple whose first item names the layer; the rest are the arguments of the
    matching count function, positionally:

    - ``("conv", in_channels, out_channels, kernel_size[, bias[, groups]])``
      (:func:`conv2d_params`; bias defaults to True);
    - ``("linear", in_features, out_features[, bias])`` (:func:`linear_params`);
    - ``("bn", num_features)``: the learnable gamma and beta of an affine BatchNorm.

    Activations, pooling and dropout have no parameters and are simply left out.
    """
    total = 0
    for index, entry in enumerate(spec):
        if not isinstance(entry, tuple) or not entry:
            raise ValueError(f"spec[{index}] must be a non-empty tuple, got {entry!r}")
        kind, args = entry[0], entry[1:]
        try:
            if kind == "conv" and 3 <= len(args) <= 5:
                total += conv2d_params(*args)  # type: ignore[arg-type]
            elif kind == "linear" and 2 <= len(args) <= 3:
                total += linear_params(*args)  # type: ignore[arg-type]
            elif kind == "bn" and len(args) == 1:
                total += batchnorm_params(args[0]).learnable  # type: ignore[arg-type]
            else:
                raise ValueError(f"unknown layer kind or argument count {entry!r}")
        except ValueError as error:
            raise ValueError(f"spec[{index}]: {error}") from error
    return total


def _conv_bn(in_channels: int, out_channels: int, kernel: int) -> list[LayerSpec]:
    return [("conv", in_channels, out_channels, kernel, False), ("bn", out_channels)]


def _resnet18() -> tuple[LayerSpec, ...]:
    spec: list[LayerSpec] = _conv_bn(3, 64, 7)
    channels = 64
    for width in (64, 128, 256, 512):
        for block in range(2):
            spec += _conv_bn(channels, width, 3) + _conv_bn(width, width, 3)
            if block == 0 and channels != width:
                spec += _conv_bn(channels, width, 1)  # the 1x1 stride-2 shortcut
            channels = width
    spec.append(("linear", 512, 1000))
    return tuple(spec)


def _resnet50() -> tuple[LayerSpec, ...]:
    spec: list[LayerSpec] = _conv_bn(3, 64, 7)
    channels = 64
    for width, blocks in ((64, 3), (128, 4), (256, 6), (512, 3)):
        for block in range(blocks):
            # Bottleneck: 1x1 reduce, 3x3, 1x1 expand to 4 * width.
            spec += _conv_bn(channels, width, 1) + _conv_bn(width, width, 3)
            spec += _conv_bn(width, 4 * width, 1)
            if block == 0:
                spec += _conv_bn(channels, 4 * width, 1)  # projection shortcut
            channels = 4 * width
    spec.append(("linear", 2048, 1000))
    return tuple(spec)


def _squeezenet1_0() -> tuple[LayerSpec, ...]:
    spec: list[LayerSpec] = [("conv", 3, 96, 7)]
    fires = (
        (96, 16, 64),
        (128, 16, 64),
        (128, 32, 128),
        (256, 32, 128),
        (256, 48, 192),
        (384, 48, 192),
        (384, 64, 256),
        (512, 64, 256),
    )
    for c_in, squeeze, expand in fires:
        # Fire module: 1x1 squeeze, then parallel 1x1 and 3x3 expands (concatenated).
        spec += [("conv", c_in, squeeze, 1), ("conv", squeeze, expand, 1)]
        spec.append(("conv", squeeze, expand, 3))
    spec.append(("conv", 512, 1000, 1))  # the classifier is a 1x1 conv, no linear layer
    return tuple(spec)


def _mobilenet_v2() -> tuple[LayerSpec, ...]:
    spec: list[LayerSpec] = _conv_bn(3, 32, 3)
    channels = 32
    # (expansion t, output channels c, repeats n); strides do not change parameter counts.
    for expansion, width, repeats in (
        (1, 16, 1),
        (6, 24, 2),
        (6, 32, 3),
        (6, 64, 4),
        (6, 96, 3),
        (6, 160, 3),
        (6, 320, 1),
    ):
        for _ in range(repeats):
            hidden = channels * expansion
            if expansion != 1:
                spec += _conv_bn(channels, hidden, 1)
            spec += [("conv", hidden, hidden, 3, False, hidden), ("bn", hidden)]  # depthwise
            spec += _conv_bn(hidden, width, 1)
            channels = width
    spec += _conv_bn(320, 1280, 1)
    spec.append(("linear", 1280, 1000))
    return tuple(spec)


def _googlenet() -> tuple[LayerSpec, ...]:
    # torchvision's GoogLeNet without the auxiliary heads; every conv is conv(no bias) + BN.
    # Its "5x5" branch uses a 3x3 kernel (a known torchvision quirk kept for its weights).
    spec = _conv_bn(3, 64, 7) + _conv_bn(64, 64, 1) + _conv_bn(64, 192, 3)
    modules = (
        (192, 64, 96, 128, 16, 32, 32),
        (256, 128, 128, 192, 32, 96, 64),
        (480, 192, 96, 208, 16, 48, 64),
        (512, 160, 112, 224, 24, 64, 64),
        (512, 128, 128, 256, 24, 64, 64),
        (512, 112, 144, 288, 32, 64, 64),
        (528, 256, 160, 320, 32, 128, 128),
        (832, 256, 160, 320, 32, 128, 128),
        (832, 384, 192, 384, 48, 128, 128),
    )
    for c_in, b1, b2_red, b2, b3_red, b3, b4 in modules:
        spec += _conv_bn(c_in, b1, 1)
        spec += _conv_bn(c_in, b2_red, 1) + _conv_bn(b2_red, b2, 3)
        spec += _conv_bn(c_in, b3_red, 1) + _conv_bn(b3_red, b3, 3)
        spec += _conv_bn(c_in, b4, 1)
    spec.append(("linear", 1024, 1000))
    return tuple(spec)


def _vgg16(batch_norm: bool = False) -> tuple[LayerSpec, ...]:
    widths = (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)
    spec: list[LayerSpec] = []
    channels = 3
    for width in widths:
        spec.append(("conv", channels, width, 3))  # vgg16_bn keeps the conv biases too
        if batch_norm:
            spec.append(("bn", width))
        channels = width
    spec += [("linear", 512 * 7 * 7, 4096), ("linear", 4096, 4096), ("linear", 4096, 1000)]
    return tuple(spec)


# Totals equal torchvision's models (1000 classes): alexnet 61,100,840; vgg16 138,357,544;
# vgg16_bn 138,365,992; resnet18 11,689,512; resnet50 25,557,032; googlenet 6,624,904
# (aux_logits=False); squeezenet1_0 1,248,424; mobilenet_v2 3,504,872. lenet5 is LeCun's 1998
# layout with a fully connected C3 (61,706 parameters).
NAMED_NETWORKS: dict[str, tuple[LayerSpec, ...]] = {
    "lenet5": (
        ("conv", 1, 6, 5),
        ("conv", 6, 16, 5),
        ("conv", 16, 120, 5),
        ("linear", 120, 84),
        ("linear", 84, 10),
    ),
    "alexnet": (
        ("conv", 3, 64, 11),
        ("conv", 64, 192, 5),
        ("conv", 192, 384, 3),
        ("conv", 384, 256, 3),
        ("conv", 256, 256, 3),
        ("linear", 256 * 6 * 6, 4096),
        ("linear", 4096, 4096),
        ("linear", 4096, 1000),
    ),
    "vgg16": _vgg16(),
    "vgg16_bn": _vgg16(batch_norm=True),
    "resnet18": _resnet18(),
    "resnet50": _resnet50(),
    "googlenet": _googlenet(),
    "squeezenet1_0": _squeezenet1_0(),
    "mobilenet_v2": _mobilenet_v2(),
}


def named_network_params(name: str) -> int:
    """Return the learnable parameters of a network in :data:`NAMED_NETWORKS`, by name.

    The totals equal ``sum(p.numel() for p in model.parameters())`` of the torchvision model
    of that name (built without pretrained weights), e.g. ``"vgg16"`` -> 138,357,544.
    """
    if name not in NAMED_NETWORKS:
        raise ValueError(f"name must be one of {', '.join(sorted(NAMED_NETWORKS))}, got {name!r}")
    return network_params(NAMED_NETWORKS[name])
