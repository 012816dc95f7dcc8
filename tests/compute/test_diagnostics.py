"""compute.diagnostics: the bias/variance rule of thumb."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compute.diagnostics import DEFAULT_TOLERANCE, diagnose_fit

rates = st.floats(0, 1)


@given(rates, rates, rates)
def test_flags_follow_the_two_gaps(train: float, val: float, base: float) -> None:
    d = diagnose_fit(train, val, base)
    assert d.avoidable_bias == pytest.approx(train - base)
    assert d.variance == pytest.approx(val - train)
    if train - base > DEFAULT_TOLERANCE + 1e-9:
        assert d.high_bias
    if train - base < DEFAULT_TOLERANCE - 1e-9:
        assert not d.high_bias
    if val - train > DEFAULT_TOLERANCE + 1e-9:
        assert d.high_variance
    if val - train < DEFAULT_TOLERANCE - 1e-9:
        assert not d.high_variance
    expected = {
        (True, True): "underfitting_and_overfitting",
        (True, False): "underfitting",
        (False, True): "overfitting",
        (False, False): "good_fit",
    }[(d.high_bias, d.high_variance)]
    assert d.label == expected


def test_a_high_baseline_turns_high_training_error_into_a_good_fit() -> None:
    assert diagnose_fit(0.15, 0.16).label == "underfitting"
    assert diagnose_fit(0.15, 0.16, baseline_error=0.15).label == "good_fit"


def test_gap_equal_to_the_tolerance_is_not_high() -> None:
    d = diagnose_fit(0.10, 0.12, baseline_error=0.08, tolerance=0.02)
    assert not d.high_bias and not d.high_variance


def test_custom_tolerance_changes_the_verdict() -> None:
    assert diagnose_fit(0.01, 0.04).label == "overfitting"
    assert diagnose_fit(0.01, 0.04, tolerance=0.05).label == "good_fit"


def test_validation_better_than_training_is_not_high_variance() -> None:
    assert diagnose_fit(0.05, 0.01).high_variance is False


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"train_error": 15, "val_error": 0.16}, "train_error"),
        ({"train_error": 0.1, "val_error": -0.1}, "val_error"),
        ({"train_error": 0.1, "val_error": 0.2, "baseline_error": float("nan")}, "baseline_error"),
        ({"train_error": 0.1, "val_error": 0.2, "tolerance": -0.01}, "tolerance"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_them(
    kwargs: dict[str, float], argument: str
) -> None:
    with pytest.raises(ValueError, match=argument):
        diagnose_fit(**kwargs)
