"""Receptive field, jump (cumulative stride) and output size through a stack of layers.

A layer is anything with a sliding window along one spatial axis: a convolution or a pooling
layer. Sizes follow PyTorch's floor rule (:func:`compute.conv.conv_output_length`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from compute._validate import check_non_negative_int, check_positive_int
from compute.conv import conv_output_length, effective_kernel_size

__all__ = [
    "NAMED_STACKS",
    "Layer",
    "LayerField",
    "dilated_stack_receptive_field",
    "named_stack_fields",
    "receptive_fields",
]


@dataclass(frozen=True)
class Layer:
    """One sliding-window layer along one axis: ``kernel``, ``stride``, ``padding``, ``dilation``.

    Integers as in ``torch.nn.Conv2d`` (kernel, stride, dilation >= 1; padding >= 0 per side).
    """

    name: str
    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1

    def __post_init__(self) -> None:
        check_positive_int("kernel", self.kernel)
        check_positive_int("stride", self.stride)
        check_non_negative_int("padding", self.padding)
        check_positive_int("dilation", self.dilation)


@dataclass(frozen=True)
class LayerField:
    """What one output unit of a layer sees of the input image, along one axis.

    ``receptive_field``: number of input pixels it depends on. ``jump``: input pixels between
    two neighbouring output units (product of strides). ``start``: input coordinate of the
    centre of the first output unit's field, in pixel-index units (the first input pixel's
    centre is 0; negative values reach into the padding). ``output_size`` is ``None`` when no
    input size was given.
    """

    name: str
    output_size: int | None
    receptive_field: int
    jump: int
    start: float


def receptive_fields(layers: Sequence[Layer], input_size: int | None = None) -> list[LayerField]:
    """Return one :class:`LayerField` per layer, bottom-up (the usual recurrence)::

        k_eff = k + (k - 1)(d - 1)
        r_out = r_in + (k_eff - 1) * j_in          (r_0 = 1)
        j_out = j_in * stride                      (j_0 = 1)
        start_out = start_in + ((k_eff - 1) / 2 - padding) * j_in   (start_0 = 0)

    This gives the same receptive field as the top-down formula ``RF = (RF - 1) * s + k`` of
    seed 000 section 8. With ``input_size`` (one axis, pixels) each ``output_size`` follows
    PyTorch's floor rule; a layer whose kernel does not fit raises ``ValueError``.
    """
    size = None if input_size is None else check_positive_int("input_size", input_size)
    field, jump, start = 1, 1, 0.0
    result: list[LayerField] = []
    for layer in layers:
        if not isinstance(layer, Layer):
            raise ValueError(f"layers must hold Layer objects, got {layer!r}")
        eff = effective_kernel_size(layer.kernel, layer.dilation)
        field += (eff - 1) * jump
        start += ((eff - 1) / 2 - layer.padding) * jump
        jump *= layer.stride
        if size is not None:
            size = conv_output_length(
                size, layer.kernel, layer.stride, layer.padding, layer.dilation
            )
        result.append(LayerField(layer.name, size, field, jump, start))
    return result


def dilated_stack_receptive_field(kernel: int, dilations: Sequence[int]) -> int:
    """Return the receptive field of stride-1 convolutions stacked with the given dilations.

    ``RF = 1 + sum_i (k - 1) * d_i``. For a 3x3 kernel and dilations 1, 2, 4 (Yu & Koltun's
    context module, the figure in seed 003 section 5.1) the fields are 3, 7 and 15.
    """
    k = check_positive_int("kernel", kernel)
    total = 1
    for d in dilations:
        total += (k - 1) * check_positive_int("dilations", d)
    return total


def _stack(*layers: tuple[str, int, int, int]) -> tuple[Layer, ...]:
    return tuple(Layer(name, kernel, stride, padding) for name, kernel, stride, padding in layers)


# Per layer: (name, kernel, stride, padding) along one axis. alexnet, vgg16 and zf5 are the
# net_struct of seed 000 section 8 (AlexNet there has conv1 padding 0; torchvision's uses 2).
NAMED_STACKS: dict[str, tuple[Layer, ...]] = {
    # LeNet-5 on a 32x32 input: C1, S2, C3, S4, C5 (C5 is a 5x5 convolution).
    "lenet5": _stack(
        ("conv1", 5, 1, 0),
        ("pool1", 2, 2, 0),
        ("conv2", 5, 1, 0),
        ("pool2", 2, 2, 0),
        ("conv3", 5, 1, 0),
    ),
    "alexnet": _stack(
        ("conv1", 11, 4, 0),
        ("pool1", 3, 2, 0),
        ("conv2", 5, 1, 2),
        ("pool2", 3, 2, 0),
        ("conv3", 3, 1, 1),
        ("conv4", 3, 1, 1),
        ("conv5", 3, 1, 1),
        ("pool5", 3, 2, 0),
    ),
    "zf5": _stack(
        ("conv1", 7, 2, 3),
        ("pool1", 3, 2, 1),
        ("conv2", 5, 2, 2),
        ("pool2", 3, 2, 1),
        ("conv3", 3, 1, 1),
        ("conv4", 3, 1, 1),
        ("conv5", 3, 1, 1),
    ),
    "vgg16": _stack(
        ("conv1_1", 3, 1, 1),
        ("conv1_2", 3, 1, 1),
        ("pool1", 2, 2, 0),
        ("conv2_1", 3, 1, 1),
        ("conv2_2", 3, 1, 1),
        ("pool2", 2, 2, 0),
        ("conv3_1", 3, 1, 1),
        ("conv3_2", 3, 1, 1),
        ("conv3_3", 3, 1, 1),
        ("pool3", 2, 2, 0),
        ("conv4_1", 3, 1, 1),
        ("conv4_2", 3, 1, 1),
        ("conv4_3", 3, 1, 1),
        ("pool4", 2, 2, 0),
        ("conv5_1", 3, 1, 1),
        ("conv5_2", 3, 1, 1),
        ("conv5_3", 3, 1, 1),
        ("pool5", 2, 2, 0),
    ),
}


def named_stack_fields(name: str, input_size: int | None = None) -> list[LayerField]:
    """Return :func:`receptive_fields` of a stack in :data:`NAMED_STACKS`, by name."""
    if name not in NAMED_STACKS:
        raise ValueError(f"name must be one of {', '.join(sorted(NAMED_STACKS))}, got {name!r}")
    return receptive_fields(NAMED_STACKS[name], input_size)
