"""Box regression coding, IoU-family losses, FPN RoI-to-level assignment and Soft-NMS.

Conventions follow ``torchvision`` where it has the operation, computed in float64:

- boxes are ``(x1, y1, x2, y2)`` with continuous coordinates (width ``x2 - x1``, no "+1");
- :func:`encode_boxes` / :func:`decode_boxes` are ``torchvision.models.detection._utils.BoxCoder``
  (``encode_single`` / ``decode_single``): centre offsets divided by the anchor's size, log size
  ratios, each multiplied by a weight (Faster R-CNN's box head uses ``(10, 10, 5, 5)``, its RPN
  ``(1, 1, 1, 1)``); decoding clips ``dw, dh`` at ``log(1000 / 16)`` before the exponential;
- :func:`giou_loss`, :func:`diou_loss`, :func:`ciou_loss` are ``torchvision.ops``'s
  ``generalized_box_iou_loss``, ``distance_box_iou_loss`` and ``complete_box_iou_loss`` with
  ``reduction="none"`` (element-wise over pairs, ``eps = 1e-7`` where torchvision adds it);
- :func:`roi_level` is ``torchvision.ops.poolers.LevelMapper``: level
  ``floor(k0 + log2(sqrt(w h) / 224) + 1e-6)`` clamped to ``[k_min, k_max]`` (FPN paper, eq. 1);
- :func:`soft_nms` is Algorithm 1 of Bodla et al., "Soft-NMS" (2017), which torchvision does not
  have: the highest-scored box is selected, every remaining box's score is multiplied by
  ``f(IoU)``, and the loop repeats on the remaining boxes with their new scores.

Bad input (wrong shapes, ``x2 < x1``, non-finite values, bad weights or thresholds) raises
``ValueError``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from compute import boxes as _boxes

__all__ = [
    "BBOX_XFORM_CLIP",
    "SoftNmsResult",
    "ciou_loss",
    "decode_boxes",
    "diou_loss",
    "encode_boxes",
    "giou_loss",
    "iou_loss",
    "roi_level",
    "soft_nms",
    "soft_nms_scores",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: torchvision's default clip of ``dw`` and ``dh`` before ``exp`` when decoding.
BBOX_XFORM_CLIP = math.log(1000.0 / 16)
#: torchvision's ``eps`` in the IoU-family losses.
LOSS_EPS = 1e-7


def _xyxy(boxes: npt.ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    if np.any(arr[:, 2] < arr[:, 0]) or np.any(arr[:, 3] < arr[:, 1]):
        raise ValueError(f"{name} must have x2 >= x1 and y2 >= y1")
    return arr


def _weights(weights: Sequence[float]) -> FloatArray:
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (4,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError(f"weights must be four positive numbers, got {weights!r}")
    return w


def _centre_size(b: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    w = b[:, 2] - b[:, 0]
    h = b[:, 3] - b[:, 1]
    return b[:, 0] + 0.5 * w, b[:, 1] + 0.5 * h, w, h


def encode_boxes(
    gt: npt.ArrayLike, anchors: npt.ArrayLike, weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0)
) -> FloatArray:
    """Return the regression targets ``(tx, ty, tw, th)`` of ``gt`` relative to ``anchors``.

    ``tx = wx (gx - ax) / aw``, ``ty = wy (gy - ay) / ah``, ``tw = ww log(gw / aw)``,
    ``th = wh log(gh / ah)`` with centres ``(gx, gy)``, ``(ax, ay)``; one row per pair.
    Raises ``ValueError`` for mismatched shapes, bad boxes or weights, or a zero-sized box.
    """
    g, a = _xyxy(gt, "gt"), _xyxy(anchors, "anchors")
    if g.shape != a.shape:
        raise ValueError(f"gt and anchors must pair up, got {g.shape} and {a.shape}")
    w = _weights(weights)
    gx, gy, gw, gh = _centre_size(g)
    ax, ay, aw, ah = _centre_size(a)
    if np.any(gw <= 0) or np.any(gh <= 0) or np.any(aw <= 0) or np.any(ah <= 0):
        raise ValueError("boxes must have positive width and height to be encoded")
    return np.stack(
        [
            w[0] * (gx - ax) / aw,
            w[1] * (gy - ay) / ah,
            w[2] * np.log(gw / aw),
            w[3] * np.log(gh / ah),
        ],
        axis=1,
    )


def decode_boxes(
    deltas: npt.ArrayLike,
    anchors: npt.ArrayLike,
    weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
    clip: float = BBOX_XFORM_CLIP,
) -> FloatArray:
    """Return the ``(x1, y1, x2, y2)`` boxes that ``deltas`` make of ``anchors`` (inverse of encode).

    Each delta is divided by its weight; ``dw, dh`` are clipped at ``clip`` from above; the centre
    moves by ``dx * aw``, ``dy * ah`` and the size becomes ``aw exp(dw)``, ``ah exp(dh)``.
    Raises ``ValueError`` for mismatched shapes, non-finite deltas or bad boxes or weights.
    """
    d = np.asarray(deltas, dtype=np.float64)
    if d.ndim == 1:
        d = d.reshape(1, -1)
    a = _xyxy(anchors, "anchors")
    if d.shape != a.shape:
        raise ValueError(f"deltas and anchors must pair up, got {d.shape} and {a.shape}")
    if not np.all(np.isfinite(d)):
        raise ValueError("deltas must be finite")
    w = _weights(weights)
    ax, ay, aw, ah = _centre_size(a)
    dx, dy = d[:, 0] / w[0], d[:, 1] / w[1]
    dw = np.minimum(d[:, 2] / w[2], clip)
    dh = np.minimum(d[:, 3] / w[3], clip)
    cx, cy = ax + dx * aw, ay + dy * ah
    pw, ph = aw * np.exp(dw), ah * np.exp(dh)
    return np.stack([cx - 0.5 * pw, cy - 0.5 * ph, cx + 0.5 * pw, cy + 0.5 * ph], axis=1)


def _pairs(boxes1: npt.ArrayLike, boxes2: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    b1, b2 = _xyxy(boxes1, "boxes1"), _xyxy(boxes2, "boxes2")
    if b1.shape != b2.shape:
        raise ValueError(f"boxes1 and boxes2 must pair up, got {b1.shape} and {b2.shape}")
    return b1, b2


def _iou_parts(b1: FloatArray, b2: FloatArray, eps: float) -> tuple[FloatArray, FloatArray]:
    """Return (IoU with ``eps`` in the denominator, union) element-wise."""
    iw = np.clip(np.minimum(b1[:, 2], b2[:, 2]) - np.maximum(b1[:, 0], b2[:, 0]), 0, None)
    ih = np.clip(np.minimum(b1[:, 3], b2[:, 3]) - np.maximum(b1[:, 1], b2[:, 1]), 0, None)
    inter = iw * ih
    union = (
        (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])
        + (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])
        - inter
    )
    return inter / (union + eps), union


def _enclosing(b1: FloatArray, b2: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return the enclosing box's (width, height) element-wise."""
    cw = np.maximum(b1[:, 2], b2[:, 2]) - np.minimum(b1[:, 0], b2[:, 0])
    ch = np.maximum(b1[:, 3], b2[:, 3]) - np.minimum(b1[:, 1], b2[:, 1])
    return cw, ch


def iou_loss(boxes1: npt.ArrayLike, boxes2: npt.ArrayLike, eps: float = LOSS_EPS) -> FloatArray:
    """Return ``1 - IoU`` per pair. Raises ``ValueError`` for bad or unpaired boxes."""
    b1, b2 = _pairs(boxes1, boxes2)
    return 1.0 - _iou_parts(b1, b2, eps)[0]


def giou_loss(boxes1: npt.ArrayLike, boxes2: npt.ArrayLike, eps: float = LOSS_EPS) -> FloatArray:
    """Return ``1 - GIoU = 1 - IoU + (C - U) / C`` per pair (C: enclosing box area).

    Raises ``ValueError`` for bad or unpaired boxes.
    """
    b1, b2 = _pairs(boxes1, boxes2)
    iou, union = _iou_parts(b1, b2, eps)
    cw, ch = _enclosing(b1, b2)
    area_c = cw * ch
    return 1.0 - (iou - (area_c - union) / (area_c + eps))


def _diou(b1: FloatArray, b2: FloatArray, eps: float) -> tuple[FloatArray, FloatArray]:
    iou, _ = _iou_parts(b1, b2, eps)
    cw, ch = _enclosing(b1, b2)
    c2 = cw**2 + ch**2 + eps
    dx = (b1[:, 0] + b1[:, 2]) / 2 - (b2[:, 0] + b2[:, 2]) / 2
    dy = (b1[:, 1] + b1[:, 3]) / 2 - (b2[:, 1] + b2[:, 3]) / 2
    return 1.0 - iou + (dx**2 + dy**2) / c2, iou


def diou_loss(boxes1: npt.ArrayLike, boxes2: npt.ArrayLike, eps: float = LOSS_EPS) -> FloatArray:
    """Return ``1 - IoU + rho^2 / c^2`` per pair.

    ``rho`` is the distance between the boxes' centres and ``c`` the diagonal of their enclosing
    box. Raises ``ValueError`` for bad or unpaired boxes.
    """
    b1, b2 = _pairs(boxes1, boxes2)
    return _diou(b1, b2, eps)[0]


def ciou_loss(boxes1: npt.ArrayLike, boxes2: npt.ArrayLike, eps: float = LOSS_EPS) -> FloatArray:
    """Return the DIoU loss plus ``alpha v`` per pair (``boxes1`` predicted, ``boxes2`` target).

    ``v = 4 / pi^2 (atan(w_gt / h_gt) - atan(w / h))^2`` measures the aspect-ratio mismatch and
    ``alpha = v / (1 - IoU + v + eps)``. Raises ``ValueError`` for bad or unpaired boxes, or a
    box of zero height (its aspect ratio is undefined).
    """
    b1, b2 = _pairs(boxes1, boxes2)
    h1, h2 = b1[:, 3] - b1[:, 1], b2[:, 3] - b2[:, 1]
    if np.any(h1 <= 0) or np.any(h2 <= 0):
        raise ValueError("boxes must have positive height for the aspect-ratio term")
    d, iou = _diou(b1, b2, eps)
    v = (4 / math.pi**2) * (
        np.arctan((b2[:, 2] - b2[:, 0]) / h2) - np.arctan((b1[:, 2] - b1[:, 0]) / h1)
    ) ** 2
    alpha = v / (1.0 - iou + v + eps)
    return d + alpha * v


def roi_level(
    boxes: npt.ArrayLike,
    k_min: int = 2,
    k_max: int = 5,
    canonical_scale: float = 224.0,
    canonical_level: int = 4,
    eps: float = 1e-6,
) -> IntArray:
    """Return the FPN level ``k`` each RoI is pooled from (torchvision's ``LevelMapper``).

    ``k = floor(k0 + log2(sqrt(w h) / s0) + eps)`` clamped to ``[k_min, k_max]``; torchvision
    returns ``k - k_min`` as an index into its list of feature maps. A zero-area box gets
    ``k_min``. Raises ``ValueError`` for bad boxes or ``k_min > k_max`` or a non-positive scale.
    """
    b = _xyxy(boxes, "boxes")
    if k_min > k_max or canonical_scale <= 0:
        raise ValueError("need k_min <= k_max and a positive canonical_scale")
    s = np.sqrt((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))
    with np.errstate(divide="ignore"):
        k = np.floor(canonical_level + np.log2(s / canonical_scale) + eps)
    return np.clip(k, k_min, k_max).astype(np.int64)


class SoftNmsResult:
    """What :func:`soft_nms` returns: the selection order and every box's final score."""

    __slots__ = ("order", "scores")

    def __init__(self, order: IntArray, scores: FloatArray) -> None:
        self.order = order
        self.scores = scores

    def __repr__(self) -> str:
        return f"SoftNmsResult(order={self.order.tolist()}, scores={self.scores.tolist()})"


def soft_nms(
    boxes: npt.ArrayLike,
    scores: npt.ArrayLike,
    method: Literal["linear", "gaussian"] = "linear",
    iou_threshold: float = 0.3,
    sigma: float = 0.5,
    score_threshold: float = 0.0,
) -> SoftNmsResult:
    """Run Soft-NMS and return the selection order and the rescored scores (input order).

    Each round selects the remaining box ``M`` with the highest current score (ties: lowest
    index) and multiplies every other remaining box's score by ``f(IoU(M, b))``:

    - ``"linear"``: ``1 - IoU`` when ``IoU >= iou_threshold``, else 1;
    - ``"gaussian"``: ``exp(-IoU^2 / sigma)`` (the paper's form, no factor 2), for every IoU.

    A box whose score falls to ``score_threshold`` or below leaves the loop (it is not selected,
    its score stays as last rescored); with the default 0 only boxes driven to exactly 0 leave.
    Raises ``ValueError`` for bad boxes, scores of the wrong length or non-finite, an unknown
    method, a threshold outside [0, 1] or a non-positive sigma.
    """
    b = _xyxy(boxes, "boxes")
    s = np.asarray(scores, dtype=np.float64).copy()
    if s.shape != (b.shape[0],) or not np.all(np.isfinite(s)):
        raise ValueError(f"scores must be {b.shape[0]} finite numbers")
    if method not in ("linear", "gaussian"):
        raise ValueError(f"method must be 'linear' or 'gaussian', got {method!r}")
    if not 0.0 <= iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold must be in [0, 1], got {iou_threshold}")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    iou = _boxes.box_iou(b, b)
    remaining = [i for i in range(b.shape[0]) if s[i] > score_threshold]
    order: list[int] = []
    while remaining:
        m = max(remaining, key=lambda i: (s[i], -i))
        order.append(m)
        remaining.remove(m)
        for i in remaining:
            o = iou[m, i]
            if method == "linear":
                if o >= iou_threshold:
                    s[i] *= 1.0 - o
            else:
                s[i] *= math.exp(-(o**2) / sigma)
        remaining = [i for i in remaining if s[i] > score_threshold]
    return SoftNmsResult(np.asarray(order, dtype=np.int64), s)


def soft_nms_scores(
    boxes: npt.ArrayLike,
    scores: npt.ArrayLike,
    method: Literal["linear", "gaussian"] = "linear",
    iou_threshold: float = 0.3,
    sigma: float = 0.5,
) -> FloatArray:
    """Return only the rescored scores of :func:`soft_nms` (input order); raises as it does."""
    return soft_nms(boxes, scores, method, iou_threshold, sigma).scores
