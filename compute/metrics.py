"""Classification metrics: confusion matrix, precision/recall/F-beta, accuracy, ROC and PR curves.

Every function follows scikit-learn's definitions (``sklearn.metrics``), which the tests check on
thousands of random cases; where scikit-learn only warns, this module documents the value it
returns instead (no warnings are issued).

Labels are integers (or booleans) in 1-D arrays; scores are finite reals. The confusion matrix
puts the true class on the rows and the predicted class on the columns (scikit-learn's layout):
``C[i, j]`` counts samples of true class ``labels[i]`` predicted as ``labels[j]``.

Undefined ratios. A ratio whose denominator is 0 (precision with no positive prediction, recall
of a class absent from ``y_true``) takes ``zero_division`` (default 0.0), as scikit-learn does
with its default ``zero_division="warn"``. The F-beta score is computed as
``(1 + b^2) TP / ((1 + b^2) TP + b^2 FN + FP)``, which is 0 when TP = 0 but FN + FP > 0 and
takes ``zero_division`` only when TP + FN + FP = 0 (scikit-learn >= 1.3).

Two areas under the precision-recall curve are in use, and they differ:

- :func:`average_precision_score` is the step-wise sum ``AP = sum_n (R_n - R_{n-1}) P_n`` over
  the distinct score thresholds, scikit-learn's ``average_precision_score``; it never
  interpolates;
- :func:`pr_auc_trapezoid` joins the points of the PR curve with straight lines (the trapezoid
  rule, ``sklearn.metrics.auc(recall, precision)``); linear interpolation in PR space is
  optimistic (Davis & Goadrich, 2006), so this is usually a little larger than AP.

The detection APs of :mod:`compute.detection` (VOC 11-point, VOC all-point, COCO 101-point) are a
third family: they interpolate precision to its running maximum first.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "Average",
    "BinaryCounts",
    "accuracy_score",
    "auc",
    "average_precision_score",
    "balanced_accuracy_score",
    "binary_counts",
    "confusion_matrix",
    "f1_score",
    "fbeta_score",
    "pr_auc_trapezoid",
    "precision_recall_curve",
    "precision_recall_fscore",
    "precision_score",
    "recall_score",
    "roc_auc_score",
    "roc_curve",
    "specificity_score",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: How per-class values are combined: ``"binary"`` reports ``pos_label`` only; ``"macro"`` is the
#: unweighted mean over classes, ``"weighted"`` the mean weighted by support (true count),
#: ``"micro"`` pools the counts of all classes first; ``None`` returns one value per class.
Average = Literal["binary", "macro", "micro", "weighted"] | None


class BinaryCounts(NamedTuple):
    """The four cells of a binary confusion matrix."""

    tp: int
    fp: int
    fn: int
    tn: int


def _labels_1d(y: npt.ArrayLike, name: str) -> IntArray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class labels, got shape {arr.shape}")
    if arr.size and not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
        raise ValueError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _pair(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> tuple[IntArray, IntArray]:
    t = _labels_1d(y_true, "y_true")
    p = _labels_1d(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.shape[0]} vs {p.shape[0]}")
    if t.size == 0:
        raise ValueError("y_true and y_pred are empty")
    return t, p


def _label_set(t: IntArray, p: IntArray, labels: npt.ArrayLike | None) -> IntArray:
    if labels is None:
        return np.union1d(t, p)  # sorted, as sklearn's unique_labels
    lab = _labels_1d(labels, "labels")
    if lab.size == 0:
        raise ValueError("labels must name at least one class")
    if np.unique(lab).size != lab.size:
        raise ValueError("labels must not repeat a class")
    return lab


def _confusion(t: IntArray, p: IntArray, lab: IntArray) -> IntArray:
    """Count (true, predicted) pairs whose both labels are in ``lab``: ``[K, K]``."""
    k = lab.size
    order = np.argsort(lab, kind="stable")
    sorted_lab = lab[order]

    # Position of each sample's label in ``lab`` (k = "not listed", dropped below).
    def where(y: IntArray) -> IntArray:
        pos = np.searchsorted(sorted_lab, y)  # [N]
        pos_c = np.minimum(pos, k - 1)
        found = sorted_lab[pos_c] == y
        return np.where(found, order[pos_c], k)

    ti, pi = where(t), where(p)
    keep = (ti < k) & (pi < k)
    flat = ti[keep] * k + pi[keep]  # row-major cell index
    return np.bincount(flat, minlength=k * k).reshape(k, k).astype(np.int64)


def confusion_matrix(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, labels: npt.ArrayLike | None = None
) -> IntArray:
    """Return the confusion matrix, true classes on the rows and predictions on the columns.

    ``y_true: ndarray[N]``, ``y_pred: ndarray[N]`` (integer labels) -> ``ndarray[K, K]`` int64
    with ``C[i, j] = #{n : y_true[n] = labels[i] and y_pred[n] = labels[j]}``. ``labels``
    (default: the sorted union of both arrays) fixes the order; samples whose true or predicted
    label is not listed are left out. Semantics of ``sklearn.metrics.confusion_matrix``. For a
    binary problem with labels ``[0, 1]`` the matrix reads ``[[TN, FP], [FN, TP]]``.
    """
    t, p = _pair(y_true, y_pred)
    return _confusion(t, p, _label_set(t, p, labels))


def binary_counts(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, pos_label: int = 1
) -> BinaryCounts:
    """Return TP, FP, FN and TN, treating ``pos_label`` as positive and every other label as negative.

    ``y_true: ndarray[N]``, ``y_pred: ndarray[N]`` -> :class:`BinaryCounts` (one-vs-rest when
    there are more than two classes).
    """
    t, p = _pair(y_true, y_pred)
    actual = t == pos_label
    called = p == pos_label
    tp = int(np.count_nonzero(actual & called))
    fp = int(np.count_nonzero(~actual & called))
    fn = int(np.count_nonzero(actual & ~called))
    return BinaryCounts(tp, fp, fn, t.size - tp - fp - fn)


def _ratio(num: FloatArray, den: FloatArray, zero_division: float) -> FloatArray:
    out = np.full(num.shape, float(zero_division))
    np.divide(num, den, out=out, where=den > 0)
    return out


def _per_class_counts(
    t: IntArray, p: IntArray, lab: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Return per-class TP, FP, FN and support (true count), each ``[K]``, one-vs-rest."""
    # Counted against every label (not just ``lab``) so that a prediction of an unlisted class
    # still counts as a miss of the true class, as sklearn's multilabel_confusion_matrix does.
    everything = np.union1d(np.union1d(t, p), lab)
    cm = _confusion(t, p, everything).astype(np.float64)  # [L, L]
    idx = np.searchsorted(everything, lab)  # [K] rows/columns of the requested labels
    tp = cm[idx, idx]
    predicted = cm.sum(axis=0)[idx]
    support = cm.sum(axis=1)[idx]
    return tp, predicted - tp, support - tp, support


def _check_average(average: Average) -> None:
    if average not in ("binary", "macro", "micro", "weighted", None):
        raise ValueError(
            f"average must be 'binary', 'macro', 'micro', 'weighted' or None, got {average!r}"
        )


def _averaged_labels(
    t: IntArray, p: IntArray, average: Average, labels: npt.ArrayLike | None, pos_label: int
) -> IntArray:
    """Return the classes to report: ``[pos_label]`` for a binary average, else ``labels``."""
    if average != "binary":
        return _label_set(t, p, labels)
    present = np.union1d(t, p)
    if present.size > 2:
        raise ValueError(
            f"average='binary' needs at most two labels, found {present.size}; "
            "choose average='macro', 'micro', 'weighted' or None"
        )
    if present.size == 2 and pos_label not in present:
        raise ValueError(f"pos_label={pos_label} is not a label of the data {present.tolist()}")
    return np.array([pos_label], dtype=np.int64)


def precision_recall_fscore(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    beta: float = 1.0,
    average: Average = "binary",
    labels: npt.ArrayLike | None = None,
    pos_label: int = 1,
    zero_division: float = 0.0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return precision, recall and the F-beta score.

    ``y_true: ndarray[N]``, ``y_pred: ndarray[N]`` -> three float64 arrays, each of shape ``[]``
    (scalar) or ``[K]`` for ``average=None``.

    Per class (one-vs-rest): ``P = TP / (TP + FP)``, ``R = TP / (TP + FN)``,
    ``F_beta = (1 + beta^2) P R / (beta^2 P + R) = (1 + beta^2) TP / ((1 + beta^2) TP + beta^2 FN
    + FP)``; ``beta > 1`` weighs recall more. ``average="binary"`` reports ``pos_label`` (the data
    may hold at most two labels); ``"micro"`` pools TP, FP and FN over ``labels`` (for
    single-label data over all classes this equals accuracy); ``"macro"`` and ``"weighted"``
    average the per-class values, unweighted or by support. Semantics of
    ``sklearn.metrics.precision_recall_fscore_support``, including ``zero_division`` (see the
    module docstring); a weighted average over classes that all have support 0 is
    ``zero_division``.
    """
    _check_average(average)
    if not beta >= 0 or not np.isfinite(beta):
        raise ValueError(f"beta must be a finite number >= 0, got {beta}")
    t, p = _pair(y_true, y_pred)
    lab = _averaged_labels(t, p, average, labels, pos_label)
    tp, fp, fn, support = _per_class_counts(t, p, lab)
    if average == "micro":
        tp, fp, fn = (np.array([x.sum()]) for x in (tp, fp, fn))
    b2 = float(beta) ** 2
    precision = _ratio(tp, tp + fp, zero_division)
    recall = _ratio(tp, tp + fn, zero_division)
    fscore = _ratio((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp, zero_division)
    if average is None:
        return precision, recall, fscore
    if average == "weighted":
        total = support.sum()
        if total == 0:
            z = np.float64(zero_division)
            return np.asarray(z), np.asarray(z), np.asarray(z)
        w = support / total
        return tuple(np.asarray(np.dot(w, x)) for x in (precision, recall, fscore))  # type: ignore[return-value]
    return tuple(np.asarray(np.mean(x)) for x in (precision, recall, fscore))  # type: ignore[return-value]


def precision_score(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    average: Average = "binary",
    labels: npt.ArrayLike | None = None,
    pos_label: int = 1,
    zero_division: float = 0.0,
) -> FloatArray:
    """Return precision ``TP / (TP + FP)``: of the predicted positives, the share truly positive.

    Arguments and averaging as :func:`precision_recall_fscore`; ``sklearn.metrics.precision_score``.
    """
    return precision_recall_fscore(
        y_true,
        y_pred,
        average=average,
        labels=labels,
        pos_label=pos_label,
        zero_division=zero_division,
    )[0]


def recall_score(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    average: Average = "binary",
    labels: npt.ArrayLike | None = None,
    pos_label: int = 1,
    zero_division: float = 0.0,
) -> FloatArray:
    """Return recall (sensitivity, TPR) ``TP / (TP + FN)``: of the true positives, the share found.

    Arguments and averaging as :func:`precision_recall_fscore`; ``sklearn.metrics.recall_score``.
    """
    return precision_recall_fscore(
        y_true,
        y_pred,
        average=average,
        labels=labels,
        pos_label=pos_label,
        zero_division=zero_division,
    )[1]


def fbeta_score(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    beta: float,
    average: Average = "binary",
    labels: npt.ArrayLike | None = None,
    pos_label: int = 1,
    zero_division: float = 0.0,
) -> FloatArray:
    """Return the F-beta score, the weighted harmonic mean of precision and recall.

    ``F_beta = (1 + beta^2) P R / (beta^2 P + R)``. Arguments and averaging as
    :func:`precision_recall_fscore`; ``sklearn.metrics.fbeta_score``. Macro F-beta averages the
    per-class F scores; it is not the F score of the macro precision and macro recall.
    """
    return precision_recall_fscore(
        y_true,
        y_pred,
        beta=beta,
        average=average,
        labels=labels,
        pos_label=pos_label,
        zero_division=zero_division,
    )[2]


def f1_score(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    average: Average = "binary",
    labels: npt.ArrayLike | None = None,
    pos_label: int = 1,
    zero_division: float = 0.0,
) -> FloatArray:
    """Return F1 ``= 2 P R / (P + R) = 2 TP / (2 TP + FP + FN)``, the harmonic mean of P and R.

    Arguments and averaging as :func:`precision_recall_fscore`; ``sklearn.metrics.f1_score``.
    """
    return fbeta_score(
        y_true,
        y_pred,
        beta=1.0,
        average=average,
        labels=labels,
        pos_label=pos_label,
        zero_division=zero_division,
    )


def specificity_score(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    average: Average = "binary",
    labels: npt.ArrayLike | None = None,
    pos_label: int = 1,
    zero_division: float = 0.0,
) -> FloatArray:
    """Return specificity (true negative rate) ``TN / (TN + FP)`` = ``1 - FPR``.

    One-vs-rest per class; ``average`` as :func:`precision_recall_fscore` except that
    ``"weighted"`` weighs by each class's negatives (``TN + FP``) and ``"micro"`` pools TN and FP.
    scikit-learn has no specificity function: for a binary problem it equals
    ``recall_score(pos_label=<the other label>)``, and per class it is read off
    ``multilabel_confusion_matrix``, which is how the tests check it.
    """
    _check_average(average)
    t, p = _pair(y_true, y_pred)
    lab = _averaged_labels(t, p, average, labels, pos_label)
    tp, fp, fn, _ = _per_class_counts(t, p, lab)
    tn = t.size - tp - fp - fn
    negatives = tn + fp
    if average == "micro":
        tn, negatives = np.array([tn.sum()]), np.array([negatives.sum()])
    spec = _ratio(tn, negatives, zero_division)
    if average is None:
        return spec
    if average == "weighted":
        total = negatives.sum()
        return np.asarray(np.dot(negatives / total, spec) if total else float(zero_division))
    return np.asarray(np.mean(spec))


def accuracy_score(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Return the share of samples predicted correctly, ``trace(C) / N``.

    ``sklearn.metrics.accuracy_score``. Under class imbalance it rewards the majority class: with
    95% negatives, always answering "negative" scores 0.95 while finding no positive; see
    :func:`balanced_accuracy_score`.
    """
    t, p = _pair(y_true, y_pred)
    return float(np.count_nonzero(t == p) / t.size)


def balanced_accuracy_score(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, adjusted: bool = False
) -> float:
    """Return the mean over the classes present in ``y_true`` of each class's recall.

    ``BA = (1 / K) sum_k TP_k / (TP_k + FN_k)`` over the ``K`` classes that occur in ``y_true``
    (a predicted class that never occurs in ``y_true`` has no recall and is left out). For binary
    data ``BA = (TPR + TNR) / 2``; the always-majority classifier scores ``1 / K``. With
    ``adjusted=True`` chance maps to 0: ``(BA - 1/K) / (1 - 1/K)``; with a single class in
    ``y_true`` that divides by zero (scikit-learn returns NaN or inf with a warning), so this
    raises ``ValueError`` instead.
    Semantics of ``sklearn.metrics.balanced_accuracy_score``.
    """
    t, p = _pair(y_true, y_pred)
    classes = np.unique(t)
    tp, _, _, support = _per_class_counts(t, p, classes)
    score = float(np.mean(tp / support))
    if adjusted:
        k = classes.size
        if k == 1:
            raise ValueError("adjusted balanced accuracy needs at least two classes in y_true")
        chance = 1.0 / k
        score = (score - chance) / (1 - chance)
    return score


# --------------------------------------------------------------------------------------------
# Ranking metrics: ROC and precision-recall curves
# --------------------------------------------------------------------------------------------


def _binary_scores(
    y_true: npt.ArrayLike, y_score: npt.ArrayLike, pos_label: int
) -> tuple[npt.NDArray[np.bool_], FloatArray]:
    t = _labels_1d(y_true, "y_true")
    s = np.asarray(y_score, dtype=np.float64)
    if s.ndim != 1 or s.shape != t.shape:
        raise ValueError(f"y_score must have shape {t.shape} to match y_true, got {s.shape}")
    if t.size == 0:
        raise ValueError("y_true and y_score are empty")
    if not np.isfinite(s).all():
        raise ValueError("y_score must contain only finite values")
    present = sorted(set(t.tolist()))  # (np.unique costs more than the rest on a short list)
    if len(present) > 2:
        raise ValueError(f"y_true must be binary, found labels {present}")
    if len(present) == 2 and pos_label not in present:
        raise ValueError(f"pos_label={pos_label} is not a label of y_true {present}")
    return t == pos_label, s


def _counts_at_thresholds(
    positive: npt.NDArray[np.bool_], score: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return cumulative (FP, TP) counts at each distinct score, highest score first.

    ``-> fps[T], tps[T], thresholds[T]`` where predicting "positive" for ``score >= thresholds[i]``
    yields ``fps[i]`` false and ``tps[i]`` true positives. Tied scores share one threshold, so the
    curve jumps over a tie diagonally instead of visiting an order-dependent corner.
    """
    order = np.argsort(-score, kind="stable")  # descending
    s = score[order]
    hits = positive[order].astype(np.float64)
    # The last sample of each run of equal scores closes a threshold.
    last = np.append(np.flatnonzero(np.diff(s)), s.size - 1)
    tps = np.cumsum(hits)[last]
    fps = (last + 1) - tps
    return fps, tps, s[last]


def roc_curve(
    y_true: npt.ArrayLike,
    y_score: npt.ArrayLike,
    *,
    pos_label: int = 1,
    drop_intermediate: bool = True,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return the ROC curve: false positive rate, true positive rate and the thresholds.

    ``y_true: ndarray[N]`` (two labels), ``y_score: ndarray[N]`` (higher = more positive) ->
    ``fpr[T+1], tpr[T+1], thresholds[T+1]``. Point ``i`` predicts positive for
    ``score >= thresholds[i]``; thresholds are the distinct scores in decreasing order, preceded
    by ``+inf`` so the curve starts at (0, 0) and ends at (1, 1). ``FPR = FP / (FP + TN)`` and
    ``TPR = TP / (TP + FN)``. Tied scores move the curve diagonally (they count half in the
    area). ``drop_intermediate`` removes points collinear with their neighbours in equal steps
    (where both the FP and the TP counts have a zero second difference), which does not change
    the area. Semantics of ``sklearn.metrics.roc_curve`` (scikit-learn >= 1.3: first threshold
    ``inf``). With no negative sample FPR is undefined and returned as all-NaN; with no positive
    sample TPR is; scikit-learn does the same and warns.
    """
    positive, score = _binary_scores(y_true, y_score, pos_label)
    fps, tps, thr = _counts_at_thresholds(positive, score)
    if drop_intermediate and fps.size > 2:
        corner = (np.diff(fps, 2) != 0) | (np.diff(tps, 2) != 0)  # [T-2]
        keep = np.concatenate(([True], corner, [True]))
        fps, tps, thr = fps[keep], tps[keep], thr[keep]
    fps = np.concatenate(([0.0], fps))
    tps = np.concatenate(([0.0], tps))
    thr = np.concatenate(([np.inf], thr))
    fpr = fps / fps[-1] if fps[-1] > 0 else np.full(fps.shape, np.nan)
    tpr = tps / tps[-1] if tps[-1] > 0 else np.full(tps.shape, np.nan)
    return fpr, tpr, thr


def auc(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Return the area under the polyline through ``(x[i], y[i])`` by the trapezoid rule.

    ``x: ndarray[N]`` must be monotonic (either direction; the area is then non-negative for
    non-negative ``y``); ``sklearn.metrics.auc``. Needs at least two points.
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if xa.ndim != 1 or xa.shape != ya.shape:
        raise ValueError(f"x and y must be 1-D of equal length, got {xa.shape} and {ya.shape}")
    if xa.size < 2:
        raise ValueError(f"at least 2 points are needed to compute an area, got {xa.size}")
    dx = np.diff(xa)
    direction = 1.0
    if np.any(dx < 0):
        if np.all(dx <= 0):
            direction = -1.0
        else:
            raise ValueError("x is neither increasing nor decreasing")
    return float(direction * np.trapezoid(ya, xa))


def roc_auc_score(y_true: npt.ArrayLike, y_score: npt.ArrayLike, *, pos_label: int = 1) -> float:
    """Return the area under the ROC curve for binary labels.

    ``y_true: ndarray[N]``, ``y_score: ndarray[N]`` -> float in [0, 1]. Equal to the probability
    that a random positive scores above a random negative, ties counting one half (the
    Mann-Whitney U statistic divided by ``P * N``). Semantics of
    ``sklearn.metrics.roc_auc_score`` for binary ``y_true``; like it, raise ``ValueError`` when
    ``y_true`` holds a single class (the area is undefined). Invariant to any strictly increasing
    transform of the scores; insensitive to class imbalance, unlike the PR curve.
    """
    positive, _ = _binary_scores(y_true, y_score, pos_label)
    if positive.all() or not positive.any():
        raise ValueError("ROC AUC is undefined when y_true holds only one class")
    fpr, tpr, _ = roc_curve(y_true, y_score, pos_label=pos_label, drop_intermediate=True)
    return auc(fpr, tpr)


def precision_recall_curve(
    y_true: npt.ArrayLike,
    y_score: npt.ArrayLike,
    *,
    pos_label: int = 1,
    drop_intermediate: bool = False,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return the precision-recall curve: precision, recall and the thresholds.

    ``y_true: ndarray[N]`` (two labels), ``y_score: ndarray[N]`` -> ``precision[T+1]``,
    ``recall[T+1]``, ``thresholds[T]``. ``thresholds`` are the distinct scores in increasing
    order; ``precision[i]`` and ``recall[i]`` are those of predicting positive for
    ``score >= thresholds[i]``, so recall decreases along the arrays; the last point is
    ``(precision, recall) = (1, 0)`` and has no threshold. Semantics of
    ``sklearn.metrics.precision_recall_curve``: with no positive sample recall is set to 1 at
    every threshold (scikit-learn warns); ``drop_intermediate`` keeps only the first and the last
    threshold of each run with equal TP count (the curve's vertical segments).
    """
    positive, score = _binary_scores(y_true, y_score, pos_label)
    fps, tps, thr = _counts_at_thresholds(positive, score)
    if drop_intermediate and fps.size > 2:
        changes = np.diff(tps) != 0  # [T-1]
        keep = np.concatenate(([True], changes[:-1] | changes[1:], [True]))
        fps, tps, thr = fps[keep], tps[keep], thr[keep]
    precision = tps / (tps + fps)  # tps + fps >= 1 at every threshold
    recall = tps / tps[-1] if tps[-1] > 0 else np.ones_like(tps)
    return (
        np.append(precision[::-1], 1.0),
        np.append(recall[::-1], 0.0),
        thr[::-1].copy(),
    )


def average_precision_score(
    y_true: npt.ArrayLike, y_score: npt.ArrayLike, *, pos_label: int = 1
) -> float:
    """Return average precision, the step-wise (not interpolated) area under the PR curve.

    ``AP = sum_n (R_n - R_{n-1}) P_n`` over the thresholds of :func:`precision_recall_curve`
    taken from the highest score down: each gain in recall is weighted by the precision reached
    at that threshold. Semantics of ``sklearn.metrics.average_precision_score`` (binary); with no
    positive sample AP is 0 (scikit-learn warns). Unlike :func:`pr_auc_trapezoid` there is no
    linear interpolation between points, and unlike the detection APs the precision is not
    replaced by its running maximum.
    """
    precision, recall, _ = precision_recall_curve(y_true, y_score, pos_label=pos_label)
    # recall decreases along the arrays and precision[-1] == 1 pairs with the final R = 0 step.
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def pr_auc_trapezoid(y_true: npt.ArrayLike, y_score: npt.ArrayLike, *, pos_label: int = 1) -> float:
    """Return the area under the PR curve by the trapezoid rule, ``auc(recall, precision)``.

    The curve is that of :func:`precision_recall_curve`, including its end point (R, P) = (0, 1).
    This is what "PR-AUC" means in many libraries and papers; the straight lines between points
    overstate what a classifier can achieve between two thresholds, so it is usually larger than
    :func:`average_precision_score`. With no positive sample the curve is degenerate (recall 1
    everywhere but the end point) and the value has no meaning; ``ValueError`` is raised.
    """
    positive, _ = _binary_scores(y_true, y_score, pos_label)
    if not positive.any():
        raise ValueError("the PR curve is undefined when y_true holds no positive sample")
    precision, recall, _ = precision_recall_curve(y_true, y_score, pos_label=pos_label)
    return auc(recall, precision)
