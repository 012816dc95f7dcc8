"""RoI Pooling (Fast/Faster R-CNN) and RoI Align (Mask R-CNN) with torchvision's semantics.

Both take a feature map ``features: [N, C, H, W]`` and boxes ``rois: [K, 5]`` whose rows are
``(batch_index, x1, y1, x2, y2)`` in input-image coordinates; ``spatial_scale`` (e.g. 1/32 for
a stride-32 backbone) maps them onto the feature map. Both return ``[K, C, out_h, out_w]``.
Unlike torchvision, which silently turns a box with ``x2 < x1`` into a 1-pixel box, a malformed
box raises ``ValueError`` here; for well-formed boxes the results agree with
``torchvision.ops.roi_pool`` / ``roi_align`` up to float rounding (they compute in the input
dtype, these functions in float64).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import numpy.typing as npt

from compute._validate import check_finite, check_int, check_pair, check_positive_int

__all__ = ["roi_align", "roi_pool", "roi_pool_quantization"]

IntOrPair = int | tuple[int, int]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# torchvision's roi_pool starts a non-empty bin's running maximum at -FLT_MAX (for every dtype).
_FLT_MAX = float(np.finfo(np.float32).max)
# RoIs per batched matmul in roi_align: bounds the [k, C, out_h, W] temporary (about 20 MB for
# 64 RoIs of a 256-channel, 50-wide map) while keeping the matmuls large.
_ROI_CHUNK = 64


def _check_inputs(
    features: npt.ArrayLike, rois: npt.ArrayLike, spatial_scale: float
) -> tuple[FloatArray, FloatArray, IntArray, float]:
    """Validate; return features, the [K, 4] boxes, the [K] batch indices and the scale."""
    fmap = np.asarray(features)
    if fmap.ndim != 4:
        raise ValueError(f"features must have shape [N, C, H, W], got {fmap.shape}")
    check_finite("features", fmap)
    for axis, name in ((2, "H"), (3, "W")):
        if fmap.shape[axis] < 1:
            raise ValueError(f"features: {name} must be >= 1, got shape {fmap.shape}")
    boxes = np.asarray(rois)
    if boxes.ndim != 2 or boxes.shape[1] != 5:
        raise ValueError(f"rois must have shape [K, 5], got {boxes.shape}")
    check_finite("rois", boxes)
    boxes = boxes.astype(np.float64)
    batch = boxes[:, 0]
    if np.any(batch != np.floor(batch)) or np.any(batch < 0) or np.any(batch >= fmap.shape[0]):
        raise ValueError(f"rois: batch indices must be integers in [0, {fmap.shape[0]})")
    if np.any(boxes[:, 3] < boxes[:, 1]):
        raise ValueError("rois: every box needs x2 >= x1")
    if np.any(boxes[:, 4] < boxes[:, 2]):
        raise ValueError("rois: every box needs y2 >= y1")
    if isinstance(spatial_scale, bool) or not isinstance(spatial_scale, numbers.Real):
        raise ValueError(f"spatial_scale must be a number, got {spatial_scale!r}")
    scale = float(spatial_scale)
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"spatial_scale must be finite and > 0, got {spatial_scale!r}")
    return fmap.astype(np.float64), boxes[:, 1:], batch.astype(np.int64), scale


def _round_half_away(values: FloatArray) -> IntArray:
    # C's round(): halves go away from zero (NumPy's round would go to the even neighbour).
    return (np.sign(values) * np.floor(np.abs(values) + 0.5)).astype(np.int64)


def roi_pool(
    features: npt.ArrayLike,
    rois: npt.ArrayLike,
    output_size: IntOrPair,
    spatial_scale: float = 1.0,
) -> FloatArray:
    """Return ``torchvision.ops.roi_pool(features, rois, output_size, spatial_scale)``.

    ``features: [N, C, H, W]``, ``rois: [K, 5]`` rows ``(batch_index, x1, y1, x2, y2)``,
    ``output_size``: int or ``(out_h, out_w)`` -> ``[K, C, out_h, out_w]`` float64.

    Two quantizations, as in torchvision's kernel: (1) the box corners are scaled and rounded
    (half away from zero), and the box spans ``end - start + 1`` cells (at least 1);
    (2) bin ``p`` covers cells ``[floor(p * b), ceil((p + 1) * b))`` with ``b = span / out``,
    shifted by the box start and clipped to the feature map. Each bin is the maximum of its
    cells; a bin left empty by the clipping is 0.
    """
    fmap, boxes, batch, scale = _check_inputs(features, rois, spatial_scale)
    out_h, out_w = check_pair("output_size", output_size, minimum=1)
    channels, height, width = fmap.shape[1:]
    corners = _round_half_away(boxes * scale)  # [K, 4] x1, y1, x2, y2
    span_w = np.maximum(corners[:, 2] - corners[:, 0] + 1, 1)  # [K]
    span_h = np.maximum(corners[:, 3] - corners[:, 1] + 1, 1)

    def bin_edges(span: IntArray, start: IntArray, bins: int, limit: int) -> tuple[IntArray, ...]:
        size = span[:, np.newaxis] / bins  # [K, 1]
        index = np.arange(bins)[np.newaxis, :]  # [1, bins]
        lo = np.floor(index * size).astype(np.int64) + start[:, np.newaxis]  # [K, bins]
        hi = np.ceil((index + 1) * size).astype(np.int64) + start[:, np.newaxis]
        return np.clip(lo, 0, limit), np.clip(hi, 0, limit)

    h_lo, h_hi = bin_edges(span_h, corners[:, 1], out_h, height)  # [K, out_h]
    w_lo, w_hi = bin_edges(span_w, corners[:, 0], out_w, width)  # [K, out_w]
    rows = np.arange(height)
    cols = np.arange(width)
    row_in = (rows >= h_lo[:, :, np.newaxis]) & (rows < h_hi[:, :, np.newaxis])  # [K, out_h, H]
    col_in = (cols >= w_lo[:, :, np.newaxis]) & (cols < w_hi[:, :, np.newaxis])  # [K, out_w, W]
    empty = (h_hi <= h_lo)[:, :, np.newaxis] | (w_hi <= w_lo)[:, np.newaxis, :]  # [K, oh, ow]

    out = np.zeros((len(boxes), channels, out_h, out_w))
    # One RoI at a time keeps memory at C*H*W*out_w per box instead of K times that.
    for k in range(len(boxes)):
        fmap_k = fmap[batch[k]]  # [C, H, W]
        # Max over each bin's columns, then over its rows (a rectangle's max is separable).
        col_max = np.where(col_in[k][np.newaxis, np.newaxis], fmap_k[:, :, np.newaxis, :], -np.inf)
        col_max = col_max.max(axis=-1)  # [C, H, out_w]
        bin_max = np.where(
            row_in[k][np.newaxis, :, :, np.newaxis], col_max[:, np.newaxis, :, :], -np.inf
        ).max(axis=2)  # [C, out_h, out_w]
        out[k] = np.where(empty[k], 0.0, np.maximum(bin_max, -_FLT_MAX))
    return out


def _axis_weights(
    start: FloatArray,
    bin_size: FloatArray,
    grid: IntArray,
    bins: int,
    limit: int,
) -> FloatArray:
    """Return ``[K, bins, limit]`` summed bilinear weights of one axis (torchvision's rules).

    Sample ``i < grid[k]`` of bin ``p`` sits at ``start + p * b + (i + 0.5) * b / grid``. A sample
    outside ``[-1, limit]`` contributes nothing; one in ``[-1, 0]`` is clamped to 0; one at or
    beyond ``limit - 1`` takes the last cell with full weight. Otherwise it splits between
    ``floor(c)`` and ``floor(c) + 1`` by the fractional part.
    """
    count = len(start)
    most = max(int(grid.max(initial=0)), 1)
    step = bin_size[:, np.newaxis, np.newaxis] / np.maximum(grid, 1)[:, np.newaxis, np.newaxis]
    pos = (
        start[:, np.newaxis, np.newaxis]
        + np.arange(bins)[np.newaxis, :, np.newaxis] * bin_size[:, np.newaxis, np.newaxis]
        + (np.arange(most)[np.newaxis, np.newaxis, :] + 0.5) * step
    )  # [K, bins, most]
    used = np.arange(most)[np.newaxis, np.newaxis, :] < grid[:, np.newaxis, np.newaxis]
    keep = used & (pos >= -1.0) & (pos <= limit)
    pos = np.clip(pos, 0.0, None)
    low = np.floor(pos).astype(np.int64)
    at_edge = low >= limit - 1
    low = np.where(at_edge, limit - 1, low)
    high = np.where(at_edge, limit - 1, low + 1)
    frac = np.where(at_edge, 0.0, pos - low)  # weight of `high`
    weight = keep.astype(np.float64)
    cell = np.arange(count)[:, np.newaxis, np.newaxis] * bins + np.arange(bins)[:, np.newaxis]
    base = cell * limit  # [K, bins, 1]: flat offset of row (k, p) in the [K, bins, limit] result
    size = count * bins * limit
    summed: FloatArray = np.bincount(
        (base + low).ravel(), (weight * (1.0 - frac)).ravel(), minlength=size
    ).astype(np.float64)
    summed += np.bincount((base + high).ravel(), (weight * frac).ravel(), minlength=size)
    return summed.reshape(count, bins, limit)


def roi_align(
    features: npt.ArrayLike,
    rois: npt.ArrayLike,
    output_size: IntOrPair,
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
    aligned: bool = False,
) -> FloatArray:
    """Return ``torchvision.ops.roi_align(features, rois, output_size, ...)``.

    ``features: [N, C, H, W]``, ``rois: [K, 5]`` rows ``(batch_index, x1, y1, x2, y2)``,
    ``output_size``: int or ``(out_h, out_w)`` -> ``[K, C, out_h, out_w]`` float64.

    No rounding: the box is ``coords * spatial_scale - offset`` with ``offset = 0.5`` when
    ``aligned`` (pixel centres at half-integers) and 0 otherwise; without ``aligned`` the box is
    at least 1 x 1. Each bin (``box / output_size``) is sampled on a ``grid_h x grid_w`` grid of
    bin-cell centres, ``grid = sampling_ratio`` if it is > 0, else ``ceil(box_side / out)``
    (adaptive, torchvision's -1 / 0). Each sample is bilinearly interpolated with the boundary
    rules of torchvision's kernel (outside ``[-1, size]`` -> 0, clamped into the map otherwise)
    and the bin is the AVERAGE of its samples (an empty grid gives 0).

    The interpolation weights are separable (``w = w_y * w_x``), so each RoI's output is
    ``W_y[out_h, H] @ features[C, H, W] @ W_x[out_w, W]^T / (grid_h * grid_w)``.
    """
    fmap, boxes, batch, scale = _check_inputs(features, rois, spatial_scale)
    out_h, out_w = check_pair("output_size", output_size, minimum=1)
    ratio = check_int("sampling_ratio", sampling_ratio)
    if not isinstance(aligned, bool):
        raise ValueError(f"aligned must be True or False, got {aligned!r}")
    count_rois = len(boxes)
    channels, height, width = fmap.shape[1:]
    offset = 0.5 if aligned else 0.0
    scaled = boxes * scale - offset  # [K, 4]
    size_w = scaled[:, 2] - scaled[:, 0]  # [K]
    size_h = scaled[:, 3] - scaled[:, 1]
    if not aligned:
        size_w = np.maximum(size_w, 1.0)
        size_h = np.maximum(size_h, 1.0)
    bin_w = size_w / out_w
    bin_h = size_h / out_h
    if ratio > 0:
        grid_h = np.full(count_rois, ratio, dtype=np.int64)
        grid_w = grid_h.copy()
    else:
        grid_h = np.ceil(size_h / out_h).astype(np.int64)
        grid_w = np.ceil(size_w / out_w).astype(np.int64)
    count = np.maximum(grid_h * grid_w, 1).astype(np.float64)  # [K]
    weights_y = _axis_weights(scaled[:, 1], bin_h, grid_h, out_h, height)  # [K, out_h, H]
    weights_x = _axis_weights(scaled[:, 0], bin_w, grid_w, out_w, width)  # [K, out_w, W]

    out = np.zeros((count_rois, channels, out_h, out_w))
    for image in np.unique(batch):
        picked = np.flatnonzero(batch == image)
        plane = fmap[image]  # [C, H, W]
        # Two batched matmuls per chunk of RoIs; chunks bound the [k, C, out_h, W] temporary.
        for first in range(0, len(picked), _ROI_CHUNK):
            chunk = picked[first : first + _ROI_CHUNK]
            rows = np.matmul(weights_y[chunk][:, np.newaxis], plane)  # [k, C, out_h, W]
            pooled = np.matmul(rows, weights_x[chunk].transpose(0, 2, 1)[:, np.newaxis])
            out[chunk] = pooled / count[chunk, np.newaxis, np.newaxis, np.newaxis]
    return out


def roi_pool_quantization(
    roi_size: float, spatial_scale: float, output_size: int
) -> tuple[float, int, float, int]:
    """Return the two RoI Pooling quantizations of one box side, textbook (floor) version.

    ``feature = roi_size * spatial_scale`` and its floor; ``bin = floor(feature) / output_size``
    and its floor. This is the Faster R-CNN walk-through of seed 000 section 34: a 665-pixel
    proposal at stride 32 is 20.78 -> 20 feature cells, and 20 / 7 = 2.86 -> 2 cells per bin
    (RoI Align keeps 20.78 and 20.78 / 7 = 2.97). torchvision's ``roi_pool`` quantizes
    differently (rounds the corners and counts ``end - start + 1`` cells): see :func:`roi_pool`.
    """
    if isinstance(roi_size, bool) or not isinstance(roi_size, numbers.Real):
        raise ValueError(f"roi_size must be a number, got {roi_size!r}")
    if isinstance(spatial_scale, bool) or not isinstance(spatial_scale, numbers.Real):
        raise ValueError(f"spatial_scale must be a number, got {spatial_scale!r}")
    if not (math.isfinite(roi_size) and roi_size > 0):
        raise ValueError(f"roi_size must be finite and > 0, got {roi_size!r}")
    if not (math.isfinite(spatial_scale) and spatial_scale > 0):
        raise ValueError(f"spatial_scale must be finite and > 0, got {spatial_scale!r}")
    bins = check_positive_int("output_size", output_size)
    feature = float(roi_size) * float(spatial_scale)  # float64 even for NumPy scalars
    feature_int = math.floor(feature)
    bin_float = feature_int / bins
    return feature, feature_int, bin_float, math.floor(bin_float)
