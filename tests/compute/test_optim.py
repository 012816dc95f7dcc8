"""compute.optim against scalar reference loops that restate torch.optim's update rules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compute.optim import adagrad_step, adam_step, rmsprop_step, sgd_step

STEPS = 4


def grads_for(seed: int, size: int) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    grads: list[list[float]] = rng.normal(size=(STEPS, size)).tolist()
    return grads


# --- scalar references: one parameter at a time, plain Python floats -----------------------


def ref_sgd(
    p: float, gs: list[float], lr: float, mom: float, damp: float, wd: float, nest: bool
) -> float:
    buf: float | None = None
    for g in gs:
        d = g + wd * p
        if mom:
            buf = d if buf is None else mom * buf + (1 - damp) * d
            d = d + mom * buf if nest else buf
        p -= lr * d
    return p


def ref_rmsprop(
    p: float,
    gs: list[float],
    lr: float,
    alpha: float,
    eps: float,
    wd: float,
    mom: float,
    centered: bool,
) -> float:
    v = a = b = 0.0
    for g in gs:
        g = g + wd * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            a = alpha * a + (1 - alpha) * g
            denom = math.sqrt(v - a * a) + eps
        else:
            denom = math.sqrt(v) + eps
        if mom > 0:
            b = mom * b + g / denom
            p -= lr * b
        else:
            p -= lr * g / denom
    return p


def ref_adagrad(
    p: float, gs: list[float], lr: float, decay: float, wd: float, init: float, eps: float
) -> float:
    s = init
    for t, g in enumerate(gs, start=1):
        g = g + wd * p
        s += g * g
        p -= lr / (1 + (t - 1) * decay) * g / (math.sqrt(s) + eps)
    return p


def ref_adam(
    p: float, gs: list[float], lr: float, b1: float, b2: float, eps: float, wd: float, ams: bool
) -> float:
    m = v = vmax = 0.0
    for t, g in enumerate(gs, start=1):
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = max(vmax, v)
        second = vmax if ams else v
        m_hat = m / (1 - b1**t)
        p -= lr * m_hat / (math.sqrt(second) / math.sqrt(1 - b2**t) + eps)
    return p


def run(step: Any, p0: np.ndarray, grads: list[list[float]], **kw: Any) -> np.ndarray:
    p, state = p0, None
    for g in grads:
        p, state = step(p, np.asarray(g), state, **kw)
    return np.asarray(p)


params0 = st.integers(0, 10_000)


@settings(max_examples=150, deadline=None)
@given(
    params0,
    st.sampled_from([0.0, 0.01, 0.5]),
    st.sampled_from([0.0, 0.9]),
    st.sampled_from([0.0, 0.3]),
    st.sampled_from([0.0, 1e-2]),
    st.booleans(),
)
def test_sgd_matches_scalar_reference(
    seed: int, lr: float, mom: float, damp: float, wd: float, nest: bool
) -> None:
    if nest and (mom == 0 or damp != 0):
        with pytest.raises(ValueError, match="nesterov"):
            sgd_step([1.0], [1.0], None, lr, mom, damp, wd, nest)
        return
    p0 = np.random.default_rng(seed + 1).normal(size=3)
    grads = grads_for(seed, 3)
    got = run(
        sgd_step, p0, grads, lr=lr, momentum=mom, dampening=damp, weight_decay=wd, nesterov=nest
    )
    expected = [ref_sgd(p0[i], [g[i] for g in grads], lr, mom, damp, wd, nest) for i in range(3)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=150, deadline=None)
@given(
    params0,
    st.sampled_from([0.01, 0.1]),
    st.sampled_from([0.9, 0.99]),
    st.sampled_from([1e-8, 1e-3]),
    st.sampled_from([0.0, 1e-2]),
    st.sampled_from([0.0, 0.9]),
    st.booleans(),
)
def test_rmsprop_matches_scalar_reference(
    seed: int, lr: float, alpha: float, eps: float, wd: float, mom: float, centered: bool
) -> None:
    p0 = np.random.default_rng(seed + 1).normal(size=3)
    grads = grads_for(seed, 3)
    got = run(
        rmsprop_step,
        p0,
        grads,
        lr=lr,
        alpha=alpha,
        eps=eps,
        weight_decay=wd,
        momentum=mom,
        centered=centered,
    )
    expected = [
        ref_rmsprop(p0[i], [g[i] for g in grads], lr, alpha, eps, wd, mom, centered)
        for i in range(3)
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@settings(max_examples=150, deadline=None)
@given(
    params0,
    st.sampled_from([0.01, 0.5]),
    st.sampled_from([0.0, 0.1]),
    st.sampled_from([0.0, 1e-2]),
    st.sampled_from([0.0, 0.1]),
    st.sampled_from([1e-10, 1e-3]),
)
def test_adagrad_matches_scalar_reference(
    seed: int, lr: float, decay: float, wd: float, init: float, eps: float
) -> None:
    p0 = np.random.default_rng(seed + 1).normal(size=3)
    grads = grads_for(seed, 3)
    got = run(
        adagrad_step,
        p0,
        grads,
        lr=lr,
        lr_decay=decay,
        weight_decay=wd,
        initial_accumulator_value=init,
        eps=eps,
    )
    expected = [
        ref_adagrad(p0[i], [g[i] for g in grads], lr, decay, wd, init, eps) for i in range(3)
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=150, deadline=None)
@given(
    params0,
    st.sampled_from([1e-3, 0.1]),
    st.sampled_from([(0.9, 0.999), (0.5, 0.9), (0.0, 0.99)]),
    st.sampled_from([1e-8, 1e-2]),
    st.sampled_from([0.0, 1e-2]),
    st.booleans(),
)
def test_adam_matches_scalar_reference(
    seed: int, lr: float, betas: tuple[float, float], eps: float, wd: float, ams: bool
) -> None:
    p0 = np.random.default_rng(seed + 1).normal(size=3)
    grads = grads_for(seed, 3)
    got = run(adam_step, p0, grads, lr=lr, betas=betas, eps=eps, weight_decay=wd, amsgrad=ams)
    expected = [ref_adam(p0[i], [g[i] for g in grads], lr, *betas, eps, wd, ams) for i in range(3)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_first_adam_step_moves_each_weight_by_about_lr() -> None:
    p, _ = adam_step([0.0, 0.0, 0.0], [1e-3, -5.0, 300.0], None, lr=0.01)
    np.testing.assert_allclose(p, [-0.01, 0.01, -0.01], rtol=1e-4)


def test_sgd_momentum_buffer_starts_at_the_first_gradient() -> None:
    p, state = sgd_step([1.0], [2.0], None, lr=0.1, momentum=0.9, dampening=0.5)
    assert state["momentum_buffer"].tolist() == [2.0]  # no dampening on the first step
    p, state = sgd_step(p, [2.0], state, lr=0.1, momentum=0.9, dampening=0.5)
    assert state["momentum_buffer"].tolist() == pytest.approx([0.9 * 2.0 + 0.5 * 2.0])
    assert p.tolist() == pytest.approx([1.0 - 0.2 - 0.1 * 2.8])


def test_steps_do_not_modify_inputs_or_the_given_state() -> None:
    p = np.array([1.0, -2.0])
    g = np.array([0.5, 0.25])
    for step in (sgd_step, rmsprop_step, adagrad_step, adam_step):
        kwargs: dict[str, Any] = {"lr": 0.1}
        if step is sgd_step:
            kwargs["momentum"] = 0.9
        if step is rmsprop_step:
            kwargs.update(momentum=0.9, centered=True)
        if step is adam_step:
            kwargs["amsgrad"] = True
        _, state = step(p, g, None, **kwargs)
        snapshot = {k: np.array(v, copy=True) for k, v in state.items()}
        new_p, new_state = step(p, g, state, **kwargs)
        assert p.tolist() == [1.0, -2.0] and g.tolist() == [0.5, 0.25]
        for k, v in snapshot.items():
            np.testing.assert_array_equal(state[k], v)
        assert new_state is not state
        assert new_state["step"] == 2
        assert not np.array_equal(new_p, p)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: sgd_step([1.0], [1.0], None, lr=-0.1), "lr"),
        (lambda: sgd_step([1.0], [1.0], None, lr=0.1, momentum=-0.5), "momentum"),
        (lambda: sgd_step([1.0], [1.0], None, lr=0.1, nesterov=True), "nesterov"),
        (lambda: sgd_step([1.0], [1.0, 2.0], None, lr=0.1), "grad"),
        (lambda: sgd_step([1.0], [np.nan], None, lr=0.1), "grad"),
        (lambda: rmsprop_step([1.0], [1.0], None, lr=-1.0), "lr"),
        (lambda: rmsprop_step([1.0], [1.0], None, alpha=-0.1), "alpha"),
        (lambda: adagrad_step([1.0], [1.0], None, lr_decay=-1.0), "lr_decay"),
        (
            lambda: adagrad_step([1.0], [1.0], None, initial_accumulator_value=-1.0),
            "initial_accumulator_value",
        ),
        (lambda: adam_step([1.0], [1.0], None, betas=(1.0, 0.999)), "betas"),
        (lambda: adam_step([1.0], [1.0], None, weight_decay=-1e-2), "weight_decay"),
        (lambda: adam_step([1.0], [1.0], {"step": 1}), "exp_avg"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_them(call: object, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        call()  # type: ignore[operator]
