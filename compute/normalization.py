"""Batch normalization, inverted dropout and weight-initialization variances.

Batch norm follows ``torch.nn.functional.batch_norm`` (and ``nn.BatchNorm1d/2d/3d``): training
mode normalizes with the biased batch variance but feeds the unbiased one into the running
estimate, with ``momentum = 0.1`` meaning ``new = (1 - momentum) * old + momentum * batch``.
Dropout follows ``torch.nn.functional.dropout`` (inverted: survivors are scaled by
``1 / (1 - p)`` during training, evaluation is the identity). Initialization variances follow
``torch.nn.init`` (Glorot/Xavier, He/Kaiming with ReLU gain, LeCun).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "batch_norm_eval",
    "batch_norm_train",
    "dropout_scale",
    "fan_in_fan_out",
    "he_variance",
    "inverted_dropout",
    "lecun_variance",
    "xavier_uniform_bound",
    "xavier_variance",
]

FloatArray = npt.NDArray[np.float64]


def _as_float(x: npt.ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} must not contain NaN")
    return arr


def _channel_vector(v: npt.ArrayLike, name: str, channels: int) -> FloatArray:
    arr = _as_float(v, name)
    if arr.shape != (channels,):
        raise ValueError(
            f"{name} must have shape [{channels}] (one value per channel), got {arr.shape}"
        )
    return arr


def _check_eps(eps: float) -> float:
    value = float(eps)
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"eps must be a finite number > 0, got {eps}")
    return value


def _bn_input(x: npt.ArrayLike) -> tuple[FloatArray, tuple[int, ...], tuple[int, ...]]:
    """Return ``x``, the axes reduced over (all but channels) and the per-channel view shape."""
    arr = _as_float(x, "x")
    if arr.ndim < 2:
        raise ValueError(
            f"x must have shape [N, C, ...] with at least 2 dimensions, got {arr.shape}"
        )
    axes = (0, *range(2, arr.ndim))
    view = (1, arr.shape[1]) + (1,) * (arr.ndim - 2)  # broadcast a [C] vector against x
    return arr, axes, view


def batch_norm_train(
    x: npt.ArrayLike,
    gamma: npt.ArrayLike,
    beta: npt.ArrayLike,
    running_mean: npt.ArrayLike,
    running_var: npt.ArrayLike,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Normalize a batch with its own statistics and update the running statistics.

    ``x: ndarray[N, C, ...]`` (``[N, C]``, ``[N, C, L]``, ``[N, C, H, W]``, ...), ``gamma``,
    ``beta``, ``running_mean``, ``running_var``: ``ndarray[C]`` ->
    ``(y: ndarray[N, C, ...], new_running_mean: ndarray[C], new_running_var: ndarray[C])``.

    Per channel, over the ``m = N * prod(spatial)`` values: ``mu = mean(x)``,
    ``var = mean((x - mu)^2)`` (biased), ``y = gamma (x - mu) / sqrt(var + eps) + beta``;
    ``new_running_mean = (1 - momentum) running_mean + momentum mu`` and
    ``new_running_var = (1 - momentum) running_var + momentum var * m / (m - 1)`` (unbiased).
    This is PyTorch's training-mode batch norm; like PyTorch it needs ``m > 1``. The inputs are
    not modified. Stability: ``eps`` inside the square root keeps a constant channel finite.
    """
    arr, axes, view = _bn_input(x)
    channels = arr.shape[1]
    g = _channel_vector(gamma, "gamma", channels)
    b = _channel_vector(beta, "beta", channels)
    rm = _channel_vector(running_mean, "running_mean", channels)
    rv = _channel_vector(running_var, "running_var", channels)
    if np.any(rv < 0):
        raise ValueError("running_var must be >= 0")
    m = arr.size // channels if channels else 0
    if m <= 1:
        raise ValueError(f"x must hold more than 1 value per channel in training, got {m}")
    mom = float(momentum)
    if not 0.0 <= mom <= 1.0:
        raise ValueError(f"momentum must be in [0, 1], got {momentum}")
    e = _check_eps(eps)
    mean = arr.mean(axis=axes)  # [C]
    centered = arr - mean.reshape(view)  # [N, C, ...]
    var = (centered * centered).mean(axis=axes)  # [C], biased
    y = centered / np.sqrt(var + e).reshape(view) * g.reshape(view) + b.reshape(view)
    new_mean = (1.0 - mom) * rm + mom * mean
    new_var = (1.0 - mom) * rv + mom * var * (m / (m - 1))
    return np.asarray(y, dtype=np.float64), new_mean, new_var


def batch_norm_eval(
    x: npt.ArrayLike,
    gamma: npt.ArrayLike,
    beta: npt.ArrayLike,
    running_mean: npt.ArrayLike,
    running_var: npt.ArrayLike,
    eps: float = 1e-5,
) -> FloatArray:
    """Normalize with the stored running statistics (inference mode).

    ``x: ndarray[N, C, ...]``, the four per-channel vectors ``ndarray[C]`` -> ``ndarray[N, C, ...]``:
    ``y = gamma (x - running_mean) / sqrt(running_var + eps) + beta``. PyTorch's eval-mode batch
    norm; any batch size works, including 1 and 0.
    """
    arr, _axes, view = _bn_input(x)
    channels = arr.shape[1]
    g = _channel_vector(gamma, "gamma", channels)
    b = _channel_vector(beta, "beta", channels)
    rm = _channel_vector(running_mean, "running_mean", channels)
    rv = _channel_vector(running_var, "running_var", channels)
    if np.any(rv < 0):
        raise ValueError("running_var must be >= 0")
    e = _check_eps(eps)
    scale = g / np.sqrt(rv + e)  # [C]
    y = (arr - rm.reshape(view)) * scale.reshape(view) + b.reshape(view)  # [N, C, ...]
    return np.asarray(y, dtype=np.float64)


def _check_p(p: float) -> float:
    value = float(p)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"p must be in [0, 1), got {p}")
    return value


def dropout_scale(p: float) -> float:
    """Return ``1 / (1 - p)``, the factor inverted dropout applies to kept units (``p`` in [0, 1))."""
    return 1.0 / (1.0 - _check_p(p))


def inverted_dropout(x: npt.ArrayLike, p: float, rng: np.random.Generator) -> FloatArray:
    """Zero each element with probability ``p`` and scale the survivors by ``1 / (1 - p)``.

    ``x: ndarray[...]`` -> ``ndarray[...]``. Training-mode ``torch.nn.functional.dropout``: the
    expected value of every output equals its input, so evaluation needs no rescaling. Randomness
    comes only from ``rng`` (an element survives when ``rng.random() >= p``), so a seeded
    generator reproduces the mask; ``p = 0`` returns a copy of ``x``.
    """
    arr = _as_float(x, "x")
    prob = _check_p(p)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    keep = rng.random(arr.shape) >= prob  # [...]
    return np.asarray(np.where(keep, arr / (1.0 - prob), 0.0), dtype=np.float64)


def _check_fan(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def xavier_variance(fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    """Return the Glorot/Xavier weight variance ``gain^2 * 2 / (fan_in + fan_out)``.

    Keeps the activation variance in the forward pass and the gradient variance in the backward
    pass roughly constant for tanh-like layers (``torch.nn.init.xavier_normal_`` std squared).
    When ``fan_in == fan_out == n`` it is ``1 / n``, the "Xavier" variance of Andrew Ng's course.
    """
    fi = _check_fan(fan_in, "fan_in")
    fo = _check_fan(fan_out, "fan_out")
    return float(gain) ** 2 * 2.0 / (fi + fo)


def xavier_uniform_bound(fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    """Return ``a = gain * sqrt(6 / (fan_in + fan_out))``: U(-a, a) has the Xavier variance.

    (The variance of U(-a, a) is ``a^2 / 3``.) Semantics of ``torch.nn.init.xavier_uniform_``.
    """
    fi = _check_fan(fan_in, "fan_in")
    fo = _check_fan(fan_out, "fan_out")
    return float(gain) * math.sqrt(6.0 / (fi + fo))


def he_variance(fan_in: int) -> float:
    """Return the He/Kaiming weight variance ``2 / fan_in`` for ReLU layers.

    ReLU zeroes half its inputs, halving the second moment, and the factor 2 restores it.
    ``torch.nn.init.kaiming_normal_(nonlinearity="relu", mode="fan_in")`` std squared.
    """
    return 2.0 / _check_fan(fan_in, "fan_in")


def lecun_variance(fan_in: int) -> float:
    """Return the LeCun weight variance ``1 / fan_in`` (keeps ``Var(z) = Var(x)`` for linear units)."""
    return 1.0 / _check_fan(fan_in, "fan_in")


def fan_in_fan_out(shape: Sequence[int]) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` of a weight tensor shape, as ``torch.nn.init`` computes them.

    ``shape`` is ``[out_features, in_features]`` for a linear layer or
    ``[out_channels, in_channels / groups, k1, k2, ...]`` for a convolution:
    ``fan_in = shape[1] * prod(shape[2:])``, ``fan_out = shape[0] * prod(shape[2:])``.
    At least 2 dimensions are needed.
    """
    dims = tuple(shape)
    if len(dims) < 2:
        raise ValueError(f"shape must have at least 2 dimensions, got {dims}")
    for i, d in enumerate(dims):
        if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 0:
            raise ValueError(f"shape[{i}] must be an integer >= 0, got {d!r}")
    receptive = math.prod(int(d) for d in dims[2:])
    return int(dims[1]) * receptive, int(dims[0]) * receptive
