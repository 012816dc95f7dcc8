"""compute.detection's matching and AP: COCO against pycocotools, VOC against the devkit's rules.

pycocotools is a dev (test-only) dependency and runs live here on random small datasets: a few
images and classes, detections jittered from the GT (so duplicates and near-threshold overlaps are
common), false alarms, crowd regions, and scores rounded so that ties occur within and across
images. Integer coordinates make many IoUs land exactly on a threshold (1/2, 3/4), which both
sides compute exactly.

The VOC reference below is the PASCAL devkit's evaluation (``VOCevaldet.m``, re-expressed in plain
Python from its published description, with exact fractions for the 11 recall levels): it is
written independently of compute.detection and shares no code with it.
"""

from __future__ import annotations

import contextlib
import io
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from compute import detection

COCO_DATASETS = 300
VOC_DATASETS = 600


def random_dataset(rng: np.random.Generator, *, crowd: bool) -> dict[str, Any]:
    """Return GT and detections (xyxy) over 1-4 images and 1-3 classes."""
    integer = rng.random() < 0.6
    gt: list[tuple[int, int, list[float], bool]] = []
    for img in range(1, int(rng.integers(1, 5)) + 1):
        for cls in range(1, 4):
            for _ in range(int(rng.integers(0, 4))):
                x, y = rng.uniform(0, 60, 2)
                w, h = rng.uniform(4, 30, 2)
                box = [x, y, x + w, y + h]
                if integer:
                    box = [float(round(v)) for v in box]
                gt.append((img, cls, box, bool(crowd and rng.random() < 0.15)))
    images = sorted({g[0] for g in gt} | {1})
    dets: list[tuple[int, int, list[float], float]] = []
    decimals = int(rng.integers(1, 3))
    for img, cls, box, _ in gt:
        for _ in range(int(rng.integers(0, 3))):
            jitter = rng.normal(0, 3, 4) if not integer else rng.integers(-3, 4, 4)
            b = np.asarray(box) + jitter
            b[2:] = np.maximum(b[2:], b[:2] + 1)
            dets.append((img, cls, b.tolist(), round(float(rng.random()), decimals)))
    for _ in range(int(rng.integers(0, 5))):
        img = int(rng.choice(images))
        x, y = rng.uniform(0, 60, 2)
        w, h = rng.uniform(4, 30, 2)
        box = [x, y, x + w, y + h]
        if integer:
            box = [float(round(v)) for v in box]
        dets.append((img, int(rng.integers(1, 4)), box, round(float(rng.random()), decimals)))
    return {"images": images, "gt": gt, "dets": dets}


def arrays(ds: dict[str, Any]) -> dict[str, Any]:
    gt, dets = ds["gt"], ds["dets"]
    return {
        "gt_boxes": np.asarray([g[2] for g in gt], dtype=float).reshape(-1, 4),
        "gt_images": np.asarray([g[0] for g in gt], dtype=np.int64),
        "gt_classes": np.asarray([g[1] for g in gt], dtype=np.int64),
        "det_boxes": np.asarray([d[2] for d in dets], dtype=float).reshape(-1, 4),
        "det_scores": np.asarray([d[3] for d in dets], dtype=float),
        "det_images": np.asarray([d[0] for d in dets], dtype=np.int64),
        "det_classes": np.asarray([d[1] for d in dets], dtype=np.int64),
    }


def xywh(box: list[float]) -> list[float]:
    return [box[0], box[1], box[2] - box[0], box[3] - box[1]]


def run_cocoeval(ds: dict[str, Any], max_dets: int) -> COCOeval:
    gt_json = {
        "images": [{"id": i} for i in ds["images"]],
        "categories": [{"id": c} for c in (1, 2, 3)],
        "annotations": [
            {
                "id": n + 1,  # COCOeval treats id 0 as "unmatched"
                "image_id": img,
                "category_id": cls,
                "bbox": xywh(box),
                "area": (box[2] - box[0]) * (box[3] - box[1]),
                "iscrowd": int(is_crowd),
            }
            for n, (img, cls, box, is_crowd) in enumerate(ds["gt"])
        ],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt_json
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(
            [
                {"image_id": img, "category_id": cls, "bbox": xywh(box), "score": score}
                for img, cls, box, score in ds["dets"]
            ]
        )
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.params.maxDets = [1, min(10, max_dets), max_dets]  # COCOeval sorts this list
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def test_coco_map_matches_pycocotools_on_random_datasets() -> None:
    rng = np.random.default_rng(20261203)
    compared = 0
    for case in range(COCO_DATASETS):
        ds = random_dataset(rng, crowd=True)
        if not ds["dets"]:
            continue  # pycocotools' loadRes cannot take an empty result list
        max_dets = 100 if case % 3 else 2  # a small cap exercises the per-image truncation
        ev = run_cocoeval(ds, max_dets)
        ours = detection.evaluate_coco(
            **arrays(ds),
            gt_crowd=np.asarray([g[3] for g in ds["gt"]], dtype=bool),
            max_dets=max_dets,
            classes=[1, 2, 3],
        )
        want = ev.eval["precision"][:, :, :, 0, -1]  # [T, R, K], area "all", largest maxDets
        np.testing.assert_allclose(ours.precision, want, rtol=0, atol=1e-12, err_msg=str(case))
        pairs = [(ours.ap50, ev.stats[1]), (ours.ap75, ev.stats[2])]
        if max_dets == 100:  # summarize() reports AP@[.5:.95] at maxDets=100 only
            pairs.append((ours.map, ev.stats[0]))
        for got, stat in pairs:
            if stat == -1:
                assert np.isnan(got), case
            else:
                assert got == pytest.approx(stat, abs=1e-12), case
        compared += 1
    assert compared > 0.9 * COCO_DATASETS


def test_coco_thresholds_and_recall_points_are_cocoevals() -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        params = COCOeval(iouType="bbox").params
    np.testing.assert_array_equal(detection.COCO_IOU_THRESHOLDS, params.iouThrs)
    np.testing.assert_array_equal(detection.COCO_RECALL_POINTS, params.recThrs)


# --------------------------------------------------------------------------------------------
# PASCAL VOC: an independent re-expression of the devkit
# --------------------------------------------------------------------------------------------


def plain_iou(a: list[float], b: list[float]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def voc_reference(ds: dict[str, Any], cls: int, use_07: bool, difficult: list[bool]) -> float:
    """VOCevaldet for one class: rank all detections, match each to its best GT, then AP."""
    gts = [(i, g) for i, g in enumerate(ds["gt"]) if g[1] == cls]
    npos = sum(1 for i, _ in gts if not difficult[i])
    taken: set[int] = set()
    dets = [d for d in ds["dets"] if d[1] == cls]
    order = sorted(range(len(dets)), key=lambda j: -dets[j][3])  # stable: ties in input order
    tp: list[int] = []
    fp: list[int] = []
    for j in order:
        img, _, box, _ = dets[j]
        best, arg = -1.0, None
        for i, g in gts:
            if g[0] == img:
                o = plain_iou(box, g[2])
                if o > best:
                    best, arg = o, i
        if arg is not None and best > 0.5:
            if difficult[arg]:
                continue  # neither a hit nor a false alarm
            if arg not in taken:
                taken.add(arg)
                tp.append(1)
                fp.append(0)
            else:
                tp.append(0)
                fp.append(1)
        else:
            tp.append(0)
            fp.append(1)
    ctp = np.cumsum(tp)
    cfp = np.cumsum(fp)
    rec = [Fraction(int(t), npos) for t in ctp]
    prec = [float(t) / float(t + f) for t, f in zip(ctp, cfp, strict=True)]
    if use_07:
        total = 0.0
        for k in range(11):
            reached = [p for r, p in zip(rec, prec, strict=True) if r >= Fraction(k, 10)]
            total += max(reached) if reached else 0.0
        return total / 11
    mrec = [0.0, *(float(r) for r in rec), 1.0]
    mpre = [0.0, *prec, 0.0]
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    return sum((mrec[i + 1] - mrec[i]) * mpre[i + 1] for i in range(len(mrec) - 1))


@pytest.mark.parametrize("method", ["11point", "allpoint"])
def test_voc_ap_matches_the_devkit_rules(method: Literal["11point", "allpoint"]) -> None:
    rng = np.random.default_rng(7 if method == "11point" else 8)
    checked = 0
    for case in range(VOC_DATASETS):
        ds = random_dataset(rng, crowd=False)
        difficult = [bool(rng.random() < 0.15) for _ in ds["gt"]]
        ours = detection.evaluate_voc(
            **arrays(ds),
            gt_difficult=difficult,
            method=method,
            classes=[1, 2, 3],
        )
        expected = []
        for k, cls in enumerate((1, 2, 3)):
            if not any(g[1] == cls and not difficult[i] for i, g in enumerate(ds["gt"])):
                assert np.isnan(ours.ap[k]), case
                continue
            want = voc_reference(ds, cls, method == "11point", difficult)
            assert ours.ap[k] == pytest.approx(want, abs=1e-12), (case, cls)
            expected.append(want)
            checked += 1
        if expected:
            assert ours.map == pytest.approx(float(np.mean(expected)), abs=1e-12)
    assert checked > VOC_DATASETS


def test_voc07_counts_a_recall_of_exactly_three_tenths() -> None:
    # Ten GT, hits at ranks 1-3, then only false alarms: recall tops out at exactly 3/10.
    recall = np.array([1, 2, 3, 3, 3]) / 10
    precision = np.array([1, 1, 1, 0.75, 0.6])
    # Levels 0, 0.1, 0.2 and 0.3 reach precision 1; np.arange(0, 1.1, 0.1)[3] is
    # 0.30000000000000004 and would drop the fourth level.
    assert detection.ap_voc07_11pt(recall, precision) == pytest.approx(4 / 11)
    assert np.arange(0, 1.1, 0.1)[3] > 0.3


def test_three_interpolations_on_one_hand_worked_curve() -> None:
    # 4 GT; ranked detections: TP, FP, TP, TP, FP.
    recall = np.array([0.25, 0.25, 0.5, 0.75, 0.75])
    precision = np.array([1.0, 0.5, 2 / 3, 0.75, 0.6])
    np.testing.assert_allclose(
        detection.interpolated_precision(precision), [1.0, 0.75, 0.75, 0.75, 0.6]
    )
    assert detection.ap_voc_allpoint(recall, precision) == pytest.approx(0.25 + 0.5 * 0.75)
    # 11-point: levels 0..0.2 -> 1, 0.3..0.7 -> 0.75, 0.8..1 -> 0.
    np.testing.assert_array_equal(
        detection.voc07_11pt_precisions(recall, precision), [1.0] * 3 + [0.75] * 5 + [0.0] * 3
    )
    assert detection.ap_voc07_11pt(recall, precision) == pytest.approx((3 + 5 * 0.75) / 11)
    # 101-point: r in [0, 0.25] (26 points) -> 1, (0.25, 0.75] (50 points) -> 0.75, rest 0.
    assert detection.ap_coco_101pt(recall, precision) == pytest.approx((26 + 50 * 0.75) / 101)


# --------------------------------------------------------------------------------------------
# Matching rules in isolation
# --------------------------------------------------------------------------------------------


def test_coco_moves_a_duplicate_to_the_next_free_gt_but_voc_does_not() -> None:
    gt = [[0, 0, 10, 10], [2, 0, 12, 10]]
    det = [[1, 0, 11, 10], [1, 0, 11, 10]]
    coco = detection.match_detections(det, [0.9, 0.8], gt, rule="coco")
    voc = detection.match_detections(det, [0.9, 0.8], gt, rule="voc")
    assert coco.tp.tolist() == [True, True]
    assert voc.tp.tolist() == [True, False]  # the second one is a duplicate of the first's GT


def test_iou_exactly_at_threshold_counts_for_coco_not_voc() -> None:
    gt = [[0, 0, 10, 10]]
    det = [[0, 0, 10, 5]]  # IoU exactly 1/2
    assert detection.match_detections(det, [1.0], gt, rule="coco").tp.tolist() == [True]
    assert detection.match_detections(det, [1.0], gt, rule="voc").tp.tolist() == [False]


def test_crowd_absorbs_any_number_of_detections_as_ignored() -> None:
    gt = [[0, 0, 100, 100]]
    det = [[10, 10, 20, 20], [30, 30, 40, 40], [200, 200, 210, 210]]
    m = detection.match_detections(det, [0.9, 0.8, 0.7], gt, gt_crowd=[True])
    assert m.ignored.tolist() == [True, True, False]
    assert m.tp.tolist() == [False, False, False] and m.n_gt == 0


def test_map_is_the_mean_over_classes_with_gt() -> None:
    gt = [[0, 0, 10, 10], [20, 20, 30, 30]]
    det = [[0, 0, 10, 10], [50, 50, 60, 60]]
    res = detection.evaluate_voc(
        gt, [1, 1], [1, 2], det, [0.9, 0.8], [1, 1], [1, 2], classes=[1, 2, 3]
    )
    assert res.ap[0] == 1.0 and res.ap[1] == 0.0 and np.isnan(res.ap[2])
    assert res.map == 0.5


def test_bad_inputs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"\[N, 4\]"):
        detection.match_detections([[0, 0, 1]], [0.5], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="rule"):
        detection.match_detections([], [], [], rule="yolo")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="gt_crowd is a COCO notion"):
        detection.match_detections([], [], [[0, 0, 1, 1]], rule="voc", gt_crowd=[True])
    with pytest.raises(ValueError, match="non-decreasing"):
        detection.ap_voc_allpoint([0.5, 0.25], [1.0, 1.0])
    with pytest.raises(ValueError, match="method"):
        detection.evaluate_voc([], [], [], [], [], [], [], method="coco")  # type: ignore[arg-type]


def test_coco_recall_of_exactly_seven_tenths_misses_the_0_70_point_as_cocoeval_does() -> None:
    # Ten objects in ten images, seven found: recall tops out at exactly 0.7, which is below
    # np.linspace(0, 1, 101)[70] == 0.7000000000000001, so only 70 of the 101 points count.
    ds = {
        "images": list(range(1, 11)),
        "gt": [(i, 1, [0.0, 0.0, 10.0, 10.0], False) for i in range(1, 11)],
        "dets": [(i, 1, [0.0, 0.0, 10.0, 10.0], 1.0 - i / 100) for i in range(1, 8)],
    }
    ev = run_cocoeval(ds, 100)
    ours = detection.evaluate_coco(**arrays(ds), classes=[1, 2, 3])
    assert ev.stats[1] == pytest.approx(70 / 101, abs=1e-12)
    assert ours.ap50 == pytest.approx(70 / 101, abs=1e-12)
    r = np.arange(1, 8) / 10
    assert detection.ap_coco_101pt(r, np.ones(7)) == pytest.approx(70 / 101)
