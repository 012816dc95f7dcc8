"""Templates on receptive fields of layer stacks."""

from __future__ import annotations

import math

from compute import receptive
from compute.templates._conv_common import (
    dilated_rf,
    eff,
)
from compute.templates.base import AnswerKind, Bilingual, Draw, Params, Template, Value
from compute.templates.engine import register
from compute.templates.fmt import mis

__all__ = ["RfDilatedStack", "RfStack"]


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
            lambda p: eff(p["k"], p["dilations"][-1]),
            "这只是最后一层的有效核尺寸,还要累加前面各层。",
            "That is only the last layer's effective kernel; earlier layers add up too.",
        ),
        mis(
            "sum_of_effective_kernels",
            lambda p: sum(eff(p["k"], d) for d in p["dilations"]),
            "相邻层的窗口有重叠:每层只增加 k_eff-1。",
            "Windows overlap: each layer adds k_eff-1, not k_eff.",
        ),
        mis(
            "product_of_effective_kernels",
            lambda p: math.prod(eff(p["k"], d) for d in p["dilations"]),
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
        return dilated_rf(p["k"], p["dilations"])

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
