"""Templates on training mechanics: activation gradients, BatchNorm, dropout, init, optimizers."""

from __future__ import annotations

import math

import numpy as np

from compute import activations, normalization, optim
from compute.templates.base import AnswerKind, Bilingual, Draw, Params, Template, Tolerance, Value
from compute.templates.engine import register
from compute.templates.fmt import mis, num, tex, vec

__all__ = [
    "ActSigmoidGrad",
    "BnNormalize",
    "DropoutInverted",
    "GradChain",
    "InitVariance",
    "OptimAdam",
    "OptimSgdMomentum",
]

_REL = Tolerance(rel=1e-3, abs=1e-6)


def _paren(x: float) -> str:
    """Return ``x`` to 4 significant figures, in parentheses when negative (``a-(-0.075)``)."""
    text = f"{x:.4g}"
    return f"({text})" if x < 0 else text


def _nonzero(draw: Draw, low: float, high: float) -> float:
    """Return a non-zero real with one decimal in [low, high]."""
    while True:
        v = round(low + (high - low) * draw.uniform(), 1)
        if v != 0:
            return v


@register
class ActSigmoidGrad(Template):
    """Derivative of the sigmoid at a point."""

    id = "act.sigmoid_grad"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _REL
    title = Bilingual(zh="Sigmoid 的导数", en="Derivative of the sigmoid")
    misconceptions = (
        mis(
            "sigmoid_value",
            lambda p: float(activations.sigmoid(p["x"])),
            "这是 σ(x) 本身;导数是 σ(x)(1 − σ(x))。",
            "That is σ(x) itself; the derivative is σ(x)(1 − σ(x)).",
        ),
        mis(
            "formula_on_x",
            lambda p: p["x"] * (1 - p["x"]),
            "公式 σ(1 − σ) 里代入的是 σ(x),不是 x。",
            "Plug σ(x), not x, into σ(1 − σ).",
        ),
        mis(
            "one_minus_sigmoid",
            lambda p: 1 - float(activations.sigmoid(p["x"])),
            "少乘了一个 σ(x):导数是 σ(x)(1 − σ(x))。",
            "A factor σ(x) is missing: the derivative is σ(x)(1 − σ(x)).",
        ),
        mis(
            "always_quarter",
            lambda p: 0.25,
            "0.25 只是最大值(在 x = 0 处取得)。",
            "0.25 is only the maximum, reached at x = 0.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw x with one decimal."""
        return {"x": draw.real("x", -4.0, 4.0, 1)}

    def answer(self, p: Params) -> Value:
        """Return ``activations.sigmoid_grad``."""
        return float(activations.sigmoid_grad(p["x"]))

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        x = tex(p["x"])
        return Bilingual(
            zh=f"Sigmoid 函数 $\\sigma(x)=1/(1+e^{{-x}})$ 在 $x={x}$ 处的导数是多少?",
            en=f"What is the derivative of the sigmoid $\\sigma(x)=1/(1+e^{{-x}})$ at $x={x}$?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render sigma and sigma (1 - sigma)."""
        x = tex(p["x"])
        s = float(activations.sigmoid(p["x"]))
        f = (
            f"$$\\sigma({x})=\\frac{{1}}{{1+e^{{-({x})}}}}\\approx{s:.4f},\\qquad \\sigma'({x})="
            f"\\sigma(1-\\sigma)\\approx{s:.4f}\\cdot{1 - s:.4f}\\approx{answer:.4g}$$"
        )
        return Bilingual(
            zh=f"$\\sigma'(x)=\\sigma(x)(1-\\sigma(x))$,最大值 0.25(在 0 处):\n{f}",
            en=f"$\\sigma'(x)=\\sigma(x)(1-\\sigma(x))$, at most 0.25 (at 0):\n{f}",
        )


@register
class GradChain(Template):
    """Gradient scale after many layers (vanishing and exploding gradients)."""

    id = "grad.chain"
    version = 1
    kind = AnswerKind.REAL
    tolerance = Tolerance(rel=1e-3)
    title = Bilingual(zh="梯度消失与爆炸", en="Vanishing and exploding gradients")
    misconceptions = (
        mis(
            "additive",
            lambda p: p["f"] * p["n"],
            "链式法则是逐层相乘,不是相加。",
            "The chain rule multiplies per layer; it does not add.",
        ),
        mis(
            "off_by_one",
            lambda p: p["f"] ** (p["n"] - 1),
            "每一层都贡献一个因子,共 n 个。",
            "Every layer contributes one factor: n of them.",
        ),
        mis(
            "base_and_exponent_swapped",
            lambda p: p["n"] ** p["f"],
            "是因子的 n 次方 f^n,不是 n^f。",
            "It is the factor to the n-th power, f^n, not n^f.",
        ),
        mis(
            "one_extra_factor",
            lambda p: p["f"] ** (p["n"] + 1),
            "只有 n 层,每层一个因子。",
            "There are n layers, one factor each.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the per-layer factor and the depth."""
        return {
            "f": draw.pick("factor", (0.25, 0.5, 0.8, 0.9, 1.1, 1.2, 1.5, 2.0)),
            "n": draw.pick("layers", (5, 8, 10, 16, 20, 30, 50)),
        }

    def answer(self, p: Params) -> Value:
        """Return ``activations.gradient_through_layers``."""
        return activations.gradient_through_layers(p["f"], p["n"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        f, n = tex(p["f"]), p["n"]
        return Bilingual(
            zh=f"反向传播时,梯度每经过一层都乘以同一个因子 ${f}$(局部导数与权重的乘积)。经过 {n} "
            "层后,梯度变为原来的多少倍?(可用科学计数法,如 1.5e-3)",
            en=f"During backpropagation every layer multiplies the gradient by the same factor "
            f"${f}$ (local derivative times weight). After {n} layers, by what factor has the "
            "gradient been scaled? (scientific notation such as 1.5e-3 is fine)",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render f^n."""
        f, n = tex(p["f"]), p["n"]
        f_ = f"$${f}^{{{n}}}\\approx{answer:.4g}$$"
        zh = "梯度消失" if p["f"] < 1 else "梯度爆炸"
        en = "vanishes" if p["f"] < 1 else "explodes"
        return Bilingual(
            zh=f"链式法则把每层的因子相乘:\n{f_}\n因子 {'<' if p['f'] < 1 else '>'} 1,{zh}。",
            en=f"The chain rule multiplies one factor per layer:\n{f_}\nThe factor is "
            f"{'<' if p['f'] < 1 else '>'} 1, so the gradient {en}.",
        )


@register
class BnNormalize(Template):
    """One output of BatchNorm in training mode."""

    id = "bn.normalize"
    version = 1
    kind = AnswerKind.REAL
    tolerance = Tolerance(rel=1e-3, abs=1e-3)
    title = Bilingual(zh="BatchNorm 前向计算", en="BatchNorm forward pass")
    misconceptions = (
        mis(
            "unbiased_variance",
            lambda p: p["_xhat_u"] * p["g"] + p["b"],
            "训练时归一化用的是有偏方差(除以 N);无偏方差只用于更新 running_var。",
            "Training normalizes with the biased variance (divide by N); the unbiased one only "
            "updates running_var.",
        ),
        mis(
            "affine_forgotten",
            lambda p: p["_xhat"],
            "归一化之后还要做缩放和平移:y = γ·x̂ + β。",
            "After normalizing, scale and shift: y = γ·x̂ + β.",
        ),
        mis(
            "divided_by_variance",
            lambda p: (p["x"][p["i"]] - p["_mu"]) / (p["_var"] + 1e-5) * p["g"] + p["b"],
            "要除以标准差 √(σ² + ε),不是方差。",
            "Divide by the standard deviation √(σ² + ε), not by the variance.",
        ),
        mis(
            "mean_not_subtracted",
            lambda p: p["x"][p["i"]] / math.sqrt(p["_var"] + 1e-5) * p["g"] + p["b"],
            "先减去均值再除以标准差。",
            "Subtract the mean before dividing by the std.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a mini-batch of 4 values for one channel, gamma, beta and the element asked."""
        x: list[float] = []
        while len(x) < 4:
            v = round(-3.0 + 8.0 * draw.uniform(), 1)
            if v not in x:
                x.append(v)
        return {
            "x": x,
            "g": draw.real("gamma", 0.5, 2.0, 1),
            "b": draw.real("beta", -1.0, 1.0, 1),
            "i": draw.free(0, 3),
        }

    def answer(self, p: Params) -> Value:
        """Return ``normalization.batch_norm_train`` at element i."""
        x = np.array(p["x"]).reshape(4, 1)
        y, _, _ = normalization.batch_norm_train(x, [p["g"]], [p["b"]], [0.0], [1.0])
        xs = p["x"]
        mu = sum(xs) / 4
        var = sum((v - mu) ** 2 for v in xs) / 4
        p["_mu"], p["_var"] = mu, var
        p["_xhat"] = (xs[p["i"]] - mu) / math.sqrt(var + 1e-5)
        p["_xhat_u"] = (xs[p["i"]] - mu) / math.sqrt(var * 4 / 3 + 1e-5)
        return float(y[p["i"], 0])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        x, g, b, i = vec(p["x"]), tex(p["g"]), tex(p["b"]), p["i"]
        return Bilingual(
            zh=f"BatchNorm 处于训练模式,某个通道在一个 mini-batch 中的 4 个值为 $x={x}$,"
            f"$\\gamma={g}$,$\\beta={b}$,$\\epsilon=10^{{-5}}$。第 {i} 个值(从 0 编号)的输出 $y$ 是"
            "多少?",
            en=f"BatchNorm in training mode sees 4 values $x={x}$ of one channel in a mini-batch,"
            f" with $\\gamma={g}$, $\\beta={b}$, $\\epsilon=10^{{-5}}$. What is the output $y$ for "
            f"value {i} (numbered from 0)?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render mean, biased variance, x-hat and y."""
        xi = tex(p["x"][p["i"]])
        f = (
            f"$$\\mu=\\frac{{1}}{{4}}\\sum x={p['_mu']:.4g},\\quad \\sigma^2=\\frac{{1}}{{4}}\\sum"
            f"(x-\\mu)^2={p['_var']:.4g}$$"
            f"$$\\hat x=\\frac{{{xi}-{_paren(p['_mu'])}}}{{\\sqrt{{{p['_var']:.4g}+10^{{-5}}}}}}\\approx"
            f"{p['_xhat']:.4f},\\quad y=\\gamma\\hat x+\\beta={tex(p['g'])}\\cdot({p['_xhat']:.4f})"
            f"+({tex(p['b'])})\\approx{answer:.4g}$$"
        )
        return Bilingual(
            zh=f"训练模式用当前 batch 的均值和有偏方差:\n{f}",
            en=f"Training mode uses the batch mean and biased variance:\n{f}",
        )


@register
class DropoutInverted(Template):
    """Output of a kept unit under inverted dropout."""

    id = "dropout.inverted"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _REL
    title = Bilingual(zh="Inverted Dropout", en="Inverted dropout")
    misconceptions = (
        mis(
            "times_keep_prob",
            lambda p: p["a"] * (1 - p["p"]),
            "乘 (1 − p) 是普通 dropout 在测试时的做法;inverted dropout 在训练时除以 (1 − p)。",
            "Multiplying by (1 − p) is plain dropout at test time; inverted dropout divides by "
            "(1 − p) during training.",
        ),
        mis(
            "divide_by_p",
            lambda p: p["a"] / p["p"],
            "p 是丢弃的概率,保留概率是 1 − p。",
            "p is the drop probability; the keep probability is 1 − p.",
        ),
        mis(
            "unscaled",
            lambda p: p["a"],
            "inverted dropout 会把保留下来的单元放大 1/(1 − p),使期望不变。",
            "Inverted dropout scales kept units by 1/(1 − p) so the expectation is unchanged.",
        ),
        mis(
            "times_p",
            lambda p: p["a"] * p["p"],
            "保留的单元要除以保留概率 1 − p,而不是乘 p。",
            "Divide a kept unit by the keep probability 1 − p; do not multiply by p.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the activation and the drop probability."""
        return {
            "a": draw.real("activation", 0.5, 5.0, 1),
            "p": draw.pick("p", (0.1, 0.2, 0.25, 0.3, 0.4, 0.6, 0.75, 0.8)),
        }

    def answer(self, p: Params) -> Value:
        """Return a times ``normalization.dropout_scale``."""
        a: float = p["a"]
        return a * normalization.dropout_scale(p["p"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        a = tex(p["a"])
        return Bilingual(
            zh=f"训练时使用 inverted dropout(`nn.Dropout(p={num(p['p'])})`,p 为丢弃概率)。某个"
            f"单元的激活值为 ${a}$,且这次它被保留。该单元的输出是多少?",
            en=f"Training uses inverted dropout (`nn.Dropout(p={num(p['p'])})`, p is the drop "
            f"probability). A unit has activation ${a}$ and is kept this time. What does it output?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render a / (1 - p)."""
        a, q = tex(p["a"]), tex(p["p"])
        f = f"$$y=\\frac{{a}}{{1-p}}=\\frac{{{a}}}{{1-{q}}}\\approx{answer:.4g}$$"
        return Bilingual(
            zh=f"保留的单元除以保留概率,测试时不再缩放:\n{f}",
            en=f"Kept units are divided by the keep probability; nothing is scaled "
            f"at test time:\n{f}",
        )


_SCHEMES = {
    "xavier": ("Xavier/Glorot(tanh)", "Xavier/Glorot (tanh)"),
    "he": ("He/Kaiming(ReLU)", "He/Kaiming (ReLU)"),
    "lecun": ("LeCun(线性/SELU)", "LeCun (linear/SELU)"),
}


#: How each scheme is called in torch.nn.init, with the mode and gain it implies.
_INIT_CALLS = {
    "xavier": (
        "`nn.init.xavier_normal_(w)`,增益 gain = 1,同时用到 fan_in 和 fan_out",
        "`nn.init.xavier_normal_(w)`, gain 1, using both fan_in and fan_out",
    ),
    "he": (
        "`nn.init.kaiming_normal_(w, mode='fan_in', nonlinearity='relu')`,增益 gain = √2",
        "`nn.init.kaiming_normal_(w, mode='fan_in', nonlinearity='relu')`, gain √2",
    ),
    "lecun": (
        "`nn.init.kaiming_normal_(w, mode='fan_in', nonlinearity='linear')`,增益 gain = 1",
        "`nn.init.kaiming_normal_(w, mode='fan_in', nonlinearity='linear')`, gain 1",
    ),
}


def _variance(scheme: str, fan_in: int, fan_out: int) -> float:
    if scheme == "xavier":
        return normalization.xavier_variance(fan_in, fan_out)
    if scheme == "he":
        return normalization.he_variance(fan_in)
    return normalization.lecun_variance(fan_in)


@register
class InitVariance(Template):
    """Weight variance of Xavier, He or LeCun initialization."""

    id = "init.variance"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _REL
    title = Bilingual(zh="权重初始化方差", en="Weight initialization variance")
    misconceptions = (
        mis(
            "std_not_variance",
            lambda p: math.sqrt(p["_v"]),
            "这是标准差;题目问的是方差。",
            "That is the standard deviation; the question asks for the variance.",
        ),
        mis(
            "other_scheme",
            lambda p: _variance(
                {"xavier": "he", "he": "xavier", "lecun": "he"}[p["scheme"]], p["_fi"], p["_fo"]
            ),
            "各方案的方差:Xavier 2/(n_in+n_out),He 2/n_in,LeCun 1/n_in。",
            "The variances: Xavier 2/(n_in+n_out), He 2/n_in, LeCun 1/n_in.",
        ),
        mis(
            "kernel_ignored",
            lambda p: _variance(p["scheme"], p["ci"], p["co"]) if p["k"] > 1 else None,
            "卷积层的 fan_in = C_in·k·k:卷积核的面积也要算上。",
            "A conv layer's fan_in is C_in·k·k: include the kernel area.",
        ),
        mis(
            "fan_out_used",
            lambda p: (
                _variance(p["scheme"], p["_fo"], p["_fi"]) if p["scheme"] != "xavier" else None
            ),
            "He 和 LeCun(默认 mode='fan_in')用的是 fan_in。",
            "He and LeCun (default mode='fan_in') use fan_in.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the scheme and the layer."""
        k = draw.pick("kernel", (1, 3, 3, 5, 7))
        return {
            "scheme": draw.pick("scheme", ("xavier", "he", "he", "lecun")),
            "ci": draw.pick("in_channels", (3, 16, 32, 64, 128, 256, 512)),
            "co": draw.pick("out_channels", (16, 32, 64, 128, 256, 512)),
            "k": k,
        }

    def answer(self, p: Params) -> Value:
        """Return the variance from ``normalization`` with fans from ``fan_in_fan_out``."""
        fi, fo = normalization.fan_in_fan_out((p["co"], p["ci"], p["k"], p["k"]))
        p["_fi"], p["_fo"] = fi, fo
        v = _variance(p["scheme"], fi, fo)
        p["_v"] = v
        return v

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        zh, en = _SCHEMES[p["scheme"]]
        layer = f"`nn.Conv2d({p['ci']}, {p['co']}, kernel_size={p['k']})`"
        how_zh, how_en = _INIT_CALLS[p["scheme"]]
        return Bilingual(
            zh=f"用 {zh} 正态初始化 {layer} 的权重({how_zh})。权重的方差是多少?(可用科学计数法)",
            en=f"The weights of {layer} are initialized with {en} normal initialization "
            f"({how_en}). What is the weight variance? (scientific notation is fine)",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the fans and the scheme's formula."""
        fi, fo, k = p["_fi"], p["_fo"], p["k"]
        fans = (
            f"$$n_{{in}}=C_{{in}}k^2={p['ci']}\\cdot{k}^2={fi},\\quad n_{{out}}=C_{{out}}k^2="
            f"{p['co']}\\cdot{k}^2={fo}$$"
        )
        if p["scheme"] == "xavier":
            f = f"$$\\mathrm{{Var}}=\\frac{{2}}{{n_{{in}}+n_{{out}}}}=\\frac{{2}}{{{fi + fo}}}"
        elif p["scheme"] == "he":
            f = f"$$\\mathrm{{Var}}=\\frac{{2}}{{n_{{in}}}}=\\frac{{2}}{{{fi}}}"
        else:
            f = f"$$\\mathrm{{Var}}=\\frac{{1}}{{n_{{in}}}}=\\frac{{1}}{{{fi}}}"
        f += f"\\approx{answer:.4g}$$"
        zh, en = _SCHEMES[p["scheme"]]
        return Bilingual(
            zh=f"卷积层的扇入/扇出要乘上卷积核面积(torch.nn.init 的算法):\n{fans}{zh}:\n{f}",
            en=f"A conv layer's fans include the kernel area (as torch.nn.init computes them):"
            f"\n{fans}{en}:\n{f}",
        )


def _sgd(p: Params, **kw: float | bool) -> float:
    """Return the parameter after two ``optim.sgd_step`` calls."""
    w, state = optim.sgd_step([p["w"]], [p["g1"]], None, p["lr"], **kw)  # type: ignore[arg-type]
    w, _ = optim.sgd_step(w, [p["g2"]], state, p["lr"], **kw)  # type: ignore[arg-type]
    return float(w[0])


@register
class OptimSgdMomentum(Template):
    """Two steps of SGD with momentum (PyTorch convention)."""

    id = "optim.sgd_momentum"
    version = 1
    kind = AnswerKind.REAL
    tolerance = Tolerance(abs=1e-4)
    real_format = ".5f"
    title = Bilingual(zh="带动量的 SGD", en="SGD with momentum")
    misconceptions = (
        mis(
            "no_momentum",
            lambda p: _sgd(p),
            "第二步的更新量还包含上一步的动量 μ·v₁。",
            "The second update also carries the momentum μ·v₁ of the first step.",
        ),
        mis(
            "ema_momentum",
            lambda p: _sgd(p, momentum=p["mu"], dampening=p["mu"]),
            "PyTorch 的动量是 v = μv + g(dampening = 0),不是指数滑动平均 μv + (1 − μ)g。",
            "PyTorch's momentum is v = μv + g (dampening 0), not the moving average μv + (1 − μ)g.",
        ),
        mis(
            "nesterov",
            lambda p: _sgd(p, momentum=p["mu"], nesterov=True),
            "题目是普通动量,不是 Nesterov 动量。",
            "This is plain momentum, not Nesterov.",
        ),
        mis(
            "ascent",
            lambda p: 2 * p["w"] - p["_w2"],
            "参数沿负梯度方向更新:w ← w − lr·v。",
            "Parameters move against the gradient: w ← w − lr·v.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the parameter, two gradients, lr and momentum."""
        return {
            "w": draw.real("w", -1.0, 1.0, 2),
            "g1": _nonzero(draw, -2.0, 2.0),
            "g2": _nonzero(draw, -2.0, 2.0),
            "lr": draw.pick("lr", (0.1, 0.05, 0.01)),
            "mu": draw.pick("momentum", (0.9, 0.9, 0.8, 0.5)),
        }

    def answer(self, p: Params) -> Value:
        """Return the parameter after two ``optim.sgd_step`` calls with momentum."""
        w2 = _sgd(p, momentum=p["mu"])
        p["_w2"] = w2
        return w2

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        w, g1, g2 = (tex(p[k]) for k in ("w", "g1", "g2"))
        opt = f"`torch.optim.SGD(params, lr={num(p['lr'])}, momentum={num(p['mu'])})`"
        return Bilingual(
            zh=f"用 {opt} 训练一个标量参数,初值 $w_0={w}$。前两步的梯度依次为 $g_1={g1}$、"
            f"$g_2={g2}$。两步之后 $w_2$ 是多少?",
            en=f"A scalar parameter starts at $w_0={w}$ and is trained with {opt}. The first two "
            f"gradients are $g_1={g1}$ and $g_2={g2}$. What is $w_2$ after two steps?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render v1, w1, v2, w2."""
        w, g1, g2, lr, mu = p["w"], p["g1"], p["g2"], p["lr"], p["mu"]
        v1 = g1
        w1 = w - lr * v1
        v2 = mu * v1 + g2
        f = (
            f"$$v_1=g_1={tex(g1)},\\quad w_1=w_0-\\eta v_1={tex(w)}-{tex(lr)}\\cdot({tex(g1)})="
            f"{w1:.5g}$$"
            f"$$v_2=\\mu v_1+g_2={tex(mu)}\\cdot({tex(g1)})+({tex(g2)})={v2:.5g},\\quad "
            f"w_2=w_1-\\eta v_2={w1:.5g}-{tex(lr)}\\cdot({v2:.5g})\\approx{answer:.5f}$$"
        )
        return Bilingual(
            zh=f"PyTorch:$v_t=\\mu v_{{t-1}}+g_t$(第一步 $v_1=g_1$),$w_t=w_{{t-1}}-\\eta v_t$:\n{f}",
            en=f"PyTorch: $v_t=\\mu v_{{t-1}}+g_t$ (first step $v_1=g_1$), "
            f"$w_t=w_{{t-1}}-\\eta v_t$:\n{f}",
        )


def _adam_manual(p: Params, correct: str) -> float:
    """Return the two-step Adam change under a learner's bias-correction habit.

    ``correct`` is "none" (no bias correction) or "first" (the t = 1 correction reused at t = 2).
    """
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, p["lr"]
    m = v = 0.0
    delta = 0.0
    for t, g in ((1, p["g1"]), (2, p["g2"])):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        tt = 1 if correct == "first" else t
        mh = m if correct == "none" else m / (1 - b1**tt)
        vh = v if correct == "none" else v / (1 - b2**tt)
        delta -= lr * mh / (math.sqrt(vh) + eps)
    return delta


@register
class OptimAdam(Template):
    """Total change of a parameter over two Adam steps."""

    id = "optim.adam"
    version = 1
    kind = AnswerKind.REAL
    tolerance = Tolerance(rel=2e-3)
    title = Bilingual(zh="Adam 更新", en="Adam update")
    misconceptions = (
        mis(
            "no_bias_correction",
            lambda p: _adam_manual(p, "none"),
            "忘了偏差修正:m 和 v 从 0 开始,要除以 1 − β₁ᵗ 和 1 − β₂ᵗ。",
            "You forgot bias correction: m and v start at 0, so divide by 1 − β₁ᵗ and 1 − β₂ᵗ.",
        ),
        mis(
            "stale_correction",
            lambda p: _adam_manual(p, "first"),
            "偏差修正中的 t 每一步都要加 1。",
            "The t in the bias correction grows every step.",
        ),
        mis(
            "plain_sgd",
            lambda p: -p["lr"] * (p["g1"] + p["g2"]),
            "这是普通 SGD;Adam 用 m̂/√v̂ 归一化了梯度的尺度。",
            "That is plain SGD; Adam divides by √v̂, normalizing the gradient's scale.",
        ),
        mis(
            "ascent",
            lambda p: -p["_d"],
            "参数沿负梯度方向更新。",
            "Parameters move against the gradient.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw two gradients and lr."""
        return {
            "w": draw.real("w", -1.0, 1.0, 2),
            "g1": _nonzero(draw, -2.0, 2.0),
            "g2": _nonzero(draw, -2.0, 2.0),
            "lr": draw.pick("lr", (0.1, 0.01, 0.001)),
        }

    def answer(self, p: Params) -> Value:
        """Return w2 - w0 after two ``optim.adam_step`` calls."""
        w1, state = optim.adam_step([p["w"]], [p["g1"]], None, lr=p["lr"])
        w2, _ = optim.adam_step(w1, [p["g2"]], state, lr=p["lr"])
        d = float(w2[0]) - float(p["w"])
        p["_d"] = d
        return d

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        w, g1, g2 = tex(p["w"]), tex(p["g1"]), tex(p["g2"])
        opt = f"`torch.optim.Adam(params, lr={num(p['lr'])})`"
        return Bilingual(
            zh=f"用 {opt}(默认 $\\beta_1=0.9,\\ \\beta_2=0.999,\\ \\epsilon=10^{{-8}}$)训练一个"
            f"标量参数,初值 $w_0={w}$,前两步梯度为 $g_1={g1}$、$g_2={g2}$。两步后参数的总变化量 "
            "$w_2-w_0$ 是多少?",
            en=f"A scalar parameter $w_0={w}$ is trained with {opt} (defaults $\\beta_1=0.9,\\ "
            f"\\beta_2=0.999,\\ \\epsilon=10^{{-8}}$). The first two gradients are $g_1={g1}$ and "
            f"$g_2={g2}$. What is the total change $w_2-w_0$ after two steps?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render m, v, their corrections and each step."""
        lr = p["lr"]
        m = v = 0.0
        lines = []
        for t, g in ((1, p["g1"]), (2, p["g2"])):
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            mh, vh = m / (1 - 0.9**t), v / (1 - 0.999**t)
            step = lr * mh / (math.sqrt(vh) + 1e-8)
            lines.append(
                f"$$t={t}:\\ m={m:.5g},\\ v={v:.5g},\\ \\hat m=\\frac{{m}}{{1-0.9^{t}}}="
                f"{mh:.5g},\\ \\hat v=\\frac{{v}}{{1-0.999^{t}}}={vh:.5g},\\ "
                f"\\Delta w=-{tex(lr)}\\frac{{\\hat m}}{{\\sqrt{{\\hat v}}+\\epsilon}}="
                f"{-step:.5g}$$"
            )
        body = "\n".join(lines)
        return Bilingual(
            zh=f"$m\\leftarrow\\beta_1m+(1-\\beta_1)g$,$v\\leftarrow\\beta_2v+(1-\\beta_2)g^2$,"
            f"再做偏差修正:\n{body}\n总变化量 $\\approx{answer:.4g}$。",
            en=f"$m\\leftarrow\\beta_1m+(1-\\beta_1)g$, $v\\leftarrow\\beta_2v+(1-\\beta_2)g^2$, "
            f"then bias-correct:\n{body}\nTotal change $\\approx{answer:.4g}$.",
        )
