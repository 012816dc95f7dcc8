"""Templates on object detection: matching, AP interpolations, mAP, YOLOv1, anchors, SSD, FPN."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache

import numpy as np
import numpy.typing as npt

from compute import boxes, detection
from compute.templates.base import (
    AnswerKind,
    Bilingual,
    Draw,
    Misconception,
    Params,
    Template,
    Tolerance,
    Value,
)
from compute.templates.engine import distinguishable, get_template, register
from compute.templates.fmt import mis, num

__all__ = [
    "DetectionAnchorCount",
    "DetectionAp50VsAp5095",
    "DetectionApCoco101",
    "DetectionApCoco101V2",
    "DetectionApVoc07",
    "DetectionApVocAllPoint",
    "DetectionFpnLevelShape",
    "DetectionMapClasses",
    "DetectionMatchTpFp",
    "DetectionMatchTpFpV2",
    "DetectionSsdDefaultBoxes",
    "DetectionYolov1Output",
]

_TOL = Tolerance(abs=1e-3)
_HINT = ("(保留 3 位以上小数)", "(at least 3 decimals)")

Box = tuple[int, int, int, int]


def _bt(b: Box) -> str:
    return f"({b[0]}, {b[1]}, {b[2]}, {b[3]})"


# --------------------------------------------------------------------------------------------
# Matching detections to ground truth
# --------------------------------------------------------------------------------------------


def _visible(p: Params, tps: frozenset[int]) -> frozenset[int] | None:
    """Return ``tps`` unless it equals the answer (then the mistake does not show here)."""
    return None if tps == p["_tp"] else tps


def _match(p: Params, scores: list[float]) -> frozenset[int]:
    m = detection.match_detections(p["dets"], scores, p["gts"], iou_threshold=p["t"])
    return frozenset(int(i) for i in np.flatnonzero(m.tp))


@register
class DetectionMatchTpFp(Template):
    """Which detections are true positives after greedy IoU matching."""

    id = "detection.match_tp_fp"
    version = 1
    kind = AnswerKind.SET
    title = Bilingual(zh="检测框匹配:哪些是 TP", en="Matching detections: which are true positives")
    misconceptions = (
        mis(
            "duplicates_counted",
            lambda p: _visible(
                p,
                frozenset(i for i, row in enumerate(p["_iou"]) if max(row) >= p["t"]),
            ),
            "每个真实框只能匹配一次:同一目标上分数较低的重复框是 FP。",
            "Each ground-truth box is matched at most once: a lower-scored duplicate on the same "
            "object is a false positive.",
        ),
        mis(
            "index_order",
            lambda p: _visible(p, _match(p, [-float(i) for i in range(len(p["scores"]))])),
            "匹配按分数从高到低进行,不是按编号顺序。",
            "Matching visits detections by descending score, not in index order.",
        ),
        mis(
            "best_iou_per_gt",
            lambda p: _visible(
                p,
                frozenset(
                    int(np.argmax(col))
                    for col in np.asarray(p["_iou"]).T
                    if float(np.max(col)) >= p["t"]
                ),
            ),
            "不是每个真实框挑 IoU 最大的检测框:分数高的检测框先挑,只要 IoU 达到阈值就匹配。",
            "A ground-truth box does not pick its highest-IoU detection: the higher-scored "
            "detection chooses first and matches as soon as its IoU reaches the threshold.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw 2-3 separated objects and 4-5 detections around them, some duplicates."""
        n_gt = draw.pick("objects", (2, 3))
        if not 1 <= n_gt <= 5:
            raise ValueError(f"objects must be from 1 to 5, got {n_gt}")
        gts: list[Box] = []
        for k in range(n_gt):
            x0 = 20 + 160 * k + draw.free(0, 30)
            y0 = draw.free(10, 60)
            gts.append((x0, y0, x0 + draw.free(60, 110), y0 + draw.free(60, 110)))
        # Two well-placed boxes on one object (a duplicate), then 2-3 more boxes, each either
        # well placed (IoU about 0.65 or more) or poorly placed (IoU about 0.45 or less), so
        # that few IoUs fall near the threshold.
        targets = [0, 0] + [draw.index(n_gt) for _ in range(draw.free(2, 3))]
        dets: list[Box] = []
        for j, k in enumerate(targets):
            g = gts[k]
            w, h = g[2] - g[0], g[3] - g[1]
            if j < 2 or draw.uniform() < 0.5:
                dx, dy = draw.free(-w // 10, w // 10), draw.free(-h // 10, h // 10)
            else:
                sign = 1 if draw.uniform() < 0.5 else -1
                dx, dy = sign * (w * draw.free(40, 55) // 100), draw.free(-h // 10, h // 10)
            dets.append((max(0, g[0] + dx), max(0, g[1] + dy), g[2] + dx, g[3] + dy))
        order = sorted(range(len(dets)), key=lambda _: draw.uniform())
        dets = [dets[i] for i in order]
        n_det = len(dets)
        scores: list[float] = []
        while len(scores) < n_det:
            s = round(0.3 + 0.69 * draw.uniform(), 2)
            if s not in scores:
                scores.append(s)
        iou = boxes.box_iou(dets, gts).tolist()
        t = draw.pick("threshold", (0.5, 0.5, 0.6))
        if not 0.1 <= t <= 0.9:
            raise ValueError(f"threshold must be from 0.1 to 0.9, got {t}")
        return {
            "gts": tuple(gts),
            "dets": tuple(dets),
            "scores": tuple(scores),
            "t": t,
            "_iou": iou,
        }

    def answer(self, p: Params) -> Value:
        """Return the indices ``detection.match_detections`` marks as true positives."""
        if any(abs(v - p["t"]) < 0.03 for row in p["_iou"] for v in row):
            raise ValueError("an IoU is too close to the threshold to judge by hand")
        tps = _match(p, list(p["scores"]))
        if not tps:
            raise ValueError("no true positive: nothing to ask")
        p["_tp"] = tps
        return tps

    def prompt(self, p: Params) -> Bilingual:
        """Render the GT and detection tables."""
        g_rows = "\n".join(f"| G{i} | {_bt(b)} |" for i, b in enumerate(p["gts"]))
        d_rows = "\n".join(
            f"| {i} | {_bt(b)} | {num(s)} |"
            for i, (b, s) in enumerate(zip(p["dets"], p["scores"], strict=True))
        )
        t = num(p["t"])
        return Bilingual(
            zh="一张图中同一类别的真实框与检测框如下,框为 $(x_1, y_1, x_2, y_2)$。\n\n"
            f"| 真实框 | 坐标 |\n|---|---|\n{g_rows}\n\n| 检测框 | 坐标 | 分数 |\n|---|---|---|\n"
            f"{d_rows}\n\n按 COCO 的规则匹配(按分数从高到低,IoU $\\ge {t}$,每个真实框只能匹配一次),"
            "哪些检测框是 TP?输入编号集合,如 {0, 2}。",
            en="Ground-truth and detected boxes of one class in one image, as "
            f"$(x_1, y_1, x_2, y_2)$.\n\n| GT | box |\n|---|---|\n{g_rows}\n\n| detection | box "
            f"| score |\n|---|---|---|\n{d_rows}\n\nMatch them the COCO way (by descending score, "
            f"IoU $\\ge {t}$, each GT matched at most once). Which detections are true "
            "positives? Enter the set of indices, e.g. {0, 2}.",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the greedy pass."""
        iou, t = p["_iou"], p["t"]
        order = sorted(range(len(p["scores"])), key=lambda i: -p["scores"][i])
        taken: set[int] = set()
        hits: list[int] = []
        zh, en = [], []
        for i in order:
            free = [g for g in range(len(p["gts"])) if g not in taken and iou[i][g] >= t]
            ious = ", ".join(f"G{g}: {iou[i][g]:.3f}" for g in range(len(p["gts"])))
            if free:
                g = max(free, key=lambda g: iou[i][g])
                taken.add(g)
                hits.append(i)
                zh.append(f"- 检测框 {i}(分数 {num(p['scores'][i])},IoU {ious}):匹配 G{g},TP。")
                en.append(
                    f"- detection {i} (score {num(p['scores'][i])}, IoU {ious}): matches G{g}, TP."
                )
            else:
                zh.append(
                    f"- 检测框 {i}(分数 {num(p['scores'][i])},IoU {ious}):无可匹配的真实框,FP。"
                )
                en.append(
                    f"- detection {i} (score {num(p['scores'][i])}, IoU {ious}): no free GT "
                    "reaches the threshold, FP."
                )
        result = "{" + ", ".join(str(i) for i in sorted(hits)) + "}"
        return Bilingual(
            zh="按分数从高到低,每个检测框在尚未匹配的真实框中取 IoU 最大且达到阈值的一个:\n"
            + "\n".join(zh)
            + f"\n\nTP:{result}。",
            en="By descending score, each detection takes the free GT with the highest IoU "
            "that reaches the threshold:\n" + "\n".join(en) + f"\n\nTrue positives: {result}.",
        )


@register
class DetectionMatchTpFpV2(DetectionMatchTpFp):
    """Version 2: two duplicate pairs placed so that every misconception shows, each differently.

    Version 1 placed its boxes at random: 42% of draws were rejected (the index-order and the
    best-IoU-per-GT mistakes gave the same set, or only one mistake showed), up to 10 draws per
    variant. Here objects A (G0) and B (G1) each get a tight box (corners within 2 px, IoU at
    least 0.87) and a loose one (shifted 12-17% of the width, IoU 0.67 to 0.79), and the
    ranking is arranged so that on A the loose box scores higher and comes first in index order,
    on B the tight box scores higher but the loose box comes first. Then the COCO answer takes
    A-loose and B-tight; ``duplicates_counted`` adds the two other boxes, ``index_order`` takes
    B-loose instead of B-tight, ``best_iou_per_gt`` takes A-tight instead of A-loose: three
    distinct wrong sets on every draw. An optional fifth box is a tight box alone on G2 (a TP
    for every rule) or a poorly placed one (moved down 40-50% of its height, IoU at most 0.44, a
    FP for every rule). No IoU is within 0.06 of the 0.5 or 0.6 threshold. The answer, texts and misconceptions are version
    1's; version 1 stays registered to re-grade the attempts pinned to it.
    """

    version = 2

    def sample(self, draw: Draw) -> Params:
        """Draw 2-3 separated objects, the two duplicate pairs, an optional box, the ranking."""
        n_gt = draw.pick("objects", (2, 3))
        if not 1 <= n_gt <= 5:
            raise ValueError(f"objects must be from 1 to 5, got {n_gt}")
        gts: list[Box] = []
        for k in range(n_gt):
            x0 = 20 + 160 * k + draw.free(0, 30)
            y0 = draw.free(10, 60)
            gts.append((x0, y0, x0 + draw.free(60, 110), y0 + draw.free(60, 110)))
        t = draw.pick("threshold", (0.5, 0.5, 0.6))
        if not 0.1 <= t <= 0.9:
            raise ValueError(f"threshold must be from 0.1 to 0.9, got {t}")

        def shifted(g: Box, dx: int, dy: int) -> Box:
            # Objects start at x >= 20 and y >= 10 and no shift goes below -18: nothing clips.
            return (g[0] + dx, g[1] + dy, g[2] + dx, g[3] + dy)

        def tight(g: Box) -> Box:
            return shifted(g, draw.free(-2, 2), draw.free(-2, 2))

        def loose(g: Box) -> Box:
            sign = 1 if draw.uniform() < 0.5 else -1
            return shifted(g, sign * ((g[2] - g[0]) * draw.free(12, 17) // 100), draw.free(-2, 2))

        a, b = gts[0], gts[min(1, n_gt - 1)]
        # Roles: 0 A-tight, 1 A-loose, 2 B-tight, 3 B-loose, 4 the optional box.
        placed = [tight(a), loose(a), tight(b), loose(b)]
        if draw.free(0, 1):
            if n_gt == 3 and draw.uniform() < 0.5:
                placed.append(tight(gts[2]))
            else:  # moved down 40-50% of its height: no clipping at 0, no neighbour reached
                g = gts[draw.index(n_gt)]
                w, h = g[2] - g[0], g[3] - g[1]
                placed.append(
                    shifted(g, draw.free(-w // 10, w // 10), h * draw.free(40, 50) // 100)
                )
        n_det = len(placed)
        at = sorted(range(n_det), key=lambda _: draw.uniform())  # at[role] = index shown
        scores: list[float] = []
        while len(scores) < n_det:
            s = round(0.3 + 0.69 * draw.uniform(), 2)
            if s not in scores:
                scores.append(s)  # scores[role]
        # A: the loose box first in index order and higher in score; B: the loose box first in
        # index order but lower in score.
        for first, second in ((1, 0), (3, 2)):
            if at[first] > at[second]:
                at[first], at[second] = at[second], at[first]
        if scores[1] < scores[0]:
            scores[0], scores[1] = scores[1], scores[0]
        if scores[2] < scores[3]:
            scores[2], scores[3] = scores[3], scores[2]
        role_at = sorted(range(n_det), key=lambda role: at[role])
        dets = [placed[role] for role in role_at]
        shown = tuple(scores[role] for role in role_at)
        return {
            "gts": tuple(gts),
            "dets": tuple(dets),
            "scores": shown,
            "t": t,
            "_iou": boxes.box_iou(dets, gts).tolist(),
        }


# --------------------------------------------------------------------------------------------
# AP from a ranked list of detections
# --------------------------------------------------------------------------------------------


def _ranked(draw: Draw) -> Params:
    """Draw a ranked list of 5-9 detections (TP/FP) for 3-9 GT objects of one class."""
    n_gt = draw.integer("objects", 3, 9)
    n_det = draw.integer("detections", 5, 9)
    if not (2 <= n_gt <= 50 and 3 <= n_det <= 30):
        raise ValueError("objects must be from 2 to 50 and detections from 3 to 30")
    n_tp = draw.free(2, min(n_gt, n_det - 1))
    slots = sorted(range(n_det), key=lambda _: draw.uniform())[:n_tp]
    flags = tuple("TP" if i in slots else "FP" for i in range(n_det))
    return _ranked_params(n_gt, _descending_scores(draw, n_det), flags)


def _descending_scores(draw: Draw, n_det: int) -> tuple[float, ...]:
    """Draw ``n_det`` distinct scores from about 0.99 down, 0.02 to 0.10 apart."""
    scores: list[float] = []
    s = round(0.9 + 0.09 * draw.uniform(), 2)
    for _ in range(n_det):
        scores.append(s)
        s = round(s - 0.01 * draw.free(2, 10), 2)
    return tuple(scores)


def _ranked_params(n_gt: int, scores: tuple[float, ...], flags: tuple[str, ...]) -> Params:
    """Return the parameters of a ranked list: its curve is computed once, here."""
    r, prec = detection.precision_recall_points(scores, [f == "TP" for f in flags], n_gt)
    # Kept as tuples: every misconception reads the same curve, and params must compare equal.
    return {
        "n_gt": n_gt,
        "scores": scores,
        "flags": flags,
        "_r": tuple(r.tolist()),
        "_p": tuple(prec.tolist()),
    }


def _curve(
    p: Params, n_gt: int | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    if n_gt is None:
        return np.asarray(p["_r"]), np.asarray(p["_p"])
    hits = [f == "TP" for f in p["flags"]]
    return detection.precision_recall_points(p["scores"], hits, n_gt)


def _found(p: Params) -> int:
    return sum(f == "TP" for f in p["flags"])


def _recall_over_found(
    ap: Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64]], float],
) -> Misconception:
    """Return the misconception "recall divides by the TPs found", for the AP rule ``ap``."""
    return mis(
        "recall_over_found",
        lambda p: ap(*_curve(p, _found(p))),
        "召回率的分母是全部真实目标数,不是检测到的 TP 数;漏检的目标也要计入。",
        "Recall divides by all ground-truth objects, not by the true positives found; missed "
        "objects count too.",
        absorbable=True,
    )


def _raw_11pt(p: Params) -> float:
    r, prec = _curve(p)
    total = 0.0
    for k in range(11):
        reached = np.flatnonzero(r >= k / 10 - 1e-12)
        total += float(prec[reached[0]]) if reached.size else 0.0
    return total / 11


def _raw_101pt(p: Params) -> float:
    r, prec = _curve(p)
    idx = np.searchsorted(r, detection.COCO_RECALL_POINTS, side="left")
    return float(np.mean(np.where(idx < r.size, prec[np.minimum(idx, r.size - 1)], 0.0)))


def _step_sum(p: Params) -> float:
    r, prec = _curve(p)
    return float(np.sum(np.diff(np.r_[0.0, r]) * prec))


def _ranked_prompt(p: Params, zh_q: str, en_q: str) -> Bilingual:
    rows = "\n".join(
        f"| {k} | {num(s)} | {f} |"
        for k, (s, f) in enumerate(zip(p["scores"], p["flags"], strict=True), start=1)
    )
    return Bilingual(
        zh=f"某类别在测试集中共有 {p['n_gt']} 个真实目标。检测结果按分数从高到低排列,已标出与真实框匹配"
        f"后的 TP/FP:\n\n| 排名 | 分数 | 结果 |\n|---|---|---|\n{rows}\n\n{zh_q}{_HINT[0]}",
        en=f"A class has {p['n_gt']} ground-truth objects in the test set. Its detections, "
        f"ranked by score, marked TP or FP after matching:\n\n| rank | score | result |\n"
        f"|---|---|---|\n{rows}\n\n{en_q} {_HINT[1]}",
    )


def _curve_table(p: Params) -> tuple[str, str]:
    """Render cumulative TP, precision, recall and the interpolated precision per rank."""
    r, prec = _curve(p)
    env = detection.interpolated_precision(prec)
    tp = 0
    rows = []
    for k, f in enumerate(p["flags"], start=1):
        tp += f == "TP"
        rows.append(
            f"| {k} | {f} | {tp}/{k} = {prec[k - 1]:.4f} | {tp}/{p['n_gt']} = {r[k - 1]:.4f} "
            f"| {env[k - 1]:.4f} |"
        )
    body = "\n".join(rows)
    return (
        f"| 排名 | 结果 | 精度 P | 召回 R | 插值精度 |\n|---|---|---|---|---|\n{body}",
        f"| rank | result | precision | recall | interpolated |\n|---|---|---|---|---|\n{body}",
    )


@register
class DetectionApVoc07(Template):
    """PASCAL VOC2007 11-point interpolated AP."""

    id = "detection.ap_voc07_11pt"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _TOL
    real_format = ".4f"
    title = Bilingual(zh="VOC2007 11 点插值 AP", en="VOC2007 11-point interpolated AP")
    misconceptions = (
        mis(
            "no_interpolation",
            _raw_11pt,
            "每个召回点取的是召回率不低于它的所有位置上的最大精度(插值),不是第一个达到它的位置的精度。",
            "At each recall level take the maximum precision over all ranks whose recall reaches "
            "it (interpolation), not the precision at the first such rank.",
            absorbable=True,
        ),
        mis(
            "allpoint_instead",
            lambda p: detection.ap_voc_allpoint(*_curve(p)),
            "这是 VOC2010 起的全点插值 AP;VOC2007 只在 0, 0.1, …, 1 这 11 个召回点上取值。",
            "That is the all-point AP of VOC2010 and later; VOC2007 samples only the 11 recall "
            "levels 0, 0.1, ..., 1.",
        ),
        mis(
            "divided_by_ten",
            lambda p: detection.ap_voc07_11pt(*_curve(p)) * 11 / 10,
            "0 到 1 每隔 0.1 共有 11 个召回点,要除以 11,不是 10。",
            "0 to 1 in steps of 0.1 is 11 levels: divide by 11, not 10.",
        ),
        _recall_over_found(detection.ap_voc07_11pt),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a ranked TP/FP list."""
        return _ranked(draw)

    def answer(self, p: Params) -> Value:
        """Return ``detection.ap_voc07_11pt``."""
        return detection.ap_voc07_11pt(*_curve(p))

    def prompt(self, p: Params) -> Bilingual:
        """Render the ranked list."""
        return _ranked_prompt(
            p,
            "按 PASCAL VOC2007 的 11 点插值法,该类的 AP 是多少?",
            "What is the class's AP by PASCAL VOC2007's 11-point interpolation?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the curve and the 11 sampled precisions."""
        zh, en = _curve_table(p)
        values = detection.voc07_11pt_precisions(*_curve(p))
        terms = "+".join(f"{v:.4f}" for v in values.tolist())
        f = f"$$\\text{{AP}}_{{11}}=\\frac{{1}}{{11}}\\left({terms}\\right)\\approx{answer:.4f}$$"
        return Bilingual(
            zh=f"{zh}\n\n对 $t=0,0.1,\\dots,1$,取召回率 $\\ge t$ 的位置上的最大精度(没有则为 0),再求平均:\n{f}",
            en=f"{en}\n\nFor $t=0,0.1,\\dots,1$ take the largest precision among ranks with "
            f"recall $\\ge t$ (0 if none), then average:\n{f}",
        )


@register
class DetectionApVocAllPoint(Template):
    """VOC2010+ all-point interpolated AP."""

    id = "detection.ap_voc_allpoint"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _TOL
    real_format = ".4f"
    title = Bilingual(zh="VOC 全点插值 AP", en="VOC all-point interpolated AP")
    misconceptions = (
        mis(
            "eleven_point_instead",
            lambda p: detection.ap_voc07_11pt(*_curve(p)),
            "这是 VOC2007 的 11 点 AP;全点插值对每一段召回率增量都计算面积。",
            "That is VOC2007's 11-point AP; the all-point AP integrates over every recall step.",
        ),
        mis(
            "no_envelope",
            _step_sum,
            "要先把精度替换成它右侧(更高召回率处)的最大值,再按召回率增量求和。",
            "First replace each precision by the maximum at any higher recall, then sum over "
            "the recall steps.",
            absorbable=True,
        ),
        _recall_over_found(detection.ap_voc_allpoint),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a ranked TP/FP list."""
        return _ranked(draw)

    def answer(self, p: Params) -> Value:
        """Return ``detection.ap_voc_allpoint``."""
        return detection.ap_voc_allpoint(*_curve(p))

    def prompt(self, p: Params) -> Bilingual:
        """Render the ranked list."""
        return _ranked_prompt(
            p,
            "按 VOC2010 起使用的全点插值法 (all-point),该类的 AP 是多少?",
            "What is the class's AP by the all-point interpolation used since VOC2010?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the curve and the sum over recall steps."""
        zh, en = _curve_table(p)
        r, prec = _curve(p)
        env = detection.interpolated_precision(prec)
        prev = 0.0
        terms = []
        for rk, pk in zip(r.tolist(), env.tolist(), strict=True):
            if rk > prev:
                terms.append(f"({rk:.4f}-{prev:.4f})\\cdot{pk:.4f}")
                prev = rk
        f = "$$\\text{AP}=" + "+".join(terms) + f"\\approx{answer:.4f}$$"
        return Bilingual(
            zh=f"{zh}\n\n每当召回率增加,用该处的插值精度乘以召回率的增量,再求和:\n{f}",
            en=f"{en}\n\nAt every increase of recall, multiply the step by the interpolated "
            f"precision there, and add up:\n{f}",
        )


@register
class DetectionApCoco101(Template):
    """COCO's 101-point interpolated AP at one IoU threshold."""

    id = "detection.ap_coco_101pt"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _TOL
    real_format = ".4f"
    title = Bilingual(zh="COCO 101 点插值 AP", en="COCO 101-point interpolated AP")
    misconceptions = (
        mis(
            "allpoint_instead",
            lambda p: detection.ap_voc_allpoint(*_curve(p)),
            "这是 VOC 的全点插值;COCO 在 101 个召回点 0, 0.01, …, 1 上取插值精度再平均。",
            "That is VOC's all-point AP; COCO averages the interpolated precision at the 101 "
            "recall points 0, 0.01, ..., 1.",
        ),
        mis(
            "eleven_point_instead",
            lambda p: detection.ap_voc07_11pt(*_curve(p)),
            "这是 VOC2007 的 11 点 AP;COCO 用 101 个召回点。",
            "That is VOC2007's 11-point AP; COCO uses 101 recall points.",
        ),
        mis(
            "divided_by_100",
            lambda p: detection.ap_coco_101pt(*_curve(p)) * 101 / 100,
            "0 到 1 每隔 0.01 共 101 个点(含 0),要除以 101。",
            "0 to 1 in steps of 0.01 is 101 points (0 included): divide by 101.",
        ),
        mis(
            "no_envelope",
            _raw_101pt,
            "每个召回点取的是插值精度(更高召回率处的最大精度),不是第一个达到该召回率的位置的原始精度。",
            "At each recall point take the interpolated precision (the maximum at any higher "
            "recall), not the raw precision at the first rank reaching it.",
            absorbable=True,
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a ranked TP/FP list (at most 9 GT, so no recall lands on a float-fuzzy point)."""
        return _ranked(draw)

    def answer(self, p: Params) -> Value:
        """Return ``detection.ap_coco_101pt``."""
        return detection.ap_coco_101pt(*_curve(p))

    def prompt(self, p: Params) -> Bilingual:
        """Render the ranked list."""
        return _ranked_prompt(
            p,
            "按 COCO 的 101 点插值法(召回点 $0, 0.01, \\dots, 1$),该类在这个 IoU 阈值下的 AP 是多少?",
            "What is the class's AP at this IoU threshold by COCO's 101-point interpolation "
            "(recall points $0, 0.01, \\dots, 1$)?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render how many recall points each interpolated precision covers."""
        zh, en = _curve_table(p)
        r, prec = _curve(p)
        env = detection.interpolated_precision(prec)
        idx = np.searchsorted(r, detection.COCO_RECALL_POINTS, side="left")
        covered = [int(np.count_nonzero(idx == k)) for k in range(r.size)]
        terms = [f"{c}\\cdot{env[k]:.4f}" for k, c in enumerate(covered) if c]
        zero = int(np.count_nonzero(idx >= r.size))
        f = (
            "$$\\text{AP}=\\frac{1}{101}\\left("
            + "+".join(terms)
            + f"+{zero}\\cdot 0\\right)\\approx{answer:.4f}$$"
        )
        return Bilingual(
            zh=f"{zh}\n\n每个召回点 $r$ 取第一个召回率 $\\ge r$ 的位置上的插值精度;超过最大召回率的 {zero} "
            f"个点记 0。按位置统计覆盖的点数:\n{f}",
            en=f"{en}\n\nEach recall point $r$ takes the interpolated precision at the first rank "
            f"whose recall is $\\ge r$; the {zero} points beyond the largest recall count 0. "
            f"Counting the points each rank covers:\n{f}",
        )


#: Version 2 of the COCO AP template asks about 4, 5 or 6 objects and 5 to 9 detections.
_COCO_V2_OBJECTS = (4, 5, 6)
_COCO_V2_DETECTIONS = (5, 9)


@cache
def _coco_v2_lists() -> dict[tuple[int, int], tuple[tuple[str, ...], ...]]:
    """Return, per (objects, detections), every TP/FP list version 2 of the COCO template asks.

    The candidates are the lists that start with a TP and hold 2 to ``min(objects, detections
    - 1)`` TPs (at least one FP); kept are those the engine accepts as a variant
    (:func:`~compute.templates.engine.distinguishable`: the all-point, 11-point and /100 values
    lie outside three tolerance widths of the answer and of each other). Which values the
    misconceptions take depends on the order of TPs and FPs only, not on the scores, so a list
    kept here is accepted whatever scores are drawn for it. Built on first use (about 0.1 s).
    """
    template = get_template(DetectionApCoco101.id, 2)
    lists: dict[tuple[int, int], tuple[tuple[str, ...], ...]] = {}
    low, high = _COCO_V2_DETECTIONS
    for n_gt in _COCO_V2_OBJECTS:
        for n_det in range(low, high + 1):
            scores = tuple(round(0.9 - 0.05 * k, 2) for k in range(n_det))
            kept = []
            for rest in range(1 << (n_det - 1)):
                flags = ("TP", *("TP" if rest >> k & 1 else "FP" for k in range(n_det - 1)))
                if 2 <= flags.count("TP") <= min(n_gt, n_det - 1) and distinguishable(
                    template, _ranked_params(n_gt, scores, flags)
                ):
                    kept.append(flags)
            lists[n_gt, n_det] = tuple(kept)
    return lists


@register
class DetectionApCoco101V2(DetectionApCoco101):
    """Version 2: the TP/FP list is drawn among those whose misconceptions are distinguishable.

    With version 1's random lists, the COCO AP usually lies within the tolerance of the
    all-point AP (76% of draws are rejected, a median of 5 draws per variant, 19 at the 95th
    percentile, each repeated when a worker re-grades). For an object count whose recall steps
    fall on the 0.01 grid, the 101-point sum is ``(e_1 + 100 * AP_allpoint) / 101`` (``e_1``
    the interpolated precision of the first rank), so the two differ by ``(e_1 -
    AP_allpoint) / 101``: visible only when the top detection is a TP and the AP is moderate.
    Here the list is drawn uniformly among the admissible ones (:func:`_coco_v2_lists`), so the
    first draw of every seed is the variant. The answer, texts and misconceptions are version
    1's; version 1 stays registered to re-grade the attempts pinned to it. A constraint outside
    the table's objects and detections falls back to version 1's random list (and its redraws).
    """

    version = 2

    def sample(self, draw: Draw) -> Params:
        """Draw the object and detection counts, then one admissible TP/FP list and scores."""
        n_gt = draw.pick("objects", _COCO_V2_OBJECTS)
        n_det = draw.integer("detections", *_COCO_V2_DETECTIONS)
        if not (2 <= n_gt <= 50 and 3 <= n_det <= 30):
            raise ValueError("objects must be from 2 to 50 and detections from 3 to 30")
        lists = _coco_v2_lists().get((n_gt, n_det))
        if lists:
            flags = lists[draw.index(len(lists))]
        else:
            n_tp = draw.free(2, min(n_gt, n_det - 1))
            slots = sorted(range(n_det), key=lambda _: draw.uniform())[:n_tp]
            flags = tuple("TP" if i in slots else "FP" for i in range(n_det))
        return _ranked_params(n_gt, _descending_scores(draw, n_det), flags)


@lru_cache(maxsize=512)
def _ap_of_hits(hits: tuple[bool, ...]) -> float:
    """Return the all-point AP of detections ranked as listed, one per object (memoized)."""
    scores = -np.arange(len(hits), dtype=np.float64)  # listed best first
    return detection.ap_voc_allpoint(*detection.precision_recall_points(scores, hits, len(hits)))


#: COCO's ten IoU thresholds as the decimals a learner reads.
_THRESHOLDS = tuple(round(float(t), 2) for t in detection.COCO_IOU_THRESHOLDS)


@register
class DetectionAp50VsAp5095(Template):
    """AP@[.5:.95] against AP50 for a detector whose boxes are all found but imprecise."""

    id = "detection.ap50_vs_ap5095"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _TOL
    real_format = ".4f"
    title = Bilingual(zh="AP50 与 AP@[.5:.95]", en="AP50 versus AP@[.5:.95]")
    misconceptions = (
        mis(
            "ap50_only",
            lambda p: DetectionAp50VsAp5095._ap(p, (0.5,)),
            "这是 IoU 阈值 0.5 时的 AP50;AP@[.5:.95] 要对 0.50, 0.55, …, 0.95 十个阈值的 AP 求平均。",
            "That is AP50 at IoU threshold 0.5; AP@[.5:.95] averages the AP over the ten "
            "thresholds 0.50, 0.55, ..., 0.95.",
        ),
        mis(
            "strict_threshold",
            lambda p: (
                DetectionAp50VsAp5095._ap(p, _THRESHOLDS, strict=True)
                if set(p["ious"]) & {round(0.5 + 0.05 * k, 2) for k in range(10)}
                else None
            ),
            "COCO 中 IoU 恰好等于阈值也算匹配 (IoU ≥ t)。",
            "In COCO an IoU exactly at the threshold matches (IoU ≥ t).",
        ),
        mis(
            "five_thresholds",
            lambda p: DetectionAp50VsAp5095._ap(p, (0.5, 0.6, 0.7, 0.8, 0.9)),
            "阈值步长是 0.05,共 10 个 (0.50 到 0.95),不是以 0.1 为步长的 5 个。",
            "The thresholds step by 0.05, ten of them (0.50 to 0.95), not five in steps of 0.1.",
        ),
        mis(
            "ap50_ap75_mean",
            lambda p: DetectionAp50VsAp5095._ap(p, (0.5, 0.75)),
            "AP@[.5:.95] 不是 AP50 与 AP75 的平均,而是 10 个阈值的平均。",
            "AP@[.5:.95] is not the mean of AP50 and AP75 but of all ten thresholds.",
        ),
    )

    @staticmethod
    def _ap(p: Params, thresholds: tuple[float, ...], *, strict: bool = False) -> float:
        """Mean over ``thresholds`` of the all-point AP when a box matches iff IoU >= t."""
        if not strict and "_ap_t" in p:
            return float(np.mean([p["_ap_t"][t] for t in thresholds]))
        # The thresholds are the decimals 0.50, ..., 0.95; the slack keeps an IoU of 0.9 from
        # missing numpy's 0.8999999999999999 either way.
        return float(
            np.mean(
                [
                    _ap_of_hits(
                        tuple(v > t + 1e-12 if strict else v >= t - 1e-12 for v in p["ious"])
                    )
                    for t in thresholds
                ]
            )
        )

    def sample(self, draw: Draw) -> Params:
        """Draw 3-5 IoUs (two decimals), sorted high to low."""
        n = draw.integer("objects", 3, 5)
        if not 1 <= n <= 10:
            raise ValueError(f"objects must be from 1 to 10, got {n}")
        ious = sorted((round(0.4 + 0.01 * draw.free(0, 58), 2) for _ in range(n)), reverse=True)
        if draw.uniform() < 0.5:
            ious[draw.index(n)] = round(0.5 + 0.05 * draw.free(1, 8), 2)  # on a threshold
            ious.sort(reverse=True)
        return {"ious": tuple(ious)}

    def answer(self, p: Params) -> Value:
        """Return the mean of the all-point AP over ``detection.COCO_IOU_THRESHOLDS``."""
        per = {t: self._ap(p, (t,)) for t in _THRESHOLDS}
        p["_ap_t"] = per  # the misconceptions average subsets of these
        return float(np.mean(list(per.values())))

    def prompt(self, p: Params) -> Bilingual:
        """Render the IoUs."""
        n = len(p["ious"])
        ious = ", ".join(num(v) for v in p["ious"])
        return Bilingual(
            zh=f"一张图里有 {n} 个同类目标。检测器为每个目标恰好输出一个框,没有其他误检;这些框与各自目标的 "
            f"IoU 为 {ious},且 IoU 越高的框分数越高。每个阈值 $t$ 下 IoU $\\ge t$ 算 TP,否则算 FP,"
            f"AP 用全点插值。求 AP@[.5:.95](COCO 的 10 个阈值 0.50, 0.55, …, 0.95)。{_HINT[0]}",
            en=f"An image holds {n} objects of one class. The detector outputs exactly one box per "
            f"object and nothing else; their IoUs with their objects are {ious}, and a higher IoU "
            "comes with a higher score. At each threshold $t$ a box with IoU $\\ge t$ is a TP, "
            "otherwise an FP; AP uses all-point interpolation. What is AP@[.5:.95] (COCO's ten "
            f"thresholds 0.50, 0.55, ..., 0.95)? {_HINT[1]}",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the AP at each threshold."""
        n = len(p["ious"])
        rows = []
        total = 0
        for t in _THRESHOLDS:
            k = sum(v >= t - 1e-12 for v in p["ious"])
            total += k
            rows.append(f"| {t:.2f} | {k} | {k}/{n} |")
        body = "\n".join(rows)
        f = f"$$\\text{{AP@[.5:.95]}}=\\frac{{{total}}}{{10\\cdot{n}}}\\approx{answer:.4f}$$"
        return Bilingual(
            zh="IoU 高的框排在前面,所以阈值 $t$ 下前 $k$ 个框是 TP、其余是 FP,全点插值 AP $=k/n$:\n\n"
            f"| 阈值 | TP 数 k | AP |\n|---|---|---|\n{body}\n\n取 10 个阈值的平均:\n{f}",
            en="Boxes with higher IoU rank first, so at threshold $t$ the first $k$ are TPs and "
            "the rest FPs, giving an all-point AP of $k/n$:\n\n"
            f"| threshold | TPs k | AP |\n|---|---|---|\n{body}\n\nAverage over the ten "
            f"thresholds:\n{f}",
        )


@register
class DetectionMapClasses(Template):
    """COCO-style mAP over classes from a per-class table."""

    id = "detection.map_classes"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _TOL
    real_format = ".4f"
    title = Bilingual(zh="多类别的 mAP", en="mAP over classes")
    misconceptions = (
        mis(
            "used_ap50_column",
            lambda p: detection.mean_ap([np.nan if a is None else a for a in p["ap50"]]),
            "COCO 的主指标 AP 指 AP@[.5:.95];你用了 AP50 这一列。",
            "COCO's headline AP is AP@[.5:.95]; you used the AP50 column.",
        ),
        mis(
            "weighted_by_instances",
            lambda p: (
                sum(g * a for g, a in zip(p["gts"], p["ap"], strict=True) if a is not None)
                / sum(p["gts"])
            ),
            "mAP 对各类别等权平均,不按目标个数加权。",
            "mAP weighs every class equally, not by its number of instances.",
        ),
        mis(
            "absent_class_as_zero",
            lambda p: (
                sum(a for a in p["ap"] if a is not None) / len(p["ap"]) if None in p["ap"] else None
            ),
            "测试集中没有真实目标的类别,AP 无定义,不参与平均(不是记 0)。",
            "A class with no ground truth in the test set has no AP and is left out of the mean, "
            "not counted as 0.",
        ),
    )

    _NAMES = ("person", "car", "dog", "bicycle", "bird")
    _NAMES_ZH = ("人", "汽车", "狗", "自行车", "鸟")

    def sample(self, draw: Draw) -> Params:
        """Draw 4-5 classes with instance counts, AP50 and AP; sometimes one class is absent."""
        k = draw.integer("classes", 4, 5)
        if not 2 <= k <= len(self._NAMES):
            raise ValueError(f"classes must be from 2 to {len(self._NAMES)}, got {k}")
        gts: list[int] = []
        ap50: list[float | None] = []
        ap: list[float | None] = []
        for _ in range(k):
            a50 = round(0.3 + 0.01 * draw.free(0, 65), 2)
            gts.append(draw.free(5, 400))
            ap50.append(a50)
            ap.append(round(a50 * (0.45 + 0.01 * draw.free(0, 25)), 2))
        if draw.uniform() < 0.5:
            j = draw.index(k)
            gts[j], ap50[j], ap[j] = 0, None, None
        return {"gts": tuple(gts), "ap50": tuple(ap50), "ap": tuple(ap)}

    def answer(self, p: Params) -> Value:
        """Return ``detection.mean_ap`` of the AP column (absent classes as NaN)."""
        return detection.mean_ap([np.nan if a is None else a for a in p["ap"]])

    def _rows(self, p: Params, names: tuple[str, ...]) -> str:
        rows = []
        for i, (g, a50, a) in enumerate(zip(p["gts"], p["ap50"], p["ap"], strict=True)):
            shown = ("—", "—") if a is None else (num(a50), num(a))
            rows.append(f"| {names[i]} | {g} | {shown[0]} | {shown[1]} |")
        return "\n".join(rows)

    def prompt(self, p: Params) -> Bilingual:
        """Render the per-class table."""
        return Bilingual(
            zh="一个检测器在测试集上的逐类结果(“—”表示该类在测试集中没有真实目标):\n\n"
            "| 类别 | 真实目标数 | AP50 | AP@[.5:.95] |\n|---|---|---|---|\n"
            f"{self._rows(p, self._NAMES_ZH)}\n\n按 COCO 的约定,它的 mAP(即主指标 AP)是多少?{_HINT[0]}",
            en="A detector's per-class results on a test set ('—' marks a class without ground "
            "truth in the test set):\n\n| class | GT objects | AP50 | AP@[.5:.95] |\n"
            f"|---|---|---|---|\n{self._rows(p, self._NAMES)}\n\nWhat is its mAP (COCO's "
            f"headline AP)? {_HINT[1]}",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the unweighted mean."""
        vals = [a for a in p["ap"] if a is not None]
        f = (
            f"$$\\text{{mAP}}=\\frac{{{'+'.join(num(a) for a in vals)}}}{{{len(vals)}}}"
            f"\\approx{answer:.4f}$$"
        )
        return Bilingual(
            zh="COCO 的 AP 已对 10 个 IoU 阈值取平均,mAP 再对有真实目标的类别等权平均:\n" + f,
            en="COCO's AP already averages ten IoU thresholds; mAP then averages it over the "
            "classes that have ground truth, each class weighing the same:\n" + f,
        )


# --------------------------------------------------------------------------------------------
# Heads: YOLOv1, anchors, SSD default boxes, FPN levels
# --------------------------------------------------------------------------------------------


@register
class DetectionYolov1Output(Template):
    """YOLOv1's output tensor shape."""

    id = "detection.yolov1_output"
    version = 1
    kind = AnswerKind.TUPLE
    title = Bilingual(zh="YOLOv1 的输出张量", en="YOLOv1 output tensor")
    misconceptions = (
        mis(
            "classes_per_box",
            lambda p: (p["S"], p["S"], p["B"] * (5 + p["C"])),
            "YOLOv1 每个格子只预测一组类别概率,由 B 个框共享;每个框各带类别是 YOLOv2 起的做法。",
            "YOLOv1 predicts one set of class probabilities per cell, shared by its B boxes; "
            "per-box classes came with YOLOv2.",
            absorbable=True,
        ),
        mis(
            "forgot_confidence",
            lambda p: (p["S"], p["S"], p["B"] * 4 + p["C"]),
            "每个框有 5 个数:x, y, w, h 和置信度。",
            "Each box has 5 numbers: x, y, w, h and a confidence.",
        ),
        mis(
            "background_class",
            lambda p: (p["S"], p["S"], p["B"] * 5 + p["C"] + 1),
            "YOLOv1 没有背景类:“有没有目标”由置信度表示。",
            "YOLOv1 has no background class: the confidence says whether a box holds an object.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw S, B and C."""
        return {
            "S": draw.pick("S", (7, 7, 9, 13, 14)),
            "B": draw.pick("B", (1, 2, 2, 3)),
            "C": draw.pick("C", (20, 20, 80, 10, 3)),
        }

    def answer(self, p: Params) -> Value:
        """Return ``detection.yolov1_output_shape``."""
        return detection.yolov1_output_shape(p["S"], p["B"], p["C"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the configuration."""
        s, b, c = p["S"], p["B"], p["C"]
        return Bilingual(
            zh=f"YOLOv1 把图像划分为 ${s}\\times{s}$ 的网格,每个格子预测 {b} 个框,数据集有 {c} 个类别。"
            "输出张量的形状是多少?按 $(S, S, \\text{通道数})$ 输入。",
            en=f"YOLOv1 divides the image into an ${s}\\times{s}$ grid; each cell predicts {b} "
            f"boxes, and there are {c} classes. What is the shape of the output tensor? Enter "
            "$(S, S, \\text{depth})$.",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render S x S x (B*5 + C)."""
        s, b, c = p["S"], p["B"], p["C"]
        assert isinstance(answer, tuple)
        f = f"$$S\\times S\\times(B\\cdot5+C)={s}\\times{s}\\times({b}\\cdot5+{c})=" + (
            f"{answer[0]}\\times{answer[1]}\\times{answer[2]}$$"
        )
        return Bilingual(
            zh=f"每个框 5 个数 $(x, y, w, h, \\text{{conf}})$,每个格子再加一组 $C$ 个类别概率:\n{f}"
            f"\n\n即 {answer},共 {s * s * answer[2]} 个输出。",
            en=f"Each box has 5 numbers $(x, y, w, h, \\text{{conf}})$ and each cell adds one set of "
            f"$C$ class probabilities:\n{f}\n\nThat is {answer}, {s * s * answer[2]} outputs.",
        )


@register
class DetectionAnchorCount(Template):
    """Anchors over the FPN levels of an anchor-based detector."""

    id = "detection.anchor_count"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="FPN 多层的锚框总数", en="Anchors over FPN levels")
    misconceptions = (
        mis(
            "floor_sizes",
            lambda p: (
                sum((p["h"] // s) * (p["w"] // s) for s in p["strides"]) * p["scales"] * p["ratios"]
            ),
            "尺寸不能整除步长时,torchvision 的 ResNet 每次下采样都向上取整:特征图边长是 ⌈H/s⌉。",
            "When a side is not a multiple of the stride, torchvision's ResNet rounds up at every "
            "downsampling: the map side is ⌈H/s⌉.",
            absorbable=True,
        ),
        mis(
            "one_per_location",
            lambda p: detection.anchor_count(
                detection.fpn_level_sizes((p["h"], p["w"]), p["strides"]), 1
            ),
            "每个位置有 尺度数 × 长宽比数 个锚框,不是 1 个。",
            "Each location holds (number of scales) × (number of ratios) anchors, not one.",
        ),
        mis(
            "scales_plus_ratios",
            lambda p: detection.anchor_count(
                detection.fpn_level_sizes((p["h"], p["w"]), p["strides"]), p["scales"] + p["ratios"]
            ),
            "尺度与长宽比两两组合,每个位置是乘积个锚框,不是相加。",
            "Every scale is combined with every ratio: the product per location, not the sum.",
        ),
        mis(
            "finest_level_only",
            lambda p: detection.anchor_count(
                detection.fpn_level_sizes((p["h"], p["w"]), p["strides"][:1]),
                p["scales"] * p["ratios"],
            ),
            "锚框分布在所有 FPN 层上,要把每一层的数量加起来。",
            "Anchors sit on every FPN level: add up the counts of all levels.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the head (levels, scales, ratios) and an input size, often not a multiple of 32."""
        head = draw.pick("head", ("retinanet", "faster_rcnn"))
        strides = (8, 16, 32, 64, 128) if head == "retinanet" else (4, 8, 16, 32, 64)
        scales = draw.pick("scales", (3, 3, 2)) if head == "retinanet" else 1
        side = draw.pick("side", (32, 1, 1))
        h = draw.integer("h", 8, 40) * side if side == 32 else draw.integer("h", 200, 900)
        w = draw.integer("w", 8, 40) * side if side == 32 else draw.integer("w", 200, 900)
        return {"h": h, "w": w, "strides": strides, "scales": scales, "ratios": 3, "_head": head}

    def answer(self, p: Params) -> Value:
        """Return ``detection.anchor_count`` over ``detection.fpn_level_sizes``."""
        sizes = detection.fpn_level_sizes((p["h"], p["w"]), p["strides"])
        return detection.anchor_count(sizes, p["scales"] * p["ratios"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the head and the input."""
        levels = "P3–P7" if p["_head"] == "retinanet" else "P2–P6"
        strides = ", ".join(map(str, p["strides"]))
        return Bilingual(
            zh=f"一个基于 ResNet-FPN 的检测器在 {levels} 上放置锚框,各层步长为 {strides}。每个位置有 "
            f"{p['scales']} 种尺度 × {p['ratios']} 种长宽比的锚框。输入图像为 ${p['h']}\\times{p['w']}$"
            "(不缩放、不填充;下采样时边长向上取整)。一张图共有多少个锚框?",
            en=f"A ResNet-FPN detector places anchors on {levels} with strides {strides}. Each "
            f"location has {p['scales']} scales × {p['ratios']} aspect ratios. The input is "
            f"${p['h']}\\times{p['w']}$ (no resizing or padding; each downsampling rounds up). "
            "How many anchors does one image get?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render each level's map size and count."""
        sizes = detection.fpn_level_sizes((p["h"], p["w"]), p["strides"])
        a = p["scales"] * p["ratios"]
        terms = "+".join(f"{hh}\\cdot{ww}" for hh, ww in sizes)
        cells = sum(hh * ww for hh, ww in sizes)
        maps = ", ".join(f"{hh}\\times{ww}" for hh, ww in sizes)
        f = f"$$({terms})\\times{a}={cells}\\times{a}={answer}$$"
        return Bilingual(
            zh=f"每层特征图为 $\\lceil H/s\\rceil\\times\\lceil W/s\\rceil$:${maps}$。"
            f"每个位置 ${p['scales']}\\times{p['ratios']}={a}$ 个锚框:\n{f}",
            en=f"Each level's map is $\\lceil H/s\\rceil\\times\\lceil W/s\\rceil$: ${maps}$. "
            f"Each location has ${p['scales']}\\times{p['ratios']}={a}$ anchors:\n{f}",
        )


@register
class DetectionSsdDefaultBoxes(Template):
    """SSD's number of default boxes."""

    id = "detection.ssd_default_boxes"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="SSD 默认框总数", en="SSD default boxes")
    misconceptions = (
        mis(
            "one_square_only",
            lambda p: sum(f * f * (1 + 2 * k) for f, k in zip(p["maps"], p["ratios"], strict=True)),
            "SSD 每个位置有两个正方形框(尺度 $s_k$ 和 $\\sqrt{s_k s_{k+1}}$),不是一个。",
            "SSD puts two squares at each location (scales $s_k$ and $\\sqrt{s_k s_{k+1}}$), "
            "not one.",
        ),
        mis(
            "no_reciprocal",
            lambda p: sum(f * f * (2 + k) for f, k in zip(p["maps"], p["ratios"], strict=True)),
            "每个长宽比 $r$ 同时产生 $r$ 和 $1/r$ 两个框。",
            "Each aspect ratio $r$ gives two boxes, $r$ and $1/r$.",
        ),
        mis(
            "side_not_squared",
            lambda p: sum(f * (2 + 2 * k) for f, k in zip(p["maps"], p["ratios"], strict=True)),
            "一层特征图有 $f\\times f$ 个位置,边长要平方。",
            "A level has $f\\times f$ locations: square the side.",
        ),
        mis(
            "six_everywhere",
            lambda p: sum(f * f * 6 for f in p["maps"]),
            "各层的框数不同:只有 {2, 3} 两种长宽比的层每个位置 6 个框,只有 {2} 的层 4 个。",
            "Levels differ: 6 boxes per location only where the ratios are {2, 3}, 4 where only "
            "{2}.",
            absorbable=True,
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw an SSD300- or SSD512-like pyramid and the ratio sets of each level."""
        maps = draw.pick(
            "maps", ((38, 19, 10, 5, 3, 1), (64, 32, 16, 8, 4, 2, 1), (40, 20, 10, 5, 3, 1))
        )
        if not 1 <= len(maps) <= 10 or not all(1 <= f <= 100 for f in maps):
            raise ValueError("maps must list 1 to 10 feature-map sides from 1 to 100")
        if maps == (38, 19, 10, 5, 3, 1) and draw.uniform() < 0.4:
            ratios: tuple[int, ...] = (1, 2, 2, 2, 1, 1)  # SSD300's own: 8,732 boxes
        else:
            ratios = tuple(draw.free(1, 2) for _ in maps)
        return {"maps": maps, "ratios": ratios}

    def answer(self, p: Params) -> Value:
        """Return ``detection.ssd_default_box_count``."""
        sets = [(2,) if k == 1 else (2, 3) for k in p["ratios"]]
        return detection.ssd_default_box_count(p["maps"], sets)

    def prompt(self, p: Params) -> Bilingual:
        """Render the levels."""
        rows = "\n".join(
            f"| {i + 1} | {f}×{f} | {'{2, 1/2}' if k == 1 else '{2, 1/2, 3, 1/3}'} |"
            for i, (f, k) in enumerate(zip(p["maps"], p["ratios"], strict=True))
        )
        return Bilingual(
            zh="一个 SSD 检测器在以下特征图上放置默认框。每个位置有两个正方形框(尺度 $s_k$ 与 "
            "$\\sqrt{s_k s_{k+1}}$),外加表中每个长宽比各一个框:\n\n"
            f"| 层 | 特征图 | 额外长宽比 |\n|---|---|---|\n{rows}\n\n一张图共有多少个默认框?",
            en="An SSD detector places default boxes on these feature maps. Each location has "
            "two squares (scales $s_k$ and $\\sqrt{s_k s_{k+1}}$) plus one box per extra aspect "
            f"ratio listed:\n\n| level | feature map | extra ratios |\n|---|---|---|\n{rows}\n\n"
            "How many default boxes does one image get?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render per-level counts."""
        terms = "+".join(
            f"{f}^2\\cdot{2 + 2 * k}" for f, k in zip(p["maps"], p["ratios"], strict=True)
        )
        f = f"$${terms}={answer}$$"
        return Bilingual(
            zh=f"每个位置 $2+2\\cdot(\\text{{长宽比对数}})$ 个框(每对是 $r$ 和 $1/r$),即 4 或 6 个;"
            f"逐层相加:\n{f}",
            en="Each location has $2+2\\cdot(\\text{ratio pairs})$ boxes (each pair is $r$ and "
            f"$1/r$), so 4 or 6; add up the levels:\n{f}",
        )


@register
class DetectionFpnLevelShape(Template):
    """Shape of one FPN output level on an odd-sized input."""

    id = "detection.fpn_level_shape"
    version = 1
    kind = AnswerKind.TUPLE
    title = Bilingual(zh="FPN 某一层的输出形状", en="Shape of an FPN level")
    _C = {2: 256, 3: 512, 4: 1024, 5: 2048}
    misconceptions = (
        mis(
            "floor_rounding",
            lambda p: (256, p["h"] // 2 ** p["k"], p["w"] // 2 ** p["k"]),
            "torchvision 的 ResNet 每个步长 2 的层输出 ⌊(n−1)/2⌋+1 = ⌈n/2⌉,所以是向上取整。",
            "Each stride-2 layer of torchvision's ResNet outputs ⌊(n−1)/2⌋+1 = ⌈n/2⌉: round up.",
            absorbable=True,
        ),
        mis(
            "previous_level_stride",
            lambda p: (256, -(-p["h"] // 2 ** (p["k"] - 1)), -(-p["w"] // 2 ** (p["k"] - 1))),
            "$P_k$ 的步长是 $2^k$(P2 为 4,P5 为 32),不是 $2^{k-1}$。",
            "$P_k$ has stride $2^k$ (P2: 4, P5: 32), not $2^{k-1}$.",
        ),
        mis(
            "backbone_channels",
            lambda p: (
                (
                    DetectionFpnLevelShape._C[p["k"]],
                    -(-p["h"] // 2 ** p["k"]),
                    -(-p["w"] // 2 ** p["k"]),
                )
                if p["k"] in DetectionFpnLevelShape._C
                else None
            ),
            "FPN 的 1×1 侧向卷积把每一层都变成 256 通道;ResNet-50 的 C_k 通道数(256/512/1024/2048)只是输入。",
            "FPN's 1×1 lateral convs bring every level to 256 channels; ResNet-50's C_k widths "
            "(256/512/1024/2048) are only its inputs.",
            absorbable=True,
        ),
        mis(
            "level_as_stride",
            lambda p: (256, -(-p["h"] // p["k"]), -(-p["w"] // p["k"])),
            "层号 k 是步长的指数:$P_k$ 的步长是 $2^k$,不是 k。",
            "The level index k is the stride's exponent: $P_k$ has stride $2^k$, not k.",
            defers_to="previous_level_stride",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw an input size (often odd) and a level P2-P6."""
        return {
            "h": draw.integer("h", 97, 801),
            "w": draw.integer("w", 97, 801),
            "k": draw.integer("k", 2, 6),
        }

    def answer(self, p: Params) -> Value:
        """Return (256, *fpn_level_sizes) for stride ``2^k``."""
        (h, w) = detection.fpn_level_sizes((p["h"], p["w"]), (2 ** p["k"],))[0]
        return (256, h, w)

    def prompt(self, p: Params) -> Bilingual:
        """Render the backbone and the input."""
        k = p["k"]
        return Bilingual(
            zh=f"torchvision 的 Faster R-CNN(ResNet-50-FPN,FPN 输出 256 通道)的骨干网络直接处理一张 "
            f"$3\\times{p['h']}\\times{p['w']}$ 的图像(不缩放、不填充)。FPN 的 P{k} 层输出形状是多少?"
            "按 $(C, H, W)$ 输入。",
            en="The backbone of torchvision's Faster R-CNN (ResNet-50-FPN, 256 FPN channels) "
            f"runs on a $3\\times{p['h']}\\times{p['w']}$ image directly (no resizing or "
            f"padding). What is the shape of FPN level P{k}? Enter $(C, H, W)$.",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the stride and the rounding."""
        k, s = p["k"], 2 ** p["k"]
        assert isinstance(answer, tuple)
        f = (
            f"$$H=\\lceil {p['h']}/{s}\\rceil={answer[1]},\\quad W=\\lceil {p['w']}/{s}\\rceil="
            f"{answer[2]}$$"
        )
        return Bilingual(
            zh=f"$P_{k}$ 的步长为 $2^{k}={s}$;每次步长 2 的下采样输出 $\\lceil n/2\\rceil$,"
            f"连续 {k} 次等于一次 $\\lceil n/{s}\\rceil$。FPN 各层都是 256 通道:\n{f}\n\n形状为 {answer}。",
            en=f"$P_{k}$ has stride $2^{k}={s}$; every stride-2 step outputs $\\lceil n/2\\rceil$, "
            f"and {k} of them in a row equal one $\\lceil n/{s}\\rceil$. Every FPN level has 256 "
            f"channels:\n{f}\n\nThe shape is {answer}.",
        )
