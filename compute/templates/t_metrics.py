"""Templates on classification metrics: precision, recall, F-scores, imbalance, ROC-AUC and AP."""

from __future__ import annotations

import itertools
import math
from functools import cache

import numpy as np
import numpy.typing as npt

from compute import detection, metrics
from compute.templates.base import AnswerKind, Bilingual, Draw, Params, Template, Tolerance, Value
from compute.templates.engine import distinguishable, get_template, register
from compute.templates.fmt import mis, num

__all__ = [
    "MetricsAccuracyImbalance",
    "MetricsAveragePrecision",
    "MetricsAveragePrecisionV2",
    "MetricsConfusionMatrix",
    "MetricsF1",
    "MetricsFbeta",
    "MetricsPrecisionRecall",
    "MetricsRocAuc",
    "MetricsSpecificity",
]

#: Ratios are entered with three decimals or as a percentage.
_TOL = Tolerance(abs=1e-3)
_HINT = ("(保留 3 位以上小数,或填百分数)", "(at least 3 decimals, or a percentage)")


class _RatioTemplate(Template):
    """A rate in [0, 1] (entered with three decimals or as a percentage) shown to 4 decimals."""

    kind = AnswerKind.REAL
    ratio = True
    tolerance = _TOL
    real_format = ".4f"


def _arrays(tp: int, fp: int, fn: int, tn: int) -> tuple[npt.NDArray[np.int64], ...]:
    """Return label arrays (y_true, y_pred) with exactly these binary counts."""
    y_true = np.repeat(np.array([1, 0, 1, 0]), [tp, fp, fn, tn])
    y_pred = np.repeat(np.array([1, 1, 0, 0]), [tp, fp, fn, tn])
    return y_true, y_pred


def _table(p: Params) -> tuple[str, str]:
    """Render the binary confusion matrix (rows: actual class) in both languages."""
    tp, fp, fn, tn = p["tp"], p["fp"], p["fn"], p["tn"]
    zh = (
        "| | 预测为正 | 预测为负 |\n|---|---|---|\n"
        f"| 实际为正 | {tp} | {fn} |\n| 实际为负 | {fp} | {tn} |"
    )
    en = (
        "| | predicted positive | predicted negative |\n|---|---|---|\n"
        f"| actually positive | {tp} | {fn} |\n| actually negative | {fp} | {tn} |"
    )
    return zh, en


def _matrix_prompt(p: Params, lead: Bilingual, question: Bilingual) -> Bilingual:
    """Return ``lead``, the confusion matrix of ``p``, then ``question`` with the answer hint."""
    zh, en = _table(p)
    return Bilingual(
        zh=f"{lead.zh}\n\n{zh}\n\n{question.zh}{_HINT[0]}",
        en=f"{lead.en}\n\n{en}\n\n{question.en} {_HINT[1]}",
    )


def _checked_counts(p: Params) -> Params:
    """Return ``p`` after checking its counts can make a question (constraints may set them)."""
    if p["tp"] < 1 or min(p["fp"], p["fn"], p.get("tn", 1)) < 1:
        raise ValueError("TP, FP, FN and TN must each be at least 1")
    return p


def _counts(draw: Draw) -> Params:
    return _checked_counts(
        {
            "tp": draw.integer("tp", 5, 90),
            "fp": draw.integer("fp", 1, 60),
            "fn": draw.integer("fn", 1, 60),
            "tn": draw.integer("tn", 10, 300),
        }
    )


def _frac(a: int, b: int) -> str:
    return f"\\frac{{{a}}}{{{b}}}"


def _tp_fp_fn(draw: Draw) -> Params:
    """Draw TP, FP and FN (no TN: F-scores ignore it) with the precision and recall they give."""
    tp = draw.integer("tp", 5, 90)
    fp = draw.integer("fp", 1, 70)
    fn = draw.integer("fn", 1, 70)
    _checked_counts({"tp": tp, "fp": fp, "fn": fn})
    return {"tp": tp, "fp": fp, "fn": fn, "_p": tp / (tp + fp), "_r": tp / (tp + fn)}


def _p_and_r(p: Params) -> str:
    """Return TeX for precision and recall from TP, FP and FN, with their values."""
    tp, fp, fn = p["tp"], p["fp"], p["fn"]
    return (
        f"P={_frac(tp, tp + fp)}\\approx{p['_p']:.4f},\\quad R={_frac(tp, tp + fn)}"
        f"\\approx{p['_r']:.4f}"
    )


@register
class MetricsPrecisionRecall(_RatioTemplate):
    """Precision or recall from a binary confusion matrix."""

    id = "metrics.precision_recall"
    version = 1
    title = Bilingual(
        zh="由混淆矩阵求精确率或召回率", en="Precision or recall from a confusion matrix"
    )
    misconceptions = (
        mis(
            "swapped_precision_recall",
            lambda p: (
                p["tp"] / (p["tp"] + p["fn"])
                if p["asked"] == "precision"
                else p["tp"] / (p["tp"] + p["fp"])
            ),
            "精确率和召回率弄反了:精确率的分母是预测为正的样本 TP + FP,召回率的分母是实际为正的样本 TP + FN。",
            "Precision and recall are swapped: precision divides by the predicted positives "
            "TP + FP, recall by the actual positives TP + FN.",
        ),
        mis(
            "accuracy_instead",
            lambda p: (p["tp"] + p["tn"]) / (p["tp"] + p["fp"] + p["fn"] + p["tn"]),
            "这是准确率 (TP + TN) / N,不是题目问的指标。",
            "That is accuracy (TP + TN) / N, not the metric asked for.",
        ),
        mis(
            "negative_class",
            lambda p: (
                p["tn"] / (p["tn"] + p["fn"])
                if p["asked"] == "precision"
                else p["tn"] / (p["tn"] + p["fp"])
            ),
            "算成了负类的指标(把负类当成了正类)。正类是“实际为正”的那一行。",
            "You computed it for the negative class. The positive class is the "
            "'actually positive' row.",
        ),
        mis(
            "over_all_samples",
            lambda p: p["tp"] / (p["tp"] + p["fp"] + p["fn"] + p["tn"]),
            "分母不是全部样本数:只数预测为正(精确率)或实际为正(召回率)的样本。",
            "The denominator is not all samples: count only the predicted positives (precision) "
            "or the actual positives (recall).",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the four counts and which metric is asked."""
        p = _counts(draw)
        p["asked"] = draw.pick("asked", ("precision", "recall"))
        return p

    def answer(self, p: Params) -> Value:
        """Return ``metrics.precision_score`` or ``metrics.recall_score``."""
        t, y = _arrays(p["tp"], p["fp"], p["fn"], p["tn"])
        fn = metrics.precision_score if p["asked"] == "precision" else metrics.recall_score
        return float(fn(t, y))

    def prompt(self, p: Params) -> Bilingual:
        """Render the matrix and the question."""
        name_zh = "精确率 (precision)" if p["asked"] == "precision" else "召回率 (recall)"
        return _matrix_prompt(
            p,
            Bilingual(
                zh="一个二分类器在测试集上的混淆矩阵如下:",
                en="A binary classifier's confusion matrix on a test set:",
            ),
            Bilingual(zh=f"它的{name_zh}是多少?", en=f"What is its {p['asked']}?"),
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the formula with the counts."""
        tp, fp, fn = p["tp"], p["fp"], p["fn"]
        if p["asked"] == "precision":
            f = f"$$P=\\frac{{TP}}{{TP+FP}}={_frac(tp, tp + fp)}\\approx{answer:.4f}$$"
            zh = "精确率:预测为正的样本中真正为正的比例。\n"
            en = "Precision: the share of predicted positives that are truly positive.\n"
        else:
            f = f"$$R=\\frac{{TP}}{{TP+FN}}={_frac(tp, tp + fn)}\\approx{answer:.4f}$$"
            zh = "召回率:实际为正的样本中被找出来的比例。\n"
            en = "Recall: the share of actual positives that the classifier finds.\n"
        return Bilingual(zh=zh + f, en=en + f)


@register
class MetricsF1(_RatioTemplate):
    """F1 score from counts."""

    id = "metrics.f1"
    version = 1
    title = Bilingual(zh="F1 分数", en="F1 score")
    misconceptions = (
        mis(
            "arithmetic_mean",
            lambda p: (p["_p"] + p["_r"]) / 2,
            "F1 是精确率和召回率的调和平均 2PR/(P+R),不是算术平均。",
            "F1 is the harmonic mean 2PR/(P+R) of precision and recall, not their arithmetic mean.",
        ),
        mis(
            "jaccard_instead",
            lambda p: p["tp"] / (p["tp"] + p["fp"] + p["fn"]),
            "TP/(TP+FP+FN) 是 Jaccard 指数 (IoU);F1 = 2TP/(2TP+FP+FN)。",
            "TP/(TP+FP+FN) is the Jaccard index (IoU); F1 = 2TP/(2TP+FP+FN).",
        ),
        mis(
            "geometric_mean",
            lambda p: math.sqrt(p["_p"] * p["_r"]),
            "√(PR) 是几何平均(Fowlkes–Mallows 指数);F1 用调和平均。",
            "√(PR) is the geometric mean (the Fowlkes–Mallows index); F1 uses the harmonic mean.",
        ),
        mis(
            "missing_factor_two",
            lambda p: p["tp"] / (2 * p["tp"] + p["fp"] + p["fn"]),
            "分子漏了系数 2:F1 = 2TP/(2TP+FP+FN)。",
            "The numerator misses the factor 2: F1 = 2TP/(2TP+FP+FN).",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw TP, FP and FN."""
        return _tp_fp_fn(draw)

    def answer(self, p: Params) -> Value:
        """Return ``metrics.f1_score``."""
        t, y = _arrays(p["tp"], p["fp"], p["fn"], 0)
        return float(metrics.f1_score(t, y))

    def prompt(self, p: Params) -> Bilingual:
        """Render the counts."""
        tp, fp, fn = p["tp"], p["fp"], p["fn"]
        return Bilingual(
            zh=f"一个检测正类的模型有 TP $={tp}$、FP $={fp}$、FN $={fn}$。它的 F1 分数是多少?"
            f"{_HINT[0]}",
            en=f"A model has TP $={tp}$, FP $={fp}$ and FN $={fn}$ on the positive class. "
            f"What is its F1 score? {_HINT[1]}",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render P, R and the harmonic mean."""
        tp, fp, fn = p["tp"], p["fp"], p["fn"]
        f = (
            f"$${_p_and_r(p)}$$"
            f"$$F_1=\\frac{{2PR}}{{P+R}}=\\frac{{2TP}}{{2TP+FP+FN}}={_frac(2 * tp, 2 * tp + fp + fn)}"
            f"\\approx{answer:.4f}$$"
        )
        return Bilingual(
            zh=f"F1 是精确率与召回率的调和平均,偏向两者中较小的一个:\n{f}",
            en=f"F1 is the harmonic mean of precision and recall, pulled toward the smaller "
            f"one:\n{f}",
        )


@register
class MetricsFbeta(_RatioTemplate):
    """F-beta score for beta 0.5 or 2."""

    id = "metrics.fbeta"
    version = 1
    title = Bilingual(zh="F-beta 分数", en="F-beta score")
    misconceptions = (
        mis(
            "f1_instead",
            lambda p: 2 * p["_p"] * p["_r"] / (p["_p"] + p["_r"]),
            "这是 F1;F-beta 要用 β² 给召回率加权。",
            "That is F1; F-beta weighs recall by β².",
        ),
        mis(
            "beta_not_squared",
            lambda p: (1 + p["beta"]) * p["_p"] * p["_r"] / (p["beta"] * p["_p"] + p["_r"]),
            "公式里是 β²,不是 β:F_β = (1+β²)PR/(β²P+R)。",
            "The formula uses β², not β: F_β = (1+β²)PR/(β²P+R).",
        ),
        mis(
            "beta_on_recall",
            lambda p: (
                (1 + p["beta"] ** 2) * p["_p"] * p["_r"] / (p["_p"] + p["beta"] ** 2 * p["_r"])
            ),
            "β² 乘的是分母里的 P:β > 1 时更看重召回率。你算出的是 F_{1/β}。",
            "β² multiplies P in the denominator, so β > 1 favours recall; you computed F_{1/β}.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw TP, FP, FN and beta."""
        p = _tp_fp_fn(draw)
        beta = draw.pick("beta", (0.5, 2, 2))
        if not 0.1 <= beta <= 10 or beta == 1:
            raise ValueError(f"beta must be from 0.1 to 10 and not 1 (that is F1), got {beta}")
        rates = {"_p": p.pop("_p"), "_r": p.pop("_r")}
        return {**p, "beta": beta, **rates}  # the parameters' order as pinned: beta before rates

    def answer(self, p: Params) -> Value:
        """Return ``metrics.fbeta_score``."""
        t, y = _arrays(p["tp"], p["fp"], p["fn"], 0)
        return float(metrics.fbeta_score(t, y, beta=p["beta"]))

    def prompt(self, p: Params) -> Bilingual:
        """Render the counts and beta."""
        tp, fp, fn, b = p["tp"], p["fp"], p["fn"], num(p["beta"])
        return Bilingual(
            zh=f"一个模型在正类上有 TP $={tp}$、FP $={fp}$、FN $={fn}$。求 $F_\\beta$,"
            f"$\\beta={b}$。{_HINT[0]}",
            en=f"A model has TP $={tp}$, FP $={fp}$ and FN $={fn}$ on the positive class. "
            f"What is its $F_\\beta$ score for $\\beta={b}$? {_HINT[1]}",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render P, R and the weighted harmonic mean."""
        b2 = p["beta"] ** 2
        f = (
            f"$${_p_and_r(p)},\\quad \\beta^2={num(b2)}$$"
            f"$$F_\\beta=\\frac{{(1+\\beta^2)PR}}{{\\beta^2P+R}}\\approx{answer:.4f}$$"
        )
        return Bilingual(
            zh=f"$\\beta>1$ 更看重召回率,$\\beta<1$ 更看重精确率:\n{f}",
            en=f"$\\beta>1$ weighs recall more, $\\beta<1$ precision:\n{f}",
        )


@register
class MetricsAccuracyImbalance(_RatioTemplate):
    """Balanced accuracy of a classifier on imbalanced data."""

    id = "metrics.accuracy_imbalance"
    version = 1
    title = Bilingual(zh="类别不平衡下的准确率", en="Accuracy under class imbalance")
    misconceptions = (
        mis(
            "plain_accuracy",
            lambda p: (p["tp"] + p["tn"]) / (p["tp"] + p["fp"] + p["fn"] + p["tn"]),
            "这是普通准确率,被占多数的负类主导;平衡准确率是各类召回率的平均。",
            "That is plain accuracy, dominated by the majority class; balanced accuracy "
            "averages the per-class recalls.",
        ),
        mis(
            "positive_recall_only",
            lambda p: p["tp"] / (p["tp"] + p["fn"]),
            "只算了正类的召回率 (TPR),还要和负类的召回率 (TNR) 取平均。",
            "That is only the positive class's recall (TPR); average it with the negative "
            "class's recall (TNR).",
        ),
        mis(
            "negative_recall_only",
            lambda p: p["tn"] / (p["tn"] + p["fp"]),
            "只算了负类的召回率(特异度 TNR),还要和正类的召回率取平均。",
            "That is only the negative class's recall (specificity); average it with the "
            "positive class's recall.",
        ),
        mis(
            "mean_precision_recall",
            lambda p: (p["tp"] / (p["tp"] + p["fp"]) + p["tp"] / (p["tp"] + p["fn"])) / 2,
            "平衡准确率平均的是两类的召回率 (TPR 与 TNR),不是精确率和召回率。",
            "Balanced accuracy averages the two classes' recalls (TPR and TNR), not precision "
            "and recall.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a rare positive class and a classifier that misses some of it."""
        pos = draw.integer("positives", 10, 60)
        neg = draw.integer("negatives", 300, 1500)
        if pos < 4 or neg < 40:
            raise ValueError("need at least 4 positives and 40 negatives")
        tp = draw.free(2, pos - 2)
        fp = draw.free(3, neg // 10)
        return {"tp": tp, "fn": pos - tp, "fp": fp, "tn": neg - fp}

    def answer(self, p: Params) -> Value:
        """Return ``metrics.balanced_accuracy_score``."""
        t, y = _arrays(p["tp"], p["fp"], p["fn"], p["tn"])
        return metrics.balanced_accuracy_score(t, y)

    def prompt(self, p: Params) -> Bilingual:
        """Render the matrix of a rare-class problem."""
        n, pos = p["tp"] + p["fp"] + p["fn"] + p["tn"], p["tp"] + p["fn"]
        return _matrix_prompt(
            p,
            Bilingual(
                zh=f"在 {n} 个样本中只有 {pos} 个正类。分类器的混淆矩阵为:",
                en=f"Only {pos} of {n} samples are positive. The classifier's confusion matrix:",
            ),
            Bilingual(
                zh="它的平衡准确率 (balanced accuracy) 是多少?", en="What is its balanced accuracy?"
            ),
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render TPR, TNR, their mean, and plain accuracy for contrast."""
        tp, fp, fn, tn = p["tp"], p["fp"], p["fn"], p["tn"]
        n = tp + fp + fn + tn
        f = (
            f"$$\\text{{TPR}}={_frac(tp, tp + fn)}\\approx{tp / (tp + fn):.4f},\\quad "
            f"\\text{{TNR}}={_frac(tn, tn + fp)}\\approx{tn / (tn + fp):.4f}$$"
            f"$$\\text{{BA}}=\\frac{{\\text{{TPR}}+\\text{{TNR}}}}{{2}}\\approx{answer:.4f}$$"
        )
        acc = (tp + tn) / n
        return Bilingual(
            zh=f"平衡准确率是每一类召回率的平均,每类权重相同:\n{f}\n"
            f"对比:普通准确率 $={_frac(tp + tn, n)}\\approx{acc:.4f}$,主要由负类决定;"
            "把所有样本都判为负类也能得到很高的准确率,但平衡准确率只有 0.5。",
            en=f"Balanced accuracy averages the recall of each class, every class weighing "
            f"the same:\n{f}\nCompare plain accuracy $={_frac(tp + tn, n)}\\approx{acc:.4f}$, "
            "driven by the negatives; calling everything negative would score high accuracy "
            "but a balanced accuracy of only 0.5.",
        )


@register
class MetricsSpecificity(_RatioTemplate):
    """Specificity or false positive rate from a confusion matrix."""

    id = "metrics.specificity"
    version = 1
    title = Bilingual(zh="特异度与假正率", en="Specificity and false positive rate")
    misconceptions = (
        mis(
            "sensitivity_instead",
            lambda p: p["tp"] / (p["tp"] + p["fn"]),
            "这是灵敏度(召回率)TP/(TP+FN);特异度看的是实际为负的那一行。",
            "That is sensitivity (recall) TP/(TP+FN); specificity looks at the actually "
            "negative row.",
        ),
        mis(
            "complement",
            lambda p: (
                p["fp"] / (p["fp"] + p["tn"])
                if p["asked"] == "specificity"
                else p["tn"] / (p["fp"] + p["tn"])
            ),
            "特异度 TNR = TN/(TN+FP) 与假正率 FPR = FP/(FP+TN) 互补,相加为 1;你算了另一个。",
            "Specificity TNR = TN/(TN+FP) and FPR = FP/(FP+TN) add up to 1; you computed the "
            "other one.",
        ),
        mis(
            "over_predicted",
            lambda p: (
                p["tn"] / (p["tn"] + p["fn"])
                if p["asked"] == "specificity"
                else p["fp"] / (p["fp"] + p["tp"])
            ),
            "分母应是实际为负的样本 (TN + FP),不是预测结果那一列。",
            "The denominator is the actual negatives (TN + FP), not a column of predictions.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the counts and which rate is asked."""
        p = _counts(draw)
        p["asked"] = draw.pick("asked", ("specificity", "fpr"))
        return p

    def answer(self, p: Params) -> Value:
        """Return ``metrics.specificity_score`` (or one minus it for the FPR)."""
        t, y = _arrays(p["tp"], p["fp"], p["fn"], p["tn"])
        spec = float(metrics.specificity_score(t, y))
        return spec if p["asked"] == "specificity" else 1.0 - spec

    def prompt(self, p: Params) -> Bilingual:
        """Render the matrix and the question."""
        if p["asked"] == "specificity":
            q_zh, q_en = "特异度 (specificity, TNR)", "specificity (true negative rate)"
        else:
            q_zh, q_en = "假正率 (FPR)", "false positive rate (FPR)"
        return _matrix_prompt(
            p,
            Bilingual(zh="二分类器的混淆矩阵如下:", en="A binary classifier's confusion matrix:"),
            Bilingual(zh=f"它的{q_zh}是多少?", en=f"What is its {q_en}?"),
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the rate over the actual negatives."""
        fp, tn = p["fp"], p["tn"]
        if p["asked"] == "specificity":
            f = f"$$\\text{{TNR}}=\\frac{{TN}}{{TN+FP}}={_frac(tn, tn + fp)}\\approx{answer:.4f}$$"
        else:
            f = f"$$\\text{{FPR}}=\\frac{{FP}}{{FP+TN}}={_frac(fp, tn + fp)}\\approx{answer:.4f}$$"
        return Bilingual(
            zh=f"两者的分母都是实际为负的样本数 TN + FP,且 TNR + FPR = 1(FPR 是 ROC 曲线的横轴):\n{f}",
            en="Both divide by the actual negatives TN + FP, and TNR + FPR = 1 (FPR is the "
            f"ROC curve's x-axis):\n{f}",
        )


@register
class MetricsConfusionMatrix(_RatioTemplate):
    """Per-class precision or recall from a 3-class confusion matrix."""

    id = "metrics.confusion_matrix"
    version = 1
    title = Bilingual(
        zh="多分类混淆矩阵中的单类指标", en="A class's rate from a multi-class confusion matrix"
    )
    misconceptions = (
        mis(
            "transposed",
            lambda p: MetricsConfusionMatrix._rate(p, transposed=True),
            "行是真实类别、列是预测类别:精确率按列算,召回率按行算,你用反了。",
            "Rows are the true classes and columns the predictions: precision reads a column, "
            "recall a row; you used the other one.",
        ),
        mis(
            "overall_accuracy",
            lambda p: sum(p["m"][i][i] for i in range(3)) / sum(map(sum, p["m"])),
            "这是整体准确率(对角线之和 / 总数),题目问的是单个类别的指标。",
            "That is overall accuracy (diagonal over total); the question asks for one class.",
        ),
        mis(
            "over_errors_only",
            lambda p: MetricsConfusionMatrix._rate(p, errors_only=True),
            "分母要包含对角线上的正确样本:是 TP/(TP+错误数),不是 TP/错误数。",
            "The denominator includes the correct count on the diagonal: TP/(TP + errors), "
            "not TP/errors.",
        ),
    )

    @staticmethod
    def _rate(p: Params, *, transposed: bool = False, errors_only: bool = False) -> float:
        m, c = p["m"], p["c"]
        by_column = (p["asked"] == "precision") != transposed
        line = [m[i][c] for i in range(3)] if by_column else list(m[c])
        total = sum(line) - (m[c][c] if errors_only else 0)
        return float(m[c][c] / total)

    def sample(self, draw: Draw) -> Params:
        """Draw a 3x3 matrix with a heavy diagonal, a class and the rate asked."""
        m = tuple(
            tuple(draw.free(20, 90) if i == j else draw.free(0, 25) for j in range(3))
            for i in range(3)
        )
        c = draw.integer("c", 0, 2)
        if c not in (0, 1, 2):
            raise ValueError(f"the class must be 0, 1 or 2, got {c}")
        return {"m": m, "c": c, "asked": draw.pick("asked", ("precision", "recall"))}

    def answer(self, p: Params) -> Value:
        """Return the class's ``metrics.precision_score`` or ``recall_score`` (average=None)."""
        cells = [(i, j) for i in range(3) for j in range(3)]
        counts = [p["m"][i][j] for i, j in cells]
        y_true = np.repeat([i for i, _ in cells], counts)
        y_pred = np.repeat([j for _, j in cells], counts)
        fn = metrics.precision_score if p["asked"] == "precision" else metrics.recall_score
        return float(fn(y_true, y_pred, average=None, labels=[0, 1, 2])[p["c"]])

    def prompt(self, p: Params) -> Bilingual:
        """Render the matrix."""
        m = p["m"]
        rows = "\n".join(f"| {i} | {m[i][0]} | {m[i][1]} | {m[i][2]} |" for i in range(3))
        name_zh = "精确率" if p["asked"] == "precision" else "召回率"
        return Bilingual(
            zh="三分类器的混淆矩阵如下(行 = 真实类别,列 = 预测类别):\n\n"
            f"| 真实 \\ 预测 | 0 | 1 | 2 |\n|---|---|---|---|\n{rows}\n\n"
            f"类别 {p['c']} 的{name_zh}是多少?{_HINT[0]}",
            en="A 3-class classifier's confusion matrix (rows = true class, columns = "
            f"predicted class):\n\n| true \\ predicted | 0 | 1 | 2 |\n|---|---|---|---|\n{rows}"
            f"\n\nWhat is the {p['asked']} of class {p['c']}? {_HINT[1]}",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the column or row sum."""
        m, c = p["m"], p["c"]
        if p["asked"] == "precision":
            line = [m[i][c] for i in range(3)]
            zh, en = f"第 {c} 列(所有被预测为 {c} 的样本)", f"column {c} (everything predicted {c})"
        else:
            line = list(m[c])
            zh, en = f"第 {c} 行(所有真实为 {c} 的样本)", f"row {c} (everything truly {c})"
        total = "+".join(map(str, line))
        f = f"$$\\frac{{{m[c][c]}}}{{{total}}}={_frac(m[c][c], sum(line))}\\approx{answer:.4f}$$"
        return Bilingual(
            zh=f"一对其余:对角线元素除以{zh}之和:\n{f}",
            en=f"One-vs-rest: the diagonal entry over the sum of {en}:\n{f}",
        )


def _ranked_rows(scores: tuple[float, ...], labels: tuple[int, ...]) -> tuple[str, str]:
    rows = "\n".join(f"| {num(s)} | {y} |" for s, y in zip(scores, labels, strict=True))
    return (
        f"| 分数 | 真实标签 |\n|---|---|\n{rows}",
        f"| score | true label |\n|---|---|\n{rows}",
    )


@register
class MetricsRocAuc(_RatioTemplate):
    """ROC-AUC of a small scored list, by counting ranked pairs."""

    id = "metrics.roc_auc"
    version = 1
    title = Bilingual(zh="小样本的 ROC-AUC", en="ROC-AUC of a small ranked list")
    misconceptions = (
        mis(
            "ties_ignored",
            lambda p: (p["_wins"] / p["_pairs"]) if p["_ties"] else None,
            "分数相同的正负样本对应记 1/2,不是 0。",
            "A positive and a negative with equal scores count one half, not zero.",
        ),
        mis(
            "ties_as_wins",
            lambda p: ((p["_wins"] + p["_ties"]) / p["_pairs"]) if p["_ties"] else None,
            "分数相同的正负样本对应记 1/2,不是 1。",
            "A positive and a negative with equal scores count one half, not one.",
        ),
        mis(
            "reversed_pairs",
            lambda p: 1 - (p["_wins"] + 0.5 * p["_ties"]) / p["_pairs"],
            "AUC 数的是正样本分数高于负样本的对,你数了反过来的对 (1 − AUC)。",
            "AUC counts pairs where the positive outranks the negative; you counted the "
            "opposite pairs (1 − AUC).",
        ),
        mis(
            "all_pairs_denominator",
            lambda p: (p["_wins"] + 0.5 * p["_ties"]) / math.comb(len(p["labels"]), 2),
            "分母是正负样本对的个数 P × N,不是所有样本对 C(n, 2)。",
            "Divide by the number of positive-negative pairs P × N, not by all pairs C(n, 2).",
        ),
        mis(
            "accuracy_at_half",
            lambda p: (
                sum((s >= 0.5) == (y == 1) for s, y in zip(p["scores"], p["labels"], strict=True))
                / len(p["labels"])
            ),
            "AUC 不依赖某个阈值:这是阈值 0.5 下的准确率。",
            "AUC does not depend on one threshold; that is the accuracy at threshold 0.5.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw 2-4 positives and 2-4 negatives with one-decimal scores, sometimes tied."""
        n_pos = draw.integer("positives", 2, 4)
        n_neg = draw.integer("negatives", 2, 4)
        if not (1 <= n_pos <= 20 and 1 <= n_neg <= 20):
            raise ValueError("positives and negatives must each be from 1 to 20")
        pool = [round(0.05 + 0.1 * k, 2) for k in range(10)]
        # A useful classifier: positives take the higher of two draws, negatives the lower.
        scores = [pool[max(draw.index(10), draw.index(10))] for _ in range(n_pos)]
        scores += [pool[min(draw.index(10), draw.index(10))] for _ in range(n_neg)]
        labels = [1] * n_pos + [0] * n_neg
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], labels[i], draw.uniform()))
        s = tuple(scores[i] for i in order)
        y = tuple(labels[i] for i in order)
        pos = [a for a, b in zip(s, y, strict=True) if b == 1]
        neg = [a for a, b in zip(s, y, strict=True) if b == 0]
        wins = sum(a > b for a in pos for b in neg)
        ties = sum(a == b for a in pos for b in neg)
        return {"scores": s, "labels": y, "_wins": wins, "_ties": ties, "_pairs": n_pos * n_neg}

    def answer(self, p: Params) -> Value:
        """Return ``metrics.roc_auc_score``."""
        return metrics.roc_auc_score(list(p["labels"]), list(p["scores"]))

    def prompt(self, p: Params) -> Bilingual:
        """Render the scored list."""
        zh, en = _ranked_rows(p["scores"], p["labels"])
        return Bilingual(
            zh=f"一个二分类器给 {len(p['labels'])} 个样本打分(标签 1 为正类):\n\n{zh}\n\n"
            f"它的 ROC 曲线下面积 (ROC-AUC) 是多少?{_HINT[0]}",
            en=f"A binary classifier scores {len(p['labels'])} samples (label 1 is positive):"
            f"\n\n{en}\n\nWhat is its area under the ROC curve (ROC-AUC)? {_HINT[1]}",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the pair count."""
        w, t, n = p["_wins"], p["_ties"], p["_pairs"]
        tie = f"+\\tfrac12\\cdot{t}" if t else ""
        f = f"$$\\text{{AUC}}=\\frac{{{w}{tie}}}{{{n}}}\\approx{answer:.4f}$$"
        zh_t = f",分数相同的有 {t} 对(各记 1/2)" if t else ",没有分数相同的对"
        en_t = f" and tied in {t} (each counting one half)" if t else "; no pair is tied"
        return Bilingual(
            zh="AUC 等于随机取一个正样本和一个负样本时,正样本分数更高的概率。"
            f"正负样本对共 $P\\times N={n}$ 个,其中正样本更高的有 {w} 对{zh_t}:\n{f}",
            en="AUC is the probability that a random positive scores above a random negative. "
            f"Of the $P\\times N={n}$ positive-negative pairs, the positive is higher in {w}"
            f"{en_t}:\n{f}",
        )


def _precisions(labels: tuple[int, ...]) -> list[float]:
    """Return the precision at each rank of a ranked label list."""
    return [sum(labels[: k + 1]) / (k + 1) for k in range(len(labels))]


@register
class MetricsAveragePrecision(_RatioTemplate):
    """Average precision (scikit-learn's step-wise definition) of a ranked list."""

    id = "metrics.average_precision"
    version = 1
    title = Bilingual(zh="平均精度 AP(排序列表)", en="Average precision of a ranked list")
    misconceptions = (
        mis(
            "trapezoid_pr_auc",
            lambda p: metrics.pr_auc_trapezoid(list(p["labels"]), list(p["scores"])),
            "这是把 PR 曲线的点用直线相连得到的梯形面积;AP 是阶梯求和 Σ(R_k − R_{k−1})·P_k,不做插值。",
            "That is the trapezoid area with straight lines between PR points; AP is the step "
            "sum Σ(R_k − R_{k−1})·P_k, with no interpolation.",
        ),
        mis(
            "interpolated_precision",
            lambda p: MetricsAveragePrecision._interpolated(p),
            "把精度替换成其右侧的最大值是检测中 VOC/COCO 的插值 AP;scikit-learn 的 AP 用每个正样本处的原始精度。",
            "Replacing precision by its running maximum is the detection (VOC/COCO) "
            "interpolated AP; scikit-learn's AP uses the raw precision at each positive.",
        ),
        mis(
            "mean_precision_all_ranks",
            lambda p: float(np.mean(p["_prec"])),
            "只在命中正样本的位置取精度(召回率增加处),不是对所有位置的精度求平均。",
            "Average the precision only at the ranks where a positive is found (where recall "
            "grows), not at every rank.",
        ),
        mis(
            "positive_rate",
            lambda p: sum(p["labels"]) / len(p["labels"]),
            "这是正样本比例,即随机排序时 AP 的期望值,不是这个排序的 AP。",
            "That is the share of positives, the AP a random ranking would get, not this "
            "ranking's AP.",
        ),
    )

    @staticmethod
    def _interpolated(p: Params) -> float:
        ranks = np.arange(1, len(p["labels"]) + 1)
        hits = np.cumsum(p["labels"])
        return detection.ap_voc_allpoint(hits / hits[-1], hits / ranks)

    def sample(self, draw: Draw) -> Params:
        """Draw 6-8 ranked items with 2-4 positives, scores descending."""
        n = draw.integer("items", 6, 8)
        if not 4 <= n <= 10:
            raise ValueError(f"items must be from 4 to 10, got {n}")
        n_pos = draw.free(2, 4)
        positions = sorted(range(n), key=lambda _: draw.uniform())[:n_pos]
        labels = tuple(int(i in positions) for i in range(n))
        scores: list[float] = []
        s = round(0.9 + 0.09 * draw.uniform(), 2)
        for _ in range(n):
            scores.append(s)
            s = round(s - 0.01 * draw.free(3, 15), 2)
        return {"scores": tuple(scores), "labels": labels, "_prec": _precisions(labels)}

    def answer(self, p: Params) -> Value:
        """Return ``metrics.average_precision_score``."""
        if p["scores"][-1] <= 0:
            raise ValueError("scores must stay positive")
        return metrics.average_precision_score(list(p["labels"]), list(p["scores"]))

    def prompt(self, p: Params) -> Bilingual:
        """Render the ranked list."""
        zh, en = _ranked_rows(p["scores"], p["labels"])
        return Bilingual(
            zh=f"一个检索/分类模型按分数从高到低给出 {len(p['labels'])} 个结果(标签 1 为正类):\n\n"
            f"{zh}\n\n按 scikit-learn `average_precision_score` 的定义,AP 是多少?{_HINT[0]}",
            en=f"A model ranks {len(p['labels'])} items by score (label 1 is positive):\n\n{en}"
            "\n\nWhat is the average precision as scikit-learn's `average_precision_score` "
            f"defines it? {_HINT[1]}",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render precision at each hit and the mean."""
        labels = p["labels"]
        n_pos = sum(labels)
        terms = []
        hits = 0
        for k, y in enumerate(labels, start=1):
            if y:
                hits += 1
                terms.append(_frac(hits, k))
        f = (
            f"$$\\text{{AP}}=\\sum_k (R_k-R_{{k-1}})P_k=\\frac{{1}}{{{n_pos}}}\\left("
            + "+".join(terms)
            + f"\\right)\\approx{answer:.4f}$$"
        )
        return Bilingual(
            zh="每找到一个正样本,召回率增加 $1/P$,乘以此时的精度(前 k 个中正样本的比例);"
            f"分数无并列时,AP 就是各正样本位置处精度的平均:\n{f}",
            en="Each positive found raises recall by $1/P$, weighted by the precision at that "
            "rank (positives among the top k); with no tied scores AP is the mean precision at "
            f"the ranks of the positives:\n{f}",
        )


#: Version 2 of the average-precision template ranks 6 to 8 items, 2 to 4 of them positive.
_AP_V2_ITEMS = (6, 8)
_AP_V2_POSITIVES = (2, 4)


@cache
def _ap_v2_labels() -> dict[int, tuple[tuple[int, ...], ...]]:
    """Return, per item count, every label list version 2 of the AP template asks about.

    The candidates are all lists of 6 to 8 labels with 2 to 4 positives; kept are those the
    engine accepts as a variant (:func:`~compute.templates.engine.distinguishable`: the
    interpolated AP, the trapezoid area, the mean precision and the share of positives lie
    outside three tolerance widths of the answer and of each other). With distinct scores every
    value depends on the order of the labels only, so a list kept here is accepted whatever
    descending scores are drawn for it. Built on first use (a few hundredths of a second).
    """
    template = get_template(MetricsAveragePrecision.id, 2)
    low, high = _AP_V2_ITEMS
    lists: dict[int, tuple[tuple[int, ...], ...]] = {}
    for n in range(low, high + 1):
        scores = tuple(round(0.9 - 0.1 * k, 2) for k in range(n))
        kept = []
        for n_pos in range(_AP_V2_POSITIVES[0], _AP_V2_POSITIVES[1] + 1):
            for positions in itertools.combinations(range(n), n_pos):
                labels = tuple(int(i in positions) for i in range(n))
                p = {"scores": scores, "labels": labels, "_prec": _precisions(labels)}
                if distinguishable(template, p):
                    kept.append(labels)
        lists[n] = tuple(kept)
    return lists


@register
class MetricsAveragePrecisionV2(MetricsAveragePrecision):
    """Version 2: the label list is drawn among those whose misconceptions are distinguishable.

    With version 1's random lists 62% of draws were rejected, mostly because the precision at
    the positives never rises (then the interpolated AP equals the answer) or because the share
    of positives met the interpolated AP: a median of 2 draws, 7 at the 95th percentile, each
    repeated when a worker re-grades. Here the labels are drawn uniformly among the admissible
    lists of the drawn length (:func:`_ap_v2_labels`) and the score steps are at most 0.11, so
    the scores stay positive: the first draw of every seed is the variant. The answer, texts
    and misconceptions are version 1's; version 1 stays registered to re-grade the attempts
    pinned to it. An ``items`` constraint outside 6 to 8 falls back to version 1's random draw.
    """

    version = 2

    def sample(self, draw: Draw) -> Params:
        """Draw the item count, one admissible label list, then descending scores."""
        n = draw.integer("items", *_AP_V2_ITEMS)
        if not 4 <= n <= 10:
            raise ValueError(f"items must be from 4 to 10, got {n}")
        lists = _ap_v2_labels().get(n)
        if lists:
            labels = lists[draw.index(len(lists))]
        else:
            n_pos = draw.free(*_AP_V2_POSITIVES)
            positions = sorted(range(n), key=lambda _: draw.uniform())[:n_pos]
            labels = tuple(int(i in positions) for i in range(n))
        scores: list[float] = []
        s = round(0.9 + 0.09 * draw.uniform(), 2)
        for _ in range(n):
            scores.append(s)
            s = round(s - 0.01 * draw.free(3, 11), 2)
        return {"scores": tuple(scores), "labels": labels, "_prec": _precisions(labels)}
