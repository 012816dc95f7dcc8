"""Templates on softmax, classification and regression losses, and vector norms."""

from __future__ import annotations

import math

from compute import activations, losses
from compute.templates.base import AnswerKind, Bilingual, Draw, Params, Template, Tolerance, Value
from compute.templates.engine import register
from compute.templates.fmt import mis, num, nums, tex, vec

__all__ = ["LossBce", "LossCrossEntropy", "LossFocal", "LossSmoothL1", "NormL1L2", "SoftmaxProb"]

_LOSS_TOL = Tolerance(rel=1e-3, abs=1e-4)
_LN10 = math.log(10.0)


def _logits(draw: Draw, n: int) -> list[float]:
    """Return ``n`` distinct logits with one decimal in [-2, 4]."""
    z: list[float] = []
    while len(z) < n:
        v = round(-2.0 + 6.0 * draw.uniform(), 1)
        if v not in z:
            z.append(v)
    return z


_LOG10 = ("交叉熵用自然对数 ln,不是 log10。", "Cross-entropy uses the natural log ln, not log10.")


@register
class SoftmaxProb(Template):
    """One softmax probability."""

    id = "softmax.prob"
    version = 1
    kind = AnswerKind.REAL
    ratio = True
    tolerance = Tolerance(abs=1e-3)
    real_format = ".4f"
    title = Bilingual(zh="Softmax 概率", en="Softmax probability")
    #: Logits are distinct one-decimal values in [-2, 4]: 61 exist, keep well below.
    limits = {"classes": (2, 12)}
    misconceptions = (
        mis(
            "no_exp",
            lambda p: p["z"][p["j"]] / sum(p["z"]) if abs(sum(p["z"])) > 0.05 else None,
            "Softmax 先对每个 logit 取指数再归一化,不是直接除以 logit 之和。",
            "Softmax exponentiates each logit before normalizing; it does not divide raw logits.",
        ),
        mis(
            "sigmoid_of_logit",
            lambda p: float(activations.sigmoid(p["z"][p["j"]])),
            "多分类要在所有类别上归一化;单独对一个 logit 取 sigmoid 不是 softmax。",
            "Multi-class probabilities are normalized over all classes; a lone sigmoid is not "
            "softmax.",
        ),
        mis(
            "not_normalized",
            lambda p: math.exp(p["z"][p["j"]]),
            "还要除以所有类别指数之和。",
            "Divide by the sum of the exponentials of all classes.",
        ),
        mis(
            "hard_max",
            lambda p: 1.0 if p["z"][p["j"]] == max(p["z"]) else 0.0,
            "Softmax 是“软”的:每个类别都有非零概率。",
            "Softmax is soft: every class gets a non-zero probability.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the logits and the class asked about."""
        n = draw.pick("classes", (3, 3, 4, 5))
        return {"z": _logits(draw, n), "j": draw.free(0, n - 1)}

    def answer(self, p: Params) -> Value:
        """Return ``losses.softmax`` at class j."""
        p["_p"] = losses.softmax(p["z"]).tolist()
        return float(p["_p"][p["j"]])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        z, j = vec(p["z"]), p["j"]
        return Bilingual(
            zh=f"某分类网络输出的 logits 为 $z={z}$(类别从 0 开始编号)。经过 softmax 后,类别 {j} "
            "的概率是多少?(保留 3 位以上小数,或填百分数)",
            en=f"A classifier outputs logits $z={z}$ (classes numbered from 0). What is the "
            f"softmax probability of class {j}? (at least 3 decimals, or a percentage)",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the exponentials, their sum and the ratio."""
        z, j = p["z"], p["j"]
        ex = [math.exp(v) for v in z]
        terms = "+".join(f"e^{{{tex(v)}}}" for v in z)
        f = (
            f"$$p_{j}=\\frac{{e^{{z_{j}}}}}{{\\sum_i e^{{z_i}}}}=\\frac{{e^{{{tex(z[j])}}}}}{{{terms}}}"
            f"=\\frac{{{ex[j]:.4f}}}{{{' + '.join(f'{e:.4f}' for e in ex)}}}=\\frac{{{ex[j]:.4f}}}"
            f"{{{sum(ex):.4f}}}\\approx{answer:.4f}$$"
        )
        return Bilingual(
            zh=f"对每个 logit 取指数再归一化:\n{f}",
            en=f"Exponentiate every logit, then normalize:\n{f}",
        )


@register
class LossCrossEntropy(Template):
    """Softmax cross-entropy of one sample."""

    id = "loss.cross_entropy"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _LOSS_TOL
    title = Bilingual(zh="交叉熵损失", en="Cross-entropy loss")
    #: Logits are distinct one-decimal values in [-2, 4]: 61 exist, keep well below.
    limits = {"classes": (2, 12)}
    misconceptions = (
        mis("log10", lambda p: p["_ce"] / _LN10, *_LOG10),
        mis(
            "logit_as_log_prob",
            lambda p: -p["z"][p["t"]],
            "logit 不是对数概率:先做 softmax(或 log-softmax)。",
            "A logit is not a log-probability: apply softmax (or log-softmax) first.",
        ),
        mis(
            "predicted_class",
            lambda p: -math.log(max(p["_p"])) if p["z"][p["t"]] != max(p["z"]) else None,
            "交叉熵取的是真实类别的概率,不是预测(最大)类别的概率。",
            "Cross-entropy uses the probability of the true class, not of the predicted one.",
        ),
        mis(
            "one_minus_p",
            lambda p: 1 - p["_p"][p["t"]],
            "损失是 −ln p_y,不是 1 − p_y。",
            "The loss is −ln p_y, not 1 − p_y.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw logits and the true class."""
        n = draw.pick("classes", (3, 3, 4, 5))
        return {"z": _logits(draw, n), "t": draw.free(0, n - 1)}

    def answer(self, p: Params) -> Value:
        """Return ``losses.cross_entropy``."""
        p["_p"] = losses.softmax(p["z"]).tolist()
        value = float(losses.cross_entropy([p["z"]], [p["t"]]))
        p["_ce"] = value
        return value

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        z, t = vec(p["z"]), p["t"]
        return Bilingual(
            zh=f"一个样本的 logits 为 $z={z}$,真实类别为 {t}(从 0 编号)。PyTorch 的 "
            "`F.cross_entropy` 给出的损失是多少(自然对数)?",
            en=f"One sample has logits $z={z}$ and true class {t} (numbered from 0). What loss "
            "does PyTorch's `F.cross_entropy` give (natural log)?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render log-sum-exp minus the true logit."""
        z, t = p["z"], p["t"]
        lse = math.log(sum(math.exp(v) for v in z))
        f = (
            f"$$L=-\\ln p_y=\\ln\\sum_i e^{{z_i}}-z_y=\\ln({'+'.join(f'e^{{{tex(v)}}}' for v in z)})"
            f"-({tex(z[t])})={lse:.4f}-({tex(z[t])})\\approx{answer:.4g}$$"
            f"$$p_y={p['_p'][t]:.4f}$$"
        )
        return Bilingual(
            zh=f"softmax 后取真实类别概率的负对数:\n{f}",
            en=f"Negative log of the true class's softmax probability:\n{f}",
        )


@register
class LossBce(Template):
    """Binary cross-entropy of a small batch of probabilities."""

    id = "loss.bce"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _LOSS_TOL
    title = Bilingual(zh="二元交叉熵", en="Binary cross-entropy")
    misconceptions = (
        mis(
            "label_ignored",
            lambda p: sum(-math.log(q) for q in p["p"]) / len(p["p"]) if 0 in p["y"] else None,
            "标签为 0 的样本要用 −ln(1 − p),不是 −ln p。",
            "A sample with label 0 contributes −ln(1 − p), not −ln p.",
        ),
        mis(
            "sum_not_mean",
            lambda p: p["_l"] * len(p["p"]) if len(p["p"]) > 1 else None,
            "默认 reduction='mean':要除以样本数。",
            "The default reduction is 'mean': divide by the number of samples.",
        ),
        mis("log10", lambda p: p["_l"] / _LN10, *_LOG10),
        mis(
            "squared_error",
            lambda p: float(losses.mse_loss(p["p"], p["y"])),
            "这是均方误差,不是交叉熵。",
            "That is the mean squared error, not cross-entropy.",
        ),
        mis(
            "labels_flipped",
            lambda p: float(losses.binary_cross_entropy(p["p"], [1 - y for y in p["y"]])),
            "p 是标签为 1 的概率:y=1 时取 −ln p,y=0 时取 −ln(1 − p)。",
            "p is the probability of label 1: y=1 gives −ln p, y=0 gives −ln(1 − p).",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw 1 to 3 probabilities and labels."""
        n = draw.pick("samples", (1, 2, 2, 3))
        return {
            "p": [round(0.05 + 0.9 * draw.uniform(), 2) for _ in range(n)],
            "y": [draw.free(0, 1) for _ in range(n)],
        }

    def answer(self, p: Params) -> Value:
        """Return ``losses.binary_cross_entropy`` (mean)."""
        value = float(losses.binary_cross_entropy(p["p"], p["y"]))
        p["_l"] = value
        return value

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        ps, ys = vec(p["p"]), vec(p["y"])
        return Bilingual(
            zh=f"模型对 {len(p['p'])} 个样本预测为正类的概率为 $p={ps}$,真实标签为 $y={ys}$。"
            "`nn.BCELoss()`(默认取平均)的值是多少?",
            en=f"A model predicts positive-class probabilities $p={ps}$ for {len(p['p'])} "
            f"sample(s) with labels $y={ys}$. What does `nn.BCELoss()` (mean reduction) give?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render each term and the mean."""
        terms = []
        for q, y in zip(p["p"], p["y"], strict=True):
            terms.append(f"-\\ln {num(q)}" if y == 1 else f"-\\ln(1-{num(q)})")
        vals = [
            -math.log(q) if y == 1 else -math.log(1 - q)
            for q, y in zip(p["p"], p["y"], strict=True)
        ]
        n = len(vals)
        f = (
            f"$$L=\\frac{{1}}{{{n}}}\\left[{' '.join(terms)}\\right]=\\frac{{1}}{{{n}}}"
            f"\\left[{' + '.join(f'{v:.4f}' for v in vals)}\\right]\\approx{answer:.4g}$$"
        )
        return Bilingual(
            zh=f"$\\ell=-[y\\ln p+(1-y)\\ln(1-p)]$,再取平均:\n{f}",
            en=f"$\\ell=-[y\\ln p+(1-y)\\ln(1-p)]$, averaged:\n{f}",
        )


@register
class LossFocal(Template):
    """Focal loss of one prediction (Lin et al.)."""

    id = "loss.focal"
    version = 1
    kind = AnswerKind.REAL
    tolerance = Tolerance(rel=1e-3, abs=1e-6)
    title = Bilingual(zh="Focal Loss", en="Focal loss")
    misconceptions = (
        mis(
            "plain_cross_entropy",
            lambda p: -math.log(p["_pt"]),
            "Focal loss 还要乘以 α_t 和调制因子 (1 − p_t)^γ。",
            "Focal loss multiplies by α_t and the modulating factor (1 − p_t)^γ.",
        ),
        mis(
            "alpha_not_flipped",
            lambda p: p["_fl"] * p["alpha"] / (1 - p["alpha"]) if p["y"] == 0 else None,
            "负样本的权重是 1 − α,不是 α。",
            "A negative sample is weighted by 1 − α, not α.",
        ),
        mis(
            "modulating_with_pt",
            lambda p: -p["_at"] * p["_pt"] ** p["gamma"] * math.log(p["_pt"]),
            "调制因子是 (1 − p_t)^γ:分得越好(p_t 越大)的样本权重越小。",
            "The modulating factor is (1 − p_t)^γ: the better classified, the smaller the weight.",
        ),
        mis(
            "alpha_forgotten",
            lambda p: p["_fl"] / p["_at"],
            "别忘了平衡因子 α_t。",
            "Do not forget the balancing factor α_t.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the probability, label, alpha and gamma."""
        return {
            "p": draw.real("p", 0.05, 0.95, 2),
            "y": draw.pick("target", (0, 1)),
            "alpha": draw.pick("alpha", (0.25, 0.25, 0.75)),
            "gamma": draw.pick("gamma", (1, 2, 2, 2, 3, 5)),
        }

    def answer(self, p: Params) -> Value:
        """Return ``losses.focal_loss_from_probability``."""
        p["_pt"] = p["p"] if p["y"] == 1 else round(1 - p["p"], 2)
        p["_at"] = p["alpha"] if p["y"] == 1 else 1 - p["alpha"]
        value = losses.focal_loss_from_probability(p["p"], p["y"], p["alpha"], p["gamma"])
        p["_fl"] = value
        return value

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        q, y, a, g = num(p["p"]), p["y"], num(p["alpha"]), p["gamma"]
        return Bilingual(
            zh=f"检测器对一个样本预测为正类的概率为 $p={q}$,真实标签 $y={y}$。用 Focal Loss "
            f"$FL=-\\alpha_t(1-p_t)^\\gamma\\ln p_t$,$\\alpha={a}$(正类权重,负类为 $1-\\alpha$),"
            f"$\\gamma={g}$。损失是多少?",
            en=f"A detector predicts positive-class probability $p={q}$ for a sample with label "
            f"$y={y}$. With focal loss $FL=-\\alpha_t(1-p_t)^\\gamma\\ln p_t$, $\\alpha={a}$ "
            f"(weight of positives; negatives get $1-\\alpha$) and $\\gamma={g}$, what is the "
            "loss?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render p_t, alpha_t and the product."""
        pt, at, g = p["_pt"], p["_at"], p["gamma"]
        f = (
            f"$$p_t={num(pt)},\\ \\alpha_t={num(at)},\\ (1-p_t)^\\gamma={num(round(1 - pt, 2))}^{g}"
            f"={(1 - pt) ** g:.4g},\\ -\\ln p_t={-math.log(pt):.4f}$$"
            f"$$FL={num(at)}\\cdot{(1 - pt) ** g:.4g}\\cdot{-math.log(pt):.4f}\\approx{answer:.4g}$$"
        )
        return Bilingual(
            zh=f"$y=1$ 时 $p_t=p,\\ \\alpha_t=\\alpha$;$y=0$ 时 $p_t=1-p,\\ \\alpha_t=1-\\alpha$:\n{f}",
            en=f"For $y=1$: $p_t=p,\\ \\alpha_t=\\alpha$; for $y=0$: $p_t=1-p,\\ \\alpha_t=1-\\alpha$:"
            f"\n{f}",
        )


@register
class LossSmoothL1(Template):
    """Smooth L1 loss of a short regression vector."""

    id = "loss.smooth_l1"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _LOSS_TOL
    title = Bilingual(zh="Smooth L1 损失", en="Smooth L1 loss")
    misconceptions = (
        mis(
            "l1",
            lambda p: float(losses.l1_loss(p["x"], p["t"])),
            "|d| < β 的部分用二次项 0.5 d²/β,其余用 |d| − 0.5β。",
            "Where |d| < β the loss is quadratic, 0.5 d²/β; elsewhere |d| − 0.5β.",
        ),
        mis(
            "mse",
            lambda p: float(losses.mse_loss(p["x"], p["t"])),
            "这是均方误差;Smooth L1 对大误差是线性的。",
            "That is the mean squared error; smooth L1 is linear for large errors.",
        ),
        mis(
            "sum_not_mean",
            lambda p: p["_l"] * len(p["x"]),
            "默认 reduction='mean':要除以元素个数。",
            "The default reduction is 'mean': divide by the number of elements.",
        ),
        mis(
            "beta_ignored",
            lambda p: float(losses.smooth_l1_loss(p["x"], p["t"])) if p["beta"] != 1.0 else None,
            "分段点和二次项都用 β,不是固定的 1。",
            "Both the breakpoint and the quadratic term use β, not a fixed 1.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw predictions, targets and beta."""
        n = draw.pick("size", (3, 4))
        return {
            "x": [round(-2.0 + 4.0 * draw.uniform(), 1) for _ in range(n)],
            "t": [round(-2.0 + 4.0 * draw.uniform(), 1) for _ in range(n)],
            "beta": draw.pick("beta", (1.0, 1.0, 0.5, 2.0)),
        }

    def answer(self, p: Params) -> Value:
        """Return ``losses.smooth_l1_loss`` (mean)."""
        value = float(losses.smooth_l1_loss(p["x"], p["t"], p["beta"]))
        p["_l"] = value
        return value

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        x, t, b = vec(p["x"]), vec(p["t"]), num(p["beta"])
        return Bilingual(
            zh=f"预测 $x={x}$,目标 $t={t}$。`F.smooth_l1_loss(x, t, beta={b})`(默认取平均)的值是多少?",
            en=f"Prediction $x={x}$, target $t={t}$. What is `F.smooth_l1_loss(x, t, beta={b})` "
            "(mean reduction)?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render each element's piece and the mean."""
        beta = p["beta"]
        parts = []
        for x, t in zip(p["x"], p["t"], strict=True):
            d = abs(round(x - t, 1))
            v = 0.5 * d * d / beta if d < beta else d - 0.5 * beta
            parts.append((d, v))
        rows = ", ".join(f"|d|={num(d)}\\to{v:.4g}" for d, v in parts)
        n = len(parts)
        f = (
            f"$$\\ell(d)=\\begin{{cases}}0.5\\,d^2/\\beta & |d|<\\beta\\\\ |d|-0.5\\,\\beta & "
            f"\\text{{otherwise}}\\end{{cases}},\\quad \\beta={num(beta)}$$"
            f"$${rows}$$$$L=\\frac{{1}}{{{n}}}({' + '.join(f'{v:.4g}' for _, v in parts)})"
            f"\\approx{answer:.4g}$$"
        )
        return Bilingual(
            zh=f"逐元素计算 $d=x-t$,再取平均:\n{f}",
            en=f"Element-wise on $d=x-t$, then the mean:\n{f}",
        )


@register
class NormL1L2(Template):
    """L1 or L2 norm of a weight vector."""

    id = "norm.l1_l2"
    version = 1
    kind = AnswerKind.REAL
    tolerance = Tolerance(rel=1e-3, abs=1e-4)
    title = Bilingual(zh="L1 / L2 范数", en="L1 / L2 norm")
    misconceptions = (
        mis(
            "signed_sum",
            lambda p: float(sum(p["w"])) if p["norm"] == "l1" else None,
            "L1 范数对绝对值求和,负数也要取正。",
            "The L1 norm sums absolute values.",
        ),
        mis(
            "other_norm",
            lambda p: losses.l2_norm(p["w"]) if p["norm"] == "l1" else losses.l1_norm(p["w"]),
            "L1 是绝对值之和,L2 是平方和再开方。",
            "L1 sums absolute values; L2 is the square root of the sum of squares.",
        ),
        mis(
            "squared_l2",
            lambda p: float(sum(v * v for v in p["w"])) if p["norm"] == "l2" else None,
            "L2 范数要对平方和开方(平方和是 L2 正则项常用的形式)。",
            "The L2 norm takes the square root of the sum of squares (the squared norm is what "
            "L2 regularization usually adds).",
        ),
        mis(
            "max_abs",
            lambda p: float(max(abs(v) for v in p["w"])),
            "这是无穷范数(最大绝对值)。",
            "That is the infinity norm (largest absolute value).",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a short integer vector and which norm."""
        given: list[int] | None = draw.pick("vector", (None,), like=((-5, 0, 5, 5, 5),))
        if given is None:
            n = draw.pick("size", (3, 3, 4, 5))
            w = [draw.free(-5, 5) for _ in range(n)]
        else:
            w = list(given)
        return {"w": w, "norm": draw.pick("norm", ("l1", "l2"))}

    def answer(self, p: Params) -> Value:
        """Return ``losses.l1_norm`` or ``losses.l2_norm``."""
        return losses.l1_norm(p["w"]) if p["norm"] == "l1" else losses.l2_norm(p["w"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        w, name = vec(p["w"]), p["norm"].upper()
        return Bilingual(
            zh=f"权重向量 $w={w}$ 的 {name} 范数是多少?",
            en=f"What is the {name} norm of the weight vector $w={w}$?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the sum of absolute values or the root of the sum of squares."""
        w = p["w"]
        if p["norm"] == "l1":
            f = f"$$\\|w\\|_1=\\sum_i|w_i|={' + '.join(f'|{v}|' for v in w)}={answer:.4g}$$"
        else:
            sq = sum(v * v for v in w)
            f = (
                f"$$\\|w\\|_2=\\sqrt{{\\sum_i w_i^2}}=\\sqrt{{{' + '.join(f'({v})^2' for v in w)}}}"
                f"=\\sqrt{{{sq}}}\\approx{answer:.4g}$$"
            )
        return Bilingual(zh=f + f"\n(向量:{nums(w)})", en=f + f"\n(vector: {nums(w)})")
