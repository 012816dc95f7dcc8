"""Model-compression arithmetic: distillation with a temperature, INT8 quantization, pruning.

Distillation (Hinton et al., 2015): soft targets are ``softmax(z / T)``; the soft loss is
``T**2 * KL(p_teacher || p_student)`` with both distributions taken at temperature ``T``, which is
``T**2 * F.kl_div(F.log_softmax(s / T), F.softmax(t / T), reduction="batchmean")`` in PyTorch.

Quantization (PyTorch's ``torch.ao.quantization``): ``q = clamp(round(x / scale) + zero_point,
qmin, qmax)`` and ``x_hat = (q - zero_point) * scale``, rounding half to even. ``quint8`` is
0..255 and ``qint8`` -128..127 (``reduce_range=False``). :func:`minmax_qparams` returns the
scale and zero point ``MinMaxObserver`` derives from an observed min and max: the range is first
widened to include 0, so that 0 is exactly representable (zero padding, ReLU outputs).

Pruning (``torch.nn.utils.prune.l1_unstructured``): a float ``amount`` prunes
``round(amount * n)`` weights (Python's ``round``, half to even), those of smallest magnitude.

Every function raises ``ValueError`` (message naming the argument) on a bad argument.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

from compute import losses
from compute._validate import check_finite, check_int, check_non_negative_int, check_positive_int

__all__ = [
    "QDTYPES",
    "dequantize",
    "distillation_soft_loss",
    "magnitude_prune_mask",
    "minmax_qparams",
    "prune_count",
    "quantize",
    "quantize_roundtrip",
    "soft_targets",
]

FloatArray = npt.NDArray[np.float64]
QDType = Literal["quint8", "qint8"]
QScheme = Literal["affine", "symmetric"]

#: (qmin, qmax) of each quantized dtype.
QDTYPES: dict[str, tuple[int, int]] = {"quint8": (0, 255), "qint8": (-128, 127)}

#: Smallest scale an observer returns (``torch.finfo(torch.float32).eps``).
_EPS = float(np.finfo(np.float32).eps)


def _temperature(temperature: float) -> float:
    t = float(temperature)
    if not (math.isfinite(t) and t > 0.0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    return t


def _logits(name: str, x: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] < 2:
        raise ValueError(f"{name} must have at least two classes on its last axis")
    check_finite(name, arr)
    return arr


def soft_targets(logits: npt.ArrayLike, temperature: float) -> FloatArray:
    """Return ``softmax(logits / T)`` over the last axis; larger ``T`` gives a flatter output."""
    z = _logits("logits", logits)
    return losses.softmax(z / _temperature(temperature), axis=-1)


def distillation_soft_loss(
    student_logits: npt.ArrayLike, teacher_logits: npt.ArrayLike, temperature: float
) -> float:
    """Return the soft-target loss ``T**2 * KL(p_T(teacher) || p_T(student))``.

    Logits are ``[C]`` or ``[N, C]``; the KL divergence is summed over classes and averaged over
    the ``N`` rows (``reduction="batchmean"``). The ``T**2`` factor keeps the soft loss's gradient
    on the scale of the hard loss's as ``T`` changes (its gradient carries ``1 / T**2``).
    """
    s = _logits("student_logits", student_logits)
    t = _logits("teacher_logits", teacher_logits)
    if s.shape != t.shape:
        raise ValueError(f"student_logits must have the teacher's shape {t.shape}, got {s.shape}")
    temp = _temperature(temperature)
    p = losses.softmax(t / temp, axis=-1)
    log_q = losses.log_softmax(s / temp, axis=-1)
    log_p = losses.log_softmax(t / temp, axis=-1)
    kl = np.sum(p * (log_p - log_q), axis=-1)
    return float(temp**2 * np.mean(kl))


def _qrange(dtype: str) -> tuple[int, int]:
    if dtype not in QDTYPES:
        raise ValueError(f"dtype must be one of {sorted(QDTYPES)}, got {dtype!r}")
    return QDTYPES[dtype]


def minmax_qparams(
    x_min: float, x_max: float, dtype: QDType = "quint8", qscheme: QScheme = "affine"
) -> tuple[float, int]:
    """Return ``(scale, zero_point)`` as ``MinMaxObserver`` computes them from a min and a max.

    The range becomes ``[min(x_min, 0), max(x_max, 0)]``. Affine (asymmetric):
    ``scale = (hi - lo) / (qmax - qmin)``, ``zero_point = qmin - round(lo / scale)`` clamped to
    ``[qmin, qmax]``. Symmetric: ``scale = max(-lo, hi) / ((qmax - qmin) / 2)`` (that is, /127.5)
    and ``zero_point`` 0 for qint8, 128 for quint8. The scale is at least float32's eps.
    Raises ``ValueError`` if ``x_min > x_max`` or either is not finite.
    """
    lo_, hi_ = float(x_min), float(x_max)
    if not (math.isfinite(lo_) and math.isfinite(hi_)):
        raise ValueError("x_min and x_max must be finite")
    if lo_ > hi_:
        raise ValueError(f"x_min must be <= x_max, got {x_min!r} > {x_max!r}")
    qmin, qmax = _qrange(dtype)
    lo, hi = min(lo_, 0.0), max(hi_, 0.0)
    if qscheme == "symmetric":
        scale = max(max(-lo, hi) / ((qmax - qmin) / 2.0), _EPS)
        return scale, 128 if dtype == "quint8" else 0
    if qscheme != "affine":
        raise ValueError(f"qscheme must be 'affine' or 'symmetric', got {qscheme!r}")
    scale = max((hi - lo) / (qmax - qmin), _EPS)
    zero_point = qmin - round(lo / scale)
    return scale, int(min(max(zero_point, qmin), qmax))


def quantize(x: float, scale: float, zero_point: int, dtype: QDType = "quint8") -> int:
    """Return ``clamp(round(x / scale) + zero_point, qmin, qmax)`` (round half to even)."""
    qmin, qmax = _qrange(dtype)
    s = float(scale)
    if not (math.isfinite(s) and s > 0.0):
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    zp = check_int("zero_point", zero_point)
    if not qmin <= zp <= qmax:
        raise ValueError(f"zero_point must be in [{qmin}, {qmax}] for {dtype}, got {zero_point}")
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"x must be finite, got {x!r}")
    return int(min(max(round(v / s) + zp, qmin), qmax))


def dequantize(q: int, scale: float, zero_point: int) -> float:
    """Return ``(q - zero_point) * scale``."""
    return (int(q) - int(zero_point)) * float(scale)


def quantize_roundtrip(
    x: float, x_min: float, x_max: float, dtype: QDType = "quint8", qscheme: QScheme = "affine"
) -> float:
    """Return ``dequantize(quantize(x))`` under :func:`minmax_qparams` of ``[x_min, x_max]``.

    Inside the range the error ``|x - x_hat|`` is at most ``scale / 2``; outside it the value
    is clamped to the end of the range.
    """
    scale, zp = minmax_qparams(x_min, x_max, dtype, qscheme)
    return dequantize(quantize(x, scale, zp, dtype), scale, zp)


def prune_count(size: int, amount: float | int) -> int:
    """Return how many of ``size`` weights ``l1_unstructured(amount=...)`` prunes.

    A float ``amount`` in [0, 1] is a fraction: ``round(amount * size)`` (half to even); an int
    is an absolute count, at most ``size``.
    """
    n = check_positive_int("size", size)
    if isinstance(amount, bool):
        raise ValueError(f"amount must be a float fraction or an int count, got {amount!r}")
    if isinstance(amount, int | np.integer):
        k = check_non_negative_int("amount", amount)
        if k > n:
            raise ValueError(f"amount must be <= size ({n}), got {k}")
        return k
    a = float(amount)
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"amount must be in [0, 1] as a fraction, got {amount!r}")
    return round(a * n)


def magnitude_prune_mask(weights: npt.ArrayLike, amount: float | int) -> npt.NDArray[np.bool_]:
    """Return the keep-mask of magnitude pruning: ``False`` for the ``prune_count`` smallest ``|w|``.

    Ties in magnitude are broken by position (the earlier one pruned first); PyTorch's topk
    leaves that order unspecified.
    """
    w = np.asarray(weights, dtype=np.float64)
    check_finite("weights", w)
    k = prune_count(w.size, amount)
    mask = np.ones(w.size, dtype=bool)
    order = np.argsort(np.abs(w).ravel(), kind="stable")
    mask[order[:k]] = False
    return mask.reshape(w.shape)
