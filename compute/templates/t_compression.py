"""Templates on model compression: distillation temperature, INT8 quantization, pruning."""

from __future__ import annotations

import math

import numpy as np

from compute import activations, compression, losses
from compute.templates.base import AnswerKind, Bilingual, Draw, Params, Template, Tolerance, Value
from compute.templates.engine import register
from compute.templates.fmt import mis, num, tex, vec

__all__ = [
    "CompDistillLoss",
    "CompInt8Roundtrip",
    "CompInt8ZeroPoint",
    "CompPruneKept",
    "CompSoftTarget",
]


def _logit_vector(draw: Draw, n: int, low: float, high: float) -> list[float]:
    """Return ``n`` distinct one-decimal logits in [low, high]."""
    out: list[float] = []
    while len(out) < n:
        v = round(low + (high - low) * draw.uniform(), 1)
        if v not in out:
            out.append(v)
    return out


def _kl(p_logits: list[float], q_logits: list[float], t: float) -> float:
    """KL(softmax(p / t) || softmax(q / t)) without the T^2 factor."""
    return compression.distillation_soft_loss(q_logits, p_logits, t) / t**2


@register
class CompSoftTarget(Template):
    """One class's soft-target probability at a temperature."""

    id = "comp.soft_target"
    version = 1
    kind = AnswerKind.REAL
    tolerance = Tolerance(rel=2e-3, abs=1e-4)
    ratio = True
    title = Bilingual(zh="带温度的 softmax(软目标)", en="Softmax with a temperature (soft targets)")
    misconceptions = (
        mis(
            "temperature_ignored",
            lambda p: float(losses.softmax(np.array(p["z"]))[p["i"]]),
            "软目标是 softmax(z/T):先把 logits 除以温度 T 再做 softmax。",
            "Soft targets are softmax(z/T): divide the logits by T before the softmax.",
        ),
        mis(
            "multiplied_by_t",
            lambda p: float(losses.softmax(np.array(p["z"]) * p["T"])[p["i"]]),
            "是除以 T(T > 1 让分布更平滑),不是乘以 T(那会让分布更尖锐)。",
            "Divide by T (T > 1 flattens the distribution); multiplying sharpens it.",
        ),
        mis(
            "sigmoid_per_class",
            lambda p: float(activations.sigmoid(p["z"][p["i"]] / p["T"])),
            "各类的概率要一起归一化(softmax),不是对每个 logit 单独做 sigmoid。",
            "The classes are normalized together (softmax), not one sigmoid per logit.",
        ),
        mis(
            "probability_divided_by_t",
            lambda p: float(losses.softmax(np.array(p["z"]))[p["i"]]) / p["T"],
            "温度作用在 logits 上,不是把概率除以 T(那样概率之和不再为 1)。",
            "The temperature acts on the logits; dividing the probability by T breaks the sum "
            "to 1.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw 4 teacher logits, a temperature and the class asked."""
        return {
            "z": _logit_vector(draw, 4, -2.0, 8.0),
            "T": draw.pick("T", (2.0, 4.0, 5.0, 10.0, 3.0, 20.0)),
            "i": draw.free(0, 3),
        }

    def answer(self, p: Params) -> Value:
        """Return ``compression.soft_targets`` at class i."""
        return float(compression.soft_targets(p["z"], p["T"])[p["i"]])

    def prompt(self, p: Params) -> Bilingual:
        """Render the logits and the temperature."""
        z, t, i = vec(p["z"]), tex(p["T"]), p["i"]
        return Bilingual(
            zh=f"知识蒸馏中,教师网络对一张图输出 4 类 logits $z={z}$。取温度 $T={t}$,第 {i} 类"
            "(从 0 编号)的软目标概率是多少?",
            en=f"In knowledge distillation the teacher outputs 4-class logits $z={z}$ for an image. "
            f"With temperature $T={t}$, what is the soft-target probability of class {i} "
            "(numbered from 0)?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render z/T and the softmax."""
        t = p["T"]
        scaled = [z / t for z in p["z"]]
        zi = scaled[p["i"]]
        terms = "+".join(f"e^{{{s:.4g}}}" for s in scaled)
        f = (
            f"$$z/T=[{', '.join(f'{s:.4g}' for s in scaled)}],\\qquad p_{p['i']}="
            f"\\frac{{e^{{{zi:.4g}}}}}{{{terms}}}\\approx{answer:.4g}$$"
        )
        hard = float(losses.softmax(np.array(p["z"]))[p["i"]])
        return Bilingual(
            zh=f"先除以温度再做 softmax:\n{f}\n对比 $T=1$ 时该类概率为 {hard:.4g}:温度越高,"
            "分布越平,非最大类的相对大小(暗知识)越明显。",
            en=f"Divide by the temperature, then take the softmax:\n{f}\nAt $T=1$ the class would "
            f"get {hard:.4g}: a higher temperature flattens the distribution and exposes the "
            "relative sizes of the non-top classes (dark knowledge).",
        )


@register
class CompDistillLoss(Template):
    """The soft-target distillation loss with its T^2 factor."""

    id = "comp.distill_loss"
    version = 1
    kind = AnswerKind.REAL
    tolerance = Tolerance(rel=2e-3, abs=1e-5)
    title = Bilingual(zh="蒸馏软损失与 T² 因子", en="Distillation soft loss and the T² factor")
    misconceptions = (
        mis(
            "no_t_squared",
            lambda p: _kl(p["t"], p["s"], p["T"]),
            "Hinton 等把软损失乘以 T²:软目标的梯度按 1/T² 缩小,乘 T² 才与硬损失同一量级。",
            "Hinton et al. multiply the soft loss by T²: its gradients shrink as 1/T², and T² "
            "restores the hard loss's scale.",
        ),
        mis(
            "times_t_once",
            lambda p: p["T"] * _kl(p["t"], p["s"], p["T"]),
            "补偿因子是 T²,不是 T。",
            "The compensating factor is T², not T.",
        ),
        mis(
            "reversed_kl",
            lambda p: p["T"] ** 2 * _kl(p["s"], p["t"], p["T"]),
            "KL 的方向是 KL(p_teacher ‖ p_student):以教师分布为目标加权。"
            "`F.kl_div(log_softmax(s/T), softmax(t/T))` 算的正是它。",
            "The direction is KL(p_teacher ‖ p_student), weighted by the teacher's distribution; "
            "`F.kl_div(log_softmax(s/T), softmax(t/T))` computes exactly that.",
        ),
        mis(
            "temperature_one",
            lambda p: p["T"] ** 2 * _kl(p["t"], p["s"], 1.0),
            "学生和教师都要在同一个温度 T 下做 softmax,再算 KL。",
            "Both student and teacher take their softmax at the same temperature T before the KL.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw 3-class teacher and student logits and a temperature."""
        return {
            "t": _logit_vector(draw, 3, -2.0, 6.0),
            "s": _logit_vector(draw, 3, -2.0, 6.0),
            "T": draw.pick("T", (2.0, 4.0, 3.0, 5.0)),
        }

    def answer(self, p: Params) -> Value:
        """Return ``compression.distillation_soft_loss``."""
        return compression.distillation_soft_loss(p["s"], p["t"], p["T"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the logits and the temperature."""
        t, s, temp = vec(p["t"]), vec(p["s"]), tex(p["T"])
        return Bilingual(
            zh=f"教师 logits $z_t={t}$,学生 logits $z_s={s}$,温度 $T={temp}$。按 Hinton 等(2015)的做法,"
            "软目标损失为 $T^2\\cdot\\mathrm{KL}(p^T_{teacher}\\,\\|\\,p^T_{student})$(自然对数)。它的值是多少?",
            en=f"Teacher logits $z_t={t}$, student logits $z_s={s}$, temperature $T={temp}$. "
            "Following Hinton et al. (2015), the soft-target loss is "
            "$T^2\\cdot\\mathrm{KL}(p^T_{teacher}\\,\\|\\,p^T_{student})$ (natural log). What is "
            "its value?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render both soft distributions, the KL and the factor."""
        temp = p["T"]
        pt = compression.soft_targets(p["t"], temp)
        ps = compression.soft_targets(p["s"], temp)
        kl = _kl(p["t"], p["s"], temp)
        f = (
            f"$$p^T_t={vec([round(float(x), 4) for x in pt])},\\quad p^T_s="
            f"{vec([round(float(x), 4) for x in ps])}$$"
            f"$$\\mathrm{{KL}}=\\sum_i p^T_{{t,i}}\\ln\\frac{{p^T_{{t,i}}}}{{p^T_{{s,i}}}}\\approx"
            f"{kl:.4g},\\qquad T^2\\cdot\\mathrm{{KL}}={tex(temp)}^2\\times{kl:.4g}\\approx"
            f"{answer:.4g}$$"
        )
        return Bilingual(
            zh=f"两者都在温度 T 下做 softmax,再以教师分布为权重算 KL,最后乘 $T^2$:\n{f}",
            en=f"Both take their softmax at temperature T, the KL is weighted by the teacher's "
            f"distribution, and the result is multiplied by $T^2$:\n{f}",
        )


def _affine_zp(lo: float, hi: float, qmin: int, levels: int) -> int:
    """Zero point qmin - round(lo / scale) with scale (hi - lo) / levels, unclamped."""
    return qmin - round(lo / ((hi - lo) / levels))


@register
class CompInt8ZeroPoint(Template):
    """Zero point of affine INT8 quantization from an observed range."""

    id = "comp.int8_zero_point"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="INT8 非对称量化的零点", en="Zero point of affine INT8 quantization")
    misconceptions = (
        mis(
            "sign_flipped",
            lambda p: p["_qmin"] + round(p["_lo"] / p["_scale"]) if p["_lo"] < 0 else None,
            "零点是实数 0 对应的整数:z = q_min − round(x_min/s),x_min < 0 时 z 在 q_min 之上。",
            "The zero point is the integer that real 0 maps to: z = q_min − round(x_min/s), above "
            "q_min when x_min < 0.",
        ),
        mis(
            "levels_256",
            lambda p: _affine_zp(p["_lo"], p["_hi"], p["_qmin"], 256),
            "8 位有 256 个整数值,但只有 255 个间隔:s = (x_max − x_min)/(q_max − q_min) = …/255。",
            "8 bits give 256 values but 255 steps: s = (x_max − x_min)/(q_max − q_min) = …/255.",
            absorbable=True,
        ),
        mis(
            "wrong_qmin",
            lambda p: (-128 if p["dtype"] == "quint8" else 0) - round(p["_lo"] / p["_scale"]),
            "quint8 的范围是 0..255(q_min = 0),qint8 是 −128..127(q_min = −128)。",
            "quint8 spans 0..255 (q_min = 0); qint8 spans −128..127 (q_min = −128).",
        ),
        mis(
            "range_not_widened",
            lambda p: (
                p["_qmin"] - round(p["x_min"] / ((p["x_max"] - p["x_min"]) / 255))
                if p["x_min"] > 0
                else None
            ),
            "MinMaxObserver 先把范围扩展到包含 0([min(x_min, 0), max(x_max, 0)]),保证 0 能被精确表示。",
            "MinMaxObserver first widens the range to include 0 ([min(x_min, 0), max(x_max, 0)]) so "
            "that 0 is exactly representable.",
        ),
        mis(
            "truncated",
            lambda p: p["_qmin"] - math.trunc(p["_lo"] / p["_scale"]),
            "零点取四舍五入(round,0.5 时取偶数),不是截断。",
            "The zero point rounds (half to even), it does not truncate.",
            absorbable=True,
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw an observed min and max (sometimes all positive) and the dtype."""
        dtype = draw.pick("dtype", ("quint8", "qint8"))
        positive = draw.free(0, 3) == 0
        low, high = (0.1, 1.0) if positive else (-6.0, -0.1)
        x_min = draw.real("x_min", low, high, 2)
        x_max = draw.real("x_max", 0.5, 8.0, 2)
        return {"x_min": x_min, "x_max": x_max, "dtype": dtype}

    def answer(self, p: Params) -> Value:
        """Return the zero point of ``compression.minmax_qparams``."""
        if p["x_max"] <= p["x_min"]:
            raise ValueError("x_max must exceed x_min")
        scale, zp = compression.minmax_qparams(p["x_min"], p["x_max"], p["dtype"], "affine")
        p["_qmin"] = compression.QDTYPES[p["dtype"]][0]
        p["_lo"], p["_hi"] = min(p["x_min"], 0.0), max(p["x_max"], 0.0)
        p["_scale"] = scale
        return zp

    def prompt(self, p: Params) -> Bilingual:
        """Render the observed range and the dtype."""
        rng = "0..255" if p["dtype"] == "quint8" else "−128..127"
        lo, hi = num(p["x_min"]), num(p["x_max"])
        return Bilingual(
            zh=f"用 PyTorch 的 `MinMaxObserver(dtype=torch.{p['dtype']}, qscheme=torch.per_tensor_affine)`"
            f"({rng})做训练后量化校准,观察到某个激活张量的最小值 {lo}、最大值 {hi}。"
            "它算出的零点(zero point)是多少?",
            en=f"Post-training calibration with PyTorch's `MinMaxObserver(dtype=torch.{p['dtype']}, "
            f"qscheme=torch.per_tensor_affine)` ({rng}) sees an activation tensor with minimum "
            f"{lo} and maximum {hi}. What zero point does it compute?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the widened range, scale and zero point."""
        lo, hi, qmin, s = p["_lo"], p["_hi"], p["_qmin"], p["_scale"]
        qmax = qmin + 255
        f = (
            f"$$s=\\frac{{{num(hi)}-({num(lo)})}}{{{qmax}-({qmin})}}\\approx{s:.6g},\\qquad "
            f"z={qmin}-\\mathrm{{round}}\\left(\\frac{{{num(lo)}}}{{{s:.6g}}}\\right)={answer}$$"
        )
        return Bilingual(
            zh=f"范围先扩展到包含 0:$[{num(lo)}, {num(hi)}]$。\n{f}\n于是实数 0 恰好量化为 {answer}。",
            en=f"The range is first widened to include 0: $[{num(lo)}, {num(hi)}]$.\n{f}\nReal 0 "
            f"then maps exactly to {answer}.",
        )


def _roundtrip_with(
    p: Params,
    scheme: str,
    *,
    levels: int | None = None,
    rounding: str = "round",
    clamp: bool = True,
    subtract_zp: bool = True,
) -> float:
    """Dequantized value under a (possibly mistaken) recipe, for the misconceptions."""
    dtype = p["dtype"]
    qmin, qmax = compression.QDTYPES[dtype]
    scale, zp = compression.minmax_qparams(p["x_min"], p["x_max"], dtype, scheme)  # type: ignore[arg-type]
    if levels is not None:
        lo, hi = min(p["x_min"], 0.0), max(p["x_max"], 0.0)
        scale = (hi - lo) / levels
        zp = qmin - round(lo / scale)
    r: float = p["x"] / scale
    q = (round(r) if rounding == "round" else math.floor(r)) + zp
    if clamp:
        q = min(max(q, qmin), qmax)
    return (q - zp) * scale if subtract_zp else q * scale


@register
class CompInt8Roundtrip(Template):
    """A value after INT8 quantization and dequantization."""

    id = "comp.int8_roundtrip"
    version = 1
    kind = AnswerKind.REAL
    tolerance = Tolerance(rel=1e-3, abs=1e-4)
    real_format = ".5g"
    title = Bilingual(zh="INT8 量化-反量化", en="INT8 quantize and dequantize")
    misconceptions = (
        mis(
            "not_clamped",
            lambda p: _roundtrip_with(p, p["scheme"], clamp=False),
            "超出校准范围的值会被截断到 [q_min, q_max],反量化后落在范围端点附近(截断误差)。",
            "Values outside the calibrated range are clamped to [q_min, q_max] and come back at "
            "the range's end (clipping error).",
            absorbable=True,
        ),
        mis(
            "floored",
            lambda p: _roundtrip_with(p, p["scheme"], rounding="floor"),
            "量化用四舍五入(round),不是向下取整;round 的误差不超过 s/2。",
            "Quantization rounds to nearest, it does not floor; rounding keeps the error within s/2.",
            absorbable=True,
        ),
        mis(
            "other_scheme",
            lambda p: _roundtrip_with(p, "affine" if p["scheme"] == "symmetric" else "symmetric"),
            "对称量化:s = max|x|/127.5,零点固定;非对称(affine):s = (x_max − x_min)/255,"
            "零点 z = q_min − round(x_min/s)。",
            "Symmetric: s = max|x|/127.5 with a fixed zero point; affine: s = (x_max − x_min)/255 "
            "and z = q_min − round(x_min/s).",
        ),
        mis(
            "zero_point_not_subtracted",
            lambda p: (
                _roundtrip_with(p, p["scheme"], subtract_zp=False)
                if compression.minmax_qparams(p["x_min"], p["x_max"], p["dtype"], p["scheme"])[1]
                != 0
                else None
            ),
            "反量化是 (q − z)·s:先减去零点再乘 scale。",
            "Dequantization is (q − z)·s: subtract the zero point before scaling.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a range, a scheme and a value, sometimes outside the range."""
        setup = draw.pick(
            "setup", (("quint8", "affine"), ("qint8", "symmetric"), ("quint8", "affine"))
        )
        x_min = draw.real("x_min", -4.0, -0.2, 2)
        x_max = draw.real("x_max", 0.5, 6.0, 2)
        outside = draw.free(0, 4) == 0
        if outside:
            x = round(x_max + 0.1 + 2.0 * draw.uniform(), 3)
        else:
            x = round(x_min + (x_max - x_min) * draw.uniform(), 3)
        return {"dtype": setup[0], "scheme": setup[1], "x_min": x_min, "x_max": x_max, "x": x}

    def answer(self, p: Params) -> Value:
        """Return ``compression.quantize_roundtrip``."""
        return compression.quantize_roundtrip(
            p["x"], p["x_min"], p["x_max"], p["dtype"], p["scheme"]
        )

    def prompt(self, p: Params) -> Bilingual:
        """Render the observer, the range and the value."""
        qs = "per_tensor_affine" if p["scheme"] == "affine" else "per_tensor_symmetric"
        lo, hi, x = num(p["x_min"]), num(p["x_max"]), num(p["x"])
        return Bilingual(
            zh=f"`MinMaxObserver(dtype=torch.{p['dtype']}, qscheme=torch.{qs})` 在校准集上观察到最小值 "
            f"{lo}、最大值 {hi},并据此给出 scale 和零点。把实数 {x} 量化(四舍五入,0.5 取偶)再反量化,"
            "得到的值是多少?",
            en=f"`MinMaxObserver(dtype=torch.{p['dtype']}, qscheme=torch.{qs})` observes minimum "
            f"{lo} and maximum {hi} on the calibration set and derives the scale and zero point. "
            f"The real value {x} is quantized (round half to even) and dequantized. What value "
            "comes back?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render scale, zero point, q and the dequantized value."""
        dtype, scheme = p["dtype"], p["scheme"]
        qmin, qmax = compression.QDTYPES[dtype]
        s, z = compression.minmax_qparams(p["x_min"], p["x_max"], dtype, scheme)
        q = compression.quantize(p["x"], s, z, dtype)
        x = num(p["x"])
        if scheme == "affine":
            sf = f"s=\\frac{{{num(p['x_max'])}-({num(p['x_min'])})}}{{255}}\\approx{s:.6g},\\ z={z}"
        else:
            m = max(-p["x_min"], p["x_max"])
            sf = (
                f"s=\\frac{{\\max|x|}}{{127.5}}=\\frac{{{num(m)}}}{{127.5}}\\approx{s:.6g},\\ z={z}"
            )
        f = (
            f"$${sf}$$$$q=\\mathrm{{clamp}}(\\mathrm{{round}}({x}/{s:.6g})+{z},\\ {qmin},\\ {qmax})"
            f"={q},\\qquad \\hat x=(q-z)\\,s=({q}-{z})\\times{s:.6g}\\approx{answer:.5g}$$"
        )
        err = abs(p["x"] - answer)
        return Bilingual(
            zh=f"{f}\n往返误差 $|x-\\hat x|\\approx{err:.3g}$(范围内不超过 $s/2$,范围外是截断误差)。",
            en=f"{f}\nThe round-trip error is $|x-\\hat x|\\approx{err:.3g}$ (at most $s/2$ inside "
            "the range; outside it is clipping error).",
        )


@register
class CompPruneKept(Template):
    """Weights left after unstructured magnitude pruning of a conv layer."""

    id = "comp.prune_kept"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="幅值剪枝后保留的权重数", en="Weights kept by magnitude pruning")
    misconceptions = (
        mis(
            "pruned_not_kept",
            lambda p: compression.prune_count(p["_n"], p["amount"]),
            "amount 是被剪掉(置零)的比例;问的是保留下来的权重数。",
            "amount is the fraction pruned (zeroed); the question asks for the weights kept.",
        ),
        mis(
            "bias_included",
            lambda p: (p["_n"] + p["co"]) - compression.prune_count(p["_n"] + p["co"], p["amount"]),
            '`prune.l1_unstructured(conv, name="weight", ...)` 只剪 weight 张量,偏置不参与。',
            '`prune.l1_unstructured(conv, name="weight", ...)` prunes only the weight tensor; the '
            "bias is not involved.",
        ),
        mis(
            "floored_count",
            lambda p: p["_n"] - math.floor(p["amount"] * p["_n"]),
            "PyTorch 用 round(amount × n) 计算剪掉的个数(四舍五入,0.5 取偶),不是向下取整。",
            "PyTorch prunes round(amount × n) weights (round half to even), not the floor.",
            absorbable=True,
        ),
        mis(
            "kernel_ignored",
            lambda p: p["co"] * p["ci"] - compression.prune_count(p["co"] * p["ci"], p["amount"]),
            "卷积权重的个数是 C_out·C_in·k·k,卷积核面积也要乘上。",
            "A conv weight has C_out·C_in·k·k entries: include the kernel area.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a conv layer and a pruning fraction."""
        return {
            "ci": draw.pick("in_channels", (3, 16, 24, 32, 48, 64, 96)),
            "co": draw.pick("out_channels", (8, 12, 16, 20, 24, 40, 64)),
            "k": draw.pick("kernel", (3, 1, 5, 3, 7)),
            "amount": draw.pick("amount", (0.3, 0.35, 0.45, 0.55, 0.65, 0.85, 0.9, 0.75, 0.15)),
        }

    def answer(self, p: Params) -> Value:
        """Return n - ``compression.prune_count``."""
        n: int = p["co"] * p["ci"] * p["k"] * p["k"]
        p["_n"] = n
        return n - compression.prune_count(n, p["amount"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the layer and the call."""
        co, ci, k, a = p["co"], p["ci"], p["k"], num(p["amount"])
        call = f'`prune.l1_unstructured(conv, name="weight", amount={a})`'
        return Bilingual(
            zh=f"`conv = nn.Conv2d({ci}, {co}, kernel_size={k}, bias=True)`,然后调用 {call}。"
            "剪枝后 weight 中还有多少个非零(未被掩码)的权重?(假设权重的绝对值两两不同且都非零)",
            en=f"`conv = nn.Conv2d({ci}, {co}, kernel_size={k}, bias=True)`, then {call}. How many "
            "weights of `weight` remain unmasked after pruning? (assume the weights' magnitudes "
            "are distinct and non-zero)",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render n, the pruned count and the kept count."""
        co, ci, k, n = p["co"], p["ci"], p["k"], p["_n"]
        assert isinstance(answer, int)
        pruned = n - answer
        a = tex(p["amount"])
        f = (
            f"$$n={co}\\times{ci}\\times{k}\\times{k}={n},\\quad \\mathrm{{round}}({a}\\times{n})="
            f"\\mathrm{{round}}({p['amount'] * n:.6g})={pruned},\\quad {n}-{pruned}={answer}$$"
        )
        return Bilingual(
            zh=f"只剪 weight,剪掉绝对值最小的 round(amount·n) 个:\n{f}",
            en=f"Only `weight` is pruned: the round(amount·n) entries of smallest magnitude:\n{f}",
        )
