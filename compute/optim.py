"""Single optimizer steps with the update rules of ``torch.optim``.

Each function takes the parameter, its gradient and the optimizer state of that parameter
(``None`` before the first step), and returns ``(new_param, new_state)``. Neither the inputs nor
the given state are modified: the state returned is a new dict of new arrays. Running ``k``
steps of a function reproduces ``k`` calls of the matching ``torch.optim`` optimizer's
``step()`` on one tensor (``maximize=False``, ``foreach``/``fused`` paths aside, which compute the
same values).

Conventions shared with PyTorch: ``weight_decay`` is L2 style, ``grad <- grad + weight_decay *
param`` before anything else (not AdamW's decoupled decay); a momentum buffer starts at the first
gradient (SGD) or at zero (RMSprop); ``state["step"]`` counts the steps taken.

State keys: SGD ``step``, ``momentum_buffer`` (``None`` without momentum); RMSprop ``step``,
``square_avg``, ``momentum_buffer`` (with momentum), ``grad_avg`` (centered); Adagrad ``step``,
``sum``; Adam ``step``, ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq`` (amsgrad).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["OptimizerState", "adagrad_step", "adam_step", "rmsprop_step", "sgd_step"]

FloatArray = npt.NDArray[np.float64]
OptimizerState = dict[str, Any]


def _check_nonnegative(value: float, name: str) -> float:
    v = float(value)
    if not (math.isfinite(v) and v >= 0.0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return v


def _param_grad(param: npt.ArrayLike, grad: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    p = np.array(param, dtype=np.float64)  # a copy: the caller's array is never written
    g = np.array(grad, dtype=np.float64)
    if p.shape != g.shape:
        raise ValueError(f"grad must have the shape of param {p.shape}, got {g.shape}")
    if np.any(np.isnan(p)):
        raise ValueError("param must not contain NaN")
    if np.any(np.isnan(g)):
        raise ValueError("grad must not contain NaN")
    return p, g


def _state_array(state: OptimizerState, key: str, shape: tuple[int, ...]) -> FloatArray:
    if key not in state or state[key] is None:
        raise ValueError(f"state is missing {key!r}; pass state=None to start from scratch")
    arr = np.array(state[key], dtype=np.float64)
    if arr.shape != shape:
        raise ValueError(f"state[{key!r}] must have shape {shape}, got {arr.shape}")
    return arr


def _step_count(state: OptimizerState | None) -> int:
    if not state:
        return 0
    step = state.get("step", 0)
    if isinstance(step, bool) or not isinstance(step, int | np.integer) or step < 0:
        raise ValueError(f"state['step'] must be an integer >= 0, got {step!r}")
    return int(step)


def sgd_step(
    param: npt.ArrayLike,
    grad: npt.ArrayLike,
    state: OptimizerState | None,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> tuple[FloatArray, OptimizerState]:
    """Take one ``torch.optim.SGD`` step.

    ``param``, ``grad``: ``ndarray[...]`` of one shape -> ``(new_param, new_state)``.

    ``g = grad + weight_decay * param``; with momentum, ``b = g`` on the first step, afterwards
    ``b = momentum * b + (1 - dampening) * g``; the direction is ``g + momentum * b`` (Nesterov)
    or ``b``; ``param <- param - lr * direction``. Nesterov needs ``momentum > 0`` and
    ``dampening = 0`` (PyTorch raises the same error).
    """
    p, g = _param_grad(param, grad)
    lr_ = _check_nonnegative(lr, "lr")
    mom = _check_nonnegative(momentum, "momentum")
    damp = float(dampening)
    if not math.isfinite(damp):
        raise ValueError(f"dampening must be finite, got {dampening}")
    wd = _check_nonnegative(weight_decay, "weight_decay")
    if nesterov and (mom <= 0.0 or damp != 0.0):
        raise ValueError("nesterov requires momentum > 0 and dampening = 0")
    step = _step_count(state)
    if wd != 0.0:
        g = g + wd * p
    buf: FloatArray | None = None
    if mom != 0.0:
        previous = state.get("momentum_buffer") if state else None
        if previous is None:
            buf = g.copy()
        else:
            buf = mom * _state_array(state or {}, "momentum_buffer", p.shape) + (1.0 - damp) * g
        direction = g + mom * buf if nesterov else buf
    else:
        direction = g
    new_param = p - lr_ * direction
    return new_param, {"step": step + 1, "momentum_buffer": buf}


def rmsprop_step(
    param: npt.ArrayLike,
    grad: npt.ArrayLike,
    state: OptimizerState | None,
    lr: float = 0.01,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
) -> tuple[FloatArray, OptimizerState]:
    """Take one ``torch.optim.RMSprop`` step.

    ``param``, ``grad``: ``ndarray[...]`` of one shape -> ``(new_param, new_state)``.

    ``g = grad + weight_decay * param``; ``v = alpha v + (1 - alpha) g^2`` (``v`` starts at 0);
    centered: ``a = alpha a + (1 - alpha) g`` and the denominator is ``sqrt(v - a^2) + eps``,
    otherwise ``sqrt(v) + eps``; with momentum ``b = momentum b + g / denom`` and
    ``param <- param - lr b``, otherwise ``param <- param - lr g / denom``. ``eps`` is added
    outside the square root, as PyTorch (Keras adds it differently).
    """
    p, g = _param_grad(param, grad)
    lr_ = _check_nonnegative(lr, "lr")
    a = _check_nonnegative(alpha, "alpha")
    eps_ = _check_nonnegative(eps, "eps")
    wd = _check_nonnegative(weight_decay, "weight_decay")
    mom = _check_nonnegative(momentum, "momentum")
    step = _step_count(state)
    fresh = not state
    zeros = np.zeros_like(p)
    square_avg = zeros if fresh else _state_array(state or {}, "square_avg", p.shape)
    if wd != 0.0:
        g = g + wd * p
    square_avg = a * square_avg + (1.0 - a) * g * g
    new_state: OptimizerState = {"step": step + 1, "square_avg": square_avg}
    if centered:
        grad_avg = zeros if fresh else _state_array(state or {}, "grad_avg", p.shape)
        grad_avg = a * grad_avg + (1.0 - a) * g
        new_state["grad_avg"] = grad_avg
        denom = np.sqrt(square_avg - grad_avg * grad_avg) + eps_
    else:
        denom = np.sqrt(square_avg) + eps_
    if mom > 0.0:
        buf = zeros if fresh else _state_array(state or {}, "momentum_buffer", p.shape)
        buf = mom * buf + g / denom
        new_state["momentum_buffer"] = buf
        return p - lr_ * buf, new_state
    return p - lr_ * g / denom, new_state


def adagrad_step(
    param: npt.ArrayLike,
    grad: npt.ArrayLike,
    state: OptimizerState | None,
    lr: float = 0.01,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
) -> tuple[FloatArray, OptimizerState]:
    """Take one ``torch.optim.Adagrad`` step.

    ``param``, ``grad``: ``ndarray[...]`` of one shape -> ``(new_param, new_state)``.

    At step ``t`` (1-based): ``g = grad + weight_decay * param``;
    ``clr = lr / (1 + (t - 1) lr_decay)``; ``s = s + g^2`` (``s`` starts at
    ``initial_accumulator_value``); ``param <- param - clr g / (sqrt(s) + eps)``.
    """
    p, g = _param_grad(param, grad)
    lr_ = _check_nonnegative(lr, "lr")
    decay = _check_nonnegative(lr_decay, "lr_decay")
    wd = _check_nonnegative(weight_decay, "weight_decay")
    init = _check_nonnegative(initial_accumulator_value, "initial_accumulator_value")
    eps_ = _check_nonnegative(eps, "eps")
    step = _step_count(state) + 1
    total = np.full_like(p, init) if not state else _state_array(state, "sum", p.shape)
    if wd != 0.0:
        g = g + wd * p
    clr = lr_ / (1.0 + (step - 1) * decay)
    total = total + g * g
    return p - clr * g / (np.sqrt(total) + eps_), {"step": step, "sum": total}


def adam_step(
    param: npt.ArrayLike,
    grad: npt.ArrayLike,
    state: OptimizerState | None,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
) -> tuple[FloatArray, OptimizerState]:
    """Take one ``torch.optim.Adam`` step.

    ``param``, ``grad``: ``ndarray[...]`` of one shape -> ``(new_param, new_state)``.

    At step ``t`` (1-based): ``g = grad + weight_decay * param`` (L2 style, not AdamW);
    ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g^2`` (both start at 0); amsgrad keeps
    ``v_max = max(v_max, v)`` and uses it in place of ``v``; then
    ``param <- param - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``.
    The bias corrections undo the zero start of ``m`` and ``v``; note ``eps`` is added after the
    ``v`` correction, exactly as PyTorch orders it.
    """
    p, g = _param_grad(param, grad)
    lr_ = _check_nonnegative(lr, "lr")
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair, got {betas!r}")
    b1, b2 = float(betas[0]), float(betas[1])
    if not 0.0 <= b1 < 1.0:
        raise ValueError(f"betas[0] must be in [0, 1), got {betas[0]}")
    if not 0.0 <= b2 < 1.0:
        raise ValueError(f"betas[1] must be in [0, 1), got {betas[1]}")
    eps_ = _check_nonnegative(eps, "eps")
    wd = _check_nonnegative(weight_decay, "weight_decay")
    step = _step_count(state) + 1
    fresh = not state
    exp_avg = np.zeros_like(p) if fresh else _state_array(state or {}, "exp_avg", p.shape)
    exp_avg_sq = np.zeros_like(p) if fresh else _state_array(state or {}, "exp_avg_sq", p.shape)
    if wd != 0.0:
        g = g + wd * p
    exp_avg = b1 * exp_avg + (1.0 - b1) * g
    exp_avg_sq = b2 * exp_avg_sq + (1.0 - b2) * g * g
    new_state: OptimizerState = {"step": step, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
    second = exp_avg_sq
    if amsgrad:
        previous = (
            np.zeros_like(p) if fresh else _state_array(state or {}, "max_exp_avg_sq", p.shape)
        )
        second = np.maximum(previous, exp_avg_sq)
        new_state["max_exp_avg_sq"] = second
    step_size = lr_ / (1.0 - b1**step)
    denom = np.sqrt(second) / math.sqrt(1.0 - b2**step) + eps_
    return p - step_size * exp_avg / denom, new_state
