"""Softmax, classification and regression losses, norms and weight penalties.

Semantics follow ``torch.nn.functional`` (``softmax``, ``log_softmax``, ``cross_entropy``,
``binary_cross_entropy``, ``binary_cross_entropy_with_logits``, ``smooth_l1_loss``, ``l1_loss``,
``mse_loss``) and ``torchvision.ops.sigmoid_focal_loss``; everything is computed in float64.

``reduction`` is ``"mean"`` (average over every loss element), ``"sum"`` or ``"none"`` (the
element-wise losses, unreduced), as in PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from compute.activations import sigmoid

__all__ = [
    "Reduction",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "focal_loss_from_probability",
    "l1_loss",
    "l1_norm",
    "l1_penalty",
    "l2_norm",
    "l2_penalty",
    "log_softmax",
    "mse_loss",
    "sigmoid_focal_loss",
    "smooth_l1_loss",
    "softmax",
]

FloatArray = npt.NDArray[np.float64]
Reduction = Literal["mean", "sum", "none"]

# PyTorch clamps each log in binary_cross_entropy at -100 so that p = 0 or 1 gives a finite loss.
_BCE_LOG_FLOOR = -100.0


def _as_float(x: npt.ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} must not contain NaN")
    return arr


def _check_probabilities(arr: FloatArray, name: str) -> None:
    if np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{name} must contain probabilities in [0, 1]")


def _check_same_shape(a: FloatArray, b: FloatArray, a_name: str, b_name: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{b_name} must have the shape of {a_name} {a.shape}, got {b.shape}")


def _reduce(loss: FloatArray, reduction: str) -> FloatArray:
    """Apply a PyTorch reduction: ``"none"`` keeps the shape, the others return a 0-d array."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=np.float64)
    if reduction == "mean":
        # The mean of an empty loss is NaN in PyTorch too (0 / 0); keep it without a warning.
        if loss.size == 0:
            return np.asarray(np.nan)
        return np.asarray(loss.mean(), dtype=np.float64)
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _check_reduction(reduction: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _shifted(x: FloatArray, axis: int) -> FloatArray:
    """Return a new array ``x - max(x, axis)``, as PyTorch computes it.

    ``np.max`` propagates NaN, so a NaN anywhere in ``x`` shows up in ``peak``: checking the
    maxima is the NaN check, without a separate pass over ``x``. A slice whose maximum is
    ``+inf`` (or that is all ``-inf``) gets ``inf - inf = NaN`` here, which then spreads over the
    whole slice, exactly as in ``torch.softmax``.
    """
    peak = np.max(x, axis=axis, keepdims=True)  # [..., 1, ...]: size 1 on `axis`
    if np.isfinite(peak).all():
        shifted: FloatArray = x - peak
        return shifted
    if np.isnan(peak).any():
        raise ValueError("x must not contain NaN")
    with np.errstate(invalid="ignore"):  # inf - inf: the NaN PyTorch gives too
        shifted = x - peak
    return shifted


def _check_axis(x: FloatArray, axis: int) -> int:
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis must be in [{-x.ndim}, {x.ndim - 1}] for x of shape {x.shape}")
    return axis


def softmax(x: npt.ArrayLike, axis: int = -1) -> FloatArray:
    """Return ``exp(x_i) / sum_j exp(x_j)`` along ``axis``; ``ndarray[...]`` -> same shape.

    Stability: the maximum along ``axis`` is subtracted first (softmax is unchanged by a shift),
    so the largest exponent is ``exp(0) = 1`` and logits of size 1e4 neither overflow nor give
    NaN. Semantics of ``torch.softmax(x, dim=axis)``, infinities included: a slice holding
    ``+inf`` (or only ``-inf``) comes out all NaN, as PyTorch returns it (``inf - inf`` in the
    shift); a ``-inf`` next to finite logits gets probability 0. A NaN input raises ValueError
    (PyTorch would return NaN).
    """
    arr = np.asarray(x, dtype=np.float64)  # NaN is rejected by _shifted
    ax = _check_axis(arr, axis)
    if arr.shape[ax] == 0:
        return arr.copy()
    e = _shifted(arr, ax)
    np.exp(e, out=e)
    with np.errstate(invalid="ignore"):  # a NaN slice (see _shifted) stays NaN, quietly
        e /= e.sum(axis=ax, keepdims=True)  # [..., C] / [..., 1]
    return e


def log_softmax(x: npt.ArrayLike, axis: int = -1) -> FloatArray:
    """Return ``x_i - log(sum_j exp(x_j))`` along ``axis``; ``ndarray[...]`` -> same shape.

    Stability: computed as ``(x - m) - log(sum exp(x - m))`` with ``m`` the maximum along
    ``axis`` (the log-sum-exp trick), never as ``log(softmax(x))``, so very negative
    log-probabilities stay finite instead of becoming ``log(0) = -inf``. Semantics of
    ``torch.log_softmax(x, dim=axis)``: as in :func:`softmax`, a slice holding ``+inf`` (or only
    ``-inf``) comes out all NaN, like PyTorch; a NaN input raises ValueError.
    """
    arr = _as_float(x, "x")
    ax = _check_axis(arr, axis)
    if arr.shape[ax] == 0:
        return arr.copy()
    z = _shifted(arr, ax)
    log_total = np.log(np.exp(z).sum(axis=ax, keepdims=True))  # [..., 1]
    return np.asarray(z - log_total, dtype=np.float64)  # [..., C] - [..., 1]


def cross_entropy(
    logits: npt.ArrayLike,
    target: npt.ArrayLike,
    label_smoothing: float = 0.0,
    reduction: Reduction = "mean",
) -> FloatArray:
    """Return the softmax cross-entropy between ``logits`` and ``target``.

    Shapes, as ``torch.nn.functional.cross_entropy``: ``logits: ndarray[N, C]`` (or ``[C]`` for
    one sample, or ``[N, C, d1, ...]`` with classes on axis 1); ``target`` is either integer class
    indices ``ndarray[N]`` (``[]``, ``[N, d1, ...]``) with values in ``[0, C)``, or float class
    probabilities of the same shape as ``logits`` with values in ``[0, 1]``. An integer dtype
    selects indices, a float dtype probabilities. Result: ``ndarray[N]`` (``[N, d1, ...]``) for
    ``reduction="none"``, else a 0-d array.

    Formula, with ``log p = log_softmax(logits)`` over the class axis and smoothing ``e``:
    indices: ``(1 - e) * (-log p[y]) + e * mean_c(-log p[c])``;
    probabilities: ``-sum_c t'_c log p_c`` with ``t' = (1 - e) t + e / C``.
    ``"mean"`` divides by the number of samples (times ``d1 * ...``). Stability comes from
    :func:`log_softmax`. A sample whose logits hold ``+inf`` (or are all ``-inf``) has a NaN
    loss, which propagates into ``"mean"`` and ``"sum"``, as in PyTorch; NaN logits raise
    ValueError.
    """
    x = _as_float(logits, "logits")
    if x.ndim == 0:
        raise ValueError("logits must have at least one dimension (the classes)")
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    _check_reduction(reduction)
    class_axis = 0 if x.ndim == 1 else 1
    n_classes = x.shape[class_axis]
    logp = log_softmax(x, axis=class_axis)
    t = np.asarray(target)
    if np.issubdtype(t.dtype, np.floating):
        t = _as_float(t, "target")
        _check_same_shape(x, t, "logits", "target")
        _check_probabilities(t, "target")
        smoothed = t * (1.0 - eps) + eps / n_classes  # [N, C, ...]
        loss = -(smoothed * logp).sum(axis=class_axis)  # [N, ...]
        return _reduce(np.asarray(loss, dtype=np.float64), reduction)
    if not np.issubdtype(t.dtype, np.integer):
        raise ValueError(
            f"target must hold integer class indices or float probabilities, got {t.dtype}"
        )
    expected = x.shape[:class_axis] + x.shape[class_axis + 1 :]
    if t.shape != expected:
        raise ValueError(f"target of class indices must have shape {expected}, got {t.shape}")
    if np.any((t < 0) | (t >= n_classes)):
        raise ValueError(f"target class indices must be in [0, {n_classes})")
    picked = np.take_along_axis(logp, np.expand_dims(t, class_axis), axis=class_axis)  # [N, 1, ...]
    nll = -np.squeeze(picked, axis=class_axis)
    if eps == 0.0:
        return _reduce(np.asarray(nll, dtype=np.float64), reduction)
    uniform = -logp.mean(axis=class_axis)  # [N, ...], the loss against a uniform target
    return _reduce(np.asarray((1.0 - eps) * nll + eps * uniform, dtype=np.float64), reduction)


def binary_cross_entropy(
    probs: npt.ArrayLike, targets: npt.ArrayLike, reduction: Reduction = "mean"
) -> FloatArray:
    """Return ``-(t log p + (1 - t) log(1 - p))`` for probabilities ``p`` and targets ``t``.

    ``probs``, ``targets``: ``ndarray[...]`` of one shape, values in ``[0, 1]`` -> the same shape
    for ``reduction="none"``, else 0-d. Like ``torch.nn.functional.binary_cross_entropy``, each
    log is clamped at -100, so ``p = 0`` or ``1`` gives a finite loss (at most 100).
    """
    p = _as_float(probs, "probs")
    t = _as_float(targets, "targets")
    _check_same_shape(p, t, "probs", "targets")
    _check_probabilities(p, "probs")
    _check_probabilities(t, "targets")
    _check_reduction(reduction)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), _BCE_LOG_FLOOR)
        log_q = np.maximum(np.log1p(-p), _BCE_LOG_FLOOR)
    return _reduce(np.asarray(-(t * log_p + (1.0 - t) * log_q), dtype=np.float64), reduction)


def _bce_logits(x: FloatArray, t: FloatArray) -> FloatArray:
    # log(1 + exp(-|x|)) never overflows; max(x, 0) - x t adds back the part removed by |x|.
    # That part is written (1 - t) x for x >= 0 and -t x for x < 0: the same number, but a
    # product of non-negative factors rather than a difference of two nearly equal terms
    # (x = 9, t = 0.99999 loses four digits as 9 - 8.99991).
    linear = np.where(x >= 0.0, (1.0 - t) * x, -t * x)
    return np.asarray(linear + np.log1p(np.exp(-np.abs(x))), dtype=np.float64)


def binary_cross_entropy_with_logits(
    logits: npt.ArrayLike, targets: npt.ArrayLike, reduction: Reduction = "mean"
) -> FloatArray:
    """Return the binary cross-entropy of ``sigmoid(logits)`` against ``targets``.

    ``logits``, ``targets``: ``ndarray[...]`` of one shape, targets in ``[0, 1]`` -> the same
    shape for ``reduction="none"``, else 0-d. Formula ``-(t log s(x) + (1 - t) log(1 - s(x)))``,
    computed stably as ``max(x, 0) - x t + log(1 + exp(-|x|))``, which never evaluates ``log(0)``
    or overflows ``exp`` (no -100 clamp needed). Semantics of
    ``torch.nn.functional.binary_cross_entropy_with_logits`` without ``weight``/``pos_weight``.
    """
    x = _as_float(logits, "logits")
    t = _as_float(targets, "targets")
    _check_same_shape(x, t, "logits", "targets")
    _check_probabilities(t, "targets")
    _check_reduction(reduction)
    return _reduce(_bce_logits(x, t), reduction)


def _check_alpha_gamma(alpha: float, gamma: float) -> tuple[float, float]:
    a = float(alpha)
    g = float(gamma)
    if math.isnan(a) or a > 1.0:
        raise ValueError(f"alpha must be in [0, 1] (or negative to disable it), got {alpha}")
    if not (math.isfinite(g) and g >= 0.0):
        raise ValueError(f"gamma must be a finite number >= 0, got {gamma}")
    return a, g


def sigmoid_focal_loss(
    logits: npt.ArrayLike,
    targets: npt.ArrayLike,
    alpha: float = 0.25,
    gamma: float = 2.0,
    reduction: Reduction = "none",
) -> FloatArray:
    """Return the focal loss of Lin et al. (RetinaNet) for binary targets, element-wise.

    ``logits``, ``targets``: ``ndarray[...]`` of one shape, targets in ``[0, 1]`` -> the same
    shape for ``reduction="none"`` (the default, as torchvision), else 0-d.

    Formula, exactly as ``torchvision.ops.sigmoid_focal_loss``: ``p = sigmoid(x)``,
    ``ce = bce_with_logits(x, t)``, ``p_t = p t + (1 - p)(1 - t)``,
    ``loss = alpha_t * (1 - p_t)^gamma * ce`` with ``alpha_t = alpha t + (1 - alpha)(1 - t)``;
    a negative ``alpha`` switches the ``alpha_t`` factor off. The cross-entropy term uses the
    stable logits form, so huge logits give finite losses.
    """
    x = _as_float(logits, "logits")
    t = _as_float(targets, "targets")
    _check_same_shape(x, t, "logits", "targets")
    _check_probabilities(t, "targets")
    a, g = _check_alpha_gamma(alpha, gamma)
    _check_reduction(reduction)
    p = sigmoid(x)
    p_t = p * t + (1.0 - p) * (1.0 - t)
    loss = _bce_logits(x, t) * (1.0 - p_t) ** g
    if a >= 0:
        loss = (a * t + (1.0 - a) * (1.0 - t)) * loss
    return _reduce(np.asarray(loss, dtype=np.float64), reduction)


def focal_loss_from_probability(
    p: float, target: int, alpha: float = 0.25, gamma: float = 2.0
) -> float:
    """Return the textbook focal loss ``FL(p_t) = -alpha_t (1 - p_t)^gamma log(p_t)`` of one sample.

    ``p`` is the predicted probability of the positive class, ``target`` is 0 or 1;
    ``p_t = p`` and ``alpha_t = alpha`` when ``target = 1``, else ``p_t = 1 - p`` and
    ``alpha_t = 1 - alpha``. With ``gamma = 2`` a well-classified example (``p_t = 0.9``) keeps
    ``(0.1)^2 = 1%`` of its cross-entropy. Returns ``inf`` when ``p_t = 0``.
    """
    prob = float(p)
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p}")
    if isinstance(target, bool) or target not in (0, 1):
        raise ValueError(f"target must be 0 or 1, got {target!r}")
    a, g = _check_alpha_gamma(alpha, gamma)
    if a < 0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    p_t = prob if target == 1 else 1.0 - prob
    alpha_t = a if target == 1 else 1.0 - a
    if p_t == 0.0:
        return math.inf
    return -alpha_t * math.pow(1.0 - p_t, g) * math.log(p_t)


def _regression_pair(
    input: npt.ArrayLike, target: npt.ArrayLike, reduction: str
) -> tuple[FloatArray, FloatArray]:
    x = _as_float(input, "input")
    y = _as_float(target, "target")
    _check_same_shape(x, y, "input", "target")
    _check_reduction(reduction)
    return x, y


def smooth_l1_loss(
    input: npt.ArrayLike, target: npt.ArrayLike, beta: float = 1.0, reduction: Reduction = "mean"
) -> FloatArray:
    """Return the smooth L1 (Huber-like) loss used for box regression in Fast R-CNN.

    ``input``, ``target``: ``ndarray[...]`` of one shape. With ``d = |input - target|``:
    ``0.5 d^2 / beta`` if ``d < beta`` else ``d - 0.5 beta``; ``beta = 0`` is plain L1.
    Semantics of ``torch.nn.functional.smooth_l1_loss``; ``beta`` must be >= 0.
    """
    x, y = _regression_pair(input, target, reduction)
    b = float(beta)
    if not (math.isfinite(b) and b >= 0.0):
        raise ValueError(f"beta must be a finite number >= 0, got {beta}")
    d = np.abs(x - y)
    if b == 0.0:
        return _reduce(d, reduction)
    loss = np.where(d < b, 0.5 * d * d / b, d - 0.5 * b)
    return _reduce(np.asarray(loss, dtype=np.float64), reduction)


def l1_loss(
    input: npt.ArrayLike, target: npt.ArrayLike, reduction: Reduction = "mean"
) -> FloatArray:
    """Return ``|input - target|`` reduced (``torch.nn.functional.l1_loss``); shapes must match."""
    x, y = _regression_pair(input, target, reduction)
    return _reduce(np.abs(x - y), reduction)


def mse_loss(
    input: npt.ArrayLike, target: npt.ArrayLike, reduction: Reduction = "mean"
) -> FloatArray:
    """Return ``(input - target)^2`` reduced (``torch.nn.functional.mse_loss``); shapes must match."""
    x, y = _regression_pair(input, target, reduction)
    return _reduce((x - y) ** 2, reduction)


def _flatten(weights: npt.ArrayLike | Sequence[npt.ArrayLike], name: str) -> FloatArray:
    """Flatten one array, or a list of arrays of different shapes (one per layer), to 1-D."""
    if isinstance(weights, list | tuple):
        parts = [np.ravel(np.asarray(w, dtype=np.float64)) for w in weights]
        flat = np.concatenate(parts) if parts else np.zeros(0)
    else:
        flat = np.ravel(np.asarray(weights, dtype=np.float64))
    if np.any(np.isnan(flat)):
        raise ValueError(f"{name} must not contain NaN")
    return flat


def l1_norm(x: npt.ArrayLike | Sequence[npt.ArrayLike]) -> float:
    """Return ``sum |x_i|`` over every element (e.g. ``[1, -1, 3]`` -> 5)."""
    return float(np.abs(_flatten(x, "x")).sum())


def l2_norm(x: npt.ArrayLike | Sequence[npt.ArrayLike]) -> float:
    """Return the Euclidean norm ``sqrt(sum x_i^2)`` over every element.

    ``numpy.hypot``-style scaling by the largest magnitude keeps huge or tiny entries from
    overflowing or underflowing the squares.
    """
    flat = _flatten(x, "x")
    scale = float(np.max(np.abs(flat))) if flat.size else 0.0
    if scale == 0.0 or not math.isfinite(scale):
        return scale
    return scale * float(np.sqrt(np.sum((flat / scale) ** 2)))


def _check_lam(lam: float) -> float:
    value = float(lam)
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"lam must be a finite number >= 0, got {lam}")
    return value


def l1_penalty(weights: npt.ArrayLike | Sequence[npt.ArrayLike], lam: float) -> float:
    """Return the L1 (lasso) penalty ``lam * sum |w|``; ``weights`` is an array or a list of them."""
    return _check_lam(lam) * l1_norm(weights)


def l2_penalty(
    weights: npt.ArrayLike | Sequence[npt.ArrayLike], lam: float, *, half: bool = False
) -> float:
    """Return the L2 (ridge, weight-decay) penalty ``lam * sum w^2``.

    ``weights`` is an array or a list of arrays (one per layer). With ``half=True`` it returns
    ``lam / 2 * sum w^2``, the convention whose gradient is exactly ``lam * w``: that is the
    penalty ``torch.optim``'s ``weight_decay=lam`` implements by adding ``lam * w`` to the
    gradient. Without the 1/2 the gradient is ``2 lam w``.
    """
    factor = _check_lam(lam) * (0.5 if half else 1.0)
    flat = _flatten(weights, "weights")
    return factor * float(np.sum(flat * flat))
