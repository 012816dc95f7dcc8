"""Semantic-segmentation metrics and the size arithmetic of FCN-style networks.

Metrics. Every score is read off a ``K x K`` pixel confusion matrix ``C`` with the true class on
the rows and the predicted class on the columns (scikit-learn's layout, as in
:mod:`compute.metrics`): ``C[i, j]`` counts pixels of true class ``i`` predicted as ``j``. With
``TP_i = C[i, i]``, ``T_i = sum_j C[i, j]`` (true pixels of class ``i``) and
``P_i = sum_j C[j, i]`` (pixels predicted as ``i``):

- pixel accuracy ``PA = sum_i TP_i / sum_ij C[i, j]``;
- mean pixel accuracy ``mPA = mean_i TP_i / T_i`` (the per-class recall, averaged);
- class IoU ``IoU_i = TP_i / (T_i + P_i - TP_i)`` and ``mIoU = mean_i IoU_i``;
- frequency-weighted IoU ``FWIoU = sum_i (T_i / N) IoU_i`` (weights from the *true* frequency).

The "mean" runs over the classes whose ratio is defined: a class with ``T_i = 0`` has no
accuracy, a class with ``T_i + P_i = 0`` (absent from both maps) has no IoU. Those entries are
NaN in the per-class arrays and left out of the means (``numpy.nanmean``), the convention of the
usual PyTorch/MMSegmentation evaluation code. Pixels whose true label equals ``ignore_index``
are dropped before counting.

Dice. For two binary masks ``A`` (truth) and ``B`` (prediction),
``Dice = 2|A n B| / (|A| + |B|) = 2TP / (2TP + FP + FN)``, the F1 score of the pixels, and
``IoU = |A n B| / |A u B|``; the two determine each other: ``Dice = 2 IoU / (1 + IoU)`` and
``IoU = Dice / (2 - Dice)``.

Panoptic quality (Kirillov et al., 2019). Per class, a predicted and a ground-truth segment
match when their IoU is strictly above 0.5 (segments do not overlap, so such a match is unique);
``PQ = sum_TP IoU / (|TP| + |FP|/2 + |FN|/2) = SQ * RQ`` with ``SQ`` the mean IoU of the matches
and ``RQ = |TP| / (|TP| + |FP|/2 + |FN|/2)``.

Sizes. The original U-Net (Ronneberger et al., 2015) uses unpadded ("valid") 3x3 convolutions,
2x2 max pooling and 2x2 stride-2 up-convolutions, and centre-crops each skip feature map to the
size of the upsampled map before concatenating. DeepLab's backbone at output stride ``s`` and
torchvision's ResNets produce ``ceil(n / s)`` per side (every stride-2 stage outputs
``ceil(n / 2)``). PyTorch's adaptive pooling (PSPNet's pyramid) gives bin ``i`` of ``b`` over
``n`` cells the window ``[floor(i n / b), ceil((i + 1) n / b))``.

Every function raises ``ValueError`` (message naming the argument) on invalid input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from compute._validate import check_int, check_positive_int
from compute.conv import effective_kernel_size

__all__ = [
    "DEEPLABV3_ASPP_RATES_OS16",
    "PSP_BINS",
    "PanopticQuality",
    "SegScores",
    "UNetSizes",
    "adaptive_pool_windows",
    "aspp_rates",
    "atrous_field",
    "class_iou",
    "dice_from_counts",
    "dice_from_iou",
    "iou_from_dice",
    "output_stride_size",
    "panoptic_quality",
    "psp_concat_channels",
    "segmentation_confusion",
    "segmentation_scores",
    "unet_valid_sizes",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: DeepLabv3's ASPP rates at output stride 16 (doubled at output stride 8).
DEEPLABV3_ASPP_RATES_OS16: tuple[int, int, int] = (6, 12, 18)
#: PSPNet's pyramid bin counts per side.
PSP_BINS: tuple[int, int, int, int] = (1, 2, 3, 6)


class SegScores(NamedTuple):
    """The standard semantic-segmentation scores of one confusion matrix."""

    pixel_accuracy: float
    mean_pixel_accuracy: float
    class_accuracy: FloatArray
    class_iou: FloatArray
    mean_iou: float
    fw_iou: float


def segmentation_confusion(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    num_classes: int,
    ignore_index: int | None = None,
) -> IntArray:
    """Return the ``[K, K]`` pixel confusion matrix of two label maps of equal shape.

    ``y_true`` and ``y_pred`` hold integer labels in ``[0, num_classes)`` (any shape, the same
    for both); pixels whose true label is ``ignore_index`` are left out. Raises ``ValueError``
    for a shape mismatch, non-integer labels or a label out of range.
    """
    k = check_positive_int("num_classes", num_classes)
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {t.shape} vs {p.shape}")
    for name, arr in (("y_true", t), ("y_pred", p)):
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{name} must hold integer labels, got dtype {arr.dtype}")
    t, p = t.reshape(-1).astype(np.int64), p.reshape(-1).astype(np.int64)
    if ignore_index is not None:
        keep = t != check_int("ignore_index", ignore_index)
        t, p = t[keep], p[keep]
    for name, arr in (("y_true", t), ("y_pred", p)):
        if arr.size and (arr.min() < 0 or arr.max() >= k):
            raise ValueError(f"{name} holds a label outside [0, {k})")
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


def _matrix(cm: npt.ArrayLike) -> IntArray:
    c = np.asarray(cm)
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] == 0:
        raise ValueError(f"cm must be a square K x K matrix, got shape {c.shape}")
    if not np.issubdtype(c.dtype, np.integer) or (c < 0).any():
        raise ValueError("cm must hold non-negative integer counts")
    if c.sum() == 0:
        raise ValueError("cm is empty (no pixel counted)")
    return c.astype(np.int64)


def class_iou(cm: npt.ArrayLike) -> FloatArray:
    """Return ``IoU_i = TP_i / (T_i + P_i - TP_i)`` per class (NaN for a class in neither map)."""
    c = _matrix(cm)
    tp = np.diag(c).astype(np.float64)
    union = c.sum(axis=1) + c.sum(axis=0) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / np.where(union > 0, union, 1), np.nan)


def segmentation_scores(cm: npt.ArrayLike) -> SegScores:
    """Return PA, mPA, per-class accuracy and IoU, mIoU and FWIoU of a confusion matrix.

    Conventions in the module docstring; raises ``ValueError`` for a matrix that is not square,
    holds negative or non-integer counts, or counts nothing.
    """
    c = _matrix(cm)
    tp = np.diag(c).astype(np.float64)
    true_n = c.sum(axis=1).astype(np.float64)
    total = float(c.sum())
    acc = np.where(true_n > 0, tp / np.where(true_n > 0, true_n, 1), np.nan)
    iou = class_iou(c)
    fw = float(np.nansum(true_n / total * iou))
    return SegScores(
        pixel_accuracy=float(tp.sum() / total),
        mean_pixel_accuracy=float(np.nanmean(acc)),
        class_accuracy=acc,
        class_iou=iou,
        mean_iou=float(np.nanmean(iou)),
        fw_iou=fw,
    )


def dice_from_counts(intersection: int, area_true: int, area_pred: int) -> float:
    """Return ``2|A n B| / (|A| + |B|)`` (1.0 for two empty masks).

    Raises ``ValueError`` for negative counts or an intersection larger than either area.
    """
    i = check_int("intersection", intersection)
    a = check_int("area_true", area_true)
    b = check_int("area_pred", area_pred)
    if min(i, a, b) < 0:
        raise ValueError("intersection and areas must be >= 0")
    if i > min(a, b):
        raise ValueError("intersection cannot exceed either area")
    return 1.0 if a + b == 0 else 2 * i / (a + b)


def dice_from_iou(iou: float) -> float:
    """Return ``2 IoU / (1 + IoU)``; raises ``ValueError`` unless ``0 <= iou <= 1``."""
    x = float(iou)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"iou must be in [0, 1], got {iou!r}")
    return 2 * x / (1 + x)


def iou_from_dice(dice: float) -> float:
    """Return ``Dice / (2 - Dice)``; raises ``ValueError`` unless ``0 <= dice <= 1``."""
    x = float(dice)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"dice must be in [0, 1], got {dice!r}")
    return x / (2 - x)


class UNetSizes(NamedTuple):
    """Square feature-map sides through a valid-convolution U-Net (top level first).

    ``encoder[l]`` is the side after the convolutions of encoder level ``l`` (the skip that is
    cropped), ``bottom`` the side after the bottleneck convolutions, ``up[l]`` the side after
    the up-convolution arriving at level ``l`` (the crop target), ``decoder[l]`` the side after
    that level's convolutions and ``output`` the network's output side (``decoder[0]``).
    """

    encoder: tuple[int, ...]
    bottom: int
    up: tuple[int, ...]
    decoder: tuple[int, ...]
    output: int


def unet_valid_sizes(size: int, *, depth: int = 4, convs: int = 2, kernel: int = 3) -> UNetSizes:
    """Return the sides of a U-Net with ``depth`` poolings and unpadded convolutions.

    Each level runs ``convs`` valid ``kernel x kernel`` convolutions (each removes
    ``kernel - 1`` pixels); 2x2 max pooling halves; each 2x2 stride-2 up-convolution doubles.
    The original U-Net is ``depth=4, convs=2, kernel=3``: 572 -> 388. Raises ``ValueError`` when
    a map shrinks below 1 pixel or a map entering a pooling has an odd side (the original
    requires even sides so that every 2x2 pooling is exact and the crops are symmetric).
    """
    n = check_positive_int("size", size)
    d = check_positive_int("depth", depth)
    c = check_positive_int("convs", convs)
    k = check_positive_int("kernel", kernel)
    shrink = c * (k - 1)
    encoder: list[int] = []
    for level in range(d):
        n -= shrink
        if n < 1:
            raise ValueError(f"size is too small: encoder level {level + 1} shrinks below 1")
        if n % 2:
            raise ValueError(f"size gives an odd side {n} before pooling at level {level + 1}")
        encoder.append(n)
        n //= 2
    n -= shrink
    if n < 1:
        raise ValueError("size is too small: the bottleneck shrinks below 1")
    bottom = n
    up: list[int] = []
    decoder: list[int] = []
    for level in reversed(range(d)):
        n *= 2
        up.append(n)
        n -= shrink
        if n < 1:
            raise ValueError(f"size is too small: decoder level {level + 1} shrinks below 1")
        decoder.append(n)
    return UNetSizes(tuple(encoder), bottom, tuple(reversed(up)), tuple(reversed(decoder)), n)


def output_stride_size(size: int, output_stride: int) -> int:
    """Return ``ceil(size / output_stride)``, the side of a backbone map at that stride.

    ``output_stride`` must be a power of two (each stride-2 stage rounds up). Raises
    ``ValueError`` otherwise.
    """
    n = check_positive_int("size", size)
    s = check_positive_int("output_stride", output_stride)
    if s & (s - 1):
        raise ValueError(f"output_stride must be a power of two, got {s}")
    return -(-n // s)


def aspp_rates(
    output_stride: int, base_rates: Sequence[int] = DEEPLABV3_ASPP_RATES_OS16
) -> tuple[int, ...]:
    """Return ASPP atrous rates at ``output_stride`` from rates tuned for output stride 16.

    The rates scale with ``16 / output_stride`` so the branches keep their field of view in
    image pixels. Raises ``ValueError`` for a stride that does not divide into 16 exactly or
    into an integer multiple of it.
    """
    s = check_positive_int("output_stride", output_stride)
    rates = [check_positive_int("base_rates", r) for r in base_rates]
    out = []
    for r in rates:
        if (r * 16) % s:
            raise ValueError(f"rate {r} does not scale to an integer at output stride {s}")
        out.append(r * 16 // s)
    return tuple(out)


def atrous_field(kernel: int, rate: int) -> int:
    """Return the effective kernel side ``k + (k - 1)(r - 1)`` (see :mod:`compute.conv`)."""
    return effective_kernel_size(kernel, rate)


def adaptive_pool_windows(size: int, bins: int) -> tuple[tuple[int, int], ...]:
    """Return PyTorch's adaptive-pooling windows ``(start, end)`` of ``bins`` bins over ``size``.

    Bin ``i`` covers ``[floor(i size / bins), ceil((i + 1) size / bins))``; when ``bins`` does
    not divide ``size`` neighbouring windows overlap or differ in length. Raises ``ValueError``
    for non-positive arguments.
    """
    n = check_positive_int("size", size)
    b = check_positive_int("bins", bins)
    return tuple(((i * n) // b, -(-((i + 1) * n) // b)) for i in range(b))


def psp_concat_channels(in_channels: int, bins: Sequence[int] = PSP_BINS) -> int:
    """Return the channels after PSPNet's concatenation: the input plus one reduced map per level.

    Each of the ``N = len(bins)`` levels reduces the channels to ``in_channels / N`` with a 1x1
    convolution before upsampling. Raises ``ValueError`` when ``N`` does not divide the channels.
    """
    c = check_positive_int("in_channels", in_channels)
    levels = len([check_positive_int("bins", b) for b in bins])
    if levels == 0 or c % levels:
        raise ValueError(f"in_channels {c} must split evenly over {levels} pyramid levels")
    return c + levels * (c // levels)


class PanopticQuality(NamedTuple):
    """PQ of one class and its two factors."""

    pq: float
    sq: float
    rq: float


def panoptic_quality(tp_ious: Sequence[float], fp: int, fn: int) -> PanopticQuality:
    """Return ``(PQ, SQ, RQ)`` from the IoUs of the matched pairs and the unmatched counts.

    Every IoU must lie in ``(0.5, 1]`` (a match needs IoU > 0.5). With no segment at all
    (``TP = FP = FN = 0``) the class is undefined and ``ValueError`` is raised, as it is for
    negative counts or an IoU outside ``(0.5, 1]``. With no match, PQ = SQ = RQ = 0.
    """
    ious = [float(x) for x in tp_ious]
    f_p = check_int("fp", fp)
    f_n = check_int("fn", fn)
    if f_p < 0 or f_n < 0:
        raise ValueError("fp and fn must be >= 0")
    if any(not 0.5 < x <= 1.0 for x in ious):
        raise ValueError("tp_ious must lie in (0.5, 1]: a match needs IoU > 0.5")
    tp = len(ious)
    if tp + f_p + f_n == 0:
        raise ValueError("no segment of this class: PQ is undefined")
    denom = tp + 0.5 * f_p + 0.5 * f_n
    if tp == 0:
        return PanopticQuality(0.0, 0.0, 0.0)
    sq = sum(ious) / tp
    rq = tp / denom
    return PanopticQuality(sum(ious) / denom, sq, rq)
