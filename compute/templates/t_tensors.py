"""Templates on tensor shapes and on reading training curves."""

from __future__ import annotations

from functools import lru_cache

from compute import diagnostics, tensors
from compute.templates.base import AnswerKind, Bilingual, Draw, Params, Template, Value
from compute.templates.engine import register
from compute.templates.fmt import mis

__all__ = ["FitDiagnosisChoice", "TensorMatmulShape"]

_DIMS = (1, 3, 4, 5, 8, 10, 16, 32, 64, 128, 256)
# Memoized on the matrix part and the batch part separately, which keeps both caches small; the
# tests check the sum against tensors.matmul_shape on the full shapes.
_matrix_product = lru_cache(maxsize=4096)(tensors.matmul_shape)
_batch_broadcast = lru_cache(maxsize=4096)(tensors.broadcast_shape)


def _swap_last(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (*shape[:-2], shape[-1], shape[-2])


@register
class TensorMatmulShape(Template):
    """Result shape of ``A @ B`` (NumPy / PyTorch matmul rules)."""

    id = "tensor.matmul_shape"
    version = 1
    kind = AnswerKind.TUPLE
    title = Bilingual(zh="矩阵乘法的形状", en="Shape of a matrix product")
    misconceptions = (
        mis(
            "transposed",
            lambda p: _swap_last(p["_out"]) if p["n"] != p["m"] else None,
            "结果的形状是 (A 的行数, B 的列数)。",
            "The result is (rows of A, columns of B).",
        ),
        mis(
            "left_shape",
            lambda p: (*p["_out"][:-1], p["k"]) if p["k"] != p["m"] else None,
            "被求和消去的是公共维度 k,结果的最后一维来自 B。",
            "The shared dimension k is summed away; the last axis comes from B.",
        ),
        mis(
            "right_shape",
            lambda p: (*p["_out"][:-2], p["k"], p["m"]) if p["k"] != p["n"] else None,
            "结果的行数来自 A,不是公共维度 k。",
            "The rows come from A, not from the shared k.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw n, k, m and an optional batch layout."""
        n, k, m = (draw.pick(name, _DIMS) for name in ("n", "k", "m"))
        layout = draw.pick("layout", ("2d", "2d", "batch_left", "batch_both", "broadcast"))
        b = draw.pick("batch", (2, 8, 16, 32))
        a: tuple[int, ...]
        bb: tuple[int, ...]
        if layout == "2d":
            a, bb = (n, k), (k, m)
        elif layout == "batch_left":
            a, bb = (b, n, k), (k, m)
        elif layout == "batch_both":
            a, bb = (b, n, k), (b, k, m)
        else:
            a, bb = (b, 1, n, k), (draw.pick("heads", (3, 4, 8)), k, m)
        return {"n": n, "k": k, "m": m, "a": a, "b": bb}

    def answer(self, p: Params) -> Value:
        """Return ``tensors.matmul_shape`` (batch axes broadcast, then the matrix product)."""
        a, b = p["a"], p["b"]
        out = _batch_broadcast(a[:-2], b[:-2]) + _matrix_product(a[-2:], b[-2:])
        p["_out"] = out
        return out

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        a = "(" + ", ".join(str(d) for d in p["a"]) + ")"
        b = "(" + ", ".join(str(d) for d in p["b"]) + ")"
        return Bilingual(
            zh=f"NumPy 数组 `A` 的形状为 ${a}$,`B` 的形状为 ${b}$。`A @ B` 的形状是什么?",
            en=f"NumPy array `A` has shape ${a}$ and `B` has shape ${b}$. What is the shape of "
            "`A @ B`?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the contraction and the batch broadcast."""
        a, b, n, k, m = p["a"], p["b"], p["n"], p["k"], p["m"]
        out = "(" + ", ".join(str(d) for d in p["_out"]) + ")"
        batch_zh = batch_en = ""
        if len(a) > 2 or len(b) > 2:
            batch_zh = f"前面的批维度 {a[:-2]} 与 {b[:-2]} 按广播规则合并。"
            batch_en = f"The leading batch axes {a[:-2]} and {b[:-2]} broadcast together. "
        f = f"$$({n}\\times{k})\\,@\\,({k}\\times{m})\\to({n}\\times{m})$$"
        return Bilingual(
            zh=f"最后两维做矩阵乘法,公共维度 $k={k}$ 被求和消去:\n{f}\n{batch_zh}结果形状 ${out}$。",
            en=f"The last two axes are multiplied and the shared $k={k}$ is summed away:\n{f}\n"
            f"{batch_en}The result has shape ${out}$.",
        )


_LABELS = (
    ("underfitting", Bilingual(zh="高偏差(欠拟合)", en="High bias (underfitting)")),
    ("overfitting", Bilingual(zh="高方差(过拟合)", en="High variance (overfitting)")),
    (
        "underfitting_and_overfitting",
        Bilingual(zh="高偏差且高方差", en="Both high bias and high variance"),
    ),
    ("good_fit", Bilingual(zh="偏差和方差都低", en="Low bias and low variance")),
)


def _labels(high_bias: bool, high_variance: bool) -> str:
    return {
        (True, True): "underfitting_and_overfitting",
        (True, False): "underfitting",
        (False, True): "overfitting",
        (False, False): "good_fit",
    }[(high_bias, high_variance)]


def _flags(label: str) -> tuple[bool, bool]:
    return (
        label in ("underfitting", "underfitting_and_overfitting"),
        label in ("overfitting", "underfitting_and_overfitting"),
    )


@register
class FitDiagnosisChoice(Template):
    """Diagnose bias and variance from training and validation error (a choice question)."""

    id = "fit.diagnosis"
    version = 1
    kind = AnswerKind.CHOICE
    choices = _LABELS
    title = Bilingual(zh="偏差与方差诊断", en="Bias and variance diagnosis")
    misconceptions = (
        mis(
            "bias_variance_swapped",
            lambda p: {"underfitting": "overfitting", "overfitting": "underfitting"}.get(
                p["_label"]
            ),
            "训练误差本身高说明偏差高;验证误差比训练误差高出很多说明方差高。",
            "A high training error means high bias; a validation error far above the training "
            "error means high variance.",
        ),
        mis(
            "variance_missed",
            lambda p: _labels(_flags(p["_label"])[0], False) if _flags(p["_label"])[1] else None,
            "验证误差与训练误差的差距(方差)也要看。",
            "Also look at the gap between validation and training error (the variance).",
        ),
        mis(
            "bias_missed",
            lambda p: _labels(False, _flags(p["_label"])[1]) if _flags(p["_label"])[0] else None,
            "训练误差本身就高(远高于基准误差),这是高偏差。",
            "The training error itself is high (far above the baseline): that is high bias.",
        ),
        mis(
            "bias_imagined",
            lambda p: _labels(True, _flags(p["_label"])[1]) if not _flags(p["_label"])[0] else None,
            "训练误差接近基准误差,偏差并不高。",
            "The training error is close to the baseline: the bias is not high.",
        ),
        mis(
            "variance_imagined",
            lambda p: _labels(_flags(p["_label"])[0], True) if not _flags(p["_label"])[1] else None,
            "验证误差只比训练误差略高,方差并不高。",
            "The validation error is only slightly above the training error: the variance is "
            "not high.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw training and validation error in percent."""
        train = draw.pick("train_error", (0.5, 1.0, 1.5, 5.0, 8.0, 12.0, 15.0, 20.0))
        gap = draw.pick("gap", (0.5, 1.0, 1.5, 6.0, 10.0, 15.0))
        return {"train": train, "val": round(train + gap, 1)}

    def answer(self, p: Params) -> Value:
        """Return the label of ``diagnostics.diagnose_fit`` (baseline 0)."""
        label = str(diagnostics.diagnose_fit(p["train"] / 100, p["val"] / 100).label)
        p["_label"] = label
        return label

    def format_value(self, value: Value) -> str:
        """Render a choice key as its English text."""
        for key, text in self.choices:
            if key == value:
                return text.en
        return super().format_value(value)

    def prompt(self, p: Params) -> Bilingual:
        """Render the question with the options."""
        tr, va = p["train"], p["val"]
        opts_zh = "\n".join(f"{chr(65 + i)}. {t.zh}" for i, (_, t) in enumerate(self.choices))
        opts_en = "\n".join(f"{chr(65 + i)}. {t.en}" for i, (_, t) in enumerate(self.choices))
        return Bilingual(
            zh=f"人类在这个任务上的误差约为 0%。模型的训练误差为 {tr}%,验证误差为 {va}%。"
            f"应如何诊断?(差距超过 2 个百分点算“高”)\n\n{opts_zh}",
            en=f"Humans make about 0% error on this task. A model has {tr}% training error and "
            f"{va}% validation error. What is the diagnosis? (a gap above 2 percentage points "
            f"counts as high)\n\n{opts_en}",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the two gaps."""
        tr, va = p["train"], p["val"]
        text = dict(self.choices)[str(answer)]
        return Bilingual(
            zh=f"可避免偏差 = 训练误差 − 基准误差 = {tr}% − 0% = {tr}%;方差 = 验证误差 − 训练误差 = "
            f"{va}% − {tr}% = {round(va - tr, 1)}%。结论:{text.zh}。",
            en=f"Avoidable bias = training − baseline = {tr}% − 0% = {tr}%; variance = "
            f"validation − training = {va}% − {tr}% = {round(va - tr, 1)}%. Diagnosis: "
            f"{text.en}.",
        )
