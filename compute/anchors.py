"""Dense-prediction counts: YOLOv3-style multi-scale heads and a single-map Faster R-CNN RPN.

Conventions:

- a YOLOv3-style detector (Redmon and Farhadi, 2018, section 2.3) predicts on three grids of
  strides 32, 16 and 8; an input of side ``n`` (a multiple of 32) gives grids ``n / s``; each cell
  of each scale has ``A`` anchors (3 in YOLOv3, 9 clusters split over the scales) and each anchor
  predicts ``4 + 1 + C`` numbers (box, objectness, ``C`` per-class sigmoids): the head of one
  scale is ``S x S x A (5 + C)``;
- a single-level RPN (Ren et al., 2015, section 3.1) puts ``k = scales * ratios`` anchors at every
  position of one feature map. For VGG16's ``conv5_3`` (stride 16 after four 2x2, stride-2 max
  pools) with PyTorch's default ``ceil_mode=False`` each pool floors, so the map is
  ``floor(H / 16) x floor(W / 16)`` (nested floors of halving equal one floor).

Bad input raises ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "YOLOV3_STRIDES",
    "rpn_anchor_count",
    "vgg16_conv5_size",
    "yolo_box_count",
    "yolo_head_shapes",
]

YOLOV3_STRIDES: tuple[int, ...] = (32, 16, 8)


def _positive(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def yolo_head_shapes(
    input_size: int,
    classes: int = 80,
    anchors_per_scale: int = 3,
    strides: Sequence[int] = YOLOV3_STRIDES,
) -> list[tuple[int, int, int]]:
    """Return ``(S, S, A (5 + C))`` per scale, in the order of ``strides``.

    Raises ``ValueError`` unless every count is a positive integer and ``input_size`` is a
    multiple of every stride.
    """
    _positive(input_size, "input_size")
    _positive(anchors_per_scale, "anchors_per_scale")
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 0:
        raise ValueError(f"classes must be a non-negative integer, got {classes!r}")
    if not strides:
        raise ValueError("strides must not be empty")
    out = []
    for s in strides:
        _positive(s, "stride")
        if input_size % s:
            raise ValueError(f"input_size {input_size} is not a multiple of stride {s}")
        g = input_size // s
        out.append((g, g, anchors_per_scale * (5 + classes)))
    return out


def yolo_box_count(
    input_size: int, anchors_per_scale: int = 3, strides: Sequence[int] = YOLOV3_STRIDES
) -> int:
    """Return the boxes predicted per image: ``sum_s (n / s)^2 * A`` (10,647 for 416 and YOLOv3).

    Raises ``ValueError`` as :func:`yolo_head_shapes` does.
    """
    shapes = yolo_head_shapes(input_size, 0, anchors_per_scale, strides)
    return sum(g * g * anchors_per_scale for g, _, _ in shapes)


def vgg16_conv5_size(height: int, width: int) -> tuple[int, int]:
    """Return VGG16's ``conv5_3`` map size: four floor-halvings, ``(H // 16, W // 16)``.

    Raises ``ValueError`` for a side below 16 (the map would be empty) or not a positive integer.
    """
    h, w = _positive(height, "height"), _positive(width, "width")
    for _ in range(4):
        h, w = h // 2, w // 2
    if h < 1 or w < 1:
        raise ValueError(f"an image of {height}x{width} leaves an empty conv5 map")
    return h, w


def rpn_anchor_count(height: int, width: int, scales: int = 3, ratios: int = 3) -> int:
    """Return the anchors of a single-map VGG16 RPN: ``floor(H/16) floor(W/16) scales ratios``.

    Raises ``ValueError`` as :func:`vgg16_conv5_size` does, or for non-positive counts.
    """
    h, w = vgg16_conv5_size(height, width)
    return h * w * _positive(scales, "scales") * _positive(ratios, "ratios")
