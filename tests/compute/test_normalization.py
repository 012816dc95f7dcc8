"""compute.normalization: batch norm against per-channel Python loops, dropout, init variances."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from compute.normalization import (
    batch_norm_eval,
    batch_norm_train,
    dropout_scale,
    fan_in_fan_out,
    he_variance,
    inverted_dropout,
    lecun_variance,
    xavier_uniform_bound,
    xavier_variance,
)

bn_inputs = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(2, 3)),
    elements=st.floats(-100, 100),
)


@settings(max_examples=150, deadline=None)
@given(bn_inputs, st.sampled_from([0.1, 0.5, 1.0]), st.sampled_from([1e-5, 1e-3]))
def test_batch_norm_train_matches_per_channel_loop(
    x: np.ndarray, momentum: float, eps: float
) -> None:
    c = x.shape[1]
    gamma = np.linspace(0.5, 2.0, c)
    beta = np.linspace(-1.0, 1.0, c)
    rm, rv = np.full(c, 0.3), np.full(c, 2.0)
    y, new_mean, new_var = batch_norm_train(x, gamma, beta, rm, rv, momentum, eps)
    for k in range(c):
        values = x[:, k].ravel().tolist()
        mu = statistics.fmean(values)
        biased = statistics.pvariance(values, mu)
        unbiased = statistics.variance(values, mu)
        expected = [(v - mu) / math.sqrt(biased + eps) * gamma[k] + beta[k] for v in values]
        np.testing.assert_allclose(y[:, k].ravel(), expected, rtol=1e-9, atol=1e-9)
        assert new_mean[k] == pytest.approx(
            (1 - momentum) * 0.3 + momentum * mu, rel=1e-12, abs=1e-12
        )
        assert new_var[k] == pytest.approx(
            (1 - momentum) * 2.0 + momentum * unbiased, rel=1e-9, abs=1e-9
        )


def test_batch_norm_train_output_has_zero_mean_unit_variance_per_channel() -> None:
    x = np.random.default_rng(3).normal(5.0, 3.0, size=(16, 4, 5, 5))
    y, _, _ = batch_norm_train(x, np.ones(4), np.zeros(4), np.zeros(4), np.ones(4))
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1.0, rtol=1e-5)


def test_batch_norm_running_var_uses_unbiased_variance() -> None:
    x = np.array([[0.0], [2.0]])  # one channel, m = 2: biased var 1, unbiased var 2
    _, mean, var = batch_norm_train(x, [1.0], [0.0], [0.0], [1.0], momentum=1.0)
    assert mean.tolist() == [1.0]
    assert var.tolist() == [2.0]


def test_batch_norm_does_not_modify_its_inputs() -> None:
    x = np.arange(8.0).reshape(4, 2)
    rm, rv = np.zeros(2), np.ones(2)
    batch_norm_train(x, np.ones(2), np.zeros(2), rm, rv)
    assert rm.tolist() == [0.0, 0.0] and rv.tolist() == [1.0, 1.0]
    assert x.tolist() == np.arange(8.0).reshape(4, 2).tolist()


def test_batch_norm_eval_uses_running_statistics() -> None:
    x = np.array([[1.0, 10.0], [3.0, 20.0]])
    y = batch_norm_eval(x, [2.0, 1.0], [0.5, 0.0], [1.0, 10.0], [4.0, 25.0], eps=1e-12)
    np.testing.assert_allclose(y, [[0.5, 0.0], [2.5, 2.0]], rtol=1e-9)


def test_batch_norm_eval_accepts_a_single_sample() -> None:
    y = batch_norm_eval([[2.0]], [1.0], [0.0], [0.0], [1.0], eps=1e-5)
    assert y.shape == (1, 1)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (
            lambda: batch_norm_train([[1.0, 2.0]], [1, 1], [0, 0], [0, 0], [1, 1]),
            "more than 1 value",
        ),
        (
            lambda: batch_norm_train(np.ones((2, 3)), [1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1]),
            "gamma",
        ),
        (lambda: batch_norm_train(np.ones((2, 1)), [1], [0], [0], [1], momentum=1.5), "momentum"),
        (lambda: batch_norm_train(np.ones((2, 1)), [1], [0], [0], [1], eps=0.0), "eps"),
        (lambda: batch_norm_eval(np.ones((2, 1)), [1], [0], [0], [-1]), "running_var"),
        (lambda: batch_norm_eval(np.ones(3), [1], [0], [0], [1]), "x"),
        (lambda: inverted_dropout(np.ones(3), 1.0, np.random.default_rng(0)), "p"),
        (lambda: inverted_dropout(np.ones(3), -0.1, np.random.default_rng(0)), "p"),
        (lambda: inverted_dropout(np.ones(3), 0.5, 0), "rng"),  # type: ignore[arg-type]
        (lambda: dropout_scale(1.0), "p"),
        (lambda: xavier_variance(0, 3), "fan_in"),
        (lambda: he_variance(-2), "fan_in"),
        (lambda: fan_in_fan_out([5]), "shape"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_them(call: object, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        call()  # type: ignore[operator]


@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9])
def test_inverted_dropout_keeps_expected_value(p: float) -> None:
    x = np.ones(200_000)
    y = inverted_dropout(x, p, np.random.default_rng(42))
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / (1 - p))
    # Binomial fraction kept: 6 standard deviations is a loose, essentially never-failing bound.
    sd = math.sqrt(p * (1 - p) / x.size)
    assert abs(kept.mean() - (1 - p)) <= 6 * sd + 1e-12
    assert abs(y.mean() - 1.0) <= 6 * sd / (1 - p) + 1e-12


def test_inverted_dropout_is_reproducible_from_the_generator() -> None:
    x = np.arange(1.0, 101.0)
    a = inverted_dropout(x, 0.3, np.random.default_rng(7))
    b = inverted_dropout(x, 0.3, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert dropout_scale(0.3) == pytest.approx(1 / 0.7)
    np.testing.assert_array_equal(inverted_dropout(x, 0.0, np.random.default_rng(1)), x)


def test_initialization_variances() -> None:
    assert xavier_variance(100, 100) == pytest.approx(1 / 100)
    assert xavier_variance(300, 100) == pytest.approx(2 / 400)
    assert he_variance(100) == pytest.approx(2 / 100)
    assert lecun_variance(100) == pytest.approx(1 / 100)
    bound = xavier_uniform_bound(300, 100)
    assert bound**2 / 3 == pytest.approx(xavier_variance(300, 100))  # Var U(-a, a) = a^2/3


def test_he_variance_keeps_relu_activation_scale_through_depth() -> None:
    rng = np.random.default_rng(0)
    n = 256
    x = rng.normal(size=(2000, n))
    first = np.mean(x**2)
    for _ in range(10):
        w = rng.normal(0.0, math.sqrt(he_variance(n)), size=(n, n))
        x = np.maximum(x @ w, 0.0)
    # second moment after 10 ReLU layers stays within a factor ~2 of E[x^2] of a ReLU'd input
    assert 0.25 < np.mean(x**2) / first < 2.0


@pytest.mark.parametrize(
    ("shape", "expected"),
    [((10, 20), (20, 10)), ((64, 3, 7, 7), (147, 3136)), ((8, 4, 3), (12, 24))],
)
def test_fan_in_fan_out_follows_torch_init(
    shape: tuple[int, ...], expected: tuple[int, int]
) -> None:
    assert fan_in_fan_out(shape) == expected
