"""Bounding-box geometry: format conversion, area, IoU, GIoU and non-maximum suppression.

Every function follows ``torchvision.ops`` (``box_convert``, ``box_area``, ``box_iou``,
``generalized_box_iou``, ``nms``, ``batched_nms``) and is computed in float64.

Box formats (torchvision names):

- ``"xyxy"``: ``(x1, y1, x2, y2)``, top-left and bottom-right corners, ``x1 <= x2``, ``y1 <= y2``;
- ``"xywh"``: ``(x1, y1, w, h)``, top-left corner plus width and height, ``w, h >= 0``;
- ``"cxcywh"``: ``(cx, cy, w, h)``, centre plus width and height, ``w, h >= 0``.

Coordinates are continuous: a box ``(0, 0, 2, 2)`` has area 4 (no "+1" pixel convention).
A box with zero width or height is valid and has area 0. A box with ``x2 < x1``, ``y2 < y1``,
a negative width or height, or a non-finite coordinate raises ``ValueError``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "BoxFormat",
    "batched_nms",
    "box_area",
    "box_convert",
    "box_iou",
    "generalized_box_iou",
    "nms",
]

BoxFormat = Literal["xyxy", "xywh", "cxcywh"]
_FORMATS: tuple[str, ...] = ("xyxy", "xywh", "cxcywh")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _as_boxes(boxes: npt.ArrayLike, name: str, fmt: str = "xyxy") -> FloatArray:
    """Return ``boxes`` as a float64 ``[N, 4]`` array after checking it is valid in ``fmt``."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim == 1 and arr.size == 0:
        # A bare [] means "no boxes", like np.zeros((0, 4)).
        return np.zeros((0, 4), dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{name} must have shape [N, 4], got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite coordinates")
    if fmt == "xyxy":
        if np.any(arr[:, 2] < arr[:, 0]):
            raise ValueError(f"{name} has a box with x2 < x1 (format 'xyxy')")
        if np.any(arr[:, 3] < arr[:, 1]):
            raise ValueError(f"{name} has a box with y2 < y1 (format 'xyxy')")
    else:
        if np.any(arr[:, 2] < 0):
            raise ValueError(f"{name} has a box with negative width (format {fmt!r})")
        if np.any(arr[:, 3] < 0):
            raise ValueError(f"{name} has a box with negative height (format {fmt!r})")
    return arr


def _check_format(fmt: str, name: str) -> None:
    if fmt not in _FORMATS:
        raise ValueError(f"{name} must be one of {_FORMATS}, got {fmt!r}")


def _to_xyxy(arr: FloatArray, fmt: str) -> FloatArray:
    """Convert a validated ``[N, 4]`` array from ``fmt`` to xyxy."""
    if fmt == "xyxy":
        return arr.copy()
    if fmt == "xywh":
        x, y, w, h = arr.T  # each [N]
        return np.stack([x, y, x + w, y + h], axis=1)
    cx, cy, w, h = arr.T  # each [N]
    return np.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], axis=1)


def _from_xyxy(arr: FloatArray, fmt: str) -> FloatArray:
    """Convert an xyxy ``[N, 4]`` array to ``fmt``."""
    if fmt == "xyxy":
        return arr.copy()
    x1, y1, x2, y2 = arr.T  # each [N]
    w = x2 - x1
    h = y2 - y1
    if fmt == "xywh":
        return np.stack([x1, y1, w, h], axis=1)
    return np.stack([(x1 + x2) / 2, (y1 + y2) / 2, w, h], axis=1)


def box_convert(boxes: npt.ArrayLike, in_fmt: BoxFormat, out_fmt: BoxFormat) -> FloatArray:
    """Convert boxes between the ``"xyxy"``, ``"xywh"`` and ``"cxcywh"`` formats.

    ``boxes: ndarray[N, 4]`` in ``in_fmt`` -> ``ndarray[N, 4]`` in ``out_fmt`` (a new array).

    Formulas: ``xywh -> xyxy``: ``(x, y, x + w, y + h)``; ``cxcywh -> xyxy``:
    ``(cx - w/2, cy - h/2, cx + w/2, cy + h/2)``; the reverse directions invert these, going
    through xyxy. Semantics of ``torchvision.ops.box_convert``.
    """
    _check_format(in_fmt, "in_fmt")
    _check_format(out_fmt, "out_fmt")
    arr = _as_boxes(boxes, "boxes", in_fmt)
    return _from_xyxy(_to_xyxy(arr, in_fmt), out_fmt)


def box_area(boxes: npt.ArrayLike) -> FloatArray:
    """Return the area of each xyxy box.

    ``boxes: ndarray[N, 4]`` (xyxy) -> ``ndarray[N]``; ``area = (x2 - x1) * (y2 - y1)``.
    Semantics of ``torchvision.ops.box_area``.
    """
    arr = _as_boxes(boxes, "boxes")
    return (arr[:, 2] - arr[:, 0]) * (arr[:, 3] - arr[:, 1])


def _inter_union(b1: FloatArray, b2: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Pairwise intersection and union areas of two xyxy sets: ``[N, M]`` each.

    Works one coordinate at a time with ``ufunc.outer`` and in-place updates, so the largest
    temporaries are ``[N, M]`` rather than ``[N, M, 2]``.
    """
    area1 = (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])  # [N]
    area2 = (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])  # [M]
    inter = np.minimum.outer(b1[:, 2], b2[:, 2])  # [N, M]: right edge of the overlap
    inter -= np.maximum.outer(b1[:, 0], b2[:, 0])  # overlap width
    np.maximum(inter, 0.0, out=inter)
    height = np.minimum.outer(b1[:, 3], b2[:, 3])  # [N, M]
    height -= np.maximum.outer(b1[:, 1], b2[:, 1])
    np.maximum(height, 0.0, out=height)
    inter *= height
    union = np.add.outer(area1, area2)  # [N, M]
    union -= inter
    return inter, union


def _safe_divide(num: FloatArray, den: FloatArray) -> FloatArray:
    """``num / den`` where ``den > 0``, else 0."""
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out


def box_iou(boxes1: npt.ArrayLike, boxes2: npt.ArrayLike, fmt: BoxFormat = "xyxy") -> FloatArray:
    """Return the pairwise intersection-over-union of two box sets.

    ``boxes1: ndarray[N, 4]``, ``boxes2: ndarray[M, 4]`` (both in ``fmt``) -> ``ndarray[N, M]``.

    ``IoU = inter / (area1 + area2 - inter)`` with
    ``inter = max(0, min(x2) - max(x1)) * max(0, min(y2) - max(y1))``, as
    ``torchvision.ops.box_iou``. One deliberate difference: where the union is 0 (two
    zero-area boxes) this returns 0 instead of torchvision's NaN from 0/0, so that callers never
    see NaN; NMS results are the same because NaN > threshold and 0 > threshold are both false for
    thresholds in [0, 1].
    """
    _check_format(fmt, "fmt")
    b1 = _to_xyxy(_as_boxes(boxes1, "boxes1", fmt), fmt)
    b2 = _to_xyxy(_as_boxes(boxes2, "boxes2", fmt), fmt)
    inter, union = _inter_union(b1, b2)
    # union >= inter >= 0 for valid boxes, and union == 0 forces inter == 0, so dividing in place
    # only where union > 0 leaves exactly the documented 0 elsewhere.
    np.divide(inter, union, out=inter, where=union > 0)
    return inter


def generalized_box_iou(
    boxes1: npt.ArrayLike, boxes2: npt.ArrayLike, fmt: BoxFormat = "xyxy"
) -> FloatArray:
    """Return the pairwise generalized IoU (Rezatofighi et al., 2019) of two box sets.

    ``boxes1: ndarray[N, 4]``, ``boxes2: ndarray[M, 4]`` (both in ``fmt``) -> ``ndarray[N, M]``
    with values in ``[-1, 1]``.

    ``GIoU = IoU - (C - union) / C`` where ``C`` is the area of the smallest axis-aligned box
    enclosing both boxes. Semantics of ``torchvision.ops.generalized_box_iou``, except where
    torchvision divides 0 by 0 and returns NaN: a zero union (two zero-area boxes) takes
    ``IoU = 0``, so two distant points give ``GIoU = -1``, and a zero enclosing area takes
    ``(C - union) / C = 0``.
    """
    _check_format(fmt, "fmt")
    b1 = _to_xyxy(_as_boxes(boxes1, "boxes1", fmt), fmt)
    b2 = _to_xyxy(_as_boxes(boxes2, "boxes2", fmt), fmt)
    inter, union = _inter_union(b1, b2)
    iou = _safe_divide(inter, union)
    lt = np.minimum(b1[:, None, :2], b2[None, :, :2])  # [N, M, 2]
    rb = np.maximum(b1[:, None, 2:], b2[None, :, 2:])  # [N, M, 2]
    wh = rb - lt  # [N, M, 2], never negative for valid boxes
    enclosing = wh[..., 0] * wh[..., 1]  # [N, M]
    return iou - _safe_divide(enclosing - union, enclosing)


def _check_scores(scores: npt.ArrayLike, n: int) -> FloatArray:
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"scores must have shape [{n}] to match boxes, got {arr.shape}")
    if np.any(np.isnan(arr)):
        raise ValueError("scores must not contain NaN")
    return arr


def _check_threshold(iou_threshold: float) -> float:
    thr = float(iou_threshold)
    if not 0.0 <= thr <= 1.0:
        raise ValueError(f"iou_threshold must be in [0, 1], got {iou_threshold}")
    return thr


#: Candidates resolved together by :func:`_greedy_nms`: large enough to amortize NumPy's per-call
#: cost, small enough that the block-by-rest IoU matrix stays in cache (bench/compute.py).
_NMS_BLOCK = 32


def _overlaps(
    cols: tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    rows: IntArray,
    others: IntArray,
    thr: float,
) -> npt.NDArray[np.bool_]:
    """Return ``iou[rows][:, others] > thr`` from the columns (x1, y1, x2, y2, area)."""
    x1, y1, x2, y2, area = cols
    width = np.minimum(x2[rows][:, None], x2[others])
    width -= np.maximum(x1[rows][:, None], x1[others])
    np.maximum(width, 0.0, out=width)
    height = np.minimum(y2[rows][:, None], y2[others])
    height -= np.maximum(y1[rows][:, None], y1[others])
    np.maximum(height, 0.0, out=height)
    width *= height  # the intersection
    union = np.add(area[rows][:, None], area[others])
    union -= width
    width /= union  # 0 / 0 = NaN only for two points; NaN > thr is False (not suppressed)
    return width > thr


def _greedy_nms(
    boxes: FloatArray, scores: FloatArray, thr: float, groups: IntArray | None
) -> IntArray:
    """Greedy NMS over boxes visited by descending score; boxes interact only within a group.

    The candidates are resolved a block at a time: the IoU among the block's boxes settles which
    of them are kept (in visiting order, a box is kept unless a kept box before it overlaps it by
    more than ``thr``), then one matrix of the kept boxes against every later candidate removes
    what they suppress. The result is the one-box-at-a-time greedy pass, with a few NumPy calls
    per block instead of per kept box.
    """
    # A stable sort of -scores orders by descending score and keeps equal scores in index order,
    # which is what torchvision's CPU kernel does (scores.sort(stable=True, descending=True)).
    candidates = np.argsort(-scores, kind="stable").astype(np.int64)
    x1, y1, x2, y2 = (np.ascontiguousarray(boxes[:, k]) for k in range(4))
    cols = (x1, y1, x2, y2, (x2 - x1) * (y2 - y1))
    kept: list[IntArray] = []
    with np.errstate(invalid="ignore", divide="ignore"):
        while candidates.size:
            block, rest = candidates[:_NMS_BLOCK], candidates[_NMS_BLOCK:]
            # Suppression needs IoU strictly above the threshold.
            within = _overlaps(cols, block, block, thr)
            if groups is not None:
                within &= groups[block][:, None] == groups[block]
            suppressed = np.zeros(block.size, dtype=bool)
            local: list[int] = []
            for i in range(block.size):
                if not suppressed[i]:
                    local.append(i)
                    suppressed |= within[i]  # entries before i are settled already
            winners = block[local]
            kept.append(winners)
            if not rest.size:
                break
            hit = _overlaps(cols, winners, rest, thr)
            if groups is not None:
                hit &= groups[winners][:, None] == groups[rest]
            candidates = rest[~hit.any(axis=0)]
    return np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)


def nms(boxes: npt.ArrayLike, scores: npt.ArrayLike, iou_threshold: float) -> IntArray:
    """Return the indices of the boxes kept by greedy non-maximum suppression.

    ``boxes: ndarray[N, 4]`` (xyxy), ``scores: ndarray[N]`` -> ``ndarray[K]`` of int64 indices
    into ``boxes``, in decreasing score order.

    Boxes are visited by descending score; equal scores keep their input order (a stable sort,
    as torchvision's CPU kernel). A visited box that has not been suppressed is kept, and every
    later box whose IoU with it is strictly greater than ``iou_threshold`` is suppressed.
    Semantics of ``torchvision.ops.nms``. ``iou_threshold`` must lie in ``[0, 1]``; NaN scores
    raise ``ValueError``. Empty input returns an empty array.
    """
    arr = _as_boxes(boxes, "boxes")
    sc = _check_scores(scores, arr.shape[0])
    thr = _check_threshold(iou_threshold)
    return _greedy_nms(arr, sc, thr, None)


def batched_nms(
    boxes: npt.ArrayLike, scores: npt.ArrayLike, idxs: npt.ArrayLike, iou_threshold: float
) -> IntArray:
    """Return the indices kept by non-maximum suppression run separately for each category.

    ``boxes: ndarray[N, 4]`` (xyxy), ``scores: ndarray[N]``, ``idxs: ndarray[N]`` (integer
    category of each box) -> ``ndarray[K]`` of int64 indices, in decreasing score order (equal
    scores in input order).

    Boxes of different categories never suppress each other. torchvision.ops.batched_nms gets the
    same effect by shifting each category's boxes by ``idx * (max_coordinate + 1)`` and running
    one NMS; here the single greedy pass simply ignores pairs from different categories, which
    gives torchvision's result without the float rounding the shift introduces (and stays correct
    when every coordinate is negative, where the shift can make categories overlap).
    """
    arr = _as_boxes(boxes, "boxes")
    sc = _check_scores(scores, arr.shape[0])
    groups = np.asarray(idxs)
    if groups.ndim != 1 or groups.shape[0] != arr.shape[0]:
        raise ValueError(
            f"idxs must have shape [{arr.shape[0]}] to match boxes, got {groups.shape}"
        )
    if groups.size and not np.issubdtype(groups.dtype, np.integer):
        raise ValueError(f"idxs must hold integer category ids, got dtype {groups.dtype}")
    thr = _check_threshold(iou_threshold)
    return _greedy_nms(arr, sc, thr, groups.astype(np.int64))
