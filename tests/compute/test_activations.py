"""compute.activations: values against Python math, derivatives against finite differences."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from compute.activations import (
    erf,
    gelu,
    gelu_grad,
    gradient_through_layers,
    leaky_relu,
    leaky_relu_grad,
    relu,
    relu6,
    relu6_grad,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    tanh,
    tanh_grad,
)

Fn = Callable[[np.ndarray], np.ndarray]

PAIRS: dict[str, tuple[Fn, Fn]] = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (lambda x: leaky_relu(x, 0.1), lambda x: leaky_relu_grad(x, 0.1)),
    "relu6": (relu6, relu6_grad),
    "gelu": (gelu, gelu_grad),
    "gelu_tanh": (lambda x: gelu(x, "tanh"), lambda x: gelu_grad(x, "tanh")),
}
KINKS = (0.0, 6.0)
H = 1e-5


@pytest.mark.parametrize("name", sorted(PAIRS))
@settings(max_examples=200, deadline=None)
@given(x=st.floats(-12, 12))
def test_grad_matches_central_finite_difference(name: str, x: float) -> None:
    assume(all(abs(x - k) > 10 * H for k in KINKS))  # one-sided slopes differ at a kink
    f, df = PAIRS[name]
    numeric = (float(f(np.array(x + H))) - float(f(np.array(x - H)))) / (2 * H)
    assert float(df(np.array(x))) == pytest.approx(numeric, abs=1e-8)


@settings(max_examples=300, deadline=None)
@given(st.floats(-40, 40))
def test_values_match_python_math(x: float) -> None:
    assert float(sigmoid(x)) == pytest.approx(1 / (1 + math.exp(-x)), rel=1e-14, abs=1e-300)
    assert float(tanh(x)) == pytest.approx(math.tanh(x), rel=1e-15)
    assert float(relu(x)) == max(x, 0.0)
    assert float(leaky_relu(x)) == (x if x > 0 else 0.01 * x)
    assert float(relu6(x)) == min(max(x, 0.0), 6.0)
    expected_gelu = 0.5 * x * (1 + math.erf(x / math.sqrt(2)))
    # 1 + erf(z) cancels for negative z (also in PyTorch), so the error is absolute, ~1e-15.
    assert float(gelu(x)) == pytest.approx(expected_gelu, rel=1e-13, abs=1e-14)


@settings(max_examples=500, deadline=None)
@given(st.floats(-10, 10) | st.floats(-1e-8, 1e-8))
def test_erf_matches_math_erf(x: float) -> None:
    assert float(erf(x)) == pytest.approx(math.erf(x), rel=5e-15, abs=1e-300)


def test_sigmoid_is_finite_and_warning_free_at_extreme_inputs() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = sigmoid([-1e4, -800.0, 0.0, 800.0, 1e4])
        grads = sigmoid_grad([-1e4, 1e4])
    np.testing.assert_array_equal(values, [0.0, 0.0, 0.5, 1.0, 1.0])
    np.testing.assert_array_equal(grads, [0.0, 0.0])


def test_sigmoid_derivative_peaks_at_a_quarter_at_zero() -> None:
    x = np.linspace(-20, 20, 40001)
    g = sigmoid_grad(x)
    assert g.max() == 0.25
    assert x[np.argmax(g)] == 0.0
    assert np.all(g <= 0.25)
    assert float(tanh_grad(0.0)) == 1.0


def test_kinks_take_pytorch_autograd_values() -> None:
    assert float(relu_grad(0.0)) == 0.0
    assert float(leaky_relu_grad(0.0, 0.2)) == 0.2
    np.testing.assert_array_equal(relu6_grad([0.0, 3.0, 6.0, 7.0]), [0.0, 1.0, 0.0, 0.0])


def test_gelu_known_values() -> None:
    assert float(gelu(0.0)) == 0.0
    assert float(gelu(1.0)) == pytest.approx(0.8413447460685429)  # Phi(1)
    assert float(gelu(1.0, "tanh")) == pytest.approx(0.8411919906082768)
    assert float(gelu_grad(0.0)) == 0.5
    # -30 * Phi(-30), about -1.5e-196: tiny but not 0 (PyTorch's 1 + erf form rounds it to 0).
    assert float(gelu(-30.0)) == pytest.approx(-30.0 * math.erfc(30.0 / math.sqrt(2.0)) / 2)
    assert float(gelu(-30.0)) < 0.0


def test_activations_keep_the_input_shape() -> None:
    x = np.zeros((2, 3, 4))
    for f, df in PAIRS.values():
        assert f(x).shape == x.shape
        assert df(x).shape == x.shape


@pytest.mark.parametrize(
    ("factor", "layers", "expected"), [(0.5, 10, 0.5**10), (1.5, 3, 3.375), (2.0, 0, 1.0)]
)
def test_gradient_through_layers_is_factor_to_the_depth(
    factor: float, layers: int, expected: float
) -> None:
    assert gradient_through_layers(factor, layers) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: gradient_through_layers(0.5, -1), "layers"),
        (lambda: gradient_through_layers(0.5, 2.5), "layers"),  # type: ignore[arg-type]
        (lambda: gradient_through_layers(math.inf, 2), "factor"),
        (lambda: gelu(1.0, "fast"), "approximate"),  # type: ignore[arg-type]
        (lambda: sigmoid([np.nan]), "x"),
        (lambda: leaky_relu(1.0, math.nan), "negative_slope"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_them(call: object, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        call()  # type: ignore[operator]


def _mp_gelu(x: float) -> tuple[float, float]:
    """Return GELU and its derivative at ``x`` from mpmath at 50 digits."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(50):
        v = mpmath.mpf(x)
        cdf = mpmath.erfc(-v / mpmath.sqrt(2)) / 2
        pdf = mpmath.exp(-v * v / 2) / mpmath.sqrt(2 * mpmath.pi)
        return float(v * cdf), float(cdf + v * pdf)


@pytest.mark.parametrize(
    ("low", "high"), [(-8.0, -6.0), (-30.0, -8.0), (-6.0, -1.0), (-1.0, 1.0), (1.0, 30.0)]
)
def test_gelu_relative_error_against_mpmath(low: float, high: float) -> None:
    # The tail [-8, -6] is where 1 + erf(x/sqrt 2) cancels (PyTorch's form is off by ~2% there).
    # The bound grows with x^2: rounding x/sqrt(2) by half an ulp moves erfc(z) by a relative
    # 2 z^2 ulp, whatever erf implementation is used.
    xs = np.linspace(low, high, 401)
    ours, grads = gelu(xs), gelu_grad(xs)
    for x, y, g in zip(xs.tolist(), ours.tolist(), grads.tolist(), strict=True):
        exact, exact_grad = _mp_gelu(x)
        assert y == pytest.approx(exact, rel=1e-15 * (1 + x * x), abs=1e-300), x
        # The derivative crosses 0 near x = -0.75, so its error is relative plus a little absolute.
        assert g == pytest.approx(exact_grad, rel=1e-15 * (1 + x * x), abs=1e-15), x


def test_erfc_keeps_the_tail_that_one_minus_erf_loses() -> None:
    from compute.activations import erfc

    assert float(erfc(6.0)) == pytest.approx(math.erfc(6.0), rel=1e-15)
    assert 0.0 < float(erfc(6.0)) < 1e-16
    np.testing.assert_array_equal(erf([-math.inf, 0.0, math.inf]), [-1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="NaN"):
        erfc([math.nan])
