"""Templates on convolution arithmetic: output sizes and shapes, padding, dilation."""

from __future__ import annotations

from compute import conv
from compute.templates._conv_common import (
    CEIL,
    CHANNELS,
    CONV_FORMULA,
    FORGOT_ONE,
    KERNELS,
    PAD_ONCE,
    SPATIAL,
    ceil_div,
    conv_len,
    eff,
    fl,
    floor_len,
    keras_len,
    square_or_any,
    transposed_len,
)
from compute.templates.base import AnswerKind, Bilingual, Draw, Params, Template, Value
from compute.templates.engine import register
from compute.templates.fmt import mis

__all__ = [
    "ConvDilatedKernel",
    "ConvKerasOutputSize",
    "ConvOutputShape",
    "ConvOutputSize",
    "ConvSamePadding",
    "ConvTransposedOutputSize",
]


@register
class ConvOutputSize(Template):
    """Output length of a PyTorch convolution along one axis."""

    id = "conv.output_size"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="卷积输出尺寸", en="Convolution output size")
    hidden_defaults = {"d": 1}
    misconceptions = (
        mis("forgot_plus_one", lambda p: (p["L"] + 2 * p["p"] - p["_keff"]) // p["s"], *FORGOT_ONE),
        mis(
            "padding_once",
            lambda p: floor_len(p["L"] - p["p"], p["_keff"], p["s"], p["p"]) if p["p"] else None,
            *PAD_ONCE,
            absorbable=True,
            defers_to="forgot_plus_one",
        ),
        mis(
            "padding_ignored",
            lambda p: floor_len(p["L"], p["_keff"], p["s"], 0) if p["p"] else None,
            "别忘了填充:padding=p 让每一侧多出 p 个位置。",
            "Do not leave out the padding: padding=p adds p positions on each side.",
            absorbable=True,
            defers_to="forgot_plus_one",
        ),
        mis(
            "ceil_not_floor",
            lambda p: (
                ceil_div(p["L"] + 2 * p["p"] - p["_keff"], p["s"]) + 1
                if (p["L"] + 2 * p["p"] - p["_keff"]) % p["s"]
                else None
            ),
            *CEIL,
        ),
        mis(
            "dilation_ignored",
            lambda p: (
                floor_len(p["L"], p["k"], p["s"], p["p"]) if p["d"] > 1 and p["k"] > 1 else None
            ),
            "忽略了空洞:膨胀率 d 使卷积核的有效尺寸变为 k+(k-1)(d-1)。",
            "You ignored the dilation: it widens the kernel to k+(k-1)(d-1).",
        ),
        mis(
            "stride_ignored",
            lambda p: p["L"] + 2 * p["p"] - p["_keff"] + 1 if p["s"] > 1 else None,
            "忘了除以步长 s。",
            "You did not divide by the stride s.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw length, kernel, stride, padding and dilation."""
        k = draw.pick("kernel", KERNELS)
        d = draw.pick("dilation", (1, 1, 1, 2))
        return {
            "L": draw.pick("length", SPATIAL),
            "k": k,
            "s": draw.pick("stride", (1, 2, 2, 4)),
            "p": draw.pick("padding", tuple(range(k // 2 + 1))),
            "d": d,
            "_keff": eff(k, d),
        }

    def answer(self, p: Params) -> Value:
        """Return ``conv.conv_output_length``."""
        return conv_len(p["L"], p["k"], p["s"], p["p"], p["d"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        dil_zh = f",膨胀率(dilation)$d={p['d']}$" if p["d"] > 1 else ""
        dil_en = f", dilation $d={p['d']}$" if p["d"] > 1 else ""
        return Bilingual(
            zh=f"对长度为 $L={p['L']}$ 的输入维度使用 PyTorch `Conv2d`:卷积核 $k={p['k']}$,"
            f"步长 $s={p['s']}$,填充 $p={p['p']}${dil_zh}。该维度的输出尺寸是多少?",
            en=f"A PyTorch `Conv2d` with kernel $k={p['k']}$, stride $s={p['s']}$, padding "
            f"$p={p['p']}${dil_en} is applied along an axis of length $L={p['L']}$. What is the "
            "output length along that axis?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the floor formula with the substitution."""
        L, k, s, pad, d, keff = p["L"], p["k"], p["s"], p["p"], p["d"], p["_keff"]
        num_ = L + 2 * pad - keff
        eff = f"$k_{{eff}}={k}+({k}-1)({d}-1)={keff}$。" if d > 1 else ""
        eff_en = f"$k_{{eff}}={k}+({k}-1)({d}-1)={keff}$. " if d > 1 else ""
        body = (
            f"$$O=\\left\\lfloor\\frac{{{L}+2\\cdot{pad}-{keff}}}{{{s}}}\\right\\rfloor+1"
            f"={fl(num_, s)}+1={num_ // s}+1={answer}$$"
        )
        return Bilingual(
            zh=f"{CONV_FORMULA}\n\n{eff}代入:\n{body}",
            en=f"{CONV_FORMULA}\n\n{eff_en}Substituting:\n{body}",
        )


@register
class ConvOutputShape(Template):
    """Output shape (N, C, H, W) of a PyTorch ``Conv2d``."""

    id = "conv.output_shape"
    version = 1
    kind = AnswerKind.TUPLE
    title = Bilingual(zh="卷积输出形状", en="Convolution output shape")
    misconceptions = (
        mis(
            "forgot_plus_one",
            lambda p: (
                (p["N"], p["Co"], p["_Ho"] - 1, p["_Wo"] - 1)
                if min(p["_Ho"], p["_Wo"]) > 1
                else None
            ),
            *FORGOT_ONE,
        ),
        mis(
            "kept_in_channels",
            lambda p: (p["N"], p["C"], p["_Ho"], p["_Wo"]) if p["C"] != p["Co"] else None,
            "输出通道数等于卷积核个数(out_channels),与输入通道数无关。",
            "The output has out_channels channels (one per filter), not the input's channels.",
        ),
        mis(
            "padding_once",
            lambda p: (
                (
                    p["N"],
                    p["Co"],
                    floor_len(p["H"] - p["p"], p["k"], p["s"], p["p"]),
                    floor_len(p["W"] - p["p"], p["k"], p["s"], p["p"]),
                )
                if p["p"] and min(p["H"], p["W"]) + p["p"] >= p["k"]
                else None
            ),
            *PAD_ONCE,
            absorbable=True,
            defers_to="forgot_plus_one",
        ),
        mis(
            "channels_last",
            lambda p: (p["N"], p["_Ho"], p["_Wo"], p["Co"]),
            "PyTorch 的张量布局是 NCHW,通道在第二维。",
            "PyTorch tensors are NCHW: channels come second.",
            0.5,
        ),
        mis(
            "ceil_not_floor",
            lambda p: (
                (
                    p["N"],
                    p["Co"],
                    ceil_div(p["H"] + 2 * p["p"] - p["k"], p["s"]) + 1,
                    ceil_div(p["W"] + 2 * p["p"] - p["k"], p["s"]) + 1,
                )
                if (p["H"] + 2 * p["p"] - p["k"]) % p["s"]
                or (p["W"] + 2 * p["p"] - p["k"]) % p["s"]
                else None
            ),
            *CEIL,
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the input shape and the layer's hyper-parameters."""
        k = draw.pick("kernel", KERNELS)
        H = draw.pick("height", SPATIAL)
        # Square inputs half of the time; a "width" constraint replaces all the options.
        W = draw.pick("width", square_or_any(H))
        return {
            "N": draw.pick("batch", (1, 4, 8, 16, 20, 32, 64)),
            "C": draw.pick("in_channels", CHANNELS),
            "H": H,
            "W": W,
            "Co": draw.pick("out_channels", CHANNELS),
            "k": k,
            "s": draw.pick("stride", (1, 2, 2, 4)),
            "p": draw.pick("padding", tuple(range(k // 2 + 1))),
        }

    def answer(self, p: Params) -> Value:
        """Return (N, C_out, H_out, W_out), each length from ``conv.conv_output_length``."""
        # conv.conv2d_output_shape gives the same tuple (the tests check it); the per-axis length
        # is memoized because the 4-D argument space is too large to cache.
        p["_Ho"] = conv_len(p["H"], p["k"], p["s"], p["p"], 1)
        p["_Wo"] = conv_len(p["W"], p["k"], p["s"], p["p"], 1)
        return (p["N"], p["Co"], p["_Ho"], p["_Wo"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        layer = (
            f"`nn.Conv2d({p['C']}, {p['Co']}, kernel_size={p['k']}, stride={p['s']}, "
            f"padding={p['p']})`"
        )
        shape = f"$({p['N']}, {p['C']}, {p['H']}, {p['W']})$"
        return Bilingual(
            zh=f"形状为 {shape}(NCHW)的张量经过 {layer},输出张量的形状是什么?"
            "请按 (N, C, H, W) 输入。",
            en=f"A tensor of shape {shape} (NCHW) goes through {layer}. What is the output "
            "shape? Enter it as (N, C, H, W).",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render each axis of the floor formula."""
        k, s, pad = p["k"], p["s"], p["p"]
        lines = []
        for name, n, o in (("H", p["H"], p["_Ho"]), ("W", p["W"], p["_Wo"])):
            num_ = n + 2 * pad - k
            lines.append(
                f"$${name}_{{out}}=\\left\\lfloor\\frac{{{n}+2\\cdot{pad}-{k}}}{{{s}}}"
                f"\\right\\rfloor+1={fl(num_, s)}+1={o}$$"
            )
        body = "\n".join(lines)
        out = f"$({', '.join(str(v) for v in answer)})$" if isinstance(answer, tuple) else ""
        return Bilingual(
            zh=f"批大小 N 不变,通道数为 out_channels $={p['Co']}$;空间尺寸用\n{CONV_FORMULA}\n"
            f"{body}\n输出形状 {out}。",
            en=f"N is unchanged and C becomes out_channels $={p['Co']}$; each spatial axis "
            f"follows\n{CONV_FORMULA}\n{body}\nOutput shape {out}.",
        )


@register
class ConvSamePadding(Template):
    """Symmetric padding that keeps the size at stride 1."""

    id = "conv.same_padding"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="same 填充", en="Same padding")
    hidden_defaults = {"d": 1}
    misconceptions = (
        mis(
            "total_padding",
            lambda p: p["_keff"] - 1,
            "这是两侧填充的总和;padding 参数是每一侧的填充量 (k_eff-1)/2。",
            "That is the total over both sides; the padding argument is per side, (k_eff-1)/2.",
        ),
        mis(
            "half_kernel",
            lambda p: p["_keff"] / 2,
            "不是 k/2:输出不变需要 2p = k_eff - 1,即 p = (k_eff-1)/2。",
            "Not k/2: keeping the size needs 2p = k_eff - 1, so p = (k_eff-1)/2.",
        ),
        mis(
            "whole_kernel",
            lambda p: p["_keff"],
            "填充整个卷积核宽度会让输出变大。",
            "Padding by the whole kernel enlarges the output.",
        ),
        mis(
            "dilation_ignored",
            lambda p: (p["k"] - 1) // 2 if p["d"] > 1 else None,
            "忽略了膨胀率:有效核尺寸是 k+(k-1)(d-1)。",
            "You ignored the dilation: the effective kernel is k+(k-1)(d-1).",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw an odd kernel and a dilation."""
        k = draw.pick("kernel", (3, 3, 5, 7, 9, 11))
        d = draw.pick("dilation", (1, 1, 2, 3, 4))
        return {"k": k, "d": d, "_keff": eff(k, d)}

    def answer(self, p: Params) -> Value:
        """Return ``conv.same_padding``."""
        return conv.same_padding(p["k"], p["d"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        dz = f",膨胀率 $d={p['d']}$" if p["d"] > 1 else ""
        de = f" and dilation $d={p['d']}$" if p["d"] > 1 else ""
        return Bilingual(
            zh=f"步长为 1 的卷积,卷积核 $k={p['k']}${dz}。每一侧填充多少个零,才能使输出尺寸"
            "与输入相同(PyTorch 的 padding 参数)?",
            en=f"A stride-1 convolution has kernel $k={p['k']}${de}. How many zeros must be "
            "padded on each side (PyTorch's padding argument) to keep the output size equal to "
            "the input size?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render p = (k_eff - 1) / 2."""
        k, d, keff = p["k"], p["d"], p["_keff"]
        s = (
            f"$$k_{{eff}}=k+(k-1)(d-1)={k}+({k}-1)({d}-1)={keff}$$"
            f"$$O=L+2p-k_{{eff}}+1=L\\Rightarrow p=\\frac{{k_{{eff}}-1}}{{2}}="
            f"\\frac{{{keff}-1}}{{2}}={answer}$$"
        )
        return Bilingual(
            zh=f"步长为 1 时 $O=L+2p-k_{{eff}}+1$。\n{s}",
            en=f"At stride 1, $O=L+2p-k_{{eff}}+1$.\n{s}",
        )


@register
class ConvKerasOutputSize(Template):
    """Output length of a Keras ``Conv2D`` with padding "same" or "valid"."""

    id = "conv.keras_output_size"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="Keras 卷积输出尺寸", en="Keras convolution output size")
    misconceptions = (
        mis(
            "floor_not_ceil",
            lambda p: (
                (p["L"] // p["s"] if p["mode"] == "same" else (p["L"] - p["k"] + 1) // p["s"])
                if (p["L"] if p["mode"] == "same" else p["L"] - p["k"] + 1) % p["s"]
                else None
            ),
            "Keras 的公式对除法向上取整:same 为 ceil(L/s),valid 为 ceil((L-k+1)/s)。",
            "Keras rounds up: same gives ceil(L/s), valid gives ceil((L-k+1)/s).",
        ),
        mis(
            "other_mode",
            lambda p: keras_len(p["L"], p["k"], p["s"], "valid" if p["mode"] == "same" else "same"),
            "把 same 和 valid 弄反了:same 补零使输出为 ceil(L/s),valid 不补零。",
            "You swapped the modes: same pads so the output is ceil(L/s); valid does not pad.",
            absorbable=True,
        ),
        mis(
            "same_ignores_stride",
            lambda p: p["L"] if p["mode"] == "same" and p["s"] > 1 else None,
            "same 只在步长为 1 时保持尺寸不变;步长为 s 时输出是 ceil(L/s)。",
            "same keeps the size only at stride 1; with stride s the output is ceil(L/s).",
        ),
        mis(
            "valid_forgot_plus_one",
            lambda p: ceil_div(p["L"] - p["k"], p["s"]) if p["mode"] == "valid" else None,
            "valid 模式是 ceil((L-k+1)/s),你漏了 +1。",
            "valid is ceil((L-k+1)/s); you dropped the +1.",
            absorbable=True,
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw length, kernel, stride and padding mode."""
        return {
            "L": draw.pick("length", SPATIAL),
            "k": draw.pick("kernel", (2, 3, 3, 5, 7, 11)),
            "s": draw.pick("stride", (1, 2, 2, 3, 4)),
            "mode": draw.pick("padding", ("same", "valid")),
        }

    def answer(self, p: Params) -> Value:
        """Return ``conv.keras_conv_output_length``."""
        return keras_len(p["L"], p["k"], p["s"], p["mode"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        layer = f'`Conv2D(filters, kernel_size={p["k"]}, strides={p["s"]}, padding="{p["mode"]}")`'
        return Bilingual(
            zh=f"Keras 的 {layer} 作用于长度为 $L={p['L']}$ 的维度,输出长度是多少?",
            en=f"Keras {layer} is applied along an axis of length $L={p['L']}$. What is the "
            "output length?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the ceil formula of the chosen mode."""
        L, k, s = p["L"], p["k"], p["s"]
        if p["mode"] == "same":
            f = (
                f"$$O=\\left\\lceil\\frac{{L}}{{s}}\\right\\rceil=\\left\\lceil\\frac{{{L}}}{{{s}}}"
                f"\\right\\rceil={answer}$$"
            )
        else:
            f = (
                f"$$O=\\left\\lceil\\frac{{L-k+1}}{{s}}\\right\\rceil=\\left\\lceil\\frac{{{L}-{k}+1}}"
                f"{{{s}}}\\right\\rceil=\\left\\lceil\\frac{{{L - k + 1}}}{{{s}}}\\right\\rceil="
                f"{answer}$$"
            )
        return Bilingual(
            zh=f"Keras 按 padding 模式向上取整:\n{f}", en=f"Keras rounds up, by padding mode:\n{f}"
        )


@register
class ConvTransposedOutputSize(Template):
    """Output length of a PyTorch ``ConvTranspose2d``."""

    id = "conv.transposed_output_size"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="转置卷积输出尺寸", en="Transposed convolution output size")
    misconceptions = (
        mis(
            "forward_formula",
            lambda p: (
                (p["L"] + 2 * p["p"] - p["k"]) // p["s"] + 1
                if p["L"] + 2 * p["p"] >= p["k"]
                else None
            ),
            "这是普通卷积的公式;转置卷积是它的逆:O=(L-1)s-2p+k+output_padding。",
            "That is the forward convolution formula; the transposed one inverts it: "
            "O=(L-1)s-2p+k+output_padding.",
        ),
        mis(
            "l_times_s",
            lambda p: p["L"] * p["s"] - 2 * p["p"] + p["k"] + p["op"],
            "是 (L-1)·s 而不是 L·s:L 个输入位置之间只有 L-1 个步长间隔。",
            "It is (L-1)·s, not L·s: L input positions have L-1 stride gaps between them.",
        ),
        mis(
            "padding_added",
            lambda p: (p["L"] - 1) * p["s"] + 2 * p["p"] + p["k"] + p["op"] if p["p"] else None,
            "转置卷积的 padding 会裁掉输出,是减 2p 而不是加。",
            "In a transposed convolution padding crops the output: subtract 2p, do not add it.",
        ),
        mis(
            "output_padding_ignored",
            lambda p: (p["L"] - 1) * p["s"] - 2 * p["p"] + p["k"] if p["op"] else None,
            "别忘了 output_padding,它在一侧额外加长输出。",
            "Do not forget output_padding: it lengthens the output on one side.",
        ),
        mis(
            "padding_once",
            lambda p: (p["L"] - 1) * p["s"] - p["p"] + p["k"] + p["op"] if p["p"] else None,
            *PAD_ONCE,
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw input length, kernel, stride, padding and output padding."""
        k = draw.pick("kernel", (2, 3, 4, 4, 5))
        s = draw.pick("stride", (1, 2, 2, 3, 4))
        return {
            "L": draw.pick("length", (2, 4, 7, 8, 13, 14, 16, 28, 32, 56, 64)),
            "k": k,
            "s": s,
            "p": draw.pick("padding", tuple(range(k // 2 + 1))),
            "op": draw.pick("output_padding", (0, 0, *range(1, s))),
        }

    def answer(self, p: Params) -> Value:
        """Return ``conv.conv_transpose_output_length``."""
        return transposed_len(p["L"], p["k"], p["s"], p["p"], p["op"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        layer = (
            f"`nn.ConvTranspose2d(C_in, C_out, kernel_size={p['k']}, stride={p['s']}, "
            f"padding={p['p']}, output_padding={p['op']})`"
        )
        return Bilingual(
            zh=f"输入在某一维上长度为 $L={p['L']}$,经过 {layer},该维的输出长度是多少?",
            en=f"An input of length $L={p['L']}$ along one axis goes through {layer}. What is "
            "the output length along that axis?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render O = (L-1)s - 2p + k + output_padding."""
        L, k, s, pad, op = p["L"], p["k"], p["s"], p["p"], p["op"]
        f = (
            r"$$O=(L-1)s-2p+k+\text{output\_padding}$$"
            f"$$O=({L}-1)\\cdot{s}-2\\cdot{pad}+{k}+{op}={(L - 1) * s}-{2 * pad}+{k}+{op}"
            f"={answer}$$"
        )
        return Bilingual(
            zh=f"转置卷积(膨胀率 1)的输出长度:\n{f}",
            en=f"Output length of a transposed convolution (dilation 1):\n{f}",
        )


@register
class ConvDilatedKernel(Template):
    """Effective size of a dilated kernel."""

    id = "conv.dilated_kernel"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="空洞卷积的有效核尺寸", en="Effective size of a dilated kernel")
    misconceptions = (
        mis(
            "kernel_times_dilation",
            lambda p: p["k"] * p["d"],
            "不是 k·d:膨胀只在相邻两个采样点之间插入 d-1 个空位,共 k-1 个间隔。",
            "Not k·d: dilation inserts d-1 holes between neighbouring taps, and there are only "
            "k-1 gaps.",
        ),
        mis(
            "forgot_plus_one",
            lambda p: p["d"] * (p["k"] - 1),
            "d(k-1) 只是跨度,还要加上起点那一个像素:k_eff = d(k-1)+1。",
            "d(k-1) is the span between the end taps; add the first tap: k_eff = d(k-1)+1.",
        ),
        mis(
            "holes_at_edges",
            lambda p: p["k"] + (p["k"] + 1) * (p["d"] - 1),
            "空位只在采样点之间,核的两端外侧没有空位。",
            "Holes are only between taps, not outside the two end taps.",
        ),
        mis(
            "squared",
            lambda p: (p["d"] * (p["k"] - 1) + 1) ** 2,
            "题目问的是一个方向上的尺寸,不是面积。",
            "The question asks for the size along one axis, not the area.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw kernel and dilation."""
        return {
            "k": draw.pick("kernel", (2, 3, 3, 5, 7)),
            "d": draw.pick("dilation", (2, 2, 3, 4, 6, 8, 12, 16)),
        }

    def answer(self, p: Params) -> Value:
        """Return ``conv.effective_kernel_size``."""
        return eff(p["k"], p["d"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        return Bilingual(
            zh=f"一个 ${p['k']}\\times{p['k']}$ 的卷积核,膨胀率(dilation)$d={p['d']}$。"
            "它在一个方向上覆盖多少个输入像素(有效核尺寸)?",
            en=f"A ${p['k']}\\times{p['k']}$ kernel has dilation $d={p['d']}$. How many input "
            "pixels does it span along one axis (its effective size)?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render k + (k-1)(d-1)."""
        k, d = p["k"], p["d"]
        f = f"$$k_{{eff}}=k+(k-1)(d-1)={k}+({k}-1)({d}-1)={k}+{(k - 1) * (d - 1)}={answer}$$"
        return Bilingual(
            zh=f"相邻采样点之间插入 $d-1$ 个空位,共 $k-1$ 个间隔:\n{f}",
            en=f"Each of the $k-1$ gaps between taps gets $d-1$ holes:\n{f}",
        )
