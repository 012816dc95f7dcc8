"""Templates on boxes: IoU, GIoU and non-maximum suppression."""

from __future__ import annotations

from compute import boxes
from compute.templates.base import AnswerKind, Bilingual, Draw, Params, Template, Tolerance, Value
from compute.templates.engine import register
from compute.templates.fmt import mis, num

__all__ = ["IouGiou", "IouPair", "NmsKept"]

Box = tuple[int, int, int, int]


def _box(draw: Draw, x0: int, y0: int) -> Box:
    w, h = draw.free(40, 220), draw.free(40, 220)
    return (x0, y0, x0 + w, y0 + h)


def _near(draw: Draw, a: Box) -> Box:
    """Return a box that overlaps ``a``."""
    w, h = draw.free(40, 220), draw.free(40, 220)
    x0 = draw.free(max(0, a[0] - w + 15), a[2] - 15)
    y0 = draw.free(max(0, a[1] - h + 15), a[3] - 15)
    return (x0, y0, x0 + w, y0 + h)


def _area(b: Box) -> int:
    return (b[2] - b[0]) * (b[3] - b[1])


def _parts(a: Box, b: Box) -> tuple[int, int, int, int, int]:
    """Return (intersection, area a, area b, union, hull) for display, by plain arithmetic."""
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    hull = (max(a[2], b[2]) - min(a[0], b[0])) * (max(a[3], b[3]) - min(a[1], b[1]))
    return inter, _area(a), _area(b), _area(a) + _area(b) - inter, hull


def _iou(a: Box, b: Box) -> float:
    return float(boxes.box_iou([a], [b])[0, 0])


def _bt(b: Box) -> str:
    return f"({b[0]}, {b[1]}, {b[2]}, {b[3]})"


_BOX_FMT = (
    "框的格式为 $(x_1, y_1, x_2, y_2)$(左上、右下角,像素坐标,宽 $=x_2-x_1$)。",
    "Boxes are $(x_1, y_1, x_2, y_2)$ (top-left and bottom-right corners in pixels, "
    "width $=x_2-x_1$).",
)


@register
class IouPair(Template):
    """IoU of two axis-aligned boxes."""

    id = "iou.pair"
    version = 1
    kind = AnswerKind.REAL
    ratio = True
    tolerance = Tolerance(abs=1e-3)
    real_format = ".4f"
    title = Bilingual(zh="两个框的 IoU", en="IoU of two boxes")
    misconceptions = (
        mis(
            "over_smaller_box",
            lambda p: p["_i"] / min(p["_a"], p["_b"]),
            "分母应是并集面积,不是较小框的面积(那是 IoMin)。",
            "The denominator is the union, not the smaller box (that would be IoMin).",
        ),
        mis(
            "over_larger_box",
            lambda p: p["_i"] / max(p["_a"], p["_b"]),
            "分母应是并集面积,不是较大框的面积。",
            "The denominator is the union, not the larger box.",
        ),
        mis(
            "union_not_subtracted",
            lambda p: p["_i"] / (p["_a"] + p["_b"]),
            "并集 = A + B − 交集:交集部分被算了两次。",
            "Union = A + B − intersection: you counted the overlap twice.",
        ),
        mis(
            "read_as_xywh",
            lambda p: float(boxes.box_iou([p["a"]], [p["b"]], fmt="xywh")[0, 0]),
            "框的后两个数是右下角坐标 $(x_2, y_2)$,不是宽和高。",
            "The last two numbers are the bottom-right corner $(x_2, y_2)$, not width and height.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw two overlapping boxes."""
        a = _box(draw, draw.free(0, 300), draw.free(0, 300))
        b = _near(draw, a)
        i, aa, ab, _, _ = _parts(a, b)
        return {"a": a, "b": b, "_i": i, "_a": aa, "_b": ab}

    def answer(self, p: Params) -> Value:
        """Return ``boxes.box_iou``."""
        return _iou(p["a"], p["b"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        a, b = _bt(p["a"]), _bt(p["b"])
        return Bilingual(
            zh=f"{_BOX_FMT[0]}框 A $={a}$,框 B $={b}$。它们的 IoU 是多少?(保留 3 位以上小数,"
            "或填百分数)",
            en=f"{_BOX_FMT[1]} Box A $={a}$, box B $={b}$. What is their IoU? (at least 3 "
            "decimals, or a percentage)",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render intersection, union and the ratio."""
        a, b = p["a"], p["b"]
        iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
        ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
        i, aa, ab, u, _ = _parts(a, b)
        f = (
            f"$$w_I=\\min({a[2]},{b[2]})-\\max({a[0]},{b[0]})={iw},\\quad h_I=\\min({a[3]},{b[3]})"
            f"-\\max({a[1]},{b[1]})={ih},\\quad I={iw}\\cdot{ih}={i}$$"
            f"$$|A|={aa},\\ |B|={ab},\\ U=|A|+|B|-I={aa}+{ab}-{i}={u}$$"
            f"$$\\text{{IoU}}=\\frac{{I}}{{U}}=\\frac{{{i}}}{{{u}}}\\approx{answer:.4f}$$"
        )
        return Bilingual(zh=f"交集除以并集:\n{f}", en=f"Intersection over union:\n{f}")


@register
class IouGiou(Template):
    """Generalized IoU of two boxes."""

    id = "iou.giou"
    version = 1
    kind = AnswerKind.REAL
    tolerance = Tolerance(abs=1e-3)
    real_format = ".4f"
    title = Bilingual(zh="GIoU", en="Generalized IoU")
    misconceptions = (
        mis(
            "plain_iou",
            lambda p: p["_i"] / p["_u"],
            "GIoU 还要减去外接框中不属于并集的比例 (C − U)/C。",
            "GIoU also subtracts the share of the enclosing box outside the union, (C − U)/C.",
        ),
        mis(
            "giou_loss",
            lambda p: 1 - p["_g"],
            "这是 GIoU 损失 1 − GIoU,题目问的是 GIoU 本身。",
            "That is the GIoU loss 1 − GIoU; the question asks for GIoU itself.",
        ),
        mis(
            "penalty_over_union",
            lambda p: p["_i"] / p["_u"] - (p["_c"] - p["_u"]) / p["_u"],
            "惩罚项的分母是外接框面积 C,不是并集 U。",
            "The penalty is divided by the enclosing area C, not by the union U.",
        ),
        mis(
            "penalty_with_sum",
            lambda p: (
                p["_i"] / p["_u"] - (p["_c"] - p["_a"] - p["_b"]) / p["_c"] if p["_i"] else None
            ),
            "惩罚项用的是并集 U = A + B − I,不是 A + B。",
            "The penalty uses the union U = A + B − I, not A + B.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw two boxes, overlapping or not."""
        a = _box(draw, draw.free(0, 300), draw.free(0, 300))
        b = (
            _near(draw, a)
            if draw.uniform() < 0.7
            else _box(draw, draw.free(0, 400), draw.free(0, 400))
        )
        i, aa, ab, u, c = _parts(a, b)
        return {"a": a, "b": b, "_i": i, "_a": aa, "_b": ab, "_u": u, "_c": c}

    def answer(self, p: Params) -> Value:
        """Return ``boxes.generalized_box_iou``."""
        value = float(boxes.generalized_box_iou([p["a"]], [p["b"]])[0, 0])
        p["_g"] = value
        return value

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        a, b = _bt(p["a"]), _bt(p["b"])
        return Bilingual(
            zh=f"{_BOX_FMT[0]}框 A $={a}$,框 B $={b}$。它们的 GIoU 是多少?(保留 3 位以上小数)",
            en=f"{_BOX_FMT[1]} Box A $={a}$, box B $={b}$. What is their generalized IoU "
            "(GIoU)? (at least 3 decimals)",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render IoU, the enclosing box and the penalty."""
        i, u, c = p["_i"], p["_u"], p["_c"]
        f = (
            f"$$I={i},\\ U={p['_a']}+{p['_b']}-{i}={u},\\ C={c}$$"
            f"$$\\text{{GIoU}}=\\frac{{I}}{{U}}-\\frac{{C-U}}{{C}}=\\frac{{{i}}}{{{u}}}-"
            f"\\frac{{{c}-{u}}}{{{c}}}\\approx{i / u:.4f}-{(c - u) / c:.4f}={answer:.4f}$$"
        )
        return Bilingual(
            zh=f"$C$ 为同时包住两个框的最小外接框面积:\n{f}",
            en=f"$C$ is the area of the smallest box enclosing both:\n{f}",
        )


def _visible(p: Params, kept: frozenset[int]) -> frozenset[int] | None:
    return None if kept == p["_kept"] else kept


@register
class NmsKept(Template):
    """Boxes kept by greedy non-maximum suppression."""

    id = "nms.kept"
    version = 1
    kind = AnswerKind.SET
    title = Bilingual(zh="NMS 保留的框", en="Boxes kept by NMS")
    #: Scores are distinct two-decimal values in [0.30, 0.99]; up to 4 boxes per object.
    limits = {"objects": (1, 6)}
    misconceptions = (
        mis(
            "comparison_reversed",
            lambda p: NmsKept._reversed(p),
            "IoU 大于阈值的框被抑制,不是被保留。",
            "Boxes with IoU above the threshold are suppressed, not kept.",
        ),
        # The three misconceptions below only show when the boxes form a suppression chain or
        # several clusters; where they would give the right set they are not applicable.
        mis(
            "suppressed_still_suppress",
            lambda p: _visible(
                p,
                frozenset(
                    i
                    for i in range(len(p["scores"]))
                    if not any(
                        p["scores"][j] > p["scores"][i] and p["_iou"][i][j] > p["t"]
                        for j in range(len(p["scores"]))
                    )
                ),
            ),
            "已被抑制的框不再参与抑制其他框:只和保留下来的框比较。",
            "A suppressed box no longer suppresses others: compare only with kept boxes.",
        ),
        mis(
            "index_order",
            lambda p: _visible(
                p,
                frozenset(
                    boxes.nms(p["boxes"], list(range(len(p["scores"]), 0, -1)), p["t"]).tolist()
                ),
            ),
            "要先按分数从高到低排序,再依次处理。",
            "Sort by score, highest first, before the greedy pass.",
        ),
        mis(
            "top_box_only",
            lambda p: _visible(
                p,
                frozenset(
                    i
                    for i in range(len(p["scores"]))
                    if i == p["_top"] or p["_iou"][i][p["_top"]] <= p["t"]
                ),
            ),
            "NMS 要反复进行:每保留一个框,都要用它抑制剩下的框,而不只是用最高分的框。",
            "NMS repeats: every kept box suppresses the remaining ones, not only the top box.",
        ),
    )

    @staticmethod
    def _reversed(p: Params) -> frozenset[int]:
        kept: list[int] = []
        for i in p["_order"]:
            if not kept or all(p["_iou"][i][j] > p["t"] for j in kept):
                kept.append(i)
        return frozenset(kept)

    def sample(self, draw: Draw) -> Params:
        """Draw 2 or 3 objects with 2 or 3 detections each, scores and a threshold."""
        n_obj = draw.pick("objects", (2, 2, 3))
        extra = (1, 2) if n_obj == 2 else (1, 1)
        bxs: list[Box] = []
        for _ in range(n_obj):
            a = _box(draw, draw.free(0, 350), draw.free(0, 350))
            bxs.append(a)
            for _ in range(draw.free(*extra)):
                j = draw.free(-15, 15), draw.free(-15, 15), draw.free(-15, 15), draw.free(-15, 15)
                bxs.append((max(0, a[0] + j[0]), max(0, a[1] + j[1]), a[2] + j[2], a[3] + j[3]))
        perm = sorted(range(len(bxs)), key=lambda _: draw.uniform())
        bxs = [bxs[i] for i in perm]
        scores: list[float] = []
        while len(scores) < len(bxs):
            s = round(0.30 + 0.69 * draw.uniform(), 2)
            if s not in scores:
                scores.append(s)
        t = draw.pick("threshold", (0.3, 0.4, 0.5, 0.6, 0.7))
        iou = boxes.box_iou(bxs, bxs).tolist()
        order = sorted(range(len(bxs)), key=lambda i: -scores[i])
        return {
            "boxes": bxs,
            "scores": scores,
            "t": t,
            "_iou": iou,
            "_order": order,
            "_top": order[0],
        }

    def answer(self, p: Params) -> Value:
        """Return the set of indices ``boxes.nms`` keeps."""
        n = len(p["boxes"])
        if any(abs(p["_iou"][i][j] - p["t"]) < 0.02 for i in range(n) for j in range(i)):
            raise ValueError("an IoU is too close to the threshold to judge by hand")
        kept = frozenset(int(i) for i in boxes.nms(p["boxes"], p["scores"], p["t"]).tolist())
        p["_kept"] = kept
        return kept

    def prompt(self, p: Params) -> Bilingual:
        """Render the detections table."""
        rows = "\n".join(
            f"| {i} | {_bt(b)} | {num(s)} |"
            for i, (b, s) in enumerate(zip(p["boxes"], p["scores"], strict=True))
        )
        t = num(p["t"])
        return Bilingual(
            zh=f"同一类别的检测框如下。{_BOX_FMT[0]}\n\n| 序号 | 框 | 分数 |\n|---|---|---|\n"
            f"{rows}\n\n用 IoU 阈值 {t} 做贪心 NMS(IoU 大于阈值即抑制)。保留哪些框?输入序号"
            "集合,如 {0, 2}。",
            en=f"Detections of one class. {_BOX_FMT[1]}\n\n| index | box | score |\n|---|---|---|"
            f"\n{rows}\n\nRun greedy NMS with IoU threshold {t} (suppress when IoU is above the "
            "threshold). Which boxes are kept? Enter the set of indices, e.g. {0, 2}.",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the greedy pass step by step."""
        t = p["t"]
        iou = p["_iou"]
        kept: list[int] = []
        zh, en = [], []
        for i in p["_order"]:
            over = [j for j in kept if iou[i][j] > t]
            if over:
                j = over[0]
                zh.append(
                    f"- 框 {i}(分数 {num(p['scores'][i])}):与已保留的框 {j} 的 IoU "
                    f"$={iou[i][j]:.3f}>{num(t)}$,抑制。"
                )
                en.append(
                    f"- box {i} (score {num(p['scores'][i])}): IoU with kept box {j} "
                    f"$={iou[i][j]:.3f}>{num(t)}$, suppressed."
                )
            else:
                best = max((iou[i][j] for j in kept), default=0.0)
                kept.append(i)
                zh.append(
                    f"- 框 {i}(分数 {num(p['scores'][i])}):与已保留框的最大 IoU "
                    f"$={best:.3f}\\le{num(t)}$,保留。"
                )
                en.append(
                    f"- box {i} (score {num(p['scores'][i])}): largest IoU with kept boxes "
                    f"$={best:.3f}\\le{num(t)}$, kept."
                )
        result = "{" + ", ".join(str(i) for i in sorted(kept)) + "}"
        return Bilingual(
            zh="按分数从高到低处理,每个框只与已保留的框比较:\n"
            + "\n".join(zh)
            + f"\n\n保留 {result}。",
            en="Process by descending score; compare each box only with the kept ones:\n"
            + "\n".join(en)
            + f"\n\nKept: {result}.",
        )
