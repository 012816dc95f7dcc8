"""Templates on parameter and FLOP counts of convolution, linear and BatchNorm layers."""

from __future__ import annotations

from compute import conv, params
from compute.templates.base import (
    AnswerKind,
    Bilingual,
    Draw,
    Params,
    Template,
    Tolerance,
    Value,
)
from compute.templates.engine import register
from compute.templates.fmt import mis

__all__ = [
    "FlopsConv",
    "FlopsConvV2",
    "ParamsBatchnorm",
    "ParamsConv",
    "ParamsDepthwiseSeparable",
    "ParamsFcAsConv",
    "ParamsLinear",
    "ParamsStacked3x3",
]

CHANNELS = (3, 16, 32, 64, 96, 128, 192, 256, 384, 512)

_BIAS_FORGOT = (
    "漏了偏置:每个输出通道还有一个偏置参数。",
    "You forgot the bias: each output channel has one bias parameter.",
)
_BIAS_ONCE = (
    "偏置不是只有一个:每个输出通道(每个卷积核)各有一个。",
    "There is not a single bias: each output channel (each filter) has its own.",
)
_BIAS_ADDED = ("这一层 bias=False,不应计入偏置。", "This layer has bias=False: count no bias.")


def _bias_text(bias: bool) -> tuple[str, str]:
    return (
        ("带偏置", "with bias") if bias else ("不带偏置(bias=False)", "without bias (bias=False)")
    )


@register
class ParamsConv(Template):
    """Parameter count of a ``Conv2d`` layer."""

    id = "params.conv"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="卷积层参数量", en="Parameters of a convolution layer")
    misconceptions = (
        mis(
            "bias_forgotten",
            lambda p: p["k"] ** 2 * p["Ci"] * p["Co"] if p["bias"] else None,
            *_BIAS_FORGOT,
        ),
        mis(
            "bias_counted_once",
            lambda p: p["k"] ** 2 * p["Ci"] * p["Co"] + 1 if p["bias"] else None,
            *_BIAS_ONCE,
        ),
        mis(
            "bias_added",
            lambda p: p["k"] ** 2 * p["Ci"] * p["Co"] + p["Co"] if not p["bias"] else None,
            *_BIAS_ADDED,
        ),
        mis(
            "in_channels_ignored",
            lambda p: p["k"] ** 2 * p["Co"] + (p["Co"] if p["bias"] else 0),
            "每个卷积核要覆盖全部输入通道:权重形状是 C_out×C_in×k×k。",
            "Each filter spans every input channel: the weight is C_out×C_in×k×k.",
        ),
        mis(
            "kernel_not_squared",
            lambda p: (
                p["k"] * p["Ci"] * p["Co"] + (p["Co"] if p["bias"] else 0) if p["k"] > 1 else None
            ),
            "卷积核是 k×k 的二维窗口,要乘 k²。",
            "The kernel is a k×k window: multiply by k².",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw channels, kernel and bias."""
        return {
            "Ci": draw.pick("in_channels", CHANNELS),
            "Co": draw.pick("out_channels", CHANNELS),
            "k": draw.pick("kernel", (1, 3, 3, 3, 5, 7, 11)),
            "bias": draw.pick("bias", (True, True, False)),
        }

    def answer(self, p: Params) -> Value:
        """Return ``params.conv2d_params``."""
        return params.conv2d_params(p["Ci"], p["Co"], p["k"], p["bias"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        layer = f"`nn.Conv2d({p['Ci']}, {p['Co']}, kernel_size={p['k']}, bias={p['bias']})`"
        bz, be = _bias_text(p["bias"])
        return Bilingual(
            zh=f"{layer}({bz})有多少个可学习参数?",
            en=f"How many learnable parameters does {layer} ({be}) have?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render (k^2 C_in + 1) C_out."""
        k, ci, co = p["k"], p["Ci"], p["Co"]
        w = k * k * ci * co
        if p["bias"]:
            f = f"$$(k^2C_{{in}}+1)\\,C_{{out}}=({k}^2\\cdot{ci}+1)\\cdot{co}={w}+{co}={answer}$$"
        else:
            f = f"$$k^2C_{{in}}C_{{out}}={k}^2\\cdot{ci}\\cdot{co}={answer}$$"
        if p["bias"]:
            zh_b, en_b = "每个输出通道一个偏置", ", plus one bias per output channel"
        else:
            zh_b, en_b = "bias=False,没有偏置", "; bias=False, so no bias"
        return Bilingual(
            zh=f"权重形状为 $C_{{out}}\\times C_{{in}}\\times k\\times k$,{zh_b}:\n{f}",
            en=f"The weight is $C_{{out}}\\times C_{{in}}\\times k\\times k${en_b}:\n{f}",
        )


@register
class ParamsDepthwiseSeparable(Template):
    """Parameter count of a depthwise separable convolution (MobileNet)."""

    id = "params.depthwise_separable"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="深度可分离卷积参数量", en="Parameters of a depthwise separable conv")
    misconceptions = (
        mis(
            "standard_conv",
            lambda p: params.conv2d_params(p["Ci"], p["Co"], p["k"], False),
            "这是普通卷积的参数量;深度可分离卷积 = 逐通道 k×k 卷积 + 1×1 逐点卷积。",
            "That is a standard convolution; depthwise separable = per-channel k×k + 1×1 "
            "pointwise.",
        ),
        mis(
            "pointwise_forgotten",
            lambda p: params.depthwise_conv_params(p["Ci"], p["k"]),
            "只算了逐通道卷积,还要加上 1×1 逐点卷积的 C_in·C_out。",
            "You counted only the depthwise part; add the 1×1 pointwise C_in·C_out.",
        ),
        mis(
            "depthwise_per_output",
            lambda p: p["k"] ** 2 * p["Co"] + p["Ci"] * p["Co"] if p["Ci"] != p["Co"] else None,
            "逐通道卷积的核数等于输入通道数 C_in,而不是 C_out。",
            "The depthwise stage has one filter per input channel (C_in), not per output.",
        ),
        mis(
            "depthwise_full_depth",
            lambda p: p["k"] ** 2 * p["Ci"] * p["Ci"] + p["Ci"] * p["Co"],
            "逐通道卷积的每个核只看一个通道,参数是 k²,不是 k²·C_in。",
            "Each depthwise filter sees one channel: k² weights, not k²·C_in.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw channels and kernel."""
        return {
            "Ci": draw.pick("in_channels", CHANNELS),
            "Co": draw.pick("out_channels", (4, *CHANNELS[1:])),
            "k": draw.pick("kernel", (3, 3, 3, 5, 7)),
        }

    def answer(self, p: Params) -> Value:
        """Return ``params.depthwise_separable_params`` (no bias)."""
        return params.depthwise_separable_params(p["Ci"], p["Co"], p["k"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        return Bilingual(
            zh=f"把 {p['Ci']} 个输入通道、{p['Co']} 个输出通道、${p['k']}\\times{p['k']}$ 的普通卷积"
            "换成深度可分离卷积(逐通道卷积 + 1×1 逐点卷积,均不带偏置)。深度可分离卷积共有多少个"
            "参数?",
            en=f"A ${p['k']}\\times{p['k']}$ convolution from {p['Ci']} to {p['Co']} channels is "
            "replaced by a depthwise separable convolution (depthwise + 1×1 pointwise, no "
            "biases). How many parameters does the separable version have?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render k^2 C_in + C_in C_out."""
        k, ci, co = p["k"], p["Ci"], p["Co"]
        f = (
            f"$$k^2C_{{in}}+C_{{in}}C_{{out}}={k}^2\\cdot{ci}+{ci}\\cdot{co}={k * k * ci}+"
            f"{ci * co}={answer}$$"
        )
        std = k * k * ci * co
        return Bilingual(
            zh=f"逐通道卷积每个输入通道一个 $k\\times k$ 核,逐点卷积是 $C_{{in}}\\to C_{{out}}$ 的 "
            f"1×1 卷积:\n{f}\n普通卷积为 $k^2C_{{in}}C_{{out}}={std}$。",
            en="Depthwise: one $k\\times k$ filter per input channel; pointwise: a 1×1 "
            f"convolution $C_{{in}}\\to C_{{out}}$:\n{f}\nA standard convolution has "
            f"$k^2C_{{in}}C_{{out}}={std}$.",
        )


@register
class ParamsLinear(Template):
    """Parameter count of a ``Linear`` layer."""

    id = "params.linear"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="全连接层参数量", en="Parameters of a fully connected layer")
    misconceptions = (
        mis("bias_forgotten", lambda p: p["_in"] * p["o"] if p["bias"] else None, *_BIAS_FORGOT),
        mis(
            "bias_counted_once", lambda p: p["_in"] * p["o"] + 1 if p["bias"] else None, *_BIAS_ONCE
        ),
        mis(
            "bias_per_input",
            lambda p: p["_in"] * p["o"] + p["_in"] if p["bias"] else None,
            "偏置的个数等于输出特征数 out_features,不是输入特征数。",
            "There is one bias per output feature, not per input feature.",
        ),
        mis(
            "bias_added",
            lambda p: p["_in"] * p["o"] + p["o"] if not p["bias"] else None,
            *_BIAS_ADDED,
        ),
        mis(
            "sum_not_product",
            lambda p: p["_in"] + p["o"] + (p["o"] if p["bias"] else 0),
            "每个输入与每个输出之间都有一个权重:是乘积,不是和。",
            "Every input connects to every output: the weights are a product, not a sum.",
        ),
        mis(
            "flattened_wrong",
            lambda p: p["c"] * p["o"] + (p["o"] if p["bias"] else 0) if p["hw"] > 1 else None,
            "展平后的特征数是 C·H·W,不只是通道数。",
            "The flattened input has C·H·W features, not just C.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the flattened input (C×H×W) and the output width."""
        c = draw.pick("in_channels", (64, 128, 256, 512, 1024, 2048))
        hw = draw.pick("spatial", (1, 1, 2, 4, 6, 7))
        return {
            "c": c,
            "hw": hw,
            "_in": c * hw * hw,
            "o": draw.pick("out_features", (10, 100, 128, 256, 512, 1000, 1024, 4096)),
            "bias": draw.pick("bias", (True, True, True, False)),
        }

    def answer(self, p: Params) -> Value:
        """Return ``params.linear_params``."""
        return params.linear_params(p["_in"], p["o"], p["bias"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        hw = p["hw"]
        src_zh = (
            f"形状为 ${p['c']}\\times{hw}\\times{hw}$ 的特征图展平后"
            if hw > 1
            else f"{p['c']} 维的特征向量(空间尺寸 {hw}×{hw})"
        )
        src_en = (
            f"A ${p['c']}\\times{hw}\\times{hw}$ feature map is flattened and"
            if hw > 1
            else f"A {p['c']}-dimensional feature vector (spatial size {hw}×{hw})"
        )
        bz, be = _bias_text(p["bias"])
        return Bilingual(
            zh=f"{src_zh}输入一个 {p['o']} 个输出的全连接层({bz})。该层有多少个参数?",
            en=f"{src_en} feeds a fully connected layer with {p['o']} outputs ({be}). How many "
            "parameters does the layer have?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render in*out (+ out)."""
        i, o, c, hw = p["_in"], p["o"], p["c"], p["hw"]
        flat = f"$n_{{in}}={c}\\cdot{hw}\\cdot{hw}={i}$. " if hw > 1 else ""
        f = (
            f"$$n_{{in}}n_{{out}}+n_{{out}}={i}\\cdot{o}+{o}={answer}$$"
            if p["bias"]
            else f"$$n_{{in}}n_{{out}}={i}\\cdot{o}={answer}$$"
        )
        return Bilingual(
            zh=f"{flat}权重矩阵为 $n_{{out}}\\times n_{{in}}$:\n{f}",
            en=f"{flat}The weight matrix is $n_{{out}}\\times n_{{in}}$:\n{f}",
        )


@register
class ParamsBatchnorm(Template):
    """Learnable parameters and buffers of ``BatchNorm2d``."""

    id = "params.batchnorm"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="BatchNorm 的参数与缓冲区", en="BatchNorm parameters and buffers")
    misconceptions = (
        mis(
            "running_stats_learnable",
            lambda p: 4 * p["C"] if p["what"] == "learnable" else None,
            "running_mean 和 running_var 是缓冲区,不是可学习参数(不接收梯度)。",
            "running_mean and running_var are buffers, not learnable parameters (no gradient).",
        ),
        mis(
            "gamma_only",
            lambda p: p["C"] if p["what"] == "learnable" else None,
            "可学习参数有 γ 和 β 两组,各 C 个。",
            "There are two learnable vectors, γ and β, of C entries each.",
        ),
        mis(
            "batches_tracked_forgotten",
            lambda p: {"buffers": 2 * p["C"], "total": 4 * p["C"]}.get(p["what"]),
            "缓冲区里还有一个标量 num_batches_tracked。",
            "The buffers also hold the scalar num_batches_tracked.",
        ),
        mis(
            "gamma_beta_as_buffers",
            lambda p: 4 * p["C"] + 1 if p["what"] == "buffers" else None,
            "γ 和 β 是参数(Parameter),不是缓冲区。",
            "γ and β are parameters, not buffers.",
        ),
        mis(
            "per_element",
            lambda p: (
                2 * p["C"] * p["H"] * p["H"] + (2 * p["C"] + 1 if p["what"] == "total" else 0)
                if p["what"] != "buffers"
                else None
            ),
            "BatchNorm2d 的参数按通道共享,每个通道一个 γ、一个 β,与 H、W 无关。",
            "BatchNorm2d shares its parameters per channel: one γ and one β per channel, "
            "independent of H and W.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the channel count, the feature-map size and what to count."""
        return {
            "C": draw.pick("num_features", (16, 32, 64, 128, 256, 512)),
            "H": draw.pick("spatial", (7, 14, 28, 56)),
            "what": draw.pick("count", ("learnable", "buffers", "total")),
        }

    def answer(self, p: Params) -> Value:
        """Return the requested count from ``params.batchnorm_params``."""
        counts = params.batchnorm_params(p["C"])
        if p["what"] == "learnable":
            return counts.learnable
        if p["what"] == "buffers":
            return counts.buffers
        return counts.learnable + counts.buffers

    _ASK = {
        "learnable": (
            "它有多少个可学习参数(requires_grad)?",
            "learnable parameters (requires_grad)",
        ),
        "buffers": ("它的缓冲区(buffer)共有多少个元素?", "buffer elements"),
        "total": (
            "它的 state_dict 中共有多少个数值(参数加缓冲区)?",
            "numbers in its state_dict (parameters plus buffers)",
        ),
    }

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        az, ae = self._ASK[p["what"]]
        return Bilingual(
            zh=f"`nn.BatchNorm2d({p['C']})`(默认 affine=True、track_running_stats=True)作用于形状"
            f"为 $(N, {p['C']}, {p['H']}, {p['H']})$ 的特征图。{az}",
            en=f"`nn.BatchNorm2d({p['C']})` (default affine=True, track_running_stats=True) is "
            f"applied to feature maps of shape $(N, {p['C']}, {p['H']}, {p['H']})$. How many "
            f"{ae} does it have?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render 2C learnable and 2C + 1 buffers."""
        C = p["C"]
        f = (
            f"$$\\gamma,\\beta:\\ 2C=2\\cdot{C}={2 * C};\\qquad \\text{{running\\_mean}},"
            f"\\text{{running\\_var}},\\text{{num\\_batches\\_tracked}}:\\ 2C+1={2 * C + 1}$$"
        )
        return Bilingual(
            zh=f"参数按通道计,与 N、H、W 无关:\n{f}\n所求数量为 {answer}。",
            en=f"Everything is per channel, independent of N, H, W:\n{f}\nThe count asked for "
            f"is {answer}.",
        )


@register
class ParamsStacked3x3(Template):
    """Parameter ratio of n stacked 3x3 convolutions to one (2n+1)x(2n+1) convolution."""

    id = "params.stacked_3x3"
    version = 1
    kind = AnswerKind.REAL
    ratio = True
    tolerance = Tolerance(abs=1e-3)
    real_format = ".4f"
    title = Bilingual(zh="3×3 卷积堆叠的参数比", en="Parameter ratio of stacked 3×3 convs")
    misconceptions = (
        mis(
            "inverted",
            lambda p: p["_big"] / p["_small"],
            "比值倒过来了:题目问的是堆叠的 3×3 相对于大卷积核。",
            "The ratio is upside down: the question asks stacked 3×3 over the large kernel.",
        ),
        mis(
            "savings_not_ratio",
            lambda p: 1 - p["_small"] / p["_big"],
            "这是节省的比例(1 减去比值),不是参数量之比。",
            "That is the saving (1 minus the ratio), not the ratio of counts.",
        ),
        mis(
            "single_layer",
            lambda p: 9 / (2 * p["n"] + 1) ** 2,
            "堆叠了 n 层 3×3,每层都有 9C² 个权重。",
            "There are n stacked 3×3 layers, each with 9C² weights.",
        ),
        mis(
            "wrong_equivalent_kernel",
            lambda p: p["_small"] / (p["C"] ** 2 * (3 * p["n"]) ** 2),
            "n 层 3×3(步长 1)的感受野是 2n+1,不是 3n。",
            "n stride-1 3×3 layers see 2n+1 pixels, not 3n.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the depth of the stack and the channel count."""
        return {
            "n": draw.pick("layers", (2, 2, 3, 3, 4)),
            "C": draw.pick("channels", (32, 64, 128, 256, 512)),
        }

    def answer(self, p: Params) -> Value:
        """Return the ratio of two ``params.conv2d_params`` counts (no bias)."""
        n, c = p["n"], p["C"]
        small: int = n * params.conv2d_params(c, c, 3, bias=False)
        big = params.conv2d_params(c, c, 2 * n + 1, bias=False)
        p["_small"], p["_big"] = small, big
        return small / big

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        n, c, K = p["n"], p["C"], 2 * p["n"] + 1
        return Bilingual(
            zh=f"VGG 用 {n} 层步长为 1 的 3×3 卷积代替一层 ${K}\\times{K}$ 卷积(感受野相同)。输入"
            f"输出通道数都是 $C={c}$,不计偏置。堆叠 3×3 的参数量是大卷积核的多少倍?(可填小数或"
            "百分数)",
            en=f"VGG replaces one ${K}\\times{K}$ convolution by {n} stacked stride-1 3×3 "
            f"convolutions (same receptive field). All layers have $C={c}$ channels in and out; "
            "ignore biases. What is the parameter count of the 3×3 stack as a fraction of the "
            "large kernel's? (decimal or percentage)",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render n 9C^2 / (K^2 C^2)."""
        n, c, K = p["n"], p["C"], 2 * p["n"] + 1
        f = (
            f"$$\\frac{{n\\cdot 3^2C^2}}{{(2n+1)^2C^2}}=\\frac{{{n}\\cdot9\\cdot{c}^2}}{{{K}^2\\cdot"
            f"{c}^2}}=\\frac{{{p['_small']}}}{{{p['_big']}}}=\\frac{{{9 * n}}}{{{K * K}}}"
            f"\\approx{answer:.4f}$$"
        )
        return Bilingual(
            zh=f"{n} 层 3×3 的感受野为 $2n+1={K}$:\n{f}\n$C$ 约掉了,比值与通道数无关。",
            en=f"{n} 3×3 layers see $2n+1={K}$ pixels:\n{f}\n$C$ cancels: the ratio "
            "does not depend on the channel count.",
        )


@register
class ParamsFcAsConv(Template):
    """Parameters of a fully connected layer rewritten as a convolution (AlexNet/VGG fc6)."""

    id = "params.fc_as_conv"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="全连接层转为卷积层", en="A fully connected layer as a convolution")
    misconceptions = (
        mis("bias_forgotten", lambda p: p["H"] ** 2 * p["C"] * p["o"], *_BIAS_FORGOT),
        mis(
            "one_by_one_kernel",
            lambda p: params.conv2d_params(p["C"], p["o"], 1),
            "等价卷积的核大小等于输入特征图的尺寸 H×W,不是 1×1。",
            "The equivalent kernel is as large as the input map (H×W), not 1×1.",
        ),
        mis(
            "kernel_not_squared",
            lambda p: p["H"] * p["C"] * p["o"] + p["o"],
            "卷积核是 H×W 的,面积要算 H·W。",
            "The kernel is H×W: use its area H·W.",
        ),
        mis("bias_counted_once", lambda p: p["H"] ** 2 * p["C"] * p["o"] + 1, *_BIAS_ONCE),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the feature map and the FC width."""
        return {
            "H": draw.pick("spatial", (3, 4, 5, 6, 7, 7)),
            "C": draw.pick("channels", (256, 512, 512, 1024)),
            "o": draw.pick("out_features", (1000, 1024, 2048, 4096, 4096)),
        }

    def answer(self, p: Params) -> Value:
        """Return ``params.conv2d_params`` with the kernel covering the whole map."""
        return params.conv2d_params(p["C"], p["o"], p["H"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        H, C, o = p["H"], p["C"], p["o"]
        return Bilingual(
            zh=f"形状为 ${H}\\times{H}\\times{C}$ 的特征图接一个 {o} 个神经元的全连接层(带偏置)。"
            "把这一层改写成等价的卷积层,这个卷积层有多少个参数?",
            en=f"A ${H}\\times{H}\\times{C}$ feature map feeds a fully connected layer with {o} "
            "units (with bias). Rewritten as an equivalent convolution, how many parameters does "
            "that layer have?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the kernel HxH with C in and o out channels."""
        H, C, o = p["H"], p["C"], p["o"]
        f = f"$$({H}\\cdot{H}\\cdot{C}+1)\\cdot{o}={H * H * C * o}+{o}={answer}$$"
        return Bilingual(
            zh=f"等价卷积:{o} 个 ${H}\\times{H}\\times{C}$ 的卷积核,无填充,输出 $1\\times1\\times{o}$。"
            f"参数与全连接层完全相同:\n{f}",
            en=f"The equivalent convolution has {o} filters of size ${H}\\times{H}\\times{C}$, "
            f"no padding, output $1\\times1\\times{o}$; the count equals the FC layer's:\n{f}",
        )


@register
class FlopsConv(Template):
    """FLOPs of one ``Conv2d`` forward pass (1 MAC = 2 FLOPs, plus the bias additions)."""

    id = "flops.conv"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="卷积层计算量", en="FLOPs of a convolution layer")
    misconceptions = (
        mis(
            "macs_only",
            lambda p: params.conv2d_macs(p["Ci"], p["Co"], p["k"], p["_Ho"]),
            "这是乘加次数(MACs);按约定 1 次乘加 = 2 次浮点运算,再加偏置的加法。",
            "That is the MAC count; by convention 1 MAC = 2 FLOPs, plus the bias additions.",
            0.5,
        ),
        mis(
            "bias_adds_forgotten",
            lambda p: 2 * params.conv2d_macs(p["Ci"], p["Co"], p["k"], p["_Ho"]),
            "每个输出还要加一次偏置:再加 C_out·H_out·W_out。(只数 2×乘加、不计偏置正是 PyTorch "
            "FlopCounterMode 的约定,但本题要求计入偏置。)",
            "Each output also adds its bias: add C_out·H_out·W_out. (2 per multiply-accumulate "
            "without the bias is PyTorch's FlopCounterMode convention, but this question counts "
            "the bias.)",
        ),
        mis(
            "input_size_used",
            lambda p: (
                params.conv2d_flops(p["Ci"], p["Co"], p["k"], p["H"])
                if p["H"] != p["_Ho"]
                else None
            ),
            "计算量按输出位置数计,要用输出尺寸 H_out×W_out,不是输入尺寸。",
            "Count per output position: use H_out×W_out, not the input size.",
        ),
        mis(
            "seed_convention",
            lambda p: params.seed_conv_flops(p["Ci"], p["Co"], p["k"], p["H"]),
            "这是讲义 001 §3.6 的写法(按输入尺寸,一次乘加记 1 次,偏置记 1 次);本题约定按输出"
            "尺寸、乘加记 2 次。",
            "That is the lecture notes' (001 §3.6) formula (input size, one op per MAC plus one "
            "for the bias); this question counts output positions and 2 FLOPs per MAC.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a layer and its input size."""
        k = draw.pick("kernel", (1, 3, 3, 5, 7))
        return {
            "Ci": draw.pick("in_channels", (3, 16, 32, 64, 128, 256)),
            "Co": draw.pick("out_channels", (16, 32, 64, 128, 256)),
            "k": k,
            "H": draw.pick("spatial", (7, 14, 28, 56, 112, 224)),
            "s": draw.pick("stride", (1, 1, 2)),
            "p": k // 2,
        }

    def answer(self, p: Params) -> Value:
        """Return ``params.conv2d_flops`` at the output size from ``conv.conv_output_length``."""
        p["_Ho"] = conv.conv_output_length(p["H"], p["k"], p["s"], p["p"])
        return params.conv2d_flops(p["Ci"], p["Co"], p["k"], p["_Ho"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        layer = (
            f"`nn.Conv2d({p['Ci']}, {p['Co']}, kernel_size={p['k']}, stride={p['s']}, "
            f"padding={p['p']})`"
        )
        return Bilingual(
            zh=f"{layer}(带偏置)作用于一张 ${p['H']}\\times{p['H']}$ 的输入。约定 1 次乘加 = 2 次"
            "浮点运算,每个输出的偏置加法记 1 次。一次前向传播共多少 FLOPs?",
            en=f"{layer} (with bias) is applied to one ${p['H']}\\times{p['H']}$ input. Counting "
            "a multiply-accumulate as 2 FLOPs and each output's bias addition as 1, how many "
            "FLOPs does one forward pass take?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the output size, the MACs and the FLOPs."""
        Ci, Co, k, Ho = p["Ci"], p["Co"], p["k"], p["_Ho"]
        macs = Ho * Ho * Co * Ci * k * k
        f = (
            f"$$H_{{out}}=\\lfloor({p['H']}+2\\cdot{p['p']}-{k})/{p['s']}\\rfloor+1={Ho}$$"
            f"$$\\text{{MACs}}=H_{{out}}W_{{out}}C_{{out}}C_{{in}}k^2={Ho}^2\\cdot{Co}\\cdot{Ci}"
            f"\\cdot{k}^2={macs}$$"
            f"$$\\text{{FLOPs}}=2\\,\\text{{MACs}}+H_{{out}}W_{{out}}C_{{out}}=2\\cdot{macs}+"
            f"{Ho * Ho * Co}={answer}$$"
        )
        return Bilingual(
            zh=f"先求输出尺寸,再数乘加:\n{f}",
            en=f"First the output size, then the multiply-accumulates:\n{f}",
        )


_FLOP_COUNTER = mis(
    "flop_counter_convention",
    lambda p: 2 * params.conv2d_macs(p["Ci"], p["Co"], p["k"], p["_Ho"]),
    "这是 PyTorch `torch.utils.flop_counter.FlopCounterMode` 的约定:每次乘加记 2 次,不计偏置的"
    "加法。这个约定本身没错;本题另外把每个输出的偏置加法记 1 次。",
    "That is the convention of PyTorch's `torch.utils.flop_counter.FlopCounterMode`: 2 FLOPs "
    "per multiply-accumulate, bias additions not counted. The convention is legitimate; this "
    "question also counts one addition per output for the bias.",
    0.75,
)


@register
class FlopsConvV2(FlopsConv):
    """Version 2: 2 FLOPs per MAC without the bias is recognised as FlopCounterMode's convention.

    Version 1 graded that number as the mistake ``bias_adds_forgotten`` (no credit); here it is
    ``flop_counter_convention`` with high credit and feedback naming the convention. The draws,
    the answer and the other misconceptions are those of version 1, which stays registered for
    the cards and attempts pinned to it.
    """

    version = 2
    misconceptions = (
        FlopsConv.misconceptions[0],  # macs_only
        _FLOP_COUNTER,  # in place of bias_adds_forgotten: the same number, a known convention
        FlopsConv.misconceptions[2],  # input_size_used
        FlopsConv.misconceptions[3],  # seed_convention
    )
