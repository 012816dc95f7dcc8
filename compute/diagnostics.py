"""Bias/variance diagnosis from training and validation error (Andrew Ng's rule of thumb).

With error rates as fractions (0.15 means 15%):

- avoidable bias = ``train_error - baseline_error``, where the baseline is the best error one
  can hope for (human-level or Bayes error; 0 when humans make essentially no mistakes);
- variance = ``val_error - train_error``, the generalization gap.

A quantity strictly greater than ``tolerance`` (default 0.02, two percentage points) counts as
high. High bias means underfitting (try a bigger network, longer training, another optimizer or
architecture); high variance means overfitting (more data, regularization, a smaller model).
Ng's four examples with a baseline near 0: 15%/16% high bias; 0.5%/1% neither;
1%/11% high variance; 15%/30% both. A tolerance is a judgement call, not a law: what matters is
which gap dominates, so callers may pass their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = ["DEFAULT_TOLERANCE", "FitDiagnosis", "FitLabel", "diagnose_fit"]

FitLabel = Literal["good_fit", "underfitting", "overfitting", "underfitting_and_overfitting"]

DEFAULT_TOLERANCE = 0.02


@dataclass(frozen=True)
class FitDiagnosis:
    """Outcome of :func:`diagnose_fit`; the gaps are in the same units as the errors."""

    avoidable_bias: float
    variance: float
    high_bias: bool
    high_variance: bool
    label: FitLabel


def _check_error(value: float, name: str) -> float:
    v = float(value)
    if not (math.isfinite(v) and 0.0 <= v <= 1.0):
        raise ValueError(f"{name} must be an error rate in [0, 1] (15% is 0.15), got {value}")
    return v


def diagnose_fit(
    train_error: float,
    val_error: float,
    baseline_error: float = 0.0,
    tolerance: float = DEFAULT_TOLERANCE,
) -> FitDiagnosis:
    """Diagnose underfitting and overfitting from error rates in ``[0, 1]``.

    ``avoidable_bias = train_error - baseline_error``; ``variance = val_error - train_error``;
    ``high_bias = avoidable_bias > tolerance``; ``high_variance = variance > tolerance``. The
    label is ``"underfitting"`` (high bias only), ``"overfitting"`` (high variance only),
    ``"underfitting_and_overfitting"`` (both) or ``"good_fit"`` (neither). Example:
    ``diagnose_fit(0.15, 0.30)`` -> both high; with ``baseline_error=0.15`` the pair 15%/16% is a
    good fit, because 15% is then the best achievable.
    """
    train = _check_error(train_error, "train_error")
    val = _check_error(val_error, "val_error")
    base = _check_error(baseline_error, "baseline_error")
    tol = float(tolerance)
    if not (math.isfinite(tol) and tol >= 0.0):
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance}")
    avoidable_bias = train - base
    variance = val - train
    # Error rates carry float noise (0.16 - 0.15 is not exactly 0.01), so compare with a few ulps
    # of slack: a gap equal to the tolerance is not "high".
    slack = 1e-12
    high_bias = avoidable_bias > tol + slack
    high_variance = variance > tol + slack
    label: FitLabel
    if high_bias and high_variance:
        label = "underfitting_and_overfitting"
    elif high_bias:
        label = "underfitting"
    elif high_variance:
        label = "overfitting"
    else:
        label = "good_fit"
    return FitDiagnosis(avoidable_bias, variance, high_bias, high_variance, label)
