"""Object detection evaluation and head arithmetic: matching, AP variants, mAP, anchors, FPN sizes.

Evaluation. Detections are matched to ground truth (GT) by IoU, one image and one class at a
time, then ranked by score across all images of a class to trace a precision-recall curve, whose
area is the average precision (AP). Two matching rules and three AP interpolations are in use:

- COCO (``pycocotools.cocoeval.COCOeval``): a detection, taken in descending score order, is
  matched to the unmatched GT with the highest IoU ``>= t``; crowd GT may absorb any number of
  detections and, like other ignored GT, turns the detections it absorbs into "ignored" (neither
  true nor false positive). AP interpolates precision at the 101 recall points
  ``np.linspace(0, 1, 101)`` and averages; AP@[.5:.95] averages that over the ten IoU thresholds
  ``np.linspace(0.5, 0.95, 10)``.
- PASCAL VOC (the devkit's ``VOCevaldet`` / ``voc_eval.py``): a detection looks only at the GT
  with the highest IoU; IoU must be strictly ``> 0.5``; if that GT is "difficult" the detection is
  ignored, if it was already taken the detection is a false positive (a duplicate). VOC2007 AP
  averages the interpolated precision at the 11 recall points 0, 0.1, ..., 1; VOC2010 and later
  integrate the interpolated precision over every recall step ("all-point").

Both rules here use continuous coordinates (no "+1" pixel convention, which the VOC code applies
to integer pixel boxes), the same IoU as :func:`compute.boxes.box_iou`.

Heads. The output sizes of YOLOv1, anchor-based heads (RPN/Faster R-CNN, RetinaNet) and SSD's
default boxes follow from the feature-map sizes, which torchvision's ResNet backbones produce by
rounding up at every stride-2 stage: a level of stride ``s = 2^k`` on an ``H x W`` input is
``ceil(H / s) x ceil(W / s)``.

Greedy matching is sequential by nature (each decision depends on the earlier ones), so it loops
over detections; every step within is vectorized over the GT of the image.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from compute.boxes import box_iou

__all__ = [
    "COCO_IOU_THRESHOLDS",
    "COCO_RECALL_POINTS",
    "FASTER_RCNN_FPN",
    "RETINANET",
    "SSD300_ASPECT_RATIOS",
    "SSD300_FEATURE_SIZES",
    "AnchorHead",
    "CocoEval",
    "Match",
    "MatchRule",
    "VocEval",
    "anchor_count",
    "anchor_grid",
    "ap_coco_101pt",
    "ap_voc07_11pt",
    "ap_voc_allpoint",
    "cell_anchors",
    "evaluate_coco",
    "evaluate_voc",
    "fpn_level_sizes",
    "interpolated_precision",
    "match_detections",
    "mean_ap",
    "precision_recall_points",
    "ssd_boxes_per_location",
    "ssd_default_box_count",
    "voc07_11pt_precisions",
    "yolov1_output_shape",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: COCO's ten IoU thresholds 0.50, 0.55, ..., 0.95, exactly as ``COCOeval.Params`` builds them.
COCO_IOU_THRESHOLDS: FloatArray = np.linspace(0.5, 0.95, 10)
#: COCO's 101 recall points 0, 0.01, ..., 1, exactly as ``COCOeval.Params`` builds them.
COCO_RECALL_POINTS: FloatArray = np.linspace(0.0, 1.0, 101)

MatchRule = Literal["coco", "voc"]


class Match(NamedTuple):
    """The outcome of matching one image's detections (of one class) to its GT.

    Arrays are indexed like the input detections: ``tp[i]`` is True for a true positive,
    ``ignored[i]`` for a detection that counts neither way (matched to crowd or difficult GT, or
    beyond ``max_dets``), ``gt_index[i]`` is the matched GT (``-1`` for none). A detection that is
    neither TP nor ignored is a false positive. ``n_gt`` counts the GT that are not ignored.
    """

    tp: BoolArray
    ignored: BoolArray
    gt_index: IntArray
    n_gt: int


def _boxes(boxes: npt.ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 4))
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{name} must have shape [N, 4] (xyxy), got {arr.shape}")
    return arr


def _flags(flags: npt.ArrayLike | None, n: int, name: str) -> BoolArray:
    if flags is None:
        return np.zeros(n, dtype=bool)
    arr = np.asarray(flags)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape [{n}], got {arr.shape}")
    return arr.astype(bool)


def _crowd_iou(dets: FloatArray, gts: FloatArray) -> FloatArray:
    """COCO's overlap with a crowd region: intersection over the detection's own area."""
    lt = np.maximum(dets[:, None, :2], gts[None, :, :2])  # [D, G, 2]
    rb = np.minimum(dets[:, None, 2:], gts[None, :, 2:])  # [D, G, 2]
    wh: FloatArray = np.maximum(rb - lt, 0.0)
    inter = wh[..., 0] * wh[..., 1]  # [D, G]
    area = ((dets[:, 2] - dets[:, 0]) * (dets[:, 3] - dets[:, 1]))[:, None]  # [D, 1]
    out: FloatArray = np.zeros(inter.shape)
    np.divide(inter, area, out=out, where=area > 0)
    return out


def match_detections(
    det_boxes: npt.ArrayLike,
    det_scores: npt.ArrayLike,
    gt_boxes: npt.ArrayLike,
    *,
    iou_threshold: float = 0.5,
    rule: MatchRule = "coco",
    gt_ignore: npt.ArrayLike | None = None,
    gt_crowd: npt.ArrayLike | None = None,
    max_dets: int | None = None,
) -> Match:
    """Match one image's detections of one class to its GT boxes, greedily by descending score.

    ``det_boxes: ndarray[D, 4]``, ``det_scores: ndarray[D]``, ``gt_boxes: ndarray[G, 4]`` (xyxy)
    -> :class:`Match`. Detections are visited by descending score, equal scores in input order
    (a stable sort, as COCOeval's mergesort); each GT is matched at most once.

    ``rule="coco"`` (``COCOeval.evaluateImg``): a detection takes, among GT not matched yet, the
    one with the highest IoU ``>= iou_threshold`` (on equal IoU the later GT), preferring GT that
    are not ignored; ``gt_crowd`` marks crowd regions, which are ignored, use intersection over
    the detection's area as IoU and may be matched any number of times. ``gt_ignore`` marks other
    ignored GT. A detection matched to ignored GT is ignored. ``max_dets`` keeps only the
    highest-scoring detections (COCO: 100 per image and class); the rest are ignored.

    ``rule="voc"`` (``VOCevaldet``): a detection considers only the GT with the highest IoU (the
    first on ties) and needs IoU ``> iou_threshold``; if that GT is ignored (``gt_ignore``, VOC's
    "difficult") the detection is ignored; if it is already matched the detection is a false
    positive. ``gt_crowd`` must not be given.
    """
    det = _boxes(det_boxes, "det_boxes")
    gt = _boxes(gt_boxes, "gt_boxes")
    scores = np.asarray(det_scores, dtype=np.float64).reshape(-1)
    n_det, n_gt = det.shape[0], gt.shape[0]
    if scores.shape[0] != n_det:
        raise ValueError(f"det_scores must have shape [{n_det}], got {scores.shape}")
    if not np.all(np.isfinite(scores)):
        raise ValueError("det_scores must be finite")
    if not 0.0 <= iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold must be in [0, 1], got {iou_threshold}")
    if rule not in ("coco", "voc"):
        raise ValueError(f"rule must be 'coco' or 'voc', got {rule!r}")
    crowd = _flags(gt_crowd, n_gt, "gt_crowd")
    if rule == "voc" and crowd.any():
        raise ValueError("gt_crowd is a COCO notion; mark VOC 'difficult' GT with gt_ignore")
    ignore = _flags(gt_ignore, n_gt, "gt_ignore") | crowd

    order = np.argsort(-scores, kind="stable")
    tp = np.zeros(n_det, dtype=bool)
    ignored = np.zeros(n_det, dtype=bool)
    gt_index = np.full(n_det, -1, dtype=np.int64)
    if max_dets is not None:
        ignored[order[max_dets:]] = True
        order = order[:max_dets]
    n_counted = int(np.count_nonzero(~ignore))
    if n_gt == 0 or order.size == 0:
        return Match(tp, ignored, gt_index, n_counted)

    iou = box_iou(det[order], gt)  # [D', G]
    if crowd.any():
        iou[:, crowd] = _crowd_iou(det[order], gt[crowd])
    taken = np.zeros(n_gt, dtype=bool)
    if rule == "coco":
        threshold = min(iou_threshold, 1 - 1e-10)  # COCOeval's cap, so IoU 1 matches at t = 1
        # Regular GT first; ignored ones only as a fallback (no fallback pool when none is).
        pools = (~ignore, ignore) if ignore.any() else (~ignore,)
        for row, d in enumerate(order):
            m = -1
            reachable = (~taken | crowd) & (iou[row] >= threshold)
            for pool in pools:
                free = pool & reachable
                if free.any():
                    cand = np.flatnonzero(free)
                    values = iou[row, cand]
                    m = int(cand[len(cand) - 1 - np.argmax(values[::-1])])  # last of the maxima
                    break
            if m < 0:
                continue
            taken[m] = True
            gt_index[d] = m
            if ignore[m]:
                ignored[d] = True
            else:
                tp[d] = True
    else:
        best = np.argmax(iou, axis=1)  # [D'] first maximum
        for row, d in enumerate(order):
            m = int(best[row])
            if not iou[row, m] > iou_threshold:
                continue
            if ignore[m]:
                ignored[d] = True
            elif not taken[m]:
                taken[m] = True
                tp[d] = True
                gt_index[d] = m
    return Match(tp, ignored, gt_index, n_counted)


def precision_recall_points(
    scores: npt.ArrayLike,
    tp: npt.ArrayLike,
    n_gt: int,
    *,
    ignored: npt.ArrayLike | None = None,
    tie_order: npt.ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Rank detections by score and return the recall and precision after each one.

    ``scores: ndarray[D]``, ``tp: ndarray[D]`` (bool), ``n_gt`` (GT that count) ->
    ``recall[D']``, ``precision[D']`` with ``D'`` the detections not ``ignored``:
    ``recall_k = TP_k / n_gt`` and ``precision_k = TP_k / k`` over the first ``k`` counted
    detections in descending score order (ties by ``tie_order``, default input order).
    ``n_gt = 0`` gives NaN recall (AP undefined).
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    hit = np.asarray(tp, dtype=bool).reshape(-1)
    if hit.shape != s.shape:
        raise ValueError(f"tp must have shape {s.shape}, got {hit.shape}")
    if tie_order is None:
        order = np.argsort(-s, kind="stable")  # ties in input order, as lexsort with arange
    else:
        order = np.lexsort((np.asarray(tie_order, dtype=np.float64), -s))
    if ignored is not None:
        keep = ~_flags(ignored, s.size, "ignored")
        order = order[keep[order]]
    tps = np.cumsum(hit[order], dtype=np.float64)  # whole numbers: exact in float64
    ranks = np.arange(1.0, tps.size + 1.0)  # TP_k + FP_k = k
    recall = tps / float(n_gt) if n_gt > 0 else np.full(tps.shape, np.nan)
    precision = tps / ranks
    return recall, precision


def _curve(recall: npt.ArrayLike, precision: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    r = np.asarray(recall, dtype=np.float64).reshape(-1)
    p = np.asarray(precision, dtype=np.float64).reshape(-1)
    if r.shape != p.shape:
        raise ValueError(f"recall and precision differ in length: {r.size} vs {p.size}")
    if (r[1:] < r[:-1]).any():  # (not np.diff: this runs for every AP, on a few points)
        raise ValueError("recall must be non-decreasing (detections in descending score order)")
    return r, p


def interpolated_precision(precision: npt.ArrayLike) -> FloatArray:
    """Return the precision envelope ``p_interp[k] = max_{j >= k} precision[j]``.

    Replacing precision by the best precision at any higher recall removes the zig-zag of the raw
    curve; all three detection APs use it (VOC by recall level, COCO per point).
    """
    p = np.asarray(precision, dtype=np.float64).reshape(-1)
    return np.maximum.accumulate(p[::-1])[::-1].copy()


def ap_voc07_11pt(recall: npt.ArrayLike, precision: npt.ArrayLike) -> float:
    """Return PASCAL VOC2007's 11-point interpolated AP.

    ``AP = (1/11) sum_{t in {0, 0.1, ..., 1}} max{precision_k : recall_k >= t}`` (0 when no
    point reaches recall ``t``). The recall levels are the exact decimals ``k / 10``: the
    reference code builds them with ``arange(0, 1.1, 0.1)``, whose 0.30000000000000004 misses a
    recall of exactly 3/10; that floating-point artefact is not reproduced (a slack of 1e-12).
    """
    return float(voc07_11pt_precisions(recall, precision).sum() / 11.0)


def voc07_11pt_precisions(recall: npt.ArrayLike, precision: npt.ArrayLike) -> FloatArray:
    """Return the 11 precisions VOC2007 averages: ``[11]``, one per recall level ``k / 10``.

    Entry ``k`` is ``max{precision_j : recall_j >= k / 10}``, 0 when no point reaches that
    recall (the exact decimals, as :func:`ap_voc07_11pt` explains).
    """
    r, p = _curve(recall, precision)
    levels = np.arange(11) / 10.0
    reached = r[None, :] >= levels[:, None] - 1e-12  # [11, D]
    best: FloatArray = np.where(reached, p[None, :], 0.0).max(axis=1, initial=0.0)  # [11]
    return best


def ap_voc_allpoint(recall: npt.ArrayLike, precision: npt.ArrayLike) -> float:
    """Return VOC2010+'s all-point AP: the area under the interpolated precision curve.

    ``AP = sum_k (r_k - r_{k-1}) p_interp(r_k)`` over the recall steps, with the curve extended to
    (recall 0, precision 0) and (recall 1, precision 0) and ``p_interp`` the envelope of
    :func:`interpolated_precision`: a step function, so no trapezoids.
    """
    r, p = _curve(recall, precision)
    mrec = np.concatenate(([0.0], r, [1.0]))
    mpre = interpolated_precision(np.concatenate(([0.0], p, [0.0])))
    step = mrec[1:] - mrec[:-1]  # zero where recall does not change
    return float((step * mpre[1:]).sum())


def ap_coco_101pt(recall: npt.ArrayLike, precision: npt.ArrayLike) -> float:
    """Return COCO's 101-point interpolated AP for one class and one IoU threshold.

    For each recall point ``r`` of :data:`COCO_RECALL_POINTS`, take the envelope precision at the
    first detection whose recall reaches ``r`` (0 if none does), and average the 101 values.
    Semantics of ``COCOeval.accumulate`` (``searchsorted(..., side="left")`` on the float recall),
    including its floating-point edge: ``np.linspace(0, 1, 101)`` holds 0.35000000000000003,
    0.7000000000000001 and eight more points just above their decimals, so a recall of exactly
    7/20 or 7/10 does not reach them; this follows pycocotools there (unlike
    :func:`ap_voc07_11pt`, which compares with the exact decimals).
    """
    r, p = _curve(recall, precision)
    points = _coco_points(r, p)
    return float(points.sum() / points.size)  # np.mean's own sum and division, without its wrapper


def _coco_points(recall: FloatArray, precision: FloatArray) -> FloatArray:
    """Return the envelope precision at the 101 recall points: ``[101]``."""
    if recall.size == 0:
        return np.zeros(COCO_RECALL_POINTS.size)
    env = interpolated_precision(precision)
    idx = np.searchsorted(recall, COCO_RECALL_POINTS, side="left")  # [101]
    return np.where(idx < recall.size, env[np.minimum(idx, recall.size - 1)], 0.0)


class _Dataset(NamedTuple):
    gt_boxes: FloatArray
    gt_images: IntArray
    gt_classes: IntArray
    det_boxes: FloatArray
    det_scores: FloatArray
    det_images: IntArray
    det_classes: IntArray
    classes: IntArray


def _ints(x: npt.ArrayLike, n: int, name: str) -> IntArray:
    arr = np.asarray(x)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape [{n}], got {arr.shape}")
    if n and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer ids, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _dataset(
    gt_boxes: npt.ArrayLike,
    gt_images: npt.ArrayLike,
    gt_classes: npt.ArrayLike,
    det_boxes: npt.ArrayLike,
    det_scores: npt.ArrayLike,
    det_images: npt.ArrayLike,
    det_classes: npt.ArrayLike,
    classes: npt.ArrayLike | None,
) -> _Dataset:
    g = _boxes(gt_boxes, "gt_boxes")
    d = _boxes(det_boxes, "det_boxes")
    s = np.asarray(det_scores, dtype=np.float64).reshape(-1)
    if s.shape != (d.shape[0],):
        raise ValueError(f"det_scores must have shape [{d.shape[0]}], got {s.shape}")
    gi = _ints(gt_images, g.shape[0], "gt_images")
    gc = _ints(gt_classes, g.shape[0], "gt_classes")
    di = _ints(det_images, d.shape[0], "det_images")
    dc = _ints(det_classes, d.shape[0], "det_classes")
    cls = np.unique(gc) if classes is None else np.unique(np.asarray(classes, dtype=np.int64))
    return _Dataset(g, gi, gc, d, s, di, dc, cls)


class CocoEval(NamedTuple):
    """COCO-style results (area range "all").

    ``precision[T, 101, K]`` is the interpolated precision at each recall point (``-1`` for a class
    without countable GT, as COCOeval), ``ap[T, K]`` its mean over the recall points (NaN for such a
    class), ``ap_per_class[K]`` the mean over the IoU thresholds. ``map`` is AP@[.5:.95] (the mean
    over thresholds and over classes with GT), ``ap50`` and ``ap75`` the same at one threshold
    (NaN when that threshold is not evaluated).
    """

    classes: IntArray
    iou_thresholds: FloatArray
    precision: FloatArray
    ap: FloatArray
    ap_per_class: FloatArray
    map: float
    ap50: float
    ap75: float


def evaluate_coco(
    gt_boxes: npt.ArrayLike,
    gt_images: npt.ArrayLike,
    gt_classes: npt.ArrayLike,
    det_boxes: npt.ArrayLike,
    det_scores: npt.ArrayLike,
    det_images: npt.ArrayLike,
    det_classes: npt.ArrayLike,
    *,
    gt_crowd: npt.ArrayLike | None = None,
    iou_thresholds: npt.ArrayLike = COCO_IOU_THRESHOLDS,
    max_dets: int = 100,
    classes: npt.ArrayLike | None = None,
) -> CocoEval:
    """Return COCO's AP per class and IoU threshold, AP@[.5:.95], AP50 and AP75 (bbox, all areas).

    GT: ``gt_boxes[G, 4]`` (xyxy), ``gt_images[G]``, ``gt_classes[G]``, optional ``gt_crowd[G]``;
    detections: ``det_boxes[D, 4]``, ``det_scores[D]``, ``det_images[D]``, ``det_classes[D]``.
    Per image and class, :func:`match_detections` (rule "coco", the ``max_dets`` best) marks
    TP/FP/ignored at each threshold; per class, the detections of all images are ranked by score
    (ties by image id, then by the order within the image, as COCOeval concatenates them) and
    :func:`ap_coco_101pt` gives the AP. Matches ``COCOeval.evaluate(); accumulate()``'s
    ``precision[:, :, :, 0, -1]`` and ``stats[0:3]`` with ``maxDets = [.., .., max_dets]``.
    ``classes`` defaults to the classes present in the GT (COCO evaluates every category of the
    dataset; one without GT gets -1 and is left out of the means either way).
    """
    ds = _dataset(
        gt_boxes, gt_images, gt_classes, det_boxes, det_scores, det_images, det_classes, classes
    )
    crowd = _flags(gt_crowd, ds.gt_boxes.shape[0], "gt_crowd")
    thr = np.asarray(iou_thresholds, dtype=np.float64).reshape(-1)
    n_t, n_k = thr.size, ds.classes.size
    precision = np.full((n_t, COCO_RECALL_POINTS.size, n_k), -1.0)
    for k, c in enumerate(ds.classes.tolist()):
        g_sel = np.flatnonzero(ds.gt_classes == c)
        d_sel = np.flatnonzero(ds.det_classes == c)
        images = np.union1d(ds.gt_images[g_sel], ds.det_images[d_sel])
        tp = np.zeros((n_t, d_sel.size), dtype=bool)
        ign = np.zeros((n_t, d_sel.size), dtype=bool)
        n_gt = 0
        # Rank within the image by score (stable), then across images by image id.
        rank_in_image = np.zeros(d_sel.size)
        for img in images.tolist():
            gi = g_sel[ds.gt_images[g_sel] == img]
            local = np.flatnonzero(ds.det_images[d_sel] == img)
            di = d_sel[local]
            rank_in_image[local] = np.argsort(np.argsort(-ds.det_scores[di], kind="stable"))
            for t, th in enumerate(thr.tolist()):
                m = match_detections(
                    ds.det_boxes[di],
                    ds.det_scores[di],
                    ds.gt_boxes[gi],
                    iou_threshold=th,
                    rule="coco",
                    gt_crowd=crowd[gi],
                    max_dets=max_dets,
                )
                tp[t, local], ign[t, local] = m.tp, m.ignored
            n_gt += int(np.count_nonzero(~crowd[gi]))
        if n_gt == 0:
            continue
        tie = ds.det_images[d_sel] * (d_sel.size + 1) + rank_in_image
        for t in range(n_t):
            r, p = precision_recall_points(
                ds.det_scores[d_sel], tp[t], n_gt, ignored=ign[t], tie_order=tie
            )
            precision[t, :, k] = _coco_points(r, p)
    valid = precision[0, 0, :] >= 0  # [K]
    ap = np.where(valid[None, :], precision.mean(axis=1), np.nan)  # [T, K]
    with np.errstate(invalid="ignore"):
        per_class = ap.mean(axis=0)

    def at(value: float) -> float:
        hit = np.flatnonzero(np.isclose(thr, value, rtol=0, atol=1e-12))
        return float(np.mean(ap[hit[0], valid])) if hit.size and valid.any() else float("nan")

    overall = float(np.mean(ap[:, valid])) if valid.any() else float("nan")
    return CocoEval(ds.classes, thr, precision, ap, per_class, overall, at(0.5), at(0.75))


def mean_ap(ap_per_class: npt.ArrayLike) -> float:
    """Return mAP, the unweighted mean of the per-class APs, leaving out classes without GT.

    ``ap_per_class: ndarray[K]`` with NaN for a class that has no (countable) GT -> float (NaN
    when no class has GT). Both COCO and VOC leave such classes out rather than count them as 0,
    and weigh every class equally however many instances it has.
    """
    ap = np.asarray(ap_per_class, dtype=np.float64).reshape(-1)
    valid = ~np.isnan(ap)
    return float(np.mean(ap[valid])) if valid.any() else float("nan")


class VocEval(NamedTuple):
    """PASCAL VOC results: ``ap[K]`` per class (NaN without non-difficult GT) and their mean."""

    classes: IntArray
    ap: FloatArray
    map: float


def evaluate_voc(
    gt_boxes: npt.ArrayLike,
    gt_images: npt.ArrayLike,
    gt_classes: npt.ArrayLike,
    det_boxes: npt.ArrayLike,
    det_scores: npt.ArrayLike,
    det_images: npt.ArrayLike,
    det_classes: npt.ArrayLike,
    *,
    gt_difficult: npt.ArrayLike | None = None,
    iou_threshold: float = 0.5,
    method: Literal["11point", "allpoint"] = "allpoint",
    classes: npt.ArrayLike | None = None,
) -> VocEval:
    """Return PASCAL VOC AP per class and the mAP over classes.

    Inputs as :func:`evaluate_coco`; ``gt_difficult[G]`` marks GT that neither count as positives
    nor penalize a detection. Per class, all detections are ranked by score (ties in input
    order), matched with rule "voc" (IoU strictly above ``iou_threshold``), and AP is
    :func:`ap_voc07_11pt` (``method="11point"``, VOC2007) or :func:`ap_voc_allpoint`
    (``"allpoint"``, VOC2010 and later). mAP is the mean AP over classes with GT.
    """
    if method not in ("11point", "allpoint"):
        raise ValueError(f"method must be '11point' or 'allpoint', got {method!r}")
    ds = _dataset(
        gt_boxes, gt_images, gt_classes, det_boxes, det_scores, det_images, det_classes, classes
    )
    difficult = _flags(gt_difficult, ds.gt_boxes.shape[0], "gt_difficult")
    aps = np.full(ds.classes.size, np.nan)
    ap_fn = ap_voc07_11pt if method == "11point" else ap_voc_allpoint
    for k, c in enumerate(ds.classes.tolist()):
        g_sel = np.flatnonzero(ds.gt_classes == c)
        d_sel = np.flatnonzero(ds.det_classes == c)
        n_gt = int(np.count_nonzero(~difficult[g_sel]))
        if n_gt == 0:
            continue
        tp = np.zeros(d_sel.size, dtype=bool)
        ign = np.zeros(d_sel.size, dtype=bool)
        # VOC ranks the detections of all images together before matching; matching within one
        # image only depends on the order of that image's detections, the same order.
        for img in np.unique(ds.det_images[d_sel]).tolist():
            local = np.flatnonzero(ds.det_images[d_sel] == img)
            gi = g_sel[ds.gt_images[g_sel] == img]
            m = match_detections(
                ds.det_boxes[d_sel[local]],
                ds.det_scores[d_sel[local]],
                ds.gt_boxes[gi],
                iou_threshold=iou_threshold,
                rule="voc",
                gt_ignore=difficult[gi],
            )
            tp[local], ign[local] = m.tp, m.ignored
        r, p = precision_recall_points(ds.det_scores[d_sel], tp, n_gt, ignored=ign)
        aps[k] = ap_fn(r, p)
    return VocEval(ds.classes, aps, mean_ap(aps))


# --------------------------------------------------------------------------------------------
# Heads: YOLOv1, anchors, SSD default boxes, FPN levels
# --------------------------------------------------------------------------------------------


def yolov1_output_shape(grid: int = 7, boxes: int = 2, classes: int = 20) -> tuple[int, int, int]:
    """Return YOLOv1's output tensor shape ``(S, S, B * 5 + C)``.

    Each of the ``S x S`` cells predicts ``B`` boxes of 5 numbers (x, y, w, h, confidence) and one
    set of ``C`` class probabilities shared by its boxes (Redmon et al., 2016): the paper's
    ``S = 7, B = 2, C = 20`` gives ``7 x 7 x 30`` (1,470 outputs).
    """
    for name, v in (("grid", grid), ("boxes", boxes), ("classes", classes)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return (grid, grid, boxes * 5 + classes)


def _sizes(feature_sizes: Sequence[tuple[int, int]]) -> IntArray:
    arr = np.asarray(feature_sizes, dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != 2 or np.any(arr < 1):
        raise ValueError(f"feature_sizes must be (height, width) pairs >= 1, got {feature_sizes}")
    return arr


def anchor_count(
    feature_sizes: Sequence[tuple[int, int]], anchors_per_location: int | Sequence[int]
) -> int:
    """Return the number of anchors over all levels: ``sum_l H_l * W_l * A_l``.

    ``feature_sizes``: ``(H_l, W_l)`` per level; ``anchors_per_location``: ``A`` for every level
    or one ``A_l`` per level (``len(sizes) * len(aspect_ratios)`` for torchvision's
    ``AnchorGenerator``: 3 for Faster R-CNN's FPN levels, 9 for RetinaNet's).
    """
    hw = _sizes(feature_sizes)
    per = np.broadcast_to(np.asarray(anchors_per_location, dtype=np.int64), (hw.shape[0],))
    if np.any(per < 1):
        raise ValueError("anchors_per_location must be >= 1")
    return int(np.sum(hw[:, 0] * hw[:, 1] * per))


def fpn_level_sizes(
    image_size: tuple[int, int], strides: Sequence[int] = (4, 8, 16, 32, 64)
) -> list[tuple[int, int]]:
    """Return each FPN level's ``(H, W)`` on an input of ``image_size = (H, W)``.

    A level of stride ``s`` is ``(ceil(H / s), ceil(W / s))``: torchvision's ResNet halves with
    ``floor((n - 1) / 2) + 1 = ceil(n / 2)`` at each stride-2 layer (the 7x7 stem, the max pool,
    the first 3x3 conv of layers 2-4, and the extra levels: Faster R-CNN's ``LastLevelMaxPool``
    ``max_pool2d(1, 2)`` and RetinaNet's stride-2 3x3 convs for P6 and P7), and rounding up at
    every halving equals rounding up once. Defaults: Faster R-CNN's P2-P6; RetinaNet uses
    ``(8, 16, 32, 64, 128)``.
    """
    h, w = (int(v) for v in image_size)
    if h < 1 or w < 1:
        raise ValueError(f"image_size must be positive, got {image_size}")
    out = []
    for s in strides:
        if s < 1 or s & (s - 1):
            raise ValueError(f"strides must be powers of two, got {s}")
        out.append((-(-h // s), -(-w // s)))
    return out


class AnchorHead(NamedTuple):
    """An anchor-based head's anchor layout: per level (stride, sizes, aspect ratios)."""

    strides: tuple[int, ...]
    sizes: tuple[tuple[float, ...], ...]
    aspect_ratios: tuple[float, ...]

    @property
    def per_location(self) -> tuple[int, ...]:
        """Return the anchors per feature-map location of each level."""
        return tuple(len(s) * len(self.aspect_ratios) for s in self.sizes)

    def count(self, image_size: tuple[int, int]) -> int:
        """Return the number of anchors on an ``image_size`` input (one image)."""
        return anchor_count(fpn_level_sizes(image_size, self.strides), self.per_location)


#: torchvision's ``fasterrcnn_resnet50_fpn`` RPN: one size per level P2-P6, three ratios.
FASTER_RCNN_FPN = AnchorHead(
    strides=(4, 8, 16, 32, 64),
    sizes=((32,), (64,), (128,), (256,), (512,)),
    aspect_ratios=(0.5, 1.0, 2.0),
)
#: torchvision's ``retinanet_resnet50_fpn``: three scales per level, ``x * 2^(k/3)`` for
#: k = 0, 1, 2 truncated to integers (32, 40, 50 on P3), on P3-P7.
RETINANET = AnchorHead(
    strides=(8, 16, 32, 64, 128),
    sizes=tuple(
        tuple(float(int(x * 2 ** (k / 3.0))) for k in range(3)) for x in (32, 64, 128, 256, 512)
    ),
    aspect_ratios=(0.5, 1.0, 2.0),
)


def cell_anchors(sizes: Sequence[float], aspect_ratios: Sequence[float]) -> FloatArray:
    """Return the anchors of one location centred on the origin, as torchvision builds them.

    ``-> ndarray[len(aspect_ratios) * len(sizes), 4]`` (xyxy), ratio-major: for ratio ``r = h/w``
    and size ``s``, ``w = s / sqrt(r)``, ``h = s * sqrt(r)`` (area ``s^2``), box
    ``round((-w/2, -h/2, w/2, h/2))`` (``AnchorGenerator.generate_anchors``, which rounds half to
    even like ``torch.round``).
    """
    scales = np.asarray(sizes, dtype=np.float64)
    ratios = np.asarray(aspect_ratios, dtype=np.float64)
    h_ratios = np.sqrt(ratios)
    w_ratios = 1.0 / h_ratios
    ws = (w_ratios[:, None] * scales[None, :]).reshape(-1)  # [R*S]
    hs = (h_ratios[:, None] * scales[None, :]).reshape(-1)
    return np.round(np.stack([-ws, -hs, ws, hs], axis=1) / 2.0)


def anchor_grid(
    image_size: tuple[int, int],
    feature_sizes: Sequence[tuple[int, int]],
    sizes: Sequence[Sequence[float]],
    aspect_ratios: Sequence[Sequence[float]],
) -> FloatArray:
    """Return every anchor of one image, level by level, as ``torchvision``'s ``AnchorGenerator``.

    ``-> ndarray[sum_l H_l W_l A_l, 4]`` (xyxy). Level ``l``'s stride is the integer division
    ``image // feature`` per axis (torchvision's rule: a 65-pixel side with a 17-cell map gets
    stride 3, not 4, which is why detection models pad inputs to a multiple of 32); its anchors
    are :func:`cell_anchors` shifted to ``(x * stride_w, y * stride_h)`` for every cell,
    row-major, the cell's anchors innermost.
    """
    hw = _sizes(feature_sizes)
    if not len(sizes) == len(aspect_ratios) == hw.shape[0]:
        raise ValueError("feature_sizes, sizes and aspect_ratios need one entry per level")
    ih, iw = image_size
    out = []
    for (fh, fw), s, r in zip(hw.tolist(), sizes, aspect_ratios, strict=True):
        base = cell_anchors(s, r)  # [A, 4]
        sy, sx = ih // fh, iw // fw
        yy, xx = np.meshgrid(np.arange(fh) * sy, np.arange(fw) * sx, indexing="ij")
        shifts = np.stack([xx, yy, xx, yy], axis=-1).reshape(-1, 1, 4)  # [H*W, 1, 4]
        out.append((shifts + base[None]).reshape(-1, 4))
    return np.concatenate(out).astype(np.float64)


#: SSD300 (VGG16) feature maps: conv4_3, fc7, then four extra layers.
SSD300_FEATURE_SIZES: tuple[int, ...] = (38, 19, 10, 5, 3, 1)
#: SSD300's extra aspect ratios per level (torchvision ``ssd300_vgg16``); each ``r`` adds ``r`` and
#: ``1/r`` to the two square boxes.
SSD300_ASPECT_RATIOS: tuple[tuple[int, ...], ...] = ((2,), (2, 3), (2, 3), (2, 3), (2,), (2,))


def ssd_boxes_per_location(aspect_ratios: Sequence[float]) -> int:
    """Return SSD's default boxes per location: ``2 + 2 * len(aspect_ratios)``.

    Two squares (scale ``s_k`` and ``sqrt(s_k s_{k+1})``) plus, for each listed ratio ``r``, one
    box of ratio ``r`` and one of ``1/r`` (torchvision's ``DefaultBoxGenerator``).
    """
    return 2 + 2 * len(aspect_ratios)


def ssd_default_box_count(
    feature_sizes: Sequence[int] = SSD300_FEATURE_SIZES,
    aspect_ratios: Sequence[Sequence[float]] = SSD300_ASPECT_RATIOS,
) -> int:
    """Return SSD's number of default boxes, ``sum_k f_k^2 (2 + 2 |ratios_k|)`` (square maps).

    SSD300: ``38^2*4 + 19^2*6 + 10^2*6 + 5^2*6 + 3^2*4 + 1^2*4 = 8732``.
    """
    if len(feature_sizes) != len(aspect_ratios):
        raise ValueError("feature_sizes and aspect_ratios need one entry per level")
    per = [ssd_boxes_per_location(r) for r in aspect_ratios]
    return anchor_count([(f, f) for f in feature_sizes], per)
