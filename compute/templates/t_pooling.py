"""Templates on pooling, im2col and RoI Pooling arithmetic."""

from __future__ import annotations

import math

from compute import roi
from compute.templates._conv_common import (
    FORGOT_ONE,
    PAD_ONCE,
    SPATIAL,
    ceil_div,
    conv_len,
    fl,
    pool_len,
)
from compute.templates.base import AnswerKind, Bilingual, Draw, Params, Template, Value
from compute.templates.engine import register
from compute.templates.fmt import mis

__all__ = ["Im2colShape", "PoolOutputSize", "RoiQuantization", "RoiQuantizationV2"]


@register
class PoolOutputSize(Template):
    """Output length of a PyTorch ``MaxPool2d``, floor or ceil mode."""

    id = "pool.output_size"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="池化输出尺寸", en="Pooling output size")
    misconceptions = (
        mis(
            "other_rounding",
            # None when both rounding modes give the same length (nothing to get wrong).
            lambda p: (
                pool_len(p["L"], p["k"], p["s"], p["p"], 1, not p["ceil"])
                if pool_len(p["L"], p["k"], p["s"], p["p"], 1, False)
                != pool_len(p["L"], p["k"], p["s"], p["p"], 1, True)
                else None
            ),
            "取整方式弄错了:ceil_mode=False 向下取整,ceil_mode=True 向上取整。",
            "Wrong rounding: ceil_mode=False takes the floor, ceil_mode=True the ceiling.",
        ),
        mis(
            "stride_one_default",
            lambda p: pool_len(p["L"], p["k"], 1, p["p"], 1, p["ceil"]) if p["s"] is None else None,
            "池化层的 stride 默认等于 kernel_size,而不是 1。",
            "A pooling layer's stride defaults to kernel_size, not 1.",
        ),
        # In ceil mode with a remainder, "forgot +1" gives the floor-mode answer: ambiguous.
        mis(
            "forgot_plus_one",
            lambda p: (
                pool_len(p["L"], p["k"], p["s"], p["p"], 1, p["ceil"]) - 1
                if not (p["ceil"] and (p["L"] + 2 * p["p"] - p["k"]) % p["_s"])
                else None
            ),
            *FORGOT_ONE,
        ),
        mis(
            "stride_ignored",
            lambda p: (
                p["L"] + 2 * p["p"] - p["k"] + 1 if p["s"] is not None and p["s"] > 1 else None
            ),
            "忘了除以步长:窗口每次移动 s 个像素。",
            "You did not divide by the stride: the window moves s pixels at a time.",
        ),
        mis(
            "padding_once",
            lambda p: (
                pool_len(p["L"] - p["p"], p["k"], p["s"], p["p"], 1, p["ceil"]) if p["p"] else None
            ),
            *PAD_ONCE,
            absorbable=True,
            defers_to="forgot_plus_one",
        ),
        mis(
            "last_window_rule_ignored",
            lambda p: (
                ceil_div(p["L"] + 2 * p["p"] - p["k"], p["_s"]) + 1
                if p["ceil"]
                and (ceil_div(p["L"] + 2 * p["p"] - p["k"], p["_s"])) * p["_s"] >= p["L"] + p["p"]
                else None
            ),
            "ceil_mode 下,若最后一个窗口完全落在右侧填充里,PyTorch 会把它丢掉。",
            "In ceil mode PyTorch drops a last window that would start in the right padding.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw length, kernel, stride (or default), padding and ceil_mode."""
        k = draw.pick("kernel", (2, 2, 3, 3, 5))
        s = draw.pick("stride", (None, 1, 2, 2, 3))
        return {
            "L": draw.pick("length", SPATIAL),
            "k": k,
            "s": s,
            "_s": k if s is None else s,
            "p": draw.pick("padding", tuple(range(k // 2 + 1))),
            "ceil": draw.pick("ceil_mode", (False, True)),
        }

    def answer(self, p: Params) -> Value:
        """Return ``conv.pool_output_length``."""
        return pool_len(p["L"], p["k"], p["s"], p["p"], 1, p["ceil"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        stride = "" if p["s"] is None else f", stride={p['s']}"
        layer = (
            f"`nn.MaxPool2d(kernel_size={p['k']}{stride}, padding={p['p']}, ceil_mode={p['ceil']})`"
        )
        return Bilingual(
            zh=f"长度为 $L={p['L']}$ 的维度经过 {layer},输出长度是多少?",
            en=f"An axis of length $L={p['L']}$ goes through {layer}. What is the output length?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the floor or ceil formula and PyTorch's last-window rule."""
        L, k, s, pad = p["L"], p["k"], p["_s"], p["p"]
        n = L + 2 * pad - k
        default_zh = f"未给出 stride,默认等于 kernel_size,$s={s}$。" if p["s"] is None else ""
        default_en = (
            f"No stride given: it defaults to kernel_size, $s={s}$. " if p["s"] is None else ""
        )
        if p["ceil"]:
            raw = ceil_div(n, s) + 1
            f = (
                f"$$O=\\left\\lceil\\frac{{{L}+2\\cdot{pad}-{k}}}{{{s}}}\\right\\rceil+1="
                f"\\left\\lceil\\frac{{{n}}}{{{s}}}\\right\\rceil+1={raw}$$"
            )
            f_en = f
            if raw != answer:
                start = f"$({raw}-1)\\cdot{s}={(raw - 1) * s}\\ge L+p={L + pad}$"
                f += f"最后一个窗口的起点 {start},落在右侧填充中,丢弃:$O={answer}$。"
                f_en += (
                    f"The last window would start at {start}, inside the right padding, so "
                    f"PyTorch drops it: $O={answer}$."
                )
        else:
            f = (
                f"$$O=\\left\\lfloor\\frac{{{L}+2\\cdot{pad}-{k}}}{{{s}}}\\right\\rfloor+1="
                f"{fl(n, s)}+1={answer}$$"
            )
            f_en = f
        mode_zh = "向上取整(ceil_mode=True)" if p["ceil"] else "向下取整(ceil_mode=False)"
        mode_en = "rounding up (ceil_mode=True)" if p["ceil"] else "rounding down (ceil_mode=False)"
        return Bilingual(
            zh=f"{default_zh}池化的输出长度与卷积公式相同,这里{mode_zh}:\n{f}",
            en=f"{default_en}Pooling uses the convolution formula, here {mode_en}:\n{f_en}",
        )


@register
class Im2colShape(Template):
    """Shape of the im2col matrix of a convolution."""

    id = "im2col.shape"
    version = 1
    kind = AnswerKind.TUPLE
    title = Bilingual(zh="im2col 矩阵形状", en="Shape of the im2col matrix")
    misconceptions = (
        mis(
            "transposed",
            lambda p: (p["_Ho"] * p["_Wo"], p["C"] * p["k"] ** 2),
            "PyTorch 的 unfold 每一列是一个窗口:形状为 (C·k·k, L)。",
            "PyTorch's unfold puts one window per column: the shape is (C·k·k, L).",
        ),
        mis(
            "channels_forgotten",
            lambda p: (p["k"] ** 2, p["_Ho"] * p["_Wo"]) if p["C"] > 1 else None,
            "每列要包含所有输入通道的窗口,行数是 C·k·k。",
            "Each column holds the window of every input channel: C·k·k rows.",
        ),
        mis(
            "input_positions",
            lambda p: (p["C"] * p["k"] ** 2, p["H"] * p["W"]),
            "列数是输出位置数 H_out·W_out,不是输入像素数。",
            "The number of columns is the number of output positions, not of input pixels.",
            absorbable=True,
        ),
        mis(
            "forgot_plus_one",
            lambda p: (p["C"] * p["k"] ** 2, (p["_Ho"] - 1) * (p["_Wo"] - 1)),
            *FORGOT_ONE,
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a small feature map and a kernel."""
        k = draw.pick("kernel", (1, 3, 3, 5))
        H = draw.pick("height", (5, 7, 8, 13, 14, 28, 32, 56))
        return {
            "C": draw.pick("channels", (1, 1, 3, 16, 32, 64)),
            "H": H,
            "W": draw.pick("width", (H, H, H, H, H, H, H, 5, 7, 8, 14, 28)),
            "k": k,
            "s": draw.pick("stride", (1, 1, 2)),
            "p": draw.pick("padding", tuple(range(k // 2 + 1))),
        }

    def answer(self, p: Params) -> Value:
        """Return (C k^2, Ho Wo) with Ho, Wo from ``conv.conv_output_length``."""
        p["_Ho"] = conv_len(p["H"], p["k"], p["s"], p["p"], 1)
        p["_Wo"] = conv_len(p["W"], p["k"], p["s"], p["p"], 1)
        return (p["C"] * p["k"] ** 2, p["_Ho"] * p["_Wo"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        return Bilingual(
            zh=f"用 im2col(PyTorch 的 `F.unfold`)实现卷积:输入为 ${p['C']}\\times{p['H']}\\times"
            f"{p['W']}$(C×H×W),卷积核 ${p['k']}\\times{p['k']}$,步长 {p['s']},填充 {p['p']}。"
            "展开后的矩阵形状是多少?按 (行, 列) 输入。",
            en=f"A convolution is computed with im2col (PyTorch's `F.unfold`): input "
            f"${p['C']}\\times{p['H']}\\times{p['W']}$ (C×H×W), kernel ${p['k']}\\times{p['k']}$,"
            f" stride {p['s']}, padding {p['p']}. What is the shape of the unfolded matrix? "
            "Enter (rows, columns).",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render rows C k^2 and columns Ho Wo."""
        C, k, Ho, Wo = p["C"], p["k"], p["_Ho"], p["_Wo"]
        f = (
            f"$$\\text{{rows}}=C k^2={C}\\cdot{k}^2={C * k * k},\\qquad H_{{out}}={Ho},\\ "
            f"W_{{out}}={Wo},\\qquad \\text{{cols}}={Ho}\\cdot{Wo}={Ho * Wo}$$"
        )
        return Bilingual(
            zh=f"每列是一个感受窗口(所有通道),列数等于输出位置数 $H_{{out}}W_{{out}}$"
            f"(由卷积输出公式得到):\n{f}",
            en="Each column is one window over all channels; there is one column per output "
            f"position ($H_{{out}}W_{{out}}$ from the output-size formula):\n{f}",
        )


@register
class RoiQuantization(Template):
    """The two quantizations of RoI Pooling (Faster R-CNN walk-through)."""

    id = "roi.quantization"
    version = 1
    kind = AnswerKind.TUPLE
    title = Bilingual(zh="RoI Pooling 的两次量化", en="The two quantizations of RoI Pooling")
    misconceptions = (
        mis(
            "rounded",
            lambda p: (round(p["_f"]), math.floor(round(p["_f"]) / p["out"])),
            "RoI Pooling 的量化是向下取整(舍去小数),不是四舍五入。",
            "RoI Pooling quantizes by truncation (floor), not by rounding to nearest.",
            absorbable=True,
        ),
        mis(
            "ceiled",
            lambda p: (math.ceil(p["_f"]), math.ceil(math.ceil(p["_f"]) / p["out"])),
            "量化是向下取整,不是向上取整。",
            "The quantization takes the floor, not the ceiling.",
            absorbable=True,
        ),
        mis(
            "stride_ignored",
            lambda p: (p["roi"], p["roi"] // p["out"]),
            "先要除以特征图的步长(乘 spatial_scale)把 RoI 映射到特征图上。",
            "First map the RoI onto the feature map by dividing by the stride.",
        ),
        mis(
            "bin_rounded",
            lambda p: (
                (math.floor(p["_f"]), round(math.floor(p["_f"]) / p["out"]))
                if round(math.floor(p["_f"]) / p["out"]) != math.floor(p["_f"]) // p["out"]
                else None
            ),
            "第二次量化(每个 bin 的边长)同样是向下取整。",
            "The second quantization (the bin side) also takes the floor.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the proposal size, feature stride and pooled size."""
        return {
            "roi": draw.integer("roi_size", 100, 799),
            "stride": draw.pick("stride", (16, 32)),
            "out": draw.pick("output_size", (7, 7, 14)),
        }

    def answer(self, p: Params) -> Value:
        """Return the floored feature size and bin size of ``roi.roi_pool_quantization``."""
        f, f_int, b, b_int = roi.roi_pool_quantization(p["roi"], 1 / p["stride"], p["out"])
        p["_f"], p["_b"] = f, b
        return (f_int, b_int)

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        return Bilingual(
            zh=f"Faster R-CNN 的骨干网络总步长为 {p['stride']}。一个 ${p['roi']}\\times{p['roi']}$"
            f" 的候选框经 RoI Pooling 池化到 ${p['out']}\\times{p['out']}$。按教科书的两次向下取整"
            "量化,RoI 在特征图上的边长和每个 bin 的边长各是多少?按 (特征图边长, bin 边长) 输入。",
            en=f"A Faster R-CNN backbone has total stride {p['stride']}. A ${p['roi']}\\times"
            f"{p['roi']}$ proposal is pooled by RoI Pooling to ${p['out']}\\times{p['out']}$. "
            "With the textbook's two floor quantizations, what are the RoI's side on the feature "
            "map and the side of one bin? Enter (feature side, bin side).",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the two floors."""
        assert isinstance(answer, tuple)
        f, b = p["_f"], p["_b"]
        s = (
            f"$$\\frac{{{p['roi']}}}{{{p['stride']}}}={f:.4g}\\ \\to\\ \\lfloor {f:.4g}\\rfloor"
            f"={answer[0]},\\qquad \\frac{{{answer[0]}}}{{{p['out']}}}={b:.4g}\\ \\to\\ \\lfloor "
            f"{b:.4g}\\rfloor={answer[1]}$$"
        )
        return Bilingual(
            zh=f"第一次量化把映射后的浮点边长向下取整,第二次把每个 bin 的边长向下取整:\n{s}\n"
            f"RoI Align 不做这两次取整,保留 {f:.4g} 和 {f / p['out']:.4g},用双线性插值采样。",
            en="The first quantization floors the mapped side, the second floors the bin side:"
            f"\n{s}\nRoI Align skips both and keeps {f:.4g} and {f / p['out']:.4g}, sampling by "
            "bilinear interpolation.",
        )


@register
class RoiQuantizationV2(RoiQuantization):
    """Version 2: the proposal always covers at least one bin per side on the feature map.

    Version 1 drew proposals smaller than ``output_size`` feature cells (seed 3: a bin side of
    0), which no implementation pools that way. Here the stride and pooled size are drawn first
    and the proposal side from ``[stride * output_size, 799]``, so both floors are at least 1.
    Version 1 stays registered: cards and attempts pinned to it are still graded by it.
    """

    version = 2
    #: A constrained proposal must still reach one bin per side (checked in ``answer``).
    limits = {"roi_size": (1, 4096), "stride": (1, 64), "output_size": (1, 32)}

    def sample(self, draw: Draw) -> Params:
        """Draw the feature stride, the pooled size, then a proposal at least one bin wide."""
        stride = draw.pick("stride", (16, 32))
        out = draw.pick("output_size", (7, 7, 14))
        return {
            "roi": draw.integer("roi_size", stride * out, max(799, stride * out)),
            "stride": stride,
            "out": out,
        }

    def answer(self, p: Params) -> Value:
        """Return the floors of version 1; reject a proposal narrower than one bin per side."""
        value = super().answer(p)
        assert isinstance(value, tuple)
        if value[1] < 1:
            raise ValueError("the proposal is narrower than one bin per side")
        return value
