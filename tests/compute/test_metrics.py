"""compute.metrics against scikit-learn on thousands of random cases, ties and one-class data.

scikit-learn is a dev (test-only) dependency. Each random case draws a small label set, often
leaving a class out or using a single class, and scores rounded to one or two decimals so that
ties are common. scikit-learn's UndefinedMetricWarning is silenced: where it warns, compute
returns the documented value, and the comparison checks that value.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from compute import metrics

CASES = 1000
AVERAGES: tuple[Any, ...] = (None, "macro", "micro", "weighted")


@pytest.fixture(autouse=True)
def _quiet_sklearn() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _labels(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return (y_true, y_pred) over a random subset of up to 5 classes, sometimes one class."""
    n = int(rng.integers(1, 40))
    k = int(rng.integers(1, 6))
    classes = rng.choice(np.arange(-2, 8), size=k, replace=False)
    y_true = rng.choice(classes, size=n)
    if rng.random() < 0.3:
        y_pred = y_true.copy()
        flip = rng.random(n) < 0.3
        y_pred[flip] = rng.choice(classes, size=int(flip.sum()))
    else:
        y_pred = rng.choice(classes, size=n)
    return y_true, y_pred


def _binary(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return (y_true in {0, 1}, tied scores); one class only in about 1 case in 12."""
    n = int(rng.integers(1, 50))
    p = rng.choice([0.0, 0.05, 0.3, 0.5, 0.8, 1.0])
    y = (rng.random(n) < p).astype(np.int64)
    decimals = int(rng.integers(0, 3))
    score = np.round(rng.random(n) + 0.6 * y * rng.random(), decimals)
    return y, score


def test_confusion_matrix_matches_sklearn() -> None:
    rng = np.random.default_rng(1)
    for case in range(CASES):
        t, p = _labels(rng)
        np.testing.assert_array_equal(
            metrics.confusion_matrix(t, p), skm.confusion_matrix(t, p), err_msg=str(case)
        )
        # An explicit label order, with a class missing from the data and one data class left out.
        # (scikit-learn insists that at least one listed label occurs in y_true.)
        present = np.union1d(t, p)
        subset = np.union1d(t[:1], rng.permutation(present)[: max(1, present.size - 1)])
        labels = np.r_[rng.permutation(subset), 99]
        np.testing.assert_array_equal(
            metrics.confusion_matrix(t, p, labels=labels),
            skm.confusion_matrix(t, p, labels=labels),
            err_msg=str(case),
        )


def test_binary_confusion_matrix_reads_tn_fp_fn_tp() -> None:
    t = [1, 1, 1, 0, 0, 0, 0, 1]
    p = [1, 0, 1, 0, 1, 0, 0, 1]
    assert metrics.binary_counts(t, p) == (3, 1, 1, 3)
    np.testing.assert_array_equal(metrics.confusion_matrix(t, p), [[3, 1], [1, 3]])


def test_precision_recall_fbeta_match_sklearn_for_every_average() -> None:
    rng = np.random.default_rng(2)
    checked = 0
    for case in range(CASES):
        t, p = _labels(rng)
        beta = float(rng.choice([0.5, 1.0, 2.0, round(float(rng.uniform(0.1, 4)), 3)]))
        zero = float(rng.choice([0.0, 1.0]))
        for average in (AVERAGES[case % 4], AVERAGES[(case + 1) % 4]):
            got = metrics.precision_recall_fscore(
                t, p, beta=beta, average=average, zero_division=zero
            )
            want = skm.precision_recall_fscore_support(
                t, p, beta=beta, average=average, zero_division=zero
            )[:3]
            for g, w in zip(got, want, strict=True):
                np.testing.assert_allclose(
                    g, w, rtol=1e-12, atol=1e-15, err_msg=f"{case} {average}"
                )
            checked += 1
        if np.union1d(t, p).size <= 2:
            pos = int(rng.choice(np.union1d(t, p)))
            kw: dict[str, Any] = {"pos_label": pos, "zero_division": zero}
            for ours, theirs in (
                (metrics.precision_score, skm.precision_score),
                (metrics.recall_score, skm.recall_score),
                (metrics.f1_score, skm.f1_score),
            ):
                assert float(ours(t, p, **kw)) == pytest.approx(
                    float(theirs(t, p, **kw)), abs=1e-15
                )
            assert float(metrics.fbeta_score(t, p, beta=beta, **kw)) == pytest.approx(
                float(skm.fbeta_score(t, p, beta=beta, **kw)), rel=1e-12, abs=1e-15
            )
            checked += 1
    assert checked > 2 * CASES


def test_explicit_labels_match_sklearn() -> None:
    rng = np.random.default_rng(3)
    for case in range(400):
        t, p = _labels(rng)
        labels = np.r_[
            rng.permutation(np.union1d(t[:1], rng.permutation(np.union1d(t, p))[:2])), 42
        ]
        for average in (AVERAGES[case % 4],):
            got = metrics.precision_recall_fscore(t, p, labels=labels, average=average)
            want = skm.precision_recall_fscore_support(t, p, labels=labels, average=average)[:3]
            for g, w in zip(got, want, strict=True):
                np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15, err_msg=str(case))


def test_accuracy_and_balanced_accuracy_match_sklearn() -> None:
    rng = np.random.default_rng(4)
    for case in range(CASES):
        t, p = _labels(rng)
        assert metrics.accuracy_score(t, p) == pytest.approx(skm.accuracy_score(t, p), abs=1e-15)
        assert metrics.balanced_accuracy_score(t, p) == pytest.approx(
            skm.balanced_accuracy_score(t, p), rel=1e-12
        ), case
        if np.unique(t).size > 1:
            assert metrics.balanced_accuracy_score(t, p, adjusted=True) == pytest.approx(
                skm.balanced_accuracy_score(t, p, adjusted=True), rel=1e-12, abs=1e-15
            ), case


def test_specificity_is_recall_of_the_negative_class_and_matches_multilabel_counts() -> None:
    rng = np.random.default_rng(5)
    for case in range(CASES):
        t, p = _labels(rng)
        labels = np.union1d(t, p)
        mcm = skm.multilabel_confusion_matrix(t, p, labels=labels)  # [K, 2, 2]: tn fp / fn tp
        tn, fp = mcm[:, 0, 0], mcm[:, 0, 1]
        want = np.divide(tn, tn + fp, out=np.zeros(len(labels)), where=(tn + fp) > 0)
        np.testing.assert_allclose(metrics.specificity_score(t, p, average=None), want, rtol=1e-12)
        assert float(metrics.specificity_score(t, p, average="macro")) == pytest.approx(
            want.mean(), rel=1e-12
        )
        if labels.size == 2:
            neg, pos = labels
            assert float(metrics.specificity_score(t, p, pos_label=pos)) == pytest.approx(
                skm.recall_score(t, p, pos_label=neg), abs=1e-15
            ), case


def test_accuracy_paradox_majority_classifier() -> None:
    t = np.r_[np.zeros(95, dtype=int), np.ones(5, dtype=int)]
    p = np.zeros(100, dtype=int)
    assert metrics.accuracy_score(t, p) == 0.95
    assert metrics.balanced_accuracy_score(t, p) == 0.5
    assert float(metrics.recall_score(t, p)) == 0.0
    assert float(metrics.f1_score(t, p)) == 0.0


# --------------------------------------------------------------------------------------------
# ROC and PR curves
# --------------------------------------------------------------------------------------------


def test_roc_curve_and_auc_match_sklearn_with_ties() -> None:
    rng = np.random.default_rng(6)
    two_class = 0
    for case in range(CASES):
        y, s = _binary(rng)
        for drop in (True, False):
            got = metrics.roc_curve(y, s, drop_intermediate=drop)
            want = skm.roc_curve(y, s, drop_intermediate=drop)
            for g, w in zip(got, want, strict=True):
                np.testing.assert_allclose(g, w, rtol=1e-12, err_msg=f"{case} {drop}")
        if 0 < y.sum() < y.size:
            two_class += 1
            assert metrics.roc_auc_score(y, s) == pytest.approx(
                skm.roc_auc_score(y, s), rel=1e-12, abs=1e-15
            ), case
        else:
            with pytest.raises(ValueError, match="only one class"):
                metrics.roc_auc_score(y, s)
    assert two_class > CASES // 2


def test_roc_auc_is_the_pairwise_ranking_probability() -> None:
    """An independent definition: P(score of a positive > score of a negative), ties count 1/2."""
    rng = np.random.default_rng(7)
    for _ in range(500):
        y, s = _binary(rng)
        if not 0 < y.sum() < y.size:
            continue
        pos, neg = s[y == 1], s[y == 0]
        wins = sum((a > b) + 0.5 * (a == b) for a, b in itertools.product(pos, neg))
        assert metrics.roc_auc_score(y, s) == pytest.approx(wins / (pos.size * neg.size), rel=1e-12)


def test_precision_recall_curve_ap_and_trapezoid_match_sklearn() -> None:
    rng = np.random.default_rng(8)
    for case in range(CASES):
        y, s = _binary(rng)
        for drop in (False, True):
            got = metrics.precision_recall_curve(y, s, drop_intermediate=drop)
            want = skm.precision_recall_curve(y, s, drop_intermediate=drop)
            for g, w in zip(got, want, strict=True):
                np.testing.assert_allclose(g, w, rtol=1e-12, err_msg=f"{case} {drop}")
        assert metrics.average_precision_score(y, s) == pytest.approx(
            skm.average_precision_score(y, s), rel=1e-12, abs=1e-15
        ), case
        if y.any():
            precision, recall, _ = skm.precision_recall_curve(y, s)
            assert metrics.pr_auc_trapezoid(y, s) == pytest.approx(
                skm.auc(recall, precision), rel=1e-12, abs=1e-15
            ), case


def test_pos_label_other_than_one_matches_sklearn() -> None:
    rng = np.random.default_rng(9)
    for _ in range(300):
        y, s = _binary(rng)
        y = np.where(y == 1, 3, 7)
        if np.unique(y).size < 2:
            continue
        assert metrics.roc_auc_score(y, -s, pos_label=7) == pytest.approx(
            skm.roc_auc_score(y == 7, -s), rel=1e-12
        )
        assert metrics.average_precision_score(y, s, pos_label=3) == pytest.approx(
            skm.average_precision_score(y, s, pos_label=3), rel=1e-12
        )


def test_trapezoid_pr_auc_is_not_average_precision() -> None:
    y = [1, 0, 1, 0, 0, 1]
    s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    # Step-wise: recall steps of 1/3 at precisions 1, 2/3 and 1/2.
    assert metrics.average_precision_score(y, s) == pytest.approx((1 + 2 / 3 + 1 / 2) / 3)
    assert metrics.pr_auc_trapezoid(y, s) != pytest.approx(metrics.average_precision_score(y, s))


# --------------------------------------------------------------------------------------------
# Degenerate data: the documented values
# --------------------------------------------------------------------------------------------


def test_all_one_class_documented_values() -> None:
    y = np.zeros(6, dtype=int)
    s = np.linspace(0, 1, 6)
    fpr, tpr, thr = metrics.roc_curve(y, s)
    assert np.isnan(tpr).all() and fpr[0] == 0 and fpr[-1] == 1 and thr[0] == np.inf
    assert metrics.average_precision_score(y, s) == 0.0
    _, recall, _ = metrics.precision_recall_curve(y, s)
    assert (recall[:-1] == 1).all() and recall[-1] == 0
    with pytest.raises(ValueError, match="no positive"):
        metrics.pr_auc_trapezoid(y, s)
    fpr, tpr, _ = metrics.roc_curve(np.ones(4, dtype=int), [0.1, 0.2, 0.3, 0.4])
    assert np.isnan(fpr).all() and tpr[-1] == 1
    # No positive predicted or present: every ratio takes zero_division.
    assert float(metrics.precision_score(y, y)) == 0.0
    assert float(metrics.precision_score(y, y, zero_division=1.0)) == 1.0
    assert float(metrics.f1_score(y, y, zero_division=1.0)) == 1.0
    assert metrics.balanced_accuracy_score(y, y) == 1.0
    with pytest.raises(ValueError, match="two classes"):
        metrics.balanced_accuracy_score(y, y, adjusted=True)


def test_bad_input_raises_clear_errors() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        metrics.accuracy_score([0, 1], [0])
    with pytest.raises(ValueError, match="empty"):
        metrics.confusion_matrix([], [])
    with pytest.raises(ValueError, match="integer class labels"):
        metrics.f1_score([0.5, 1.0], [0, 1])
    with pytest.raises(ValueError, match="at most two labels"):
        metrics.f1_score([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="pos_label=5"):
        metrics.precision_score([0, 1], [1, 0], pos_label=5)
    with pytest.raises(ValueError, match="average must be"):
        metrics.f1_score([0, 1], [0, 1], average="samples")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="binary"):
        metrics.roc_auc_score([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="finite"):
        metrics.roc_curve([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="beta"):
        metrics.fbeta_score([0, 1], [0, 1], beta=-1)
    with pytest.raises(ValueError, match="neither increasing nor decreasing"):
        metrics.auc([0, 1, 0.5], [1, 1, 1])
