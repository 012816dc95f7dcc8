"""Templates on post-ResNet blocks: SE, inverted residual, DenseNet, ShuffleNetV2 MAC, groups, norms."""

from __future__ import annotations

import math

from compute import architectures as arch
from compute.templates.base import AnswerKind, Bilingual, Draw, Params, Template, Value
from compute.templates.engine import register
from compute.templates.fmt import mis

__all__ = [
    "ArchDensenetChannels",
    "ArchGroupConv",
    "ArchInvertedResidual",
    "ArchNormStats",
    "ArchSeParams",
    "ArchShufflenetMac",
]


@register
class ArchSeParams(Template):
    """Parameters of a squeeze-and-excitation block (torchvision ``SqueezeExcitation``)."""

    id = "arch.se_params"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="SE 模块的参数量", en="Parameters of an SE block")
    misconceptions = (
        mis(
            "biases_forgotten",
            lambda p: 2 * p["C"] * p["_s"],
            "两个 1×1 卷积(全连接)都带偏置:压缩层 C/r 个,恢复层 C 个。",
            "Both 1×1 convs (FC layers) have biases: C/r in the squeeze, C in the excitation.",
        ),
        mis(
            "one_fc",
            lambda p: p["C"] * p["_s"] + p["_s"],
            "激励部分是两层:C→C/r 压缩,再 C/r→C 恢复成每个通道一个权重。",
            "The excitation has two layers: C -> C/r to squeeze, then C/r -> C to give one "
            "weight per channel.",
        ),
        mis(
            "squeeze_is_r",
            lambda p: 2 * p["C"] * p["r"] + p["r"] + p["C"],
            "r 是缩减比例,中间层通道数是 C/r,不是 r。",
            "r is the reduction ratio: the hidden layer has C/r channels, not r.",
        ),
        mis(
            "no_reduction",
            lambda p: 2 * p["C"] ** 2 + 2 * p["C"],
            "中间层先把通道数降到 C/r(瓶颈),参数量才小;不是 C→C→C。",
            "The hidden layer shrinks to C/r channels (a bottleneck), which keeps it cheap; it "
            "is not C -> C -> C.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the channels and the reduction ratio."""
        c = draw.pick("channels", (64, 96, 128, 256, 512, 1024, 2048))
        r = draw.pick("reduction", (4, 8, 16, 16))
        return {"C": c, "r": r, "_s": c // r}

    def answer(self, p: Params) -> Value:
        """Return ``arch.se_params(C, C // r)``."""
        return arch.se_params(p["C"], p["_s"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the block."""
        return Bilingual(
            zh=f"对 {p['C']} 通道的特征图加一个 SE 模块,缩减比例 $r={p['r']}$:全局平均池化后接两个带偏置"
            "的 1×1 卷积(C→C/r,ReLU,C/r→C,Sigmoid),与 torchvision 的 `SqueezeExcitation` 相同。"
            "它有多少个参数?",
            en=f"An SE block is added to a {p['C']}-channel feature map with reduction ratio "
            f"$r={p['r']}$: global average pooling, then two 1×1 convs with biases (C -> C/r, "
            "ReLU, C/r -> C, sigmoid), as torchvision's `SqueezeExcitation`. How many parameters "
            "does it have?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render 2Cs + s + C."""
        c, s = p["C"], p["_s"]
        f = f"$$s=C/r={c}/{p['r']}={s},\\quad (Cs+s)+(sC+C)=2\\cdot{c}\\cdot{s}+{s}+{c}={answer}$$"
        return Bilingual(
            zh=f"池化无参数;两层 1×1 卷积各带偏置:\n{f}",
            en=f"Pooling has no parameters; two 1×1 convs with biases:\n{f}",
        )


def _ir(p: Params, *, count_bn: bool | None = None, hidden: int | None = None) -> int:
    """Return the block's count, optionally with another BN choice or hidden width."""
    bn = p["bn"] if count_bn is None else count_bn
    if hidden is None:
        return arch.inverted_residual_params(p["i"], p["o"], p["t"], p["k"], count_bn=bn)
    # A learner's layout: expansion to `hidden` even where t = 1 is asked about.
    k2: int = p["k"] ** 2
    convs: int = p["i"] * hidden + k2 * hidden + hidden * p["o"]
    return convs + (2 * (2 * hidden + p["o"]) if bn else 0)


@register
class ArchInvertedResidual(Template):
    """Parameters of a MobileNetV2 inverted-residual block."""

    id = "arch.inverted_residual"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="倒残差块的参数量", en="Parameters of an inverted-residual block")
    misconceptions = (
        mis(
            "depthwise_as_full",
            lambda p: _ir(p) - p["k"] ** 2 * p["_h"] + p["k"] ** 2 * p["_h"] ** 2,
            "中间的 k×k 是 depthwise 卷积:扩张后的每个通道只有一个 k×k 核,权重 $k^2\\cdot tC_{in}$ 个,"
            "不是 $k^2(tC_{in})^2$。",
            "The middle conv is depthwise: one k×k kernel per expanded channel, $k^2\\cdot tC_{in}$ "
            "weights, not $k^2(tC_{in})^2$.",
        ),
        mis(
            "bn_forgotten",
            lambda p: _ir(p, count_bn=False) if p["bn"] else None,
            "题目要求计入 BN:每个 BN 有 γ、β 两组,每个通道 2 个参数。",
            "The question counts BN: each BN has gamma and beta, 2 parameters per channel.",
        ),
        mis(
            "bn_counted",
            lambda p: _ir(p, count_bn=True) if not p["bn"] else None,
            "题目只数卷积权重,不计 BN。",
            "The question counts conv weights only, not BN.",
        ),
        mis(
            "expand_when_t1",
            lambda p: _ir(p, hidden=p["i"]) if p["t"] == 1 else None,
            "扩张系数 t=1 时没有 1×1 扩张层(torchvision 与论文的第一个 bottleneck 都如此)。",
            "With expansion factor t = 1 there is no 1×1 expansion layer (as in torchvision "
            "and the paper's first bottleneck).",
        ),
        mis(
            "hidden_from_output",
            lambda p: _ir(p, hidden=p["o"] * p["t"]) if p["t"] != 1 and p["o"] != p["i"] else None,
            "扩张宽度按输入通道计算:$t\\cdot C_{in}$,不是 $t\\cdot C_{out}$。",
            "The expanded width is $t\\cdot C_{in}$, not $t\\cdot C_{out}$.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the channels, the expansion factor, the kernel and whether BN counts."""
        i = draw.pick("in_channels", (16, 24, 32, 64, 96, 160))
        t = draw.pick("expand_ratio", (6, 6, 6, 1, 4))
        return {
            "i": i,
            "o": draw.pick("out_channels", (16, 24, 32, 64, 96, 160, 320)),
            "t": t,
            "k": draw.pick("kernel", (3, 3, 5)),
            "bn": draw.pick("count_bn", (True, False)),
            "_h": i * t,
        }

    def answer(self, p: Params) -> Value:
        """Return ``arch.inverted_residual_params``."""
        return _ir(p)

    def prompt(self, p: Params) -> Bilingual:
        """Render the block."""
        zh_bn = "计入各 BN 的 γ、β" if p["bn"] else "只数卷积权重,不计 BN"
        en_bn = (
            "counting each BN's gamma and beta" if p["bn"] else "counting conv weights only, not BN"
        )
        return Bilingual(
            zh=f"MobileNetV2 的倒残差块:输入 {p['i']} 通道,扩张系数 $t={p['t']}$,depthwise 卷积核 "
            f"{p['k']}×{p['k']},输出 {p['o']} 通道;所有卷积 bias=False,每个卷积后接 BN(torchvision "
            f"`InvertedResidual` 的结构)。{zh_bn},它有多少个参数?",
            en=f"A MobileNetV2 inverted-residual block: {p['i']} input channels, expansion "
            f"factor $t={p['t']}$, a {p['k']}×{p['k']} depthwise kernel, {p['o']} output "
            "channels; every conv has bias=False and is followed by BN (torchvision's "
            f"`InvertedResidual`). How many parameters does it have, {en_bn}?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the three convolutions and the BNs."""
        i, o, t, k, h = p["i"], p["o"], p["t"], p["k"], p["_h"]
        parts = [] if t == 1 else [f"{i}\\cdot{h}"]
        parts += [f"{k}^2\\cdot{h}", f"{h}\\cdot{o}"]
        chans = ([] if t == 1 else [h]) + [h, o]
        bn = f"+2\\cdot({'+'.join(map(str, chans))})" if p["bn"] else ""
        f = f"$$t\\cdot C_{{in}}={t}\\cdot{i}={h};\\quad {'+'.join(parts)}{bn}={answer}$$"
        zh1 = "t=1 时没有扩张层;" if t == 1 else "1×1 扩张 $C_{in}\\to tC_{in}$;"
        en1 = "t = 1: no expansion layer; " if t == 1 else "1×1 expansion $C_{in}\\to tC_{in}$; "
        return Bilingual(
            zh=f"{zh1}depthwise 每通道一个 $k\\times k$ 核;线性 1×1 投影到 $C_{{out}}$(无 ReLU)"
            f"{';每个 BN 每通道 2 个参数' if p['bn'] else ''}:\n{f}",
            en=f"{en1}the depthwise conv has one $k\\times k$ kernel per channel; a linear 1×1 "
            f"projection to $C_{{out}}$ (no ReLU){'; each BN has 2 per channel' if p['bn'] else ''}"
            f":\n{f}",
        )


_DENSENETS = {
    (6, 12, 24, 16): "DenseNet-121",
    (6, 12, 32, 32): "DenseNet-169",
    (6, 12, 48, 32): "DenseNet-201",
    (6, 12, 36, 24): "DenseNet-161",
    (16, 16, 16): "DenseNet-BC (3 blocks)",
}


def _dense(p: Params, **changes: bool) -> int | None:
    """Return the channels at the asked position, under a learner's variant of the rule."""
    c: int = p["k0"]
    for b, n in enumerate(p["blocks"]):
        c = n * p["k"] if changes.get("input_dropped") else c + n * p["k"]
        if changes.get("one_layer"):
            c = c - n * p["k"] + p["k"]
        if b == p["_b"] and p["where"] == "block":
            return c
        if not changes.get("no_transition"):
            c //= 2
        if b == p["_b"]:
            return c
    raise ValueError("position out of range")


@register
class ArchDensenetChannels(Template):
    """Channels after a dense block or a transition layer."""

    id = "arch.densenet_channels"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="DenseNet 的通道增长", en="Channel growth in DenseNet")
    misconceptions = (
        mis(
            "transition_forgotten",
            lambda p: (
                _dense(p, no_transition=True)
                if (p["_b"] > 0 or p["where"] == "transition")
                else None
            ),
            "每个过渡层用 1×1 卷积把通道数压缩一半(θ=0.5),再平均池化。",
            "Every transition layer halves the channels with a 1×1 conv (θ = 0.5), then "
            "average-pools.",
        ),
        mis(
            "input_dropped",
            lambda p: _dense(p, input_dropped=True),
            "稠密块把新特征拼接在输入之后:输出是 $c_0 + Lk$,输入通道也保留。",
            "A dense block concatenates the new maps onto its input: the output is "
            "$c_0 + Lk$, the input channels stay.",
        ),
        mis(
            "one_layer_growth",
            lambda p: _dense(p, one_layer=True),
            "块内每一层都新增 k 个通道,L 层共增加 $Lk$。",
            "Each layer of the block adds k channels: L layers add $Lk$.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a DenseNet configuration and a position in it."""
        blocks = draw.pick("blocks", tuple(_DENSENETS))
        b = draw.free(0, len(blocks) - 1)
        where = draw.pick("where", ("block", "transition"))
        if b == len(blocks) - 1:
            where = "block"  # no transition after the last block
        return {
            "k0": draw.pick("init_channels", (64, 64, 96, 24, 16)),
            "k": draw.pick("growth_rate", (32, 32, 12, 24, 48)),
            "blocks": blocks,
            "_b": b,
            "where": where,
            "_pos": b + 1,
        }

    def answer(self, p: Params) -> Value:
        """Return the entry of ``arch.densenet_channels``."""
        got = arch.densenet_channels(p["k0"], p["k"], p["blocks"])
        return (got.after_block if p["where"] == "block" else got.after_transition)[p["_b"]]

    def prompt(self, p: Params) -> Bilingual:
        """Render the network and the position."""
        layers = ", ".join(map(str, p["blocks"]))
        name = _DENSENETS[p["blocks"]]
        pos = p["_pos"]
        zh_at = f"第 {pos} 个稠密块的输出" if p["where"] == "block" else f"第 {pos} 个过渡层的输出"
        en_at = (
            f"leaving dense block {pos}"
            if p["where"] == "block"
            else f"leaving transition layer {pos}"
        )
        return Bilingual(
            zh=f"一个 {name} 式网络:stem 输出 {p['k0']} 个通道,增长率 $k={p['k']}$,各稠密块层数为 "
            f"({layers}),块之间的过渡层压缩系数 θ=0.5(通道数向下取整)。{zh_at}有多少个通道?",
            en=f"A {name}-style network: the stem gives {p['k0']} channels, growth rate "
            f"$k={p['k']}$, dense blocks of ({layers}) layers, transition layers between blocks "
            f"with compression θ = 0.5 (rounding down). How many channels are {en_at}?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the chain of additions and halvings."""
        c = p["k0"]
        steps = [str(c)]
        for b, n in enumerate(p["blocks"]):
            c += n * p["k"]
            steps.append(f"\\xrightarrow{{+{n}\\cdot{p['k']}}}{c}")
            if b == p["_b"] and p["where"] == "block":
                break
            c //= 2
            steps.append(f"\\xrightarrow{{\\div 2}}{c}")
            if b == p["_b"]:
                break
        f = "$$" + "".join(steps) + "$$"
        return Bilingual(
            zh=f"每个稠密块加 $Lk$,每个过渡层减半:\n{f}\n答案 {answer}。",
            en=f"Each dense block adds $Lk$, each transition halves:\n{f}\nAnswer {answer}.",
        )


@register
class ArchShufflenetMac(Template):
    """ShuffleNetV2's memory access cost of a 1x1 convolution, and the balanced minimum."""

    id = "arch.shufflenet_mac"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="1×1 卷积的内存访问量 MAC", en="Memory access cost of a 1×1 conv")
    misconceptions = (
        mis(
            "weights_forgotten",
            lambda p: p["h"] ** 2 * (p["_c1"] + p["_c2"]),
            "MAC 还包括读一次权重:$c_1 c_2$。",
            "MAC also reads the weights once: $c_1 c_2$.",
        ),
        mis(
            "flops_instead",
            lambda p: p["h"] ** 2 * p["_c1"] * p["_c2"],
            "$hwc_1c_2$ 是计算量(FLOPs),不是内存访问量。",
            "$hwc_1c_2$ is the compute (FLOPs), not the memory access.",
        ),
        mis(
            "output_forgotten",
            lambda p: p["h"] ** 2 * p["_c1"] + p["_c1"] * p["_c2"],
            "输出特征图也要写回内存:再加 $hwc_2$。",
            "The output feature map is written back too: add $hwc_2$.",
        ),
        mis(
            "unbalanced_kept",
            lambda p: (
                arch.pointwise_mac(p["h"], p["h"], p["c1"], p["c2"])
                if p["ask"] == "balanced"
                else None
            ),
            "题目问的是保持 FLOPs 不变、令 $c_1=c_2$ 之后的 MAC,不是原配置的。",
            "The question asks for the MAC after rebalancing to $c_1=c_2$ at the same FLOPs, "
            "not for the original layout.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the map size, a pair of channel counts and what to ask."""
        c1 = draw.pick("in_channels", (32, 64, 128, 256))
        c2 = c1 * draw.pick("ratio", (4, 16, 4)) if draw.uniform() < 0.7 else c1 // 4
        ask = draw.pick("ask", ("mac", "balanced"))
        c = math.isqrt(c1 * c2)
        pair = (c1, c2) if ask == "mac" else (c, c)
        return {
            "h": draw.pick("spatial", (7, 14, 28, 56)),
            "c1": c1,
            "c2": c2,
            "ask": ask,
            "_c1": pair[0],
            "_c2": pair[1],
        }

    def answer(self, p: Params) -> Value:
        """Return ``arch.pointwise_mac`` of the asked layout."""
        return arch.pointwise_mac(p["h"], p["h"], p["_c1"], p["_c2"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the layer."""
        h, c1, c2 = p["h"], p["c1"], p["c2"]
        zh = (
            f"一个 1×1 卷积,输入 ${h}\\times{h}\\times{c1}$,输出 {c2} 个通道。按 ShuffleNetV2 的约定"
            "(MAC = 读输入 + 写输出 + 读一次权重,以元素个数计,无偏置),"
        )
        en = (
            f"A 1×1 conv takes a ${h}\\times{h}\\times{c1}$ input and outputs {c2} channels. With "
            "ShuffleNetV2's convention (MAC = read the input + write the output + read the "
            "weights once, counted in elements, no bias), "
        )
        if p["ask"] == "mac":
            return Bilingual(zh=zh + "它的 MAC 是多少?", en=en + "what is its MAC?")
        return Bilingual(
            zh=zh + "保持 FLOPs($hwc_1c_2$)和空间尺寸不变,把输入输出通道改成相等,MAC 变为多少?",
            en=en + "keeping the FLOPs ($hwc_1c_2$) and the spatial size fixed but making the "
            "input and output channels equal, what does the MAC become?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render hw(c1 + c2) + c1 c2."""
        h, c1, c2 = p["h"], p["_c1"], p["_c2"]
        pre = ""
        if p["ask"] == "balanced":
            pre = f"$$c=\\sqrt{{{p['c1']}\\cdot{p['c2']}}}={c1}$$"
        f = f"{pre}$$hw(c_1+c_2)+c_1c_2={h}^2\\cdot({c1}+{c2})+{c1}\\cdot{c2}={answer}$$"
        return Bilingual(
            zh=f"{f}\n由均值不等式,FLOPs 固定时 $c_1=c_2$ 使 MAC 最小(ShuffleNetV2 准则一)。",
            en=f"{f}\nBy AM-GM, at fixed FLOPs $c_1=c_2$ minimizes the MAC (ShuffleNetV2's "
            "guideline 1).",
        )


@register
class ArchGroupConv(Template):
    """Parameters or FLOPs of a grouped convolution."""

    id = "arch.group_conv"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(
        zh="分组卷积的参数量与计算量", en="Parameters and FLOPs of a group convolution"
    )
    misconceptions = (
        mis(
            "groups_ignored",
            lambda p: _gc(p) * p["g"],
            "分组后每个卷积核只看 $C_{in}/g$ 个输入通道:参数和计算量都是普通卷积的 1/g。",
            "With groups each filter sees only $C_{in}/g$ input channels: parameters and FLOPs "
            "are 1/g of the plain conv.",
        ),
        mis(
            "divided_twice",
            lambda p: _gc(p) // p["g"],
            "只除一次 g:输出通道仍是 $C_{out}$ 个,每个看 $C_{in}/g$ 个输入通道,合计 "
            "$C_{out}C_{in}k^2/g$。",
            "Divide by g once: there are still $C_{out}$ filters, each over $C_{in}/g$ inputs, "
            "$C_{out}C_{in}k^2/g$ in all.",
        ),
        mis(
            "macs_only",
            lambda p: _gc(p) // 2 if p["ask"] == "flops" else None,
            "这是乘加次数;1 次乘加 = 2 FLOPs。",
            "That is the multiply-accumulate count; 1 MAC = 2 FLOPs.",
            0.5,
        ),
        mis(
            "bias_added",
            lambda p: _gc(p) + p["co"] if p["ask"] == "params" else None,
            "本层 bias=False,不计偏置。",
            "This layer has bias=False: no biases.",
        ),
        mis(
            "spatial_forgotten",
            lambda p: _gc(p) // p["H"] ** 2 if p["ask"] == "flops" else None,
            "计算量要乘输出位置数 $H_{out}W_{out}$。",
            "FLOPs scale with the output positions $H_{out}W_{out}$.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw channels, kernel, groups, output size and what to ask."""
        return {
            "ci": draw.pick("in_channels", (64, 128, 256, 512)),
            "co": draw.pick("out_channels", (64, 128, 256, 512)),
            "k": draw.pick("kernel", (3, 3, 1, 5)),
            "g": draw.pick("groups", (2, 4, 8, 32, 32)),
            "H": draw.pick("output_size", (7, 14, 28, 56)),
            "ask": draw.pick("ask", ("params", "flops")),
        }

    def answer(self, p: Params) -> Value:
        """Return ``arch.group_conv_params`` or ``arch.group_conv_flops``."""
        return _gc(p)

    def prompt(self, p: Params) -> Bilingual:
        """Render the layer."""
        layer = (
            f"`nn.Conv2d({p['ci']}, {p['co']}, kernel_size={p['k']}, groups={p['g']}, bias=False)`"
        )
        if p["ask"] == "params":
            return Bilingual(
                zh=f"{layer} 有多少个参数?(输出特征图为 ${p['H']}\\times{p['H']}$)",
                en=f"How many parameters does {layer} have? (Its output map is "
                f"${p['H']}\\times{p['H']}$.)",
            )
        return Bilingual(
            zh=f"{layer} 的输出特征图为 ${p['H']}\\times{p['H']}$,batch 为 1。1 次乘加 = 2 FLOPs,"
            "一次前向共多少 FLOPs?",
            en=f"{layer} produces a ${p['H']}\\times{p['H']}$ output, batch 1. At 2 FLOPs per "
            "multiply-accumulate, how many FLOPs does one forward pass take?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render C_out (C_in / g) k^2 (times 2 H W)."""
        ci, co, k, g, h = p["ci"], p["co"], p["k"], p["g"], p["H"]
        w = "C_{out}\\cdot\\frac{C_{in}}{g}\\cdot k^2"
        if p["ask"] == "params":
            f = f"$${w}={co}\\cdot\\frac{{{ci}}}{{{g}}}\\cdot{k}^2={answer}$$"
        else:
            f = (
                f"$$2\\cdot H_{{out}}W_{{out}}\\,{w}=2\\cdot{h}^2\\cdot{co}\\cdot{ci // g}"
                f"\\cdot{k}^2={answer}$$"
            )
        return Bilingual(
            zh=f"权重形状为 $C_{{out}}\\times(C_{{in}}/g)\\times k\\times k$,是普通卷积的 1/g:\n{f}",
            en=f"The weight is $C_{{out}}\\times(C_{{in}}/g)\\times k\\times k$, 1/g of a plain "
            f"conv:\n{f}",
        )


def _gc(p: Params) -> int:
    if p["ask"] == "params":
        return arch.group_conv_params(p["ci"], p["co"], p["k"], p["g"])
    return arch.group_conv_flops(p["ci"], p["co"], p["k"], p["g"], p["H"])


_NORM_LAYERS = {
    "batch": ("BatchNorm2d({C})", "BatchNorm"),
    "layer": ("LayerNorm([{C}, {H}, {H}])", "LayerNorm"),
    "instance": ("InstanceNorm2d({C}, affine=True)", "InstanceNorm"),
    "group": ("GroupNorm({G}, {C})", "GroupNorm"),
}


def _norm(p: Params) -> int:
    shape = (p["N"], p["C"], p["H"], p["H"])
    g = p["G"] if p["kind"] == "group" else None
    if p["ask"] == "means":
        return arch.norm_statistics(p["kind"], shape, groups=g)
    return arch.norm_affine_params(p["kind"], shape, groups=g)


def _other(p: Params, value: int, ask: str) -> int | None:
    """Return ``value`` for a question of type ``ask`` when it differs from the answer."""
    return value if p["ask"] == ask and value != _norm(p) else None


@register
class ArchNormStats(Template):
    """Means computed and affine parameters of BN, LN, IN and GN on an (N, C, H, W) tensor."""

    id = "arch.norm_stats"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(
        zh="归一化层的统计量与参数", en="Statistics and parameters of normalization layers"
    )
    misconceptions = (
        mis(
            "per_channel",
            lambda p: _other(p, p["C"], "means") or _other(p, 2 * p["C"], "params"),
            "只有 BN 按通道(跨 batch)求统计量;LN 按样本、IN 按样本×通道、GN 按样本×组。LayerNorm 的 "
            "γ、β 与被归一化的形状 (C, H, W) 相同。",
            "Only BN computes statistics per channel (across the batch); LN works per sample, "
            "IN per sample and channel, GN per sample and group. LayerNorm's gamma and beta have "
            "the normalized shape (C, H, W).",
        ),
        mis(
            "per_sample",
            lambda p: _other(p, p["N"], "means"),
            "只有 LN 每个样本一组统计量(跨 C、H、W)。",
            "Only LN computes one set of statistics per sample (over C, H, W).",
        ),
        mis(
            "per_sample_channel",
            lambda p: _other(p, p["N"] * p["C"], "means"),
            "每个样本的每个通道一组统计量是 InstanceNorm;BN 跨 N 合并,GN 把 C/G 个通道合成一组。",
            "One set per sample and channel is InstanceNorm; BN pools over N, GN pools C/G "
            "channels per group.",
        ),
        mis(
            "groups_only",
            lambda p: _other(p, p["G"], "means") if p["kind"] == "group" else None,
            "GN 的统计量不跨样本:每个样本各有 G 组,共 $N\\cdot G$ 个均值。",
            "GN never pools across samples: each sample has G groups, $N\\cdot G$ means in all.",
        ),
        mis(
            "gamma_only",
            lambda p: _other(p, _norm(p) // 2, "params"),
            "仿射变换有 γ(缩放)和 β(平移)两组参数。",
            "The affine transform has two sets: gamma (scale) and beta (shift).",
        ),
        mis(
            "per_element",
            lambda p: _other(p, 2 * p["C"] * p["H"] ** 2, "params"),
            "BN、IN、GN 的 γ、β 按通道共享,每个通道一对,与 H、W 无关。",
            "BN, IN and GN share gamma and beta per channel: one pair per channel, independent "
            "of H and W.",
        ),
        mis(
            "running_stats_counted",
            lambda p: _other(p, 4 * p["C"], "params") if p["kind"] == "batch" else None,
            "running_mean、running_var 是缓冲区,不是可学习参数。",
            "running_mean and running_var are buffers, not learnable parameters.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the tensor, the layer and what to count."""
        kind = draw.pick("kind", ("batch", "layer", "instance", "group"))
        return {
            "N": draw.pick("batch", (2, 4, 8, 16)),
            "C": draw.pick("channels", (32, 64, 128, 256)),
            "H": draw.pick("spatial", (7, 14, 28, 56)),
            "kind": kind,
            "G": draw.pick("groups", (8, 16, 32)) if kind == "group" else None,
            "ask": draw.pick("ask", ("means", "params")),
        }

    def answer(self, p: Params) -> Value:
        """Return ``arch.norm_statistics`` or ``arch.norm_affine_params``."""
        return _norm(p)

    def prompt(self, p: Params) -> Bilingual:
        """Render the tensor and the layer."""
        layer = "`nn." + _NORM_LAYERS[p["kind"]][0].format(C=p["C"], H=p["H"], G=p["G"]) + "`"
        shape = f"$({p['N']}, {p['C']}, {p['H']}, {p['H']})$"
        if p["ask"] == "means":
            return Bilingual(
                zh=f"{layer} 在训练模式下作用于形状为 {shape}(N, C, H, W)的张量。一次前向要计算多少个"
                "均值(方差个数相同)?",
                en=f"{layer} in training mode is applied to a tensor of shape {shape} (N, C, H, "
                "W). How many means (and as many variances) does one forward pass compute?",
            )
        return Bilingual(
            zh=f"{layer} 作用于形状为 {shape}(N, C, H, W)的张量。它有多少个可学习参数?",
            en=f"{layer} is applied to a tensor of shape {shape} (N, C, H, W). How many "
            "learnable parameters does it have?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the axes and the count."""
        n, c, h, g = p["N"], p["C"], p["H"], p["G"]
        name = _NORM_LAYERS[p["kind"]][1]
        means = {
            "batch": ("每个通道跨 (N, H, W) 一个", "one per channel, over (N, H, W)", f"C={c}"),
            "layer": ("每个样本跨 (C, H, W) 一个", "one per sample, over (C, H, W)", f"N={n}"),
            "instance": (
                "每个样本每个通道跨 (H, W) 一个",
                "one per sample and channel, over (H, W)",
                f"N\\cdot C={n}\\cdot{c}",
            ),
            "group": (
                "每个样本每组跨 (C/G, H, W) 一个",
                "one per sample and group, over (C/G, H, W)",
                f"N\\cdot G={n}\\cdot{g}",
            ),
        }[p["kind"]]
        if p["ask"] == "means":
            f = f"$${means[2]}={answer}$$"
            return Bilingual(
                zh=f"{name} 的均值:{means[0]}:\n{f}", en=f"{name}'s means: {means[1]}:\n{f}"
            )
        if p["kind"] == "layer":
            f = f"$$2\\cdot C\\cdot H\\cdot W=2\\cdot{c}\\cdot{h}\\cdot{h}={answer}$$"
            zh, en = (
                "LayerNorm 的 γ、β 形状等于被归一化的形状 (C, H, W):",
                ("LayerNorm's gamma and beta have the normalized shape (C, H, W):"),
            )
        else:
            f = f"$$2C=2\\cdot{c}={answer}$$"
            zh, en = f"{name} 的 γ、β 每个通道一对:", f"{name} has one gamma-beta pair per channel:"
        return Bilingual(zh=f"{zh}\n{f}", en=f"{en}\n{f}")
