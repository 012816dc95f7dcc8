"""Templates on detection heads and boxes: YOLOv3 heads, RPN anchors, RoI levels, box coding,
DIoU/CIoU losses and Soft-NMS."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from compute import anchors, boxes, detection_boxes
from compute.templates.base import AnswerKind, Bilingual, Draw, Params, Template, Tolerance, Value
from compute.templates.engine import register
from compute.templates.fmt import mis, num

__all__ = [
    "DetBoxDecode",
    "DetBoxEncode",
    "DetCiouLoss",
    "DetDiouLoss",
    "DetFpnRoiLevel",
    "DetRpnAnchorCount",
    "DetSoftNmsGaussian",
    "DetSoftNmsLinear",
    "DetYoloBoxes",
    "DetYoloHeadShape",
]

_TOL = Tolerance(abs=1e-3)
Box = tuple[int, int, int, int]


def _bt(b: Box) -> str:
    return f"({b[0]}, {b[1]}, {b[2]}, {b[3]})"


_BOX_FMT = (
    "框的格式为 $(x_1, y_1, x_2, y_2)$(宽 $=x_2-x_1$,不加 1)。",
    "Boxes are $(x_1, y_1, x_2, y_2)$ (width $=x_2-x_1$, no +1).",
)


# --------------------------------------------------------------------------------------------
# YOLOv3 heads
# --------------------------------------------------------------------------------------------


def _yolo_sample(draw: Draw) -> Params:
    n = draw.pick("input_size", (416, 416, 320, 608, 512, 480))
    if n % 32 or not 64 <= n <= 2048:
        raise ValueError(f"input_size must be a multiple of 32 from 64 to 2048, got {n}")
    a = draw.pick("anchors", (3, 3, 3, 2))
    return {"n": n, "A": a}


def _grids(n: int) -> list[int]:
    return [n // s for s in anchors.YOLOV3_STRIDES]


@register
class DetYoloBoxes(Template):
    """Boxes a YOLOv3-style detector predicts per image before NMS."""

    id = "det.yolo_boxes"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="YOLOv3 每张图预测的框数", en="Boxes per image of YOLOv3")
    misconceptions = (
        mis(
            "coarsest_scale_only",
            lambda p: (p["n"] // 32) ** 2 * p["A"],
            "YOLOv3 在三个尺度(步长 32、16、8)上都预测,要把三层的框加起来。",
            "YOLOv3 predicts at three scales (strides 32, 16, 8): add the boxes of all three.",
        ),
        mis(
            "cells_not_anchors",
            lambda p: sum(g * g for g in _grids(p["n"])),
            "每个格子不是一个框:每个格子有 A 个锚框,各预测一个框。",
            "A cell is not one box: each cell has A anchors and each predicts a box.",
        ),
        mis(
            "all_anchors_every_scale",
            lambda p: sum(g * g for g in _grids(p["n"])) * 3 * p["A"],
            "聚类得到的 9 个锚框按大小分给三个尺度,每个尺度只用其中 3 个(这里是 A 个)。",
            "The 9 clustered anchors are split by size over the three scales; each scale uses "
            "only its own 3 (here A).",
        ),
        mis(
            "stride_64_16_8",
            lambda p: sum((p["n"] // s) ** 2 for s in (16, 8, 4)) * p["A"],
            "三个输出的步长是 32、16、8(不是 16、8、4):最粗的一层就是骨干网络的最后一层。",
            "The three outputs have strides 32, 16 and 8 (not 16, 8, 4): the coarsest is the "
            "backbone's last stage.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the input side and the anchors per scale."""
        return _yolo_sample(draw)

    def answer(self, p: Params) -> Value:
        """Return ``anchors.yolo_box_count``."""
        return anchors.yolo_box_count(p["n"], p["A"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the configuration."""
        n, a = p["n"], p["A"]
        return Bilingual(
            zh=f"一个 YOLOv3 式检测器输入 ${n}\\times{n}$ 的图像,在步长 32、16、8 的三个尺度上输出,"
            f"每个尺度的每个格子有 {a} 个锚框。NMS 之前,一张图共预测多少个框?",
            en=f"A YOLOv3-style detector takes a ${n}\\times{n}$ image and predicts at three "
            f"scales of strides 32, 16 and 8, with {a} anchors per cell at each scale. How many "
            "boxes does it predict per image before NMS?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the three grids."""
        n, a = p["n"], p["A"]
        g = _grids(n)
        f = (
            f"$$({g[0]}^2+{g[1]}^2+{g[2]}^2)\\times{a}=({g[0] ** 2}+{g[1] ** 2}+{g[2] ** 2})"
            f"\\times{a}={answer}$$"
        )
        return Bilingual(
            zh=f"三个网格边长为 ${n}/32={g[0]}$、${n}/16={g[1]}$、${n}/8={g[2]}$,每个格子 {a} 个框:\n{f}",
            en=f"The grids are ${n}/32={g[0]}$, ${n}/16={g[1]}$ and ${n}/8={g[2]}$, with {a} "
            f"boxes per cell:\n{f}",
        )


@register
class DetYoloHeadShape(Template):
    """Shape of one YOLOv3 output scale."""

    id = "det.yolo_head_shape"
    version = 1
    kind = AnswerKind.TUPLE
    title = Bilingual(zh="YOLOv3 某一尺度的输出形状", en="Shape of a YOLOv3 output scale")
    misconceptions = (
        mis(
            "no_objectness",
            lambda p: (p["_g"], p["_g"], p["A"] * (4 + p["C"])),
            "每个锚框除了 4 个坐标和 C 个类别,还有 1 个目标置信度(objectness):5 + C。",
            "Besides 4 coordinates and C classes each anchor has 1 objectness score: 5 + C.",
        ),
        mis(
            "classes_per_cell",
            lambda p: (p["_g"], p["_g"], p["A"] * 5 + p["C"]),
            "从 YOLOv2 起类别是按锚框预测的,每个锚框各有 C 个类别分数;每格一组类别是 YOLOv1。",
            "Since YOLOv2 classes are predicted per anchor, C scores for each; one set per cell "
            "was YOLOv1.",
        ),
        mis(
            "background_class",
            lambda p: (p["_g"], p["_g"], p["A"] * (6 + p["C"])),
            "YOLOv3 没有背景类:是否有目标由 objectness 表示,类别用独立的 sigmoid。",
            "YOLOv3 has no background class: objectness says whether there is an object, and "
            "classes use independent sigmoids.",
        ),
        mis(
            "nine_anchors",
            lambda p: (p["_g"], p["_g"], 9 * (5 + p["C"])) if p["A"] != 9 else None,
            "9 个锚框分给了三个尺度,每个尺度只有其中 A 个。",
            "The 9 anchors are split over the three scales; each scale has only A of them.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the input side, the scale, the anchors and the classes."""
        p = _yolo_sample(draw)
        s = draw.pick("stride", (32, 16, 8))
        p.update({"s": s, "_g": p["n"] // s, "C": draw.pick("classes", (80, 80, 20, 1, 3, 10))})
        return p

    def answer(self, p: Params) -> Value:
        """Return the matching entry of ``anchors.yolo_head_shapes``."""
        shapes = anchors.yolo_head_shapes(p["n"], p["C"], p["A"])
        return shapes[anchors.YOLOV3_STRIDES.index(p["s"])]

    def prompt(self, p: Params) -> Bilingual:
        """Render the configuration."""
        n, a, c, s = p["n"], p["A"], p["C"], p["s"]
        return Bilingual(
            zh=f"YOLOv3 式检测器输入 ${n}\\times{n}$,共 {c} 个类别,每个尺度每个格子 {a} 个锚框。"
            f"步长为 {s} 的那个输出层形状是多少?按 $(S, S, \\text{{通道数}})$ 输入。",
            en=f"A YOLOv3-style detector takes ${n}\\times{n}$ inputs, has {c} classes and {a} "
            f"anchors per cell at each scale. What is the shape of its output of stride {s}? Enter "
            "$(S, S, \\text{channels})$.",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render S and A(5+C)."""
        n, a, c, s = p["n"], p["A"], p["C"], p["s"]
        assert isinstance(answer, tuple)
        f = f"$$S={n}/{s}={answer[0]},\\quad A(4+1+C)={a}\\times(4+1+{c})={answer[2]}$$"
        return Bilingual(
            zh=f"每个锚框输出 4 个坐标、1 个 objectness 和 {c} 个类别分数:\n{f}\n\n形状为 {answer}。",
            en=f"Each anchor outputs 4 coordinates, 1 objectness and {c} class scores:\n{f}\n\n"
            f"The shape is {answer}.",
        )


# --------------------------------------------------------------------------------------------
# Single-map RPN anchors
# --------------------------------------------------------------------------------------------


@register
class DetRpnAnchorCount(Template):
    """Anchors of Faster R-CNN's RPN on VGG16's conv5_3."""

    id = "det.rpn_anchor_count"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="Faster R-CNN(VGG16)RPN 的锚框数", en="Anchors of a VGG16 RPN")
    misconceptions = (
        mis(
            "ceil_rounding",
            lambda p: -(-p["h"] // 16) * -(-p["w"] // 16) * p["scales"] * p["ratios"],
            "VGG16 的 2×2 最大池化(ceil_mode=False)每次向下取整:特征图是 ⌊H/16⌋×⌊W/16⌋。",
            "VGG16's 2×2 max pools (ceil_mode=False) round down each time: the map is "
            "⌊H/16⌋×⌊W/16⌋.",
            absorbable=True,
        ),
        mis(
            "stride_32",
            lambda p: (p["h"] // 32) * (p["w"] // 32) * p["scales"] * p["ratios"],
            "RPN 接在 conv5_3 上,它之前只有 4 次池化,步长是 16;第 5 次池化在 conv5_3 之后。",
            "The RPN sits on conv5_3, after only four pools: stride 16. The fifth pool comes "
            "after conv5_3.",
        ),
        mis(
            "scales_plus_ratios",
            lambda p: (p["h"] // 16) * (p["w"] // 16) * (p["scales"] + p["ratios"]),
            "每个尺度与每个长宽比组合,每个位置 k = 尺度数 × 长宽比数 个锚框。",
            "Every scale pairs with every ratio: k = scales × ratios anchors per position.",
        ),
        mis(
            "outputs_not_anchors",
            lambda p: (p["h"] // 16) * (p["w"] // 16) * 6 * p["scales"] * p["ratios"],
            "问的是锚框数,不是 RPN 输出的数值个数(每个锚框 2 个分数 + 4 个偏移)。",
            "The question asks for anchors, not the RPN's output numbers (2 scores + 4 offsets "
            "per anchor).",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw an image size (short side about 600) and the anchor grid."""
        h = draw.integer("h", 300, 800)
        w = draw.integer("w", 300, 1000)
        return {
            "h": h,
            "w": w,
            "scales": draw.pick("scales", (3, 3, 2, 4)),
            "ratios": draw.pick("ratios", (3, 3, 2)),
        }

    def answer(self, p: Params) -> Value:
        """Return ``anchors.rpn_anchor_count``."""
        return anchors.rpn_anchor_count(p["h"], p["w"], p["scales"], p["ratios"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the setting."""
        h, w, s, r = p["h"], p["w"], p["scales"], p["ratios"]
        return Bilingual(
            zh=f"Faster R-CNN 以 VGG16 为骨干,RPN 接在 conv5_3 上(之前有 4 次 2×2、步长 2 的最大池化,"
            f"向下取整;卷积都保持尺寸)。输入 ${h}\\times{w}$,每个位置 {s} 种尺度 × {r} 种长宽比。"
            "一张图有多少个锚框(含越界的)?",
            en="Faster R-CNN with a VGG16 backbone puts its RPN on conv5_3 (preceded by four 2×2, "
            "stride-2 max pools that round down; the convolutions keep the size). The input is "
            f"${h}\\times{w}$ and each position has {s} scales × {r} aspect ratios. How many "
            "anchors does one image get (cross-boundary ones included)?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the map size and the product."""
        h, w, s, r = p["h"], p["w"], p["scales"], p["ratios"]
        fh, fw = anchors.vgg16_conv5_size(h, w)
        f = (
            f"$$\\lfloor {h}/16\\rfloor\\times\\lfloor {w}/16\\rfloor={fh}\\times{fw},\\quad "
            f"{fh}\\times{fw}\\times({s}\\times{r})={answer}$$"
        )
        return Bilingual(
            zh=f"4 次向下取整的减半等于一次 $\\lfloor n/16\\rfloor$;每个位置 $k={s}\\times{r}$ 个锚框:\n{f}",
            en=f"Four rounded-down halvings equal one $\\lfloor n/16\\rfloor$; each position has "
            f"$k={s}\\times{r}$ anchors:\n{f}",
        )


# --------------------------------------------------------------------------------------------
# FPN RoI-to-level assignment
# --------------------------------------------------------------------------------------------


def _level(p: Params, expr: float, how: str = "floor", clamp: bool = True) -> int:
    k = math.floor(expr + 1e-6) if how == "floor" else round(expr)
    return max(2, min(5, k)) if clamp else k


def _raw(p: Params) -> float:
    return 4 + math.log2(math.sqrt(p["w"] * p["h"]) / 224)


@register
class DetFpnRoiLevel(Template):
    """The FPN level an RoI is pooled from (FPN eq. 1, torchvision's LevelMapper)."""

    id = "det.fpn_roi_level"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="RoI 分配到哪一层 FPN", en="The FPN level of an RoI")
    misconceptions = (
        mis(
            "area_not_sqrt",
            lambda p: _level(p, 4 + math.log2(p["w"] * p["h"] / 224**2)),
            "公式里用的是 $\\sqrt{wh}$(边长尺度)与 224 的比,不是面积与 $224^2$ 的比。",
            "The formula compares $\\sqrt{wh}$ (a side length) with 224, not the area with $224^2$.",
            absorbable=True,
        ),
        mis(
            "round_not_floor",
            lambda p: _level(p, _raw(p), how="round"),
            "公式取下整 $\\lfloor\\cdot\\rfloor$,不是四舍五入。",
            "The formula takes the floor, not the nearest integer.",
            absorbable=True,
        ),
        mis(
            "no_clamp",
            lambda p: _level(p, _raw(p), clamp=False),
            "结果要截断到已有的层 [2, 5](P2–P5),超出范围的 RoI 用最近的端层。",
            "The result is clamped to the existing levels [2, 5] (P2–P5).",
            absorbable=True,
        ),
        mis(
            "index_not_level",
            lambda p: _level(p, _raw(p)) - 2,
            "torchvision 内部返回的是列表下标 k − 2;题目问的是层号 k。",
            "torchvision returns the list index k − 2 internally; the question asks for the "
            "level k.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw an RoI size whose scale is not within 3% of a level boundary."""
        w = draw.integer("w", 16, 900)
        h = draw.integer("h", 16, 900)
        return {"w": w, "h": h}

    def answer(self, p: Params) -> Value:
        """Return ``detection_boxes.roi_level``."""
        frac = _raw(p) % 1
        if min(frac, 1 - frac) < 0.05:
            raise ValueError("the RoI's scale is too close to a level boundary to judge by hand")
        return int(detection_boxes.roi_level([(0, 0, p["w"], p["h"])])[0])

    def prompt(self, p: Params) -> Bilingual:
        """Render the RoI."""
        w, h = p["w"], p["h"]
        return Bilingual(
            zh=f"Faster R-CNN + FPN(P2–P5)按 $k=\\lfloor k_0+\\log_2(\\sqrt{{wh}}/224)\\rfloor$,"
            f"$k_0=4$ 把 RoI 分配到某一层做 RoIAlign,结果截断到 [2, 5]。一个 ${w}\\times{h}$ 的 RoI "
            "分到哪一层?输入 $k$。",
            en="Faster R-CNN with FPN (P2–P5) pools each RoI from level "
            "$k=\\lfloor k_0+\\log_2(\\sqrt{wh}/224)\\rfloor$, $k_0=4$, clamped to [2, 5]. Which "
            f"level does a ${w}\\times{h}$ RoI go to? Enter $k$.",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the scale and the logarithm."""
        w, h = p["w"], p["h"]
        s = math.sqrt(w * h)
        raw = _raw(p)
        f = (
            f"$$\\sqrt{{{w}\\cdot{h}}}\\approx{s:.2f},\\quad 4+\\log_2({s:.2f}/224)\\approx"
            f"{raw:.3f},\\quad \\lfloor{raw:.3f}\\rfloor={math.floor(raw)}\\to"
            f"\\text{{clamp}}[2,5]={answer}$$"
        )
        return Bilingual(
            zh=f"224 是 ImageNet 预训练的尺寸,对应 $P_4$;尺度每减半降一层:\n{f}",
            en=f"224 is the ImageNet pre-training size and maps to $P_4$; each halving of the "
            f"scale goes down one level:\n{f}",
        )


# --------------------------------------------------------------------------------------------
# Box encoding and decoding (BoxCoder)
# --------------------------------------------------------------------------------------------

_COMPONENTS = ("tx", "ty", "tw", "th")
_WEIGHTS = ((1, 1, 1, 1), (10, 10, 5, 5))


def _cs(b: Box) -> tuple[float, float, float, float]:
    w, h = b[2] - b[0], b[3] - b[1]
    return b[0] + w / 2, b[1] + h / 2, w, h


def _enc_wrong(p: Params, kind: str) -> float | None:
    gx, gy, gw, gh = _cs(p["gt"])
    ax, ay, aw, ah = _cs(p["anchor"])
    i = _COMPONENTS.index(p["c"])
    wt = p["weights"][i]
    pos = i < 2
    g, a, gs, as_ = (gx, ax, gw, aw) if i % 2 == 0 else (gy, ay, gh, ah)
    g1, a1 = (p["gt"][0], p["anchor"][0]) if i % 2 == 0 else (p["gt"][1], p["anchor"][1])
    if kind == "no_weights":
        if wt == 1:
            return None
        return (g - a) / as_ if pos else math.log(gs / as_)
    if kind == "over_gt_size":
        return wt * (g - a) / gs if pos else None
    if kind == "corner_offset":
        return wt * (g1 - a1) / as_ if pos else None
    if kind == "no_log":
        return None if pos else wt * (gs / as_)
    if kind == "inverted_ratio":
        return None if pos else wt * math.log(as_ / gs)
    raise AssertionError(kind)


def _coder_sample(draw: Draw) -> Params:
    ax, ay = draw.free(20, 300), draw.free(20, 300)
    aw, ah = draw.pick("anchor_w", (64, 128, 96, 256, 80)), draw.pick("anchor_h", (64, 128, 96, 48))
    anchor = (ax, ay, ax + aw, ay + ah)
    gw, gh = aw + draw.free(-aw // 3, aw // 2), ah + draw.free(-ah // 3, ah // 2)
    gx, gy = ax + draw.free(-aw // 4, aw // 4), ay + draw.free(-ah // 4, ah // 4)
    gt = (gx, gy, gx + gw, gy + gh)
    return {
        "anchor": anchor,
        "gt": gt,
        "weights": draw.pick("weights", _WEIGHTS),
        "c": draw.pick("component", _COMPONENTS),
    }


@register
class DetBoxEncode(Template):
    """One regression target of a ground-truth box relative to an anchor (BoxCoder.encode)."""

    id = "det.box_encode"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _TOL
    real_format = ".4f"
    title = Bilingual(
        zh="边框回归编码 (tx, ty, tw, th)", en="Box regression targets (tx, ty, tw, th)"
    )
    misconceptions = (
        mis(
            "no_weights",
            lambda p: _enc_wrong(p, "no_weights"),
            "编码后还要乘以权重 $(w_x, w_y, w_w, w_h)$;解码时再除回去。",
            "The encoded offsets are multiplied by the weights $(w_x, w_y, w_w, w_h)$; decoding "
            "divides them back out.",
        ),
        mis(
            "over_gt_size",
            lambda p: _enc_wrong(p, "over_gt_size"),
            "中心偏移除以的是锚框(参考框)的宽高,不是真实框的。",
            "The centre offset is divided by the anchor's (reference box's) size, not the "
            "ground truth's.",
        ),
        mis(
            "corner_offset",
            lambda p: _enc_wrong(p, "corner_offset"),
            "$t_x, t_y$ 用的是两框中心的偏移,不是左上角的偏移。",
            "$t_x, t_y$ use the offset between centres, not between top-left corners.",
        ),
        mis(
            "no_log",
            lambda p: _enc_wrong(p, "no_log"),
            "$t_w, t_h$ 是宽高比的对数 $\\log(g_w/a_w)$,这样缩放是对称的、尺度无关的。",
            "$t_w, t_h$ are log ratios $\\log(g_w/a_w)$, which makes scaling symmetric and "
            "scale-free.",
        ),
        mis(
            "inverted_ratio",
            lambda p: _enc_wrong(p, "inverted_ratio"),
            "比值是 真实框 / 锚框,$\\log(g_w/a_w)$,不是反过来。",
            "The ratio is ground truth over anchor, $\\log(g_w/a_w)$, not the other way round.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw an anchor, a nearby ground-truth box, the weights and the component asked."""
        return _coder_sample(draw)

    def answer(self, p: Params) -> Value:
        """Return the component of ``detection_boxes.encode_boxes``."""
        t = detection_boxes.encode_boxes([p["gt"]], [p["anchor"]], p["weights"])[0]
        return float(t[_COMPONENTS.index(p["c"])])

    def prompt(self, p: Params) -> Bilingual:
        """Render the anchor, the box and the weights."""
        wt = ", ".join(map(str, p["weights"]))
        c = p["c"]
        return Bilingual(
            zh=f"{_BOX_FMT[0]}锚框 $A={_bt(p['anchor'])}$,真实框 $G={_bt(p['gt'])}$。按 torchvision "
            f"`BoxCoder`(权重 $({wt})$)编码,回归目标 $t_{{{c[1]}}}$ 是多少?(保留 3 位以上小数)",
            en=f"{_BOX_FMT[1]} Anchor $A={_bt(p['anchor'])}$, ground truth $G={_bt(p['gt'])}$. "
            f"Encoded by torchvision's `BoxCoder` with weights $({wt})$, what is the target "
            f"$t_{{{c[1]}}}$? (at least 3 decimals)",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render centres, sizes and the formula."""
        gx, gy, gw, gh = _cs(p["gt"])
        ax, ay, aw, ah = _cs(p["anchor"])
        i = _COMPONENTS.index(p["c"])
        wt = p["weights"][i]
        if i == 0:
            f = f"t_x={wt}\\cdot\\frac{{g_x-a_x}}{{a_w}}={wt}\\cdot\\frac{{{num(gx)}-{num(ax)}}}{{{aw}}}"
        elif i == 1:
            f = f"t_y={wt}\\cdot\\frac{{g_y-a_y}}{{a_h}}={wt}\\cdot\\frac{{{num(gy)}-{num(ay)}}}{{{ah}}}"
        elif i == 2:
            f = f"t_w={wt}\\cdot\\ln\\frac{{g_w}}{{a_w}}={wt}\\cdot\\ln\\frac{{{gw}}}{{{aw}}}"
        else:
            f = f"t_h={wt}\\cdot\\ln\\frac{{g_h}}{{a_h}}={wt}\\cdot\\ln\\frac{{{gh}}}{{{ah}}}"
        body = (
            f"$$a=({num(ax)}, {num(ay)}),\\ a_w={aw},\\ a_h={ah};\\quad g=({num(gx)}, {num(gy)}),"
            f"\\ g_w={gw},\\ g_h={gh}$$$${f}\\approx{answer:.4f}$$"
        )
        return Bilingual(
            zh=f"先换成中心与宽高,中心偏移除以锚框宽高,尺寸取对数比,再乘权重:\n{body}",
            en="Convert to centre and size; divide the centre offset by the anchor's size, take "
            f"the log ratio of sizes, then multiply by the weight:\n{body}",
        )


_COORDS = ("x1", "y1", "x2", "y2")


def _decode(p: Params, kind: str = "") -> float | None:
    ax, ay, aw, ah = _cs(p["anchor"])
    i = _COORDS.index(p["c"])
    horiz = i % 2 == 0
    d, ds = (p["d"][0], p["d"][2]) if horiz else (p["d"][1], p["d"][3])
    wp, ws = (p["weights"][0], p["weights"][2]) if horiz else (p["weights"][1], p["weights"][3])
    a, asz = (ax, aw) if horiz else (ay, ah)
    if kind == "no_weights" and wp == 1 and ws == 1:
        return None
    if kind != "no_weights":
        d, ds = d / wp, ds / ws
    c = a + d * asz if kind != "absolute_offset" else a + d
    size = asz * math.exp(ds) if kind != "linear_size" else asz * (1 + ds)
    half = size if kind == "full_size" else size / 2
    return float(c - half if i < 2 else c + half)


@register
class DetBoxDecode(Template):
    """One corner of a box decoded from an anchor and predicted deltas (BoxCoder.decode)."""

    id = "det.box_decode"
    version = 1
    kind = AnswerKind.REAL
    tolerance = Tolerance(abs=0.05)
    real_format = ".2f"
    title = Bilingual(zh="边框回归解码", en="Decoding a box from deltas")
    misconceptions = (
        mis(
            "no_weights",
            lambda p: _decode(p, "no_weights"),
            "预测值先除以权重 $(w_x, w_y, w_w, w_h)$ 才是真正的偏移。",
            "The predictions are divided by the weights $(w_x, w_y, w_w, w_h)$ first.",
        ),
        mis(
            "absolute_offset",
            lambda p: _decode(p, "absolute_offset"),
            "中心偏移是以锚框宽高为单位的:$c_x=a_x+d_x a_w$,不是 $a_x+d_x$。",
            "The centre offset is in units of the anchor's size: $c_x=a_x+d_x a_w$, not $a_x+d_x$.",
        ),
        mis(
            "linear_size",
            lambda p: _decode(p, "linear_size"),
            "宽高用指数还原:$w=a_w e^{d_w}$(编码时取了对数)。",
            "Sizes come back through the exponential: $w=a_w e^{d_w}$ (encoding took a log).",
        ),
        mis(
            "full_size",
            lambda p: _decode(p, "full_size"),
            "角点是中心加减**半个**宽高。",
            "A corner is the centre plus or minus **half** the size.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw an anchor, deltas, the weights and the coordinate asked."""
        ax, ay = draw.free(20, 300), draw.free(20, 300)
        aw = draw.pick("anchor_w", (64, 128, 96, 256, 80))
        ah = draw.pick("anchor_h", (64, 128, 96, 48))
        weights = draw.pick("weights", _WEIGHTS)
        scale = (weights[0], weights[0], weights[2], weights[2])
        raw = (
            draw.free(-30, 30) / 100,
            draw.free(-30, 30) / 100,
            draw.free(-50, 50) / 100,
            draw.free(-50, 50) / 100,
        )
        d = tuple(round(r * s, 2) for r, s in zip(raw, scale, strict=True))
        return {
            "anchor": (ax, ay, ax + aw, ay + ah),
            "d": d,
            "weights": weights,
            "c": draw.pick("coordinate", _COORDS),
        }

    def answer(self, p: Params) -> Value:
        """Return the coordinate of ``detection_boxes.decode_boxes``."""
        b = detection_boxes.decode_boxes([p["d"]], [p["anchor"]], p["weights"])[0]
        return float(b[_COORDS.index(p["c"])])

    def prompt(self, p: Params) -> Bilingual:
        """Render the anchor, the deltas and the weights."""
        wt = ", ".join(map(str, p["weights"]))
        d = ", ".join(num(v) for v in p["d"])
        c = p["c"]
        return Bilingual(
            zh=f"{_BOX_FMT[0]}锚框 $A={_bt(p['anchor'])}$,网络预测 $(d_x, d_y, d_w, d_h)=({d})$。"
            f"按 torchvision `BoxCoder`(权重 $({wt})$)解码,预测框的 ${c[0]}_{c[1]}$ 是多少?"
            "(保留 2 位小数)",
            en=f"{_BOX_FMT[1]} Anchor $A={_bt(p['anchor'])}$, predicted "
            f"$(d_x, d_y, d_w, d_h)=({d})$. Decoded by torchvision's `BoxCoder` with weights "
            f"$({wt})$, what is the predicted box's ${c[0]}_{c[1]}$? (2 decimals)",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the decoded centre and size."""
        ax, ay, aw, ah = _cs(p["anchor"])
        i = _COORDS.index(p["c"])
        horiz = i % 2 == 0
        ax_, n = ("x", "w") if horiz else ("y", "h")
        a, asz = (ax, aw) if horiz else (ay, ah)
        d, ds = (p["d"][0], p["d"][2]) if horiz else (p["d"][1], p["d"][3])
        wp, ws = (p["weights"][0], p["weights"][2]) if horiz else (p["weights"][1], p["weights"][3])
        c = a + d / wp * asz
        size = asz * math.exp(ds / ws)
        sign = "-" if i < 2 else "+"
        f = (
            f"$$c_{ax_}={num(a)}+\\frac{{{num(d)}}}{{{wp}}}\\cdot{asz}\\approx{c:.3f},\\quad "
            f"{n}={asz}\\cdot e^{{{num(ds)}/{ws}}}\\approx{size:.3f}$$"
            f"$${p['c'][0]}_{p['c'][1]}=c_{ax_}{sign}\\tfrac{{1}}{{2}}{n}\\approx{answer:.2f}$$"
        )
        return Bilingual(
            zh=f"先除以权重,中心按锚框尺寸平移,宽高取指数,再换回角点:\n{f}",
            en="Divide by the weights, shift the centre in units of the anchor's size, "
            f"exponentiate the size, then convert back to corners:\n{f}",
        )


# --------------------------------------------------------------------------------------------
# DIoU and CIoU losses
# --------------------------------------------------------------------------------------------


def _loss_parts(p: Params) -> dict[str, float]:
    a, b = p["pred"], p["gt"]
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    union = area_a + area_b - inter
    cw = max(a[2], b[2]) - min(a[0], b[0])
    ch = max(a[3], b[3]) - min(a[1], b[1])
    rho2 = ((a[0] + a[2]) / 2 - (b[0] + b[2]) / 2) ** 2 + (
        (a[1] + a[3]) / 2 - (b[1] + b[3]) / 2
    ) ** 2
    atan_diff = math.atan((b[2] - b[0]) / (b[3] - b[1])) - math.atan((a[2] - a[0]) / (a[3] - a[1]))
    v = 4 / math.pi**2 * atan_diff**2
    iou = inter / union
    return {
        "i": inter,
        "u": union,
        "iou": iou,
        "c2": cw**2 + ch**2,
        "cw": cw,
        "ch": ch,
        "rho2": rho2,
        "v": v,
        "alpha": v / (1 - iou + v),
        "atan": atan_diff,
        "hull": cw * ch,
    }


def _pair_sample(draw: Draw, stretch: bool) -> Params:
    x0, y0 = draw.free(0, 200), draw.free(0, 200)
    gw, gh = draw.free(40, 160), draw.free(40, 160)
    gt = (x0, y0, x0 + gw, y0 + gh)
    if stretch:
        # A clearly different aspect ratio and a good overlap, so that CIoU's alpha * v term is
        # large enough to tell CIoU from DIoU (alpha = v / ((1 - IoU) + v) shrinks with IoU).
        # The centres lie apart (a sixth to a third of the box), so rho^2 / c^2 shows too.
        pw, ph = (gw * draw.free(170, 250) // 100, gh * draw.free(40, 60) // 100)
        if draw.uniform() < 0.5:
            pw, ph = (gw * draw.free(40, 60) // 100, gh * draw.free(170, 250) // 100)
        sx, sy = (1 if draw.uniform() < 0.5 else -1), (1 if draw.uniform() < 0.5 else -1)
        px = x0 + (gw - pw) // 2 + sx * draw.free(gw // 6, gw // 3)
        py = y0 + (gh - ph) // 2 + sy * draw.free(gh // 6, gh // 3)
    else:
        pw, ph = gw + draw.free(-gw // 3, gw // 3), gh + draw.free(-gh // 3, gh // 3)
        px = x0 + draw.free(-pw // 2, gw // 2)
        py = y0 + draw.free(-ph // 2, gh // 2)
    pred = (max(0, px), max(0, py), max(0, px) + pw, max(0, py) + ph)
    return {"pred": pred, "gt": gt}


def _pair_prompt(p: Params, name: str) -> Bilingual:
    return Bilingual(
        zh=f"{_BOX_FMT[0]}预测框 $B={_bt(p['pred'])}$,真实框 $G={_bt(p['gt'])}$。"
        f"{name} 损失是多少?(保留 3 位以上小数)",
        en=f"{_BOX_FMT[1]} Predicted box $B={_bt(p['pred'])}$, ground truth "
        f"$G={_bt(p['gt'])}$. What is the {name} loss? (at least 3 decimals)",
    )


def _diou_lines(q: dict[str, float], p: Params) -> str:
    a, b = p["pred"], p["gt"]
    return (
        f"$$I={num(q['i'])},\\ U={num(q['u'])},\\ \\text{{IoU}}\\approx{q['iou']:.4f}$$"
        f"$$\\text{{centres}}\\ ({num((a[0] + a[2]) / 2)}, {num((a[1] + a[3]) / 2)}),\\ "
        f"({num((b[0] + b[2]) / 2)}, {num((b[1] + b[3]) / 2)}):\\ \\rho^2={num(q['rho2'])}$$"
        f"$$c^2={num(q['cw'])}^2+{num(q['ch'])}^2={num(q['c2'])}$$"
    )


@register
class DetDiouLoss(Template):
    """DIoU loss of a predicted box against its target."""

    id = "det.diou_loss"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _TOL
    real_format = ".4f"
    title = Bilingual(zh="DIoU 损失", en="DIoU loss")
    misconceptions = (
        mis(
            "iou_loss_only",
            lambda p: 1 - _loss_parts(p)["iou"],
            "DIoU 在 1 − IoU 之外还加了中心距离惩罚 $\\rho^2/c^2$。",
            "DIoU adds the centre-distance penalty $\\rho^2/c^2$ to 1 − IoU.",
        ),
        mis(
            "distance_not_squared",
            lambda p: (
                1 - _loss_parts(p)["iou"] + math.sqrt(_loss_parts(p)["rho2"] / _loss_parts(p)["c2"])
            ),
            "惩罚项是距离的**平方**之比 $\\rho^2/c^2$,不是 $\\rho/c$。",
            "The penalty is the ratio of **squared** distances $\\rho^2/c^2$, not $\\rho/c$.",
        ),
        mis(
            "giou_instead",
            lambda p: float(detection_boxes.giou_loss([p["pred"]], [p["gt"]])[0]),
            "这是 GIoU 损失(外接框面积惩罚);DIoU 的惩罚是中心距离与外接框对角线之比。",
            "That is the GIoU loss (enclosing-area penalty); DIoU penalizes the centre distance "
            "over the enclosing box's diagonal.",
            absorbable=True,
        ),
        mis(
            "penalty_sign",
            lambda p: 1 - _loss_parts(p)["iou"] - _loss_parts(p)["rho2"] / _loss_parts(p)["c2"],
            "DIoU 值是 IoU − $\\rho^2/c^2$,损失是 1 − DIoU = 1 − IoU **+** $\\rho^2/c^2$。",
            "DIoU is IoU − $\\rho^2/c^2$; the loss 1 − DIoU = 1 − IoU **+** $\\rho^2/c^2$.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a ground-truth box and a shifted, resized prediction."""
        return _pair_sample(draw, stretch=False)

    def answer(self, p: Params) -> Value:
        """Return ``detection_boxes.diou_loss``."""
        if _loss_parts(p)["rho2"] == 0:
            raise ValueError("concentric boxes: the distance term does not show")
        return float(detection_boxes.diou_loss([p["pred"]], [p["gt"]])[0])

    def prompt(self, p: Params) -> Bilingual:
        """Render the boxes."""
        return _pair_prompt(p, "DIoU")

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render IoU, the centre distance and the diagonal."""
        q = _loss_parts(p)
        f = _diou_lines(q, p) + (
            f"$$L_{{DIoU}}=1-\\text{{IoU}}+\\frac{{\\rho^2}}{{c^2}}\\approx1-{q['iou']:.4f}+"
            f"{q['rho2'] / q['c2']:.4f}={answer:.4f}$$"
        )
        return Bilingual(
            zh=f"$\\rho$ 为两框中心距离,$c$ 为最小外接框的对角线:\n{f}",
            en=f"$\\rho$ is the distance between centres, $c$ the enclosing box's diagonal:\n{f}",
        )


def _ciou_no_factor(p: Params) -> float:
    """CIoU with ``v`` lacking its 4 / pi^2 factor."""
    q = _loss_parts(p)
    v = q["atan"] ** 2
    return float(detection_boxes.diou_loss([p["pred"]], [p["gt"]])[0]) + v * v / (1 - q["iou"] + v)


@register
class DetCiouLoss(Template):
    """CIoU loss of a predicted box against its target."""

    id = "det.ciou_loss"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _TOL
    real_format = ".4f"
    title = Bilingual(zh="CIoU 损失", en="CIoU loss")
    misconceptions = (
        mis(
            "diou_only",
            lambda p: float(detection_boxes.diou_loss([p["pred"]], [p["gt"]])[0]),
            "CIoU 在 DIoU 之上还有长宽比一致性项 $\\alpha v$。",
            "CIoU adds the aspect-ratio term $\\alpha v$ on top of DIoU.",
        ),
        mis(
            "alpha_one",
            lambda p: (
                float(detection_boxes.diou_loss([p["pred"]], [p["gt"]])[0]) + _loss_parts(p)["v"]
            ),
            "$v$ 要乘以权衡系数 $\\alpha=v/((1-\\text{IoU})+v)$,不是直接加 $v$。",
            "$v$ is weighted by $\\alpha=v/((1-\\text{IoU})+v)$, not added as is.",
        ),
        mis(
            "no_four_over_pi2",
            _ciou_no_factor,
            "$v=\\frac{4}{\\pi^2}(\\arctan\\frac{w^{gt}}{h^{gt}}-\\arctan\\frac{w}{h})^2$,"
            "系数 $4/\\pi^2$ 把 $v$ 归一到 [0, 1]。",
            "$v=\\frac{4}{\\pi^2}(\\arctan\\frac{w^{gt}}{h^{gt}}-\\arctan\\frac{w}{h})^2$; the "
            "factor $4/\\pi^2$ scales $v$ into [0, 1].",
        ),
        mis(
            "iou_loss_plus_v",
            lambda p: 1 - _loss_parts(p)["iou"] + _loss_parts(p)["alpha"] * _loss_parts(p)["v"],
            "CIoU = DIoU 损失 + $\\alpha v$:中心距离项 $\\rho^2/c^2$ 不能丢。",
            "CIoU = the DIoU loss + $\\alpha v$: keep the centre-distance term $\\rho^2/c^2$.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a ground-truth box and a prediction of another aspect ratio."""
        return _pair_sample(draw, stretch=True)

    def answer(self, p: Params) -> Value:
        """Return ``detection_boxes.ciou_loss``."""
        if _loss_parts(p)["rho2"] == 0:
            raise ValueError("concentric boxes: the distance term does not show")
        return float(detection_boxes.ciou_loss([p["pred"]], [p["gt"]])[0])

    def prompt(self, p: Params) -> Bilingual:
        """Render the boxes."""
        return _pair_prompt(p, "CIoU")

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render DIoU, v and alpha."""
        q = _loss_parts(p)
        a, b = p["pred"], p["gt"]
        f = _diou_lines(q, p) + (
            f"$$v=\\frac{{4}}{{\\pi^2}}\\left(\\arctan\\frac{{{b[2] - b[0]}}}{{{b[3] - b[1]}}}-"
            f"\\arctan\\frac{{{a[2] - a[0]}}}{{{a[3] - a[1]}}}\\right)^2\\approx{q['v']:.4f},\\quad"
            f"\\alpha=\\frac{{v}}{{(1-\\text{{IoU}})+v}}\\approx{q['alpha']:.4f}$$"
            f"$$L_{{CIoU}}=1-\\text{{IoU}}+\\frac{{\\rho^2}}{{c^2}}+\\alpha v\\approx1-{q['iou']:.4f}"
            f"+{q['rho2'] / q['c2']:.4f}+{q['alpha'] * q['v']:.4f}={answer:.4f}$$"
        )
        return Bilingual(
            zh=f"DIoU 损失加上长宽比项 $\\alpha v$:\n{f}",
            en=f"The DIoU loss plus the aspect-ratio term $\\alpha v$:\n{f}",
        )


# --------------------------------------------------------------------------------------------
# Soft-NMS
# --------------------------------------------------------------------------------------------


def _snms_sample(draw: Draw) -> Params:
    """Draw a chain of 3 overlapping boxes and one far box, with distinct scores."""
    x0, y0 = draw.free(0, 60), draw.free(0, 60)
    side = draw.free(60, 100)
    chain: list[Box] = [(x0, y0, x0 + side, y0 + side)]
    for _ in range(2):
        px, py = chain[-1][0], chain[-1][1]
        dx, dy = draw.free(side // 6, side // 2), draw.free(-side // 6, side // 6)
        w, h = side + draw.free(-10, 10), side + draw.free(-10, 10)
        chain.append((px + dx, max(0, py + dy), px + dx + w, max(0, py + dy) + h))
    far = (400, 400, 400 + draw.free(40, 90), 400 + draw.free(40, 90))
    bx = [*chain, far]
    order = sorted(range(4), key=lambda _: draw.uniform())
    bx = [bx[i] for i in order]
    scores: list[float] = []
    while len(scores) < 4:
        s = round(0.4 + 0.59 * draw.uniform(), 2)
        if all(abs(s - t) >= 0.03 for t in scores):
            scores.append(s)
    return {"boxes": tuple(bx), "scores": tuple(scores)}


@functools.lru_cache(maxsize=32)
def _iou_matrix(bx: tuple[tuple[float, ...], ...]) -> npt.NDArray[np.float64]:
    """The boxes' pairwise IoU, once per variant (the answer and each misconception read it)."""
    iou = boxes.box_iou(bx, bx)
    iou.setflags(write=False)
    return iou


def _snms(p: Params, method: str, nt: float | None = None) -> list[float]:
    r = detection_boxes.soft_nms(
        p["boxes"],
        p["scores"],
        method,  # type: ignore[arg-type]
        iou_threshold=p.get("nt", 0.3) if nt is None else nt,
        sigma=p.get("sigma", 0.5),
    )
    return [float(s) for s in r.scores]


def _pick_target(p: Params, method: str) -> None:
    """Choose the box asked about: one decayed by two selected boxes if possible."""
    r = detection_boxes.soft_nms(
        p["boxes"],
        p["scores"],
        method,  # type: ignore[arg-type]
        iou_threshold=p.get("nt", 0.3),
        sigma=p.get("sigma", 0.5),
    )
    order = r.order.tolist()
    iou = _iou_matrix(tuple(tuple(b) for b in p["boxes"]))
    gate = p.get("nt", 0.3) if method == "linear" else 1e-9
    best = None
    for pos, i in enumerate(order):
        hits = sum(1 for m in order[:pos] if iou[m, i] >= gate)
        if hits >= 1 and (best is None or hits > best[0]):
            best = (hits, i)
    if best is None:
        raise ValueError("no box is decayed: nothing to ask")
    p["_t"] = best[1]


def _first_only(p: Params, method: str) -> float | None:
    """Score of the target after only the top box's decay."""
    t = p["_t"]
    top = max(range(4), key=lambda i: p["scores"][i])
    if top == t:
        return None
    o = float(boxes.box_iou([p["boxes"][top]], [p["boxes"][t]])[0, 0])
    s = float(p["scores"][t])
    if method == "linear":
        return s * (1 - o) if o >= p["nt"] else s
    return s * math.exp(-(o**2) / p["sigma"])


def _hard_nms(p: Params) -> float:
    kept = boxes.nms(p["boxes"], p["scores"], p["nt"]).tolist()
    return p["scores"][p["_t"]] if p["_t"] in kept else 0.0


def _snms_prompt(p: Params, zh_rule: str, en_rule: str) -> Bilingual:
    rows = "\n".join(
        f"| {i} | {_bt(b)} | {num(s)} |"
        for i, (b, s) in enumerate(zip(p["boxes"], p["scores"], strict=True))
    )
    t = p["_t"]
    return Bilingual(
        zh=f"{_BOX_FMT[0]}同一类别的检测框:\n\n| 编号 | 框 | 分数 |\n|---|---|---|\n{rows}\n\n"
        f"按 Soft-NMS 论文的算法({zh_rule})处理:每轮取当前分数最高的框,其余框的分数乘以衰减,"
        f"重复直到处理完。框 {t} 最终的分数是多少?(保留 3 位以上小数)",
        en=f"{_BOX_FMT[1]} Detections of one class:\n\n| index | box | score |\n|---|---|---|\n"
        f"{rows}\n\nRun the Soft-NMS paper's algorithm ({en_rule}): each round takes the box with "
        "the highest current score and multiplies every remaining box's score by the decay, "
        f"until all are processed. What is box {t}'s final score? (at least 3 decimals)",
    )


def _snms_solution(p: Params, method: str, answer: Value) -> Bilingual:
    s = list(p["scores"])
    remaining = list(range(4))
    iou = _iou_matrix(tuple(tuple(b) for b in p["boxes"]))
    zh, en = [], []
    while remaining:
        m = max(remaining, key=lambda i: (s[i], -i))
        remaining.remove(m)
        parts = []
        for i in remaining:
            o = float(iou[m, i])
            if method == "linear":
                f = 1 - o if o >= p["nt"] else 1.0
            else:
                f = math.exp(-(o**2) / p["sigma"])
            s[i] *= f
            parts.append(f"{i}: IoU {o:.3f} → ×{f:.4f} = {s[i]:.4f}")
        line = "; ".join(parts) if parts else "—"
        zh.append(f"- 选出框 {m}(分数 {s[m]:.4f}),其余:{line}")
        en.append(f"- select box {m} (score {s[m]:.4f}); the rest: {line}")
    return Bilingual(
        zh="\n".join(zh) + f"\n\n框 {p['_t']} 的最终分数约为 {answer:.4f}。",
        en="\n".join(en) + f"\n\nBox {p['_t']} ends at about {answer:.4f}.",
    )


@register
class DetSoftNmsLinear(Template):
    """A box's final score under linear Soft-NMS."""

    id = "det.soft_nms_linear"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _TOL
    real_format = ".4f"
    title = Bilingual(zh="线性 Soft-NMS 后的分数", en="Score after linear Soft-NMS")
    misconceptions = (
        mis(
            "hard_nms",
            _hard_nms,
            "Soft-NMS 不把重叠框删掉(分数置 0),而是按 IoU 降低它的分数。",
            "Soft-NMS does not delete an overlapping box (score 0); it lowers its score by the IoU.",
        ),
        mis(
            "multiply_by_iou",
            lambda p: _snms_custom(p, lambda o, s: s * o if o >= p["nt"] else s),
            "线性衰减乘的是 $1-\\text{IoU}$:重叠越大,分数降得越多。",
            "Linear decay multiplies by $1-\\text{IoU}$: the larger the overlap, the lower the score.",
        ),
        mis(
            "no_threshold",
            lambda p: _snms(p, "linear", nt=0.0)[p["_t"]],
            "线性版本只衰减 IoU $\\ge N_t$ 的框;低于阈值的框分数不变。",
            "The linear version decays only boxes with IoU $\\ge N_t$; the others keep their score.",
            absorbable=True,
        ),
        mis(
            "top_box_only",
            lambda p: _first_only(p, "linear"),
            "每一轮都要用新选出的框再衰减一次剩余框,不只是分数最高的第一个框。",
            "Every round's selected box decays the remaining ones again, not only the first, "
            "top-scoring box.",
            absorbable=True,
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the boxes, scores and N_t."""
        p = _snms_sample(draw)
        p["nt"] = draw.pick("nt", (0.3, 0.3, 0.2, 0.1))
        return p

    def answer(self, p: Params) -> Value:
        """Return the target's score from ``detection_boxes.soft_nms``."""
        _pick_target(p, "linear")
        return _snms(p, "linear")[p["_t"]]

    def prompt(self, p: Params) -> Bilingual:
        """Render the boxes and the rule."""
        nt = num(p["nt"])
        return _snms_prompt(
            p,
            f"线性衰减:IoU $\\ge N_t={nt}$ 时分数乘以 $1-\\text{{IoU}}$,否则不变",
            f"linear decay: multiply by $1-\\text{{IoU}}$ when IoU $\\ge N_t={nt}$, else keep",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the rounds."""
        return _snms_solution(p, "linear", answer)


def _snms_custom(p: Params, f: Callable[[float, float], float]) -> float | None:
    """Soft-NMS with a custom rescoring ``f(iou, score)``, for misconceptions; the target's score."""
    s = list(p["scores"])
    remaining = list(range(4))
    iou = _iou_matrix(tuple(tuple(b) for b in p["boxes"]))
    while remaining:
        m = max(remaining, key=lambda i: (s[i], -i))
        remaining.remove(m)
        for i in remaining:
            s[i] = f(float(iou[m, i]), s[i])
        remaining = [i for i in remaining if s[i] > 0]
    return float(s[p["_t"]])


@register
class DetSoftNmsGaussian(Template):
    """A box's final score under Gaussian Soft-NMS."""

    id = "det.soft_nms_gaussian"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _TOL
    real_format = ".4f"
    title = Bilingual(zh="高斯 Soft-NMS 后的分数", en="Score after Gaussian Soft-NMS")
    misconceptions = (
        mis(
            "iou_not_squared",
            lambda p: _snms_custom(p, lambda o, s: s * math.exp(-o / p["sigma"])),
            "高斯衰减的指数里是 IoU 的平方:$e^{-\\text{IoU}^2/\\sigma}$。",
            "The Gaussian decay squares the IoU: $e^{-\\text{IoU}^2/\\sigma}$.",
        ),
        mis(
            "two_sigma_squared",
            lambda p: _snms_custom(p, lambda o, s: s * math.exp(-(o**2) / (2 * p["sigma"] ** 2))),
            "论文的高斯衰减是 $e^{-\\text{IoU}^2/\\sigma}$,分母就是 $\\sigma$,不是正态密度的 $2\\sigma^2$。",
            "The paper's decay is $e^{-\\text{IoU}^2/\\sigma}$ with $\\sigma$ itself in the "
            "denominator, not the normal density's $2\\sigma^2$.",
            absorbable=True,
        ),
        mis(
            "threshold_gate",
            lambda p: _snms_custom(
                p, lambda o, s: s * math.exp(-(o**2) / p["sigma"]) if o >= 0.3 else s
            ),
            "高斯版本没有阈值 $N_t$:每个剩余框都按 IoU 衰减,IoU 小衰减就小。",
            "The Gaussian version has no threshold $N_t$: every remaining box decays by its IoU, "
            "a little when the IoU is small.",
            absorbable=True,
        ),
        mis(
            "top_box_only",
            lambda p: _first_only(p, "gaussian"),
            "每一轮都要用新选出的框再衰减一次剩余框,不只是分数最高的第一个框。",
            "Every round's selected box decays the remaining ones again, not only the first, "
            "top-scoring box.",
            absorbable=True,
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the boxes, scores and sigma."""
        p = _snms_sample(draw)
        p["sigma"] = draw.pick("sigma", (0.5, 0.5, 0.3, 0.8))
        return p

    def answer(self, p: Params) -> Value:
        """Return the target's score from ``detection_boxes.soft_nms``."""
        _pick_target(p, "gaussian")
        return _snms(p, "gaussian")[p["_t"]]

    def prompt(self, p: Params) -> Bilingual:
        """Render the boxes and the rule."""
        sg = num(p["sigma"])
        return _snms_prompt(
            p,
            f"高斯衰减:分数乘以 $e^{{-\\text{{IoU}}^2/\\sigma}}$,$\\sigma={sg}$",
            f"Gaussian decay: multiply by $e^{{-\\text{{IoU}}^2/\\sigma}}$, $\\sigma={sg}$",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the rounds."""
        return _snms_solution(p, "gaussian", answer)
