"""Templates on convolution and pooling arithmetic: output sizes, padding, receptive fields."""

from __future__ import annotations

import math
from functools import lru_cache

from compute import conv, receptive, roi
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
    "Im2colShape",
    "PoolOutputSize",
    "RfDilatedStack",
    "RfStack",
    "RoiQuantization",
]

#: Spatial sizes seen in real networks (MNIST 28 to detection inputs 512, odd sizes included).
SPATIAL = (
    7,
    13,
    14,
    15,
    17,
    27,
    28,
    32,
    33,
    35,
    55,
    56,
    57,
    64,
    71,
    96,
    112,
    113,
    128,
    147,
    150,
    224,
    225,
    227,
    256,
    299,
    300,
    320,
    384,
    416,
    448,
    512,
)
CHANNELS = (3, 16, 32, 64, 128, 256, 512)
KERNELS = (1, 3, 3, 5, 7, 11)


# The size functions are pure and their arguments come from short lists, so memoizing them keeps
# a variant cheap (argument validation in compute/ dominates otherwise).
_eff = lru_cache(maxsize=4096)(conv.effective_kernel_size)
_conv_len = lru_cache(maxsize=65536)(conv.conv_output_length)
_pool_len = lru_cache(maxsize=65536)(conv.pool_output_length)
_keras_len = lru_cache(maxsize=65536)(conv.keras_conv_output_length)
_transposed_len = lru_cache(maxsize=65536)(conv.conv_transpose_output_length)
_dilated_rf = lru_cache(maxsize=4096)(receptive.dilated_stack_receptive_field)


@lru_cache(maxsize=256)
def _square_or_any(h: int) -> tuple[int, ...]:
    """Return width options: ``h`` itself half of the time, otherwise any spatial size."""
    return (h,) * len(SPATIAL) + SPATIAL


def _floor_len(n: int, k_eff: int, s: int, p: int) -> int:
    """Apply the floor rule with the learner's (possibly wrong) inputs."""
    return (n + 2 * p - k_eff) // s + 1


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _fl(a: int, b: int) -> str:
    return rf"\left\lfloor \frac{{{a}}}{{{b}}} \right\rfloor"


_CONV_FORMULA = r"$$O=\left\lfloor\frac{L+2p-d(k-1)-1}{s}\right\rfloor+1$$"

_FORGOT_ONE = (
    "忘了公式末尾的 +1:窗口个数等于步长移动次数再加上第一个窗口。",
    "You forgot the final +1: the number of windows is the number of stride steps plus the "
    "first window.",
)
_PAD_ONCE = (
    "填充只算了一边:PyTorch 的 padding=p 在两侧各补 p,总共 2p。",
    "You counted the padding once: PyTorch's padding=p adds p on each side, 2p in total.",
)
_CEIL = (
    "用了向上取整:卷积(及默认的池化)对除法向下取整,最后不完整的窗口被丢弃。",
    "You rounded up: convolution (and pooling by default) takes the floor, dropping the last "
    "incomplete window.",
)


@register
class ConvOutputSize(Template):
    """Output length of a PyTorch convolution along one axis."""

    id = "conv.output_size"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="卷积输出尺寸", en="Convolution output size")
    hidden_defaults = {"d": 1}
    misconceptions = (
        mis(
            "forgot_plus_one", lambda p: (p["L"] + 2 * p["p"] - p["_keff"]) // p["s"], *_FORGOT_ONE
        ),
        mis(
            "padding_once",
            lambda p: _floor_len(p["L"] - p["p"], p["_keff"], p["s"], p["p"]) if p["p"] else None,
            *_PAD_ONCE,
            absorbable=True,
            defers_to="forgot_plus_one",
        ),
        mis(
            "padding_ignored",
            lambda p: _floor_len(p["L"], p["_keff"], p["s"], 0) if p["p"] else None,
            "别忘了填充:padding=p 让每一侧多出 p 个位置。",
            "Do not leave out the padding: padding=p adds p positions on each side.",
            absorbable=True,
            defers_to="forgot_plus_one",
        ),
        mis(
            "ceil_not_floor",
            lambda p: (
                _ceil_div(p["L"] + 2 * p["p"] - p["_keff"], p["s"]) + 1
                if (p["L"] + 2 * p["p"] - p["_keff"]) % p["s"]
                else None
            ),
            *_CEIL,
        ),
        mis(
            "dilation_ignored",
            lambda p: (
                _floor_len(p["L"], p["k"], p["s"], p["p"]) if p["d"] > 1 and p["k"] > 1 else None
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
            "_keff": _eff(k, d),
        }

    def answer(self, p: Params) -> Value:
        """Return ``conv.conv_output_length``."""
        return _conv_len(p["L"], p["k"], p["s"], p["p"], p["d"])

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
            f"={_fl(num_, s)}+1={num_ // s}+1={answer}$$"
        )
        return Bilingual(
            zh=f"{_CONV_FORMULA}\n\n{eff}代入:\n{body}",
            en=f"{_CONV_FORMULA}\n\n{eff_en}Substituting:\n{body}",
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
            *_FORGOT_ONE,
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
                    _floor_len(p["H"] - p["p"], p["k"], p["s"], p["p"]),
                    _floor_len(p["W"] - p["p"], p["k"], p["s"], p["p"]),
                )
                if p["p"] and min(p["H"], p["W"]) + p["p"] >= p["k"]
                else None
            ),
            *_PAD_ONCE,
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
                    _ceil_div(p["H"] + 2 * p["p"] - p["k"], p["s"]) + 1,
                    _ceil_div(p["W"] + 2 * p["p"] - p["k"], p["s"]) + 1,
                )
                if (p["H"] + 2 * p["p"] - p["k"]) % p["s"]
                or (p["W"] + 2 * p["p"] - p["k"]) % p["s"]
                else None
            ),
            *_CEIL,
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the input shape and the layer's hyper-parameters."""
        k = draw.pick("kernel", KERNELS)
        H = draw.pick("height", SPATIAL)
        # Square inputs half of the time; a "width" constraint replaces all the options.
        W = draw.pick("width", _square_or_any(H))
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
        p["_Ho"] = _conv_len(p["H"], p["k"], p["s"], p["p"], 1)
        p["_Wo"] = _conv_len(p["W"], p["k"], p["s"], p["p"], 1)
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
                f"\\right\\rfloor+1={_fl(num_, s)}+1={o}$$"
            )
        body = "\n".join(lines)
        out = f"$({', '.join(str(v) for v in answer)})$" if isinstance(answer, tuple) else ""
        return Bilingual(
            zh=f"批大小 N 不变,通道数为 out_channels $={p['Co']}$;空间尺寸用\n{_CONV_FORMULA}\n"
            f"{body}\n输出形状 {out}。",
            en=f"N is unchanged and C becomes out_channels $={p['Co']}$; each spatial axis "
            f"follows\n{_CONV_FORMULA}\n{body}\nOutput shape {out}.",
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
        return {"k": k, "d": d, "_keff": _eff(k, d)}

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
            lambda p: _keras_len(
                p["L"], p["k"], p["s"], "valid" if p["mode"] == "same" else "same"
            ),
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
            lambda p: _ceil_div(p["L"] - p["k"], p["s"]) if p["mode"] == "valid" else None,
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
        return _keras_len(p["L"], p["k"], p["s"], p["mode"])

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
            *_PAD_ONCE,
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
        return _transposed_len(p["L"], p["k"], p["s"], p["p"], p["op"])

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
        return _eff(p["k"], p["d"])

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
                _pool_len(p["L"], p["k"], p["s"], p["p"], 1, not p["ceil"])
                if _pool_len(p["L"], p["k"], p["s"], p["p"], 1, False)
                != _pool_len(p["L"], p["k"], p["s"], p["p"], 1, True)
                else None
            ),
            "取整方式弄错了:ceil_mode=False 向下取整,ceil_mode=True 向上取整。",
            "Wrong rounding: ceil_mode=False takes the floor, ceil_mode=True the ceiling.",
        ),
        mis(
            "stride_one_default",
            lambda p: (
                _pool_len(p["L"], p["k"], 1, p["p"], 1, p["ceil"]) if p["s"] is None else None
            ),
            "池化层的 stride 默认等于 kernel_size,而不是 1。",
            "A pooling layer's stride defaults to kernel_size, not 1.",
        ),
        # In ceil mode with a remainder, "forgot +1" gives the floor-mode answer: ambiguous.
        mis(
            "forgot_plus_one",
            lambda p: (
                _pool_len(p["L"], p["k"], p["s"], p["p"], 1, p["ceil"]) - 1
                if not (p["ceil"] and (p["L"] + 2 * p["p"] - p["k"]) % p["_s"])
                else None
            ),
            *_FORGOT_ONE,
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
                _pool_len(p["L"] - p["p"], p["k"], p["s"], p["p"], 1, p["ceil"]) if p["p"] else None
            ),
            *_PAD_ONCE,
            absorbable=True,
            defers_to="forgot_plus_one",
        ),
        mis(
            "last_window_rule_ignored",
            lambda p: (
                _ceil_div(p["L"] + 2 * p["p"] - p["k"], p["_s"]) + 1
                if p["ceil"]
                and (_ceil_div(p["L"] + 2 * p["p"] - p["k"], p["_s"])) * p["_s"] >= p["L"] + p["p"]
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
        return _pool_len(p["L"], p["k"], p["s"], p["p"], 1, p["ceil"])

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
            raw = _ceil_div(n, s) + 1
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
                f"{_fl(n, s)}+1={answer}$$"
            )
            f_en = f
        mode_zh = "向上取整(ceil_mode=True)" if p["ceil"] else "向下取整(ceil_mode=False)"
        mode_en = "rounding up (ceil_mode=True)" if p["ceil"] else "rounding down (ceil_mode=False)"
        return Bilingual(
            zh=f"{default_zh}池化的输出长度与卷积公式相同,这里{mode_zh}:\n{f}",
            en=f"{default_en}Pooling uses the convolution formula, here {mode_en}:\n{f_en}",
        )


def _rf_chain(layers: list[tuple[str, int, int]]) -> list[int]:
    """Return the receptive field after each layer (through ``receptive.receptive_fields``)."""
    fields = receptive.receptive_fields([receptive.Layer(n, k, s) for n, k, s in layers])
    return [f.receptive_field for f in fields]


_STACK_CHOICES = (
    ("conv", 3, 1),
    ("conv", 3, 1),
    ("conv", 3, 2),
    ("conv", 5, 1),
    ("conv", 7, 2),
    ("pool", 2, 2),
    ("pool", 3, 2),
    ("conv", 1, 1),
)


@register
class RfStack(Template):
    """Receptive field at the end of a stack of convolutions and poolings."""

    id = "rf.stack"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="感受野", en="Receptive field")
    misconceptions = (
        mis(
            "strides_ignored",
            lambda p: 1 + sum(k - 1 for _, k, _ in p["layers"]),
            "前面层的步长会放大后面层的感受野增量:每层增加 (k-1)×(之前所有步长之积)。",
            "Earlier strides scale later growth: each layer adds (k-1) times the product of all "
            "previous strides.",
        ),
        mis(
            "current_stride_included",
            lambda p: (
                1
                + sum(
                    (k - 1) * math.prod(s for _, _, s in p["layers"][: i + 1])
                    for i, (_, k, _) in enumerate(p["layers"])
                )
            ),
            "本层的步长不影响本层的感受野,只影响之后的层。",
            "A layer's own stride does not enlarge its own field, only later layers'.",
        ),
        mis(
            "sum_of_kernels",
            lambda p: sum(k for _, k, _ in p["layers"]),
            "感受野不是卷积核尺寸之和:相邻层的窗口有重叠。",
            "The field is not the sum of kernel sizes: neighbouring windows overlap.",
        ),
        mis(
            "last_layer_only",
            lambda p: p["layers"][-1][1],
            "最后一层的核在输入上覆盖的范围要经过前面各层放大。",
            "The last kernel's reach is magnified by all earlier layers.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw 3 to 5 layers (or a prefix of a named network via constraints)."""
        named: str = draw.pick("stack", ("random",))
        if named != "random":
            stack = receptive.NAMED_STACKS[named]
            depth = draw.pick("depth", tuple(range(2, len(stack) + 1)))
            layers = [(lay.name, lay.kernel, lay.stride) for lay in stack[:depth]]
        else:
            depth = draw.pick("depth", (3, 4, 4, 5))
            layers = []
            counts = {"conv": 0, "pool": 0}
            for _ in range(depth):
                kind, k, s = _STACK_CHOICES[draw.index(len(_STACK_CHOICES))]
                counts[kind] += 1
                layers.append((f"{kind}{counts[kind]}", k, s))
        return {"_stack": named, "layers": layers}

    def answer(self, p: Params) -> Value:
        """Return the last ``receptive.receptive_fields`` entry."""
        return _rf_chain(p["layers"])[-1]

    def _table(self, p: Params, header: str) -> str:
        rows = "\n".join(f"| {n} | {k} | {s} |" for n, k, s in p["layers"])
        return f"{header}\n|---|---|---|\n{rows}"

    def prompt(self, p: Params) -> Bilingual:
        """Render the question with the layer table."""
        tz = self._table(p, "| 层 | 卷积核 | 步长 |")
        te = self._table(p, "| layer | kernel | stride |")
        return Bilingual(
            zh=f"下表的各层依次相连(只看一个方向,膨胀率 1):\n\n{tz}\n\n最后一层输出的一个像素"
            "在输入图像上的感受野是多少?",
            en=f"These layers are applied in order (one axis, dilation 1):\n\n{te}\n\nWhat is "
            "the receptive field on the input of one pixel of the last layer's output?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render r and j layer by layer."""
        r, j = 1, 1
        lines = []
        for name, k, s in p["layers"]:
            r_new = r + (k - 1) * j
            lines.append(f"- {name}: $r={r}+({k}-1)\\cdot{j}={r_new}$, $j={j}\\cdot{s}={j * s}$")
            r, j = r_new, j * s
        body = "\n".join(lines)
        f = r"$$r_{out}=r_{in}+(k-1)\,j_{in},\qquad j_{out}=j_{in}\,s$$"
        return Bilingual(
            zh=f"从 $r=1, j=1$ 开始逐层递推($j$ 为之前步长之积):\n{f}\n{body}\n\n感受野为 {answer}。",
            en=f"Start from $r=1, j=1$ ($j$ is the product of earlier strides):\n{f}\n{body}\n\n"
            f"The receptive field is {answer}.",
        )


_DILATION_STACKS = (
    (1, 2, 4),
    (1, 2, 4, 8),
    (1, 1, 2, 4),
    (2, 2, 2),
    (1, 2, 4, 8, 16),
    (1, 3, 5),
    (2, 4),
    (1, 2, 3),
    (1, 2, 5),
    (1, 1, 2, 2, 4, 4),
)


@register
class RfDilatedStack(Template):
    """Receptive field of stacked stride-1 dilated convolutions."""

    id = "rf.dilated_stack"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="空洞卷积堆叠的感受野", en="Receptive field of dilated stacks")
    misconceptions = (
        mis(
            "dilation_ignored",
            lambda p: 1 + len(p["dilations"]) * (p["k"] - 1),
            "忽略了膨胀率:每层增加 (k-1)·d 而不是 k-1。",
            "You ignored the dilation: each layer adds (k-1)·d, not k-1.",
        ),
        mis(
            "last_layer_only",
            lambda p: _eff(p["k"], p["dilations"][-1]),
            "这只是最后一层的有效核尺寸,还要累加前面各层。",
            "That is only the last layer's effective kernel; earlier layers add up too.",
        ),
        mis(
            "sum_of_effective_kernels",
            lambda p: sum(_eff(p["k"], d) for d in p["dilations"]),
            "相邻层的窗口有重叠:每层只增加 k_eff-1。",
            "Windows overlap: each layer adds k_eff-1, not k_eff.",
        ),
        mis(
            "product_of_effective_kernels",
            lambda p: math.prod(_eff(p["k"], d) for d in p["dilations"]),
            "步长为 1 时感受野是线性增长的,不是相乘。",
            "At stride 1 the field grows additively, not multiplicatively.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a kernel and a dilation sequence."""
        return {
            "k": draw.pick("kernel", (3, 3, 3, 5)),
            "dilations": draw.pick("dilations", _DILATION_STACKS),
        }

    def answer(self, p: Params) -> Value:
        """Return ``receptive.dilated_stack_receptive_field``."""
        return _dilated_rf(p["k"], p["dilations"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        ds = ", ".join(str(d) for d in p["dilations"])
        return Bilingual(
            zh=f"依次堆叠 {len(p['dilations'])} 层步长为 1 的 ${p['k']}\\times{p['k']}$ 空洞卷积,"
            f"膨胀率依次为 {ds}。最后一层一个输出像素的感受野(一个方向)是多少?",
            en=f"{len(p['dilations'])} stride-1 ${p['k']}\\times{p['k']}$ convolutions are "
            f"stacked with dilations {ds}. What is the receptive field (along one axis) of one "
            "output pixel of the last layer?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render RF = 1 + sum (k-1) d_i."""
        k = p["k"]
        terms = "+".join(f"({k}-1)\\cdot{d}" for d in p["dilations"])
        f = f"$$RF=1+\\sum_i (k-1)d_i=1+{terms}={answer}$$"
        return Bilingual(
            zh=f"步长为 1,每层增加 $(k-1)d_i$:\n{f}",
            en=f"At stride 1 each layer adds $(k-1)d_i$:\n{f}",
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
            *_FORGOT_ONE,
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
        p["_Ho"] = _conv_len(p["H"], p["k"], p["s"], p["p"], 1)
        p["_Wo"] = _conv_len(p["W"], p["k"], p["s"], p["p"], 1)
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
