"""The numeric worked examples of the seed notes (/work/shared/seeds) on the numerics side.

Each test names its source section. Where a note's figure or wording is wrong, the test asserts
the correct value and says what the note got wrong.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from compute.activations import gradient_through_layers, sigmoid_grad, tanh_grad
from compute.diagnostics import diagnose_fit
from compute.losses import (
    binary_cross_entropy_with_logits,
    focal_loss_from_probability,
    l1_norm,
    l2_norm,
    sigmoid_focal_loss,
)
from compute.normalization import he_variance, lecun_variance, xavier_variance
from compute.tensors import dot_shape, matmul_shape

# --- 000 §17: L1 norm -------------------------------------------------------------------------


def test_000_s17_l1_norm_of_1_minus1_3_is_5() -> None:
    # The note writes the sum |1| + |-1| + |3| without evaluating it.
    assert l1_norm([1, -1, 3]) == 5.0
    assert l2_norm([1, -1, 3]) == pytest.approx(math.sqrt(11))


# --- 000 §36: focal loss, gamma = 2, alpha = 0.25 ---------------------------------------------


def test_000_s36_focal_loss_down_weights_an_easy_positive_by_one_hundred() -> None:
    ce = -math.log(0.9)
    fl = focal_loss_from_probability(0.9, 1, alpha=0.25, gamma=2.0)
    # (1 - p_t)^gamma = 0.1^2 = 0.01, times alpha_t = 0.25 for a positive
    assert fl == pytest.approx(0.25 * 0.01 * ce)
    assert fl / ce == pytest.approx(0.0025)


@pytest.mark.parametrize(("p_t", "modulating"), [(0.9, 0.01), (0.5, 0.25), (0.1, 0.81)])
def test_000_s36_modulating_factor_shrinks_easy_examples_more_than_hard_ones(
    p_t: float, modulating: float
) -> None:
    # A negative with p_t = 1 - p: alpha_t = 1 - alpha = 0.75.
    fl = focal_loss_from_probability(1.0 - p_t, 0, alpha=0.25, gamma=2.0)
    assert fl == pytest.approx(0.75 * modulating * -math.log(p_t))


def test_000_s36_textbook_form_agrees_with_the_torchvision_form() -> None:
    for p, target in [(0.9, 1), (0.3, 1), (0.2, 0), (0.95, 0)]:
        logit = math.log(p / (1 - p))
        vectorized = float(sigmoid_focal_loss([logit], [float(target)], alpha=0.25, gamma=2.0)[0])
        assert vectorized == pytest.approx(focal_loss_from_probability(p, target, 0.25, 2.0))
    # gamma = 0 with alpha switched off is plain cross-entropy
    assert float(sigmoid_focal_loss([2.0], [1.0], alpha=-1, gamma=0.0)[0]) == pytest.approx(
        float(binary_cross_entropy_with_logits([2.0], [1.0]))
    )


# --- 002 vanishing/exploding gradients ---------------------------------------------------------


def test_002_sigmoid_derivative_never_exceeds_a_quarter() -> None:
    x = np.linspace(-50, 50, 100_001)
    grads = sigmoid_grad(x)
    assert grads.max() == 0.25
    assert float(sigmoid_grad(0.0)) == 0.25


@pytest.mark.parametrize(
    ("layers", "vanishing", "exploding"),
    [(10, 9.765625e-4, 57.6650390625), (50, 8.881784197001252e-16, 637621500.2140496)],
)
def test_002_half_and_one_and_a_half_through_n_layers(
    layers: int, vanishing: float, exploding: float
) -> None:
    assert gradient_through_layers(0.5, layers) == pytest.approx(vanishing)
    assert gradient_through_layers(1.5, layers) == pytest.approx(exploding)
    # with sigmoid's 0.25 ceiling the best case is already 0.25^n
    assert gradient_through_layers(0.25, layers) == pytest.approx(vanishing**2)


def test_000_tanh_derivative_peaks_at_one_and_is_near_zero_by_three() -> None:
    assert float(tanh_grad(0.0)) == 1.0
    assert float(tanh_grad(3.0)) == pytest.approx(0.009866037165440211)


# --- 002 over/underfitting table ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("train", "val", "label"),
    [
        (0.15, 0.16, "underfitting"),
        (0.005, 0.01, "good_fit"),
        (0.01, 0.11, "overfitting"),
        (0.15, 0.30, "underfitting_and_overfitting"),
    ],
)
def test_002_four_error_pairs_and_their_diagnoses(train: float, val: float, label: str) -> None:
    # The note's table (train/validation error 15/16, 0.5/1, 1/11, 15/30 percent) assumes a
    # human-level error near 0; its four verdicts are right.
    assert diagnose_fit(train, val, baseline_error=0.0).label == label


# --- 004 §1 vectorized shapes --------------------------------------------------------------------


@pytest.mark.parametrize("m", [1, 7, 1000])
def test_004_s1_weight_4x3_times_input_3xm_gives_4xm(m: int) -> None:
    assert matmul_shape((4, 3), (3, m)) == (4, m)
    assert (np.zeros((4, 3)) @ np.zeros((3, m))).shape == (4, m)
    assert matmul_shape((4, 3), (3, 1)) == (4, 1)


# --- 004 §8 rank-1 arrays --------------------------------------------------------------------------


def test_004_s8_dot_of_rank1_array_with_its_transpose_is_a_scalar() -> None:
    a = np.arange(5.0)
    assert a.T.shape == (5,)  # transposing a rank-1 array changes nothing
    assert np.dot(a, a.T).shape == ()
    assert dot_shape(a.shape, a.T.shape) == ()


def test_004_s8_dot_of_column_vector_with_its_transpose_is_5x5() -> None:
    a = np.arange(5.0).reshape(5, 1)
    assert np.dot(a, a.T).shape == (5, 5)
    assert dot_shape(a.shape, a.T.shape) == (5, 5)


# --- 004 §12 initialization variance ---------------------------------------------------------------


def test_004_s12_variance_one_over_n_and_two_over_n_for_relu() -> None:
    n = 400
    assert lecun_variance(n) == pytest.approx(1 / n)
    assert he_variance(n) == pytest.approx(2 / n)
    # The course calls Var(w) = 1/n "Xavier"; Glorot's 2 / (fan_in + fan_out) equals it when
    # fan_in == fan_out.
    assert xavier_variance(n, n) == pytest.approx(1 / n)


def test_004_s12_it_is_the_variance_not_the_weight_that_is_one_over_n() -> None:
    # The note says "set w to 1/n"; Ng's rule sets Var(w) = 1/n (w = randn * sqrt(1/n)),
    # which keeps Var(z) = Var(sum_i w_i x_i) near 1. A constant w = 1/n gives Var(z) = 1/n and
    # identical neurons.
    rng = np.random.default_rng(0)
    n, samples = 400, 20_000
    x = rng.normal(size=(samples, n))
    w = rng.normal(0.0, math.sqrt(lecun_variance(n)), size=n)
    assert np.var(x @ w) == pytest.approx(np.sum(w**2), rel=0.05)
    assert np.sum(w**2) == pytest.approx(1.0, rel=0.15)
    assert np.var(x @ np.full(n, 1 / n)) == pytest.approx(1 / n, rel=0.05)
