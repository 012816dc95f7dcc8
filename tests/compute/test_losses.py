"""compute.losses against naive references computed in high precision (decimal) or Python math."""

from __future__ import annotations

import math
from decimal import Decimal, getcontext, localcontext

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from compute.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    focal_loss_from_probability,
    l1_loss,
    l1_norm,
    l1_penalty,
    l2_norm,
    l2_penalty,
    log_softmax,
    mse_loss,
    sigmoid_focal_loss,
    smooth_l1_loss,
    softmax,
)

getcontext().prec = 50

moderate = st.floats(-50, 50, allow_nan=False)
logit_rows = hnp.arrays(
    np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6), elements=moderate
)


def decimal_log_softmax(row: list[float]) -> list[Decimal]:
    """log softmax of one row with 50-digit decimals and no max-subtraction trick."""
    exps = [Decimal(v).exp() for v in row]
    log_total = sum(exps, Decimal(0)).ln()
    return [Decimal(v) - log_total for v in row]


@settings(max_examples=200, deadline=None)
@given(logit_rows)
def test_softmax_and_log_softmax_match_fifty_digit_reference(x: np.ndarray) -> None:
    p = softmax(x)
    logp = log_softmax(x)
    for r, row in enumerate(x.tolist()):
        ref = decimal_log_softmax(row)
        np.testing.assert_allclose(logp[r], [float(v) for v in ref], rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(p[r], [float(v.exp()) for v in ref], rtol=1e-13, atol=1e-300)


@settings(max_examples=100, deadline=None)
@given(logit_rows, st.sampled_from([-1e4, -1e3, 1e3, 1e4]))
def test_softmax_is_shift_invariant_and_finite_at_huge_logits(x: np.ndarray, shift: float) -> None:
    shifted = softmax(x + shift)
    assert np.all(np.isfinite(shifted))
    np.testing.assert_allclose(shifted, softmax(x), rtol=1e-9, atol=1e-15)
    assert np.all(np.isfinite(log_softmax(x * 200 + shift)))


def test_log_softmax_at_plus_minus_ten_thousand_has_no_inf_or_nan() -> None:
    logp = log_softmax([1e4, -1e4, 0.0])
    np.testing.assert_allclose(logp, [0.0, -2e4, -1e4], rtol=1e-15)
    np.testing.assert_allclose(softmax([1e4, -1e4, 0.0]), [1.0, 0.0, 0.0])


def test_softmax_along_axis_zero_sums_columns_to_one() -> None:
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(softmax(x, axis=0).sum(axis=0), 1.0)
    with pytest.raises(ValueError, match="axis"):
        softmax(x, axis=2)


def naive_ce(row: list[float], target: int, smoothing: float) -> float:
    ref = [float(v) for v in decimal_log_softmax(row)]
    return -(1 - smoothing) * ref[target] - smoothing * sum(ref) / len(row)


@settings(max_examples=200, deadline=None)
@given(logit_rows, st.data(), st.sampled_from([0.0, 0.1, 0.3, 1.0]))
def test_cross_entropy_with_indices_matches_naive_formula(
    x: np.ndarray, data: st.DataObject, smoothing: float
) -> None:
    n, c = x.shape
    target = np.asarray(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    per_sample = cross_entropy(x, target, label_smoothing=smoothing, reduction="none")
    expected = [naive_ce(x[i].tolist(), int(target[i]), smoothing) for i in range(n)]
    np.testing.assert_allclose(per_sample, expected, rtol=1e-12, atol=1e-12)
    total = cross_entropy(x, target, label_smoothing=smoothing, reduction="sum")
    mean = cross_entropy(x, target, label_smoothing=smoothing)
    assert float(total) == pytest.approx(math.fsum(expected), rel=1e-12, abs=1e-12)
    assert float(mean) == pytest.approx(math.fsum(expected) / n, rel=1e-12, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(logit_rows, st.data(), st.sampled_from([0.0, 0.2]))
def test_cross_entropy_with_probabilities_matches_naive_formula(
    x: np.ndarray, data: st.DataObject, smoothing: float
) -> None:
    probs = data.draw(hnp.arrays(np.float64, x.shape, elements=st.floats(0, 1)))
    got = cross_entropy(x, probs, label_smoothing=smoothing, reduction="none")
    c = x.shape[1]
    for i, row in enumerate(x.tolist()):
        ref = [float(v) for v in decimal_log_softmax(row)]
        t = [(1 - smoothing) * probs[i, k] + smoothing / c for k in range(c)]
        assert got[i] == pytest.approx(
            -math.fsum(t[k] * ref[k] for k in range(c)), rel=1e-12, abs=1e-12
        )


def test_cross_entropy_one_hot_probabilities_equal_class_indices() -> None:
    x = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
    target = np.array([0, 1])
    one_hot = np.eye(3)[target]
    for eps in (0.0, 0.1):
        assert float(cross_entropy(x, one_hot, eps)) == pytest.approx(
            float(cross_entropy(x, target, eps))
        )


def test_cross_entropy_handles_unbatched_and_spatial_inputs() -> None:
    x = np.random.default_rng(0).normal(size=(2, 4, 3, 5))  # [N, C, H, W]
    t = np.random.default_rng(1).integers(0, 4, size=(2, 3, 5))
    per_pixel = cross_entropy(x, t, reduction="none")
    assert per_pixel.shape == (2, 3, 5)
    assert per_pixel[1, 2, 3] == pytest.approx(float(cross_entropy(x[1, :, 2, 3], t[1, 2, 3])))
    assert float(cross_entropy(x, t)) == pytest.approx(per_pixel.mean())


def test_cross_entropy_at_huge_logits_is_finite_and_exact() -> None:
    x = np.array([[1e4, -1e4, 0.0]])
    assert float(cross_entropy(x, np.array([0]))) == 0.0
    assert float(cross_entropy(x, np.array([1]))) == pytest.approx(2e4)


def test_uniform_logits_give_log_c() -> None:
    assert float(cross_entropy(np.zeros((3, 10)), np.array([1, 2, 3]))) == pytest.approx(
        math.log(10)
    )


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-30, 30),
    st.sampled_from([0.0, 1.0, 0.3]),
    st.sampled_from([0.25, 0.5, -1.0]),
    st.sampled_from([0.0, 1.0, 2.0, 2.5]),
)
def test_sigmoid_focal_loss_matches_scalar_formula(
    x: float, t: float, alpha: float, gamma: float
) -> None:
    # The reference runs in 50-digit decimals so that log(1 - p) near p = 1 is exact enough.
    p = 1 / (1 + Decimal(-x).exp())
    td = Decimal(t)
    ce = -(td * p.ln() + (1 - td) * (1 - p).ln())
    p_t = p * td + (1 - p) * (1 - td)
    expected = ce * (1 - p_t) ** Decimal(gamma) if gamma else ce
    if alpha >= 0:
        a = Decimal(alpha)
        expected *= a * td + (1 - a) * (1 - td)
    got = float(sigmoid_focal_loss([x], [t], alpha=alpha, gamma=gamma)[0])
    # torchvision's (1 - p_t) cancels when p_t is near 1; its absolute error stays ~1e-16 * ce.
    assert got == pytest.approx(float(expected), rel=1e-9, abs=1e-13)


def test_focal_loss_with_gamma_zero_and_no_alpha_is_binary_cross_entropy() -> None:
    x = np.linspace(-20, 20, 41)
    t = (np.arange(41) % 2).astype(np.float64)
    np.testing.assert_allclose(
        sigmoid_focal_loss(x, t, alpha=-1, gamma=0),
        binary_cross_entropy_with_logits(x, t, reduction="none"),
    )


def test_focal_loss_reductions_and_huge_logits() -> None:
    x = np.array([1e4, -1e4, 3.0])
    t = np.array([0.0, 1.0, 1.0])
    loss = sigmoid_focal_loss(x, t)
    assert np.all(np.isfinite(loss))
    assert loss[0] == pytest.approx(0.75 * 1e4)  # confidently wrong negative: (1-p_t)^2 = 1
    assert float(sigmoid_focal_loss(x, t, reduction="sum")) == pytest.approx(loss.sum())
    assert float(sigmoid_focal_loss(x, t, reduction="mean")) == pytest.approx(loss.mean())


def test_textbook_focal_loss_down_weights_easy_examples() -> None:
    ce = -math.log(0.9)
    assert focal_loss_from_probability(0.9, 1, alpha=1.0, gamma=2.0) == pytest.approx(0.01 * ce)
    assert focal_loss_from_probability(0.1, 0, alpha=0.25, gamma=2.0) == pytest.approx(
        0.75 * 0.01 * ce
    )
    assert focal_loss_from_probability(0.0, 1) == math.inf
    assert focal_loss_from_probability(1.0, 1) == 0.0


@settings(max_examples=200, deadline=None)
@given(st.floats(-700, 700), st.floats(0, 1))
@example(9.0, 0.99999)  # max(x, 0) - x t cancels here: 9 - 8.99991
@example(-9.0, 1e-5)
def test_bce_with_logits_matches_fifty_digit_reference_and_stays_finite(x: float, t: float) -> None:
    got = float(binary_cross_entropy_with_logits([x], [t]))
    assert math.isfinite(got)
    with localcontext() as ctx:
        ctx.prec = 400  # log(1 - p) for p = 1 - e^-700 needs ~320 digits
        p = 1 / (1 + Decimal(-x).exp())
        td = Decimal(t)
        expected = -(td * p.ln() + (1 - td) * (1 - p).ln())
    assert got == pytest.approx(float(expected), rel=1e-12, abs=1e-300)


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-30, 1 - 1e-16), st.floats(0, 1))
def test_bce_matches_fifty_digit_reference(p: float, t: float) -> None:
    pd, td = Decimal(p), Decimal(t)
    expected = -(td * pd.ln() + (1 - td) * (1 - pd).ln())
    assert float(binary_cross_entropy([p], [t])) == pytest.approx(float(expected), rel=1e-12)


def test_binary_cross_entropy_clamps_log_at_minus_one_hundred() -> None:
    assert float(binary_cross_entropy([0.0], [1.0])) == pytest.approx(100.0)
    assert float(binary_cross_entropy([1.0], [0.0])) == pytest.approx(100.0)
    assert float(binary_cross_entropy([1.0, 0.0], [1.0, 0.0], reduction="sum")) == 0.0


@settings(max_examples=200, deadline=None)
@given(st.floats(-10, 10), st.floats(-10, 10), st.sampled_from([0.0, 0.5, 1.0, 2.0]))
def test_smooth_l1_matches_piecewise_definition(a: float, b: float, beta: float) -> None:
    d = abs(a - b)
    expected = d if beta == 0 else (0.5 * d * d / beta if d < beta else d - 0.5 * beta)
    assert float(smooth_l1_loss([a], [b], beta=beta)) == pytest.approx(expected, abs=1e-12)


def test_smooth_l1_is_continuous_at_beta_and_zero_beta_is_l1() -> None:
    below = float(smooth_l1_loss([1.0 - 1e-9], [0.0]))
    above = float(smooth_l1_loss([1.0 + 1e-9], [0.0]))
    assert below == pytest.approx(above, abs=1e-8)
    x, y = np.array([0.2, -3.0, 5.0]), np.array([0.0, 1.0, 5.5])
    assert float(smooth_l1_loss(x, y, beta=0.0)) == pytest.approx(float(l1_loss(x, y)))


def test_l1_and_mse_reductions() -> None:
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 0.0])
    np.testing.assert_array_equal(l1_loss(x, y, reduction="none"), [1, 0, 3])
    assert float(l1_loss(x, y, reduction="sum")) == 4.0
    assert float(mse_loss(x, y)) == pytest.approx(10 / 3)


def test_norms_and_penalties() -> None:
    assert l1_norm([1, -1, 3]) == 5.0
    assert l2_norm([3, -4]) == 5.0
    assert l2_norm([1e200, 1e200]) == pytest.approx(math.sqrt(2) * 1e200)
    assert l2_norm([1e-200, 1e-200]) == pytest.approx(math.sqrt(2) * 1e-200)
    layers = [np.ones((2, 2)), np.array([-3.0])]
    assert l1_penalty(layers, 0.1) == pytest.approx(0.7)
    assert l2_penalty(layers, 0.1) == pytest.approx(1.3)
    assert l2_penalty(layers, 0.1, half=True) == pytest.approx(0.65)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: binary_cross_entropy([1.2], [1.0]), "probs"),
        (lambda: binary_cross_entropy([0.5], [-0.1]), "targets"),
        (lambda: binary_cross_entropy_with_logits([0.5], [2.0]), "targets"),
        (lambda: cross_entropy([[0.0, 1.0]], np.array([2])), "target"),
        (lambda: cross_entropy([[0.0, 1.0]], np.array([[0.5, 1.5]])), "target"),
        (
            lambda: cross_entropy([[0.0, 1.0]], np.array([0]), label_smoothing=1.5),
            "label_smoothing",
        ),
        (lambda: cross_entropy([[0.0, 1.0]], np.array([0]), reduction="avg"), "reduction"),  # type: ignore[arg-type]
        (lambda: cross_entropy([[np.nan, 1.0]], np.array([0])), "logits"),
        (lambda: sigmoid_focal_loss([0.0], [1.0], gamma=-1), "gamma"),
        (lambda: sigmoid_focal_loss([0.0], [1.0], alpha=1.5), "alpha"),
        (lambda: focal_loss_from_probability(1.5, 1), "p"),
        (lambda: focal_loss_from_probability(0.5, 2), "target"),
        (lambda: smooth_l1_loss([0.0], [1.0], beta=-1), "beta"),
        (lambda: mse_loss([0.0, 1.0], [1.0]), "target"),
        (lambda: l2_penalty([1.0], -0.1), "lam"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_them(call: object, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        call()  # type: ignore[operator]
