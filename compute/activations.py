"""Activation functions and their derivatives, element-wise on arrays of any shape.

Values follow ``torch.nn.functional`` (``sigmoid``, ``tanh``, ``relu``, ``leaky_relu``,
``relu6``, ``gelu``) in float64. Each ``*_grad(x)`` returns the derivative with respect to the
input, d f(x) / dx, evaluated at ``x`` (not at the output), and at a kink it takes the value
PyTorch autograd uses: ``relu_grad(0) = 0``, ``leaky_relu_grad(0) = negative_slope``,
``relu6_grad(0) = relu6_grad(6) = 0``.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "erf",
    "gelu",
    "gelu_grad",
    "gradient_through_layers",
    "leaky_relu",
    "leaky_relu_grad",
    "relu",
    "relu6",
    "relu6_grad",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "tanh",
    "tanh_grad",
]

FloatArray = npt.NDArray[np.float64]
GeluApproximation = Literal["none", "tanh"]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_TANH_CUBIC = 0.044715
# Beyond this |z|, erfc(z) < 2.2e-17, so erf(z) rounds to +-1 in float64.
_ERF_SATURATION = 6.0


def _as_float(x: npt.ArrayLike, name: str = "x") -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} must not contain NaN")
    return arr


def erf(x: npt.ArrayLike) -> FloatArray:
    """Return the error function ``erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt``.

    ``x: ndarray[...]`` -> ``ndarray[...]``. NumPy has no erf, so this sums the series
    ``erf(z) = 2/sqrt(pi) * exp(-z^2) * sum_n z (2 z^2)^n / (1*3*...*(2n+1))``, whose terms are all
    of one sign (no cancellation, unlike the Taylor series), until every term is below 1e-17 of the
    running sum; ``|z| >= 6`` returns ``sign(z)``, the float64 rounding of erf there. Agrees with
    ``math.erf`` to about 1e-15.
    """
    z = _as_float(x)
    a = np.minimum(np.abs(z), _ERF_SATURATION)  # [...]
    term = a.copy()
    total = a.copy()
    two_a2 = 2.0 * a * a
    n = 0
    while True:  # one pass per series term, at most a few hundred
        term = term * two_a2 / (2 * n + 3)
        total = total + term
        n += 1
        if not np.any(term > 1e-17 * total):
            break
    value = (2.0 / math.sqrt(math.pi)) * np.exp(-a * a) * total
    value = np.where(np.abs(z) >= _ERF_SATURATION, 1.0, np.minimum(value, 1.0))
    return np.asarray(np.sign(z) * value, dtype=np.float64)


def sigmoid(x: npt.ArrayLike) -> FloatArray:
    """Return the logistic sigmoid ``1 / (1 + exp(-x))``, element-wise.

    ``x: ndarray[...]`` -> ``ndarray[...]`` in ``[0, 1]``. Stability: with ``e = exp(-|x|)`` (never
    overflows) it returns ``1 / (1 + e)`` for ``x >= 0`` and ``e / (1 + e)`` for ``x < 0``.
    Semantics of ``torch.sigmoid``.
    """
    arr = _as_float(x)
    e = np.exp(-np.abs(arr))
    return np.asarray(np.where(arr >= 0, 1.0 / (1.0 + e), e / (1.0 + e)), dtype=np.float64)


def sigmoid_grad(x: npt.ArrayLike) -> FloatArray:
    """Return the sigmoid's derivative ``s(x) (1 - s(x))`` at ``x``, element-wise.

    ``x: ndarray[...]`` -> ``ndarray[...]`` in ``[0, 0.25]``; the maximum 0.25 is reached at 0.
    Computed as ``e / (1 + e)^2`` with ``e = exp(-|x|)``, which is the same value without the
    cancellation in ``1 - s`` for large ``x``. Matches torch autograd through ``torch.sigmoid``.
    """
    arr = _as_float(x)
    e = np.exp(-np.abs(arr))
    return np.asarray(e / (1.0 + e) ** 2, dtype=np.float64)


def tanh(x: npt.ArrayLike) -> FloatArray:
    """Return ``tanh(x)``, element-wise; ``ndarray[...]`` -> ``ndarray[...]`` (``torch.tanh``)."""
    return np.asarray(np.tanh(_as_float(x)), dtype=np.float64)


def tanh_grad(x: npt.ArrayLike) -> FloatArray:
    """Return the derivative ``1 - tanh(x)^2`` at ``x``; ``ndarray[...]`` -> ``ndarray[...]``.

    The maximum, 1, is at 0. Matches torch autograd through ``torch.tanh``.
    """
    t = np.tanh(_as_float(x))
    return np.asarray(1.0 - t * t, dtype=np.float64)


def relu(x: npt.ArrayLike) -> FloatArray:
    """Return ``max(x, 0)``, element-wise; ``ndarray[...]`` -> ``ndarray[...]`` (``F.relu``)."""
    return np.asarray(np.maximum(_as_float(x), 0.0), dtype=np.float64)


def relu_grad(x: npt.ArrayLike) -> FloatArray:
    """Return ReLU's derivative: 1 where ``x > 0``, else 0 (0 at ``x = 0``, as torch autograd)."""
    return (_as_float(x) > 0).astype(np.float64)


def _check_slope(negative_slope: float) -> float:
    slope = float(negative_slope)
    if not math.isfinite(slope):
        raise ValueError(f"negative_slope must be finite, got {negative_slope}")
    return slope


def leaky_relu(x: npt.ArrayLike, negative_slope: float = 0.01) -> FloatArray:
    """Return ``x`` where ``x > 0`` and ``negative_slope * x`` elsewhere (``F.leaky_relu``).

    ``x: ndarray[...]`` -> ``ndarray[...]``.
    """
    arr = _as_float(x)
    slope = _check_slope(negative_slope)
    return np.asarray(np.where(arr > 0, arr, slope * arr), dtype=np.float64)


def leaky_relu_grad(x: npt.ArrayLike, negative_slope: float = 0.01) -> FloatArray:
    """Return Leaky ReLU's derivative: 1 where ``x > 0``, else ``negative_slope`` (also at 0).

    ``x: ndarray[...]`` -> ``ndarray[...]``; matches torch autograd through ``F.leaky_relu``.
    """
    arr = _as_float(x)
    slope = _check_slope(negative_slope)
    return np.asarray(np.where(arr > 0, 1.0, slope), dtype=np.float64)


def relu6(x: npt.ArrayLike) -> FloatArray:
    """Return ``min(max(x, 0), 6)``, element-wise (``F.relu6``); ``ndarray[...]`` -> same shape."""
    return np.asarray(np.clip(_as_float(x), 0.0, 6.0), dtype=np.float64)


def relu6_grad(x: npt.ArrayLike) -> FloatArray:
    """Return ReLU6's derivative: 1 where ``0 < x < 6``, else 0 (0 at both kinks, as torch).

    ``x: ndarray[...]`` -> ``ndarray[...]``.
    """
    arr = _as_float(x)
    return ((arr > 0) & (arr < 6)).astype(np.float64)


def _check_approximate(approximate: str) -> None:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


def gelu(x: npt.ArrayLike, approximate: GeluApproximation = "none") -> FloatArray:
    """Return the Gaussian error linear unit ``x * Phi(x)``, element-wise (``F.gelu``).

    ``x: ndarray[...]`` -> ``ndarray[...]``. ``approximate="none"``:
    ``0.5 x (1 + erf(x / sqrt(2)))``; ``approximate="tanh"``:
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``, both as PyTorch defines them.
    """
    _check_approximate(approximate)
    arr = _as_float(x)
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (arr + _GELU_TANH_CUBIC * arr**3)
        return np.asarray(0.5 * arr * (1.0 + np.tanh(inner)), dtype=np.float64)
    return np.asarray(0.5 * arr * (1.0 + erf(arr / math.sqrt(2.0))), dtype=np.float64)


def gelu_grad(x: npt.ArrayLike, approximate: GeluApproximation = "none") -> FloatArray:
    """Return the derivative of :func:`gelu` at ``x``, element-wise.

    ``x: ndarray[...]`` -> ``ndarray[...]``. Exact form: ``Phi(x) + x * phi(x)`` with the standard
    normal density ``phi(x) = exp(-x^2/2) / sqrt(2 pi)``. Tanh form, with
    ``u = sqrt(2/pi) (x + 0.044715 x^3)`` and ``t = tanh(u)``:
    ``0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)``. Matches torch autograd
    through ``F.gelu`` with the same ``approximate``.
    """
    _check_approximate(approximate)
    arr = _as_float(x)
    if approximate == "tanh":
        t = np.tanh(_SQRT_2_OVER_PI * (arr + _GELU_TANH_CUBIC * arr**3))
        du = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_TANH_CUBIC * arr * arr)
        return np.asarray(0.5 * (1.0 + t) + 0.5 * arr * (1.0 - t * t) * du, dtype=np.float64)
    cdf = 0.5 * (1.0 + erf(arr / math.sqrt(2.0)))
    pdf = np.exp(-0.5 * arr * arr) / math.sqrt(2.0 * math.pi)
    return np.asarray(cdf + arr * pdf, dtype=np.float64)


def gradient_through_layers(factor: float, layers: int) -> float:
    """Return ``factor ** layers``: a gradient scaled by the same factor in each of ``layers`` layers.

    The chain rule multiplies one local derivative per layer, so a per-layer factor below 1
    vanishes geometrically (0.5^20 ~ 9.5e-7; sigmoid's derivative is at most 0.25) and a factor
    above 1 explodes (1.5^20 ~ 3325). ``layers`` must be an integer >= 0.
    """
    if isinstance(layers, bool) or not isinstance(layers, int | np.integer) or layers < 0:
        raise ValueError(f"layers must be an integer >= 0, got {layers!r}")
    f = float(factor)
    if not math.isfinite(f):
        raise ValueError(f"factor must be finite, got {factor}")
    return f ** int(layers)
