"""compute.detection_boxes and compute.anchors against torchvision (golden), torch and hand cases.

tests/compute/golden/det.json was written by generate_det_golden.py with torchvision 0.29.1
(BoxCoder, the IoU-family losses, LevelMapper, VGG16 + AnchorGenerator). The live cross-checks
re-express the losses and the box coder with torch tensor ops on thousands of random cases.
Soft-NMS has no torchvision reference: it is checked against a plain re-reading of the paper's
Algorithm 1 written below (list of dicts, no NumPy) and against hand-computed cases.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from compute import anchors, detection_boxes

GOLDEN = Path(__file__).resolve().parent / "golden" / "det.json"


@cache
def golden() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GOLDEN.read_text())
    return data


def test_golden_records_its_origin() -> None:
    g = golden()
    assert g["generator"] == "tests/compute/golden/generate_det_golden.py"
    assert g["torchvision_version"].startswith("0.29")


# --------------------------------------------------------------------------------------------
# torchvision golden vectors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", golden()["box_coder"], ids=lambda c: str(c["weights"]))
def test_encode_matches_boxcoder(case: dict[str, Any]) -> None:
    got = detection_boxes.encode_boxes(case["gts"], case["anchors"], case["weights"])
    np.testing.assert_allclose(got, case["encoded"], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", golden()["box_coder"], ids=lambda c: str(c["weights"]))
def test_decode_matches_boxcoder_including_clip(case: dict[str, Any]) -> None:
    got = detection_boxes.decode_boxes(case["deltas"], case["anchors"], case["weights"])
    np.testing.assert_allclose(got, case["decoded"], rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("case", golden()["box_coder"], ids=lambda c: str(c["weights"]))
def test_decode_inverts_encode(case: dict[str, Any]) -> None:
    enc = detection_boxes.encode_boxes(case["gts"], case["anchors"], case["weights"])
    back = detection_boxes.decode_boxes(enc, case["anchors"], case["weights"], clip=math.inf)
    np.testing.assert_allclose(back, case["gts"], rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("name", ["giou", "diou", "ciou"])
def test_iou_losses_match_torchvision(name: str) -> None:
    g = golden()["losses"]
    fn = getattr(detection_boxes, f"{name}_loss")
    np.testing.assert_allclose(fn(g["boxes1"], g["boxes2"]), g[name], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "case", golden()["level_mapper"], ids=lambda c: f"{c['k_min']}-{c['k_max']}"
)
def test_roi_level_matches_level_mapper(case: dict[str, Any]) -> None:
    got = detection_boxes.roi_level(case["boxes"], k_min=case["k_min"], k_max=case["k_max"])
    assert (got - case["k_min"]).tolist() == case["index"]


@pytest.mark.parametrize("case", golden()["rpn"], ids=lambda c: "x".join(map(str, c["image_size"])))
def test_rpn_anchor_count_matches_vgg16_and_anchor_generator(case: dict[str, Any]) -> None:
    h, w = case["image_size"]
    assert list(anchors.vgg16_conv5_size(h, w)) == case["feature_size"]
    assert anchors.rpn_anchor_count(h, w) == case["anchor_count"]


# --------------------------------------------------------------------------------------------
# hand cases
# --------------------------------------------------------------------------------------------


def test_roi_level_hand_cases() -> None:
    boxes = [[0, 0, 224, 224], [0, 0, 112, 112], [0, 0, 448, 448], [0, 0, 32, 32], [0, 0, 100, 500]]
    # sqrt(100 * 500) = 223.6 < 224: level 3, not 4.
    assert detection_boxes.roi_level(boxes).tolist() == [4, 3, 5, 2, 3]
    assert detection_boxes.roi_level([[0, 0, 2000, 2000]], k_max=6).tolist() == [6]
    with pytest.raises(ValueError, match="k_min"):
        detection_boxes.roi_level(boxes, k_min=5, k_max=2)


def test_encode_hand_case() -> None:
    # anchor centre (50, 50), 100 x 100; gt centre (60, 40), 200 x 50.
    t = detection_boxes.encode_boxes([[-40, 15, 160, 65]], [[0, 0, 100, 100]], (10, 10, 5, 5))
    np.testing.assert_allclose(t[0], [1.0, -1.0, 5 * math.log(2), 5 * math.log(0.5)])
    with pytest.raises(ValueError, match="positive width"):
        detection_boxes.encode_boxes([[0, 0, 0, 5]], [[0, 0, 5, 5]])
    with pytest.raises(ValueError, match="weights"):
        detection_boxes.encode_boxes([[0, 0, 5, 5]], [[0, 0, 5, 5]], (1, 1, 0, 1))


def test_iou_losses_hand_case() -> None:
    # Same size, shifted right by half a width: IoU 1/3, centres 5 apart, enclosing 15 x 10.
    a, b = [[0, 0, 10, 10]], [[5, 0, 15, 10]]
    assert detection_boxes.iou_loss(a, b)[0] == pytest.approx(2 / 3)
    assert detection_boxes.diou_loss(a, b)[0] == pytest.approx(2 / 3 + 25 / 325)
    assert detection_boxes.ciou_loss(a, b)[0] == pytest.approx(2 / 3 + 25 / 325)  # v = 0
    assert detection_boxes.giou_loss(a, b)[0] == pytest.approx(2 / 3 + 0.0)
    # A 2:1 box against a square with the same centre: DIoU term 0, v = 4/pi^2 (atan 2 - pi/4)^2.
    c, d = [[0, 0, 20, 10]], [[5, 0, 15, 10]]
    v = 4 / math.pi**2 * (math.atan(2) - math.pi / 4) ** 2
    iou = 0.5
    assert detection_boxes.ciou_loss(c, d)[0] == pytest.approx(1 - iou + v * v / (1 - iou + v))
    with pytest.raises(ValueError, match="pair up"):
        detection_boxes.diou_loss(a, [[0, 0, 1, 1], [0, 0, 2, 2]])


# --------------------------------------------------------------------------------------------
# Soft-NMS: the paper's Algorithm 1, re-read independently
# --------------------------------------------------------------------------------------------


def _iou(a: list[float], b: list[float]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def paper_soft_nms(
    boxes: list[list[float]], scores: list[float], method: str, nt: float, sigma: float
) -> tuple[list[int], list[float]]:
    """B, S and D as in the paper: take argmax from B into D, rescale the rest of S, repeat."""
    pool: list[dict[str, Any]] = [
        {"i": i, "box": b, "s": s} for i, (b, s) in enumerate(zip(boxes, scores, strict=True))
    ]
    pool = [e for e in pool if e["s"] > 0]
    final = list(scores)
    chosen: list[int] = []
    while pool:
        best = pool[0]
        for e in pool[1:]:
            if e["s"] > best["s"]:
                best = e
        pool = [e for e in pool if e is not best]
        chosen.append(best["i"])
        final[best["i"]] = best["s"]
        for e in pool:
            o = _iou(best["box"], e["box"])
            if method == "gaussian":
                e["s"] = e["s"] * math.exp(-o * o / sigma)
            elif o >= nt:
                e["s"] = e["s"] * (1 - o)
            final[e["i"]] = e["s"]
        pool = [e for e in pool if e["s"] > 0]
    return chosen, final


@pytest.mark.parametrize("method", ["linear", "gaussian"])
def test_soft_nms_matches_the_papers_algorithm(method: str) -> None:
    rng = np.random.default_rng(11)
    for _ in range(2000):
        n = int(rng.integers(1, 8))
        xy = rng.uniform(0, 60, (n, 2))
        wh = rng.uniform(5, 60, (n, 2))
        bx = np.round(np.concatenate([xy, xy + wh], axis=1), 1).tolist()
        sc = np.round(rng.uniform(0.05, 1.0, n), 6).tolist()
        nt = float(rng.choice([0.3, 0.5, 0.7]))
        sigma = float(rng.choice([0.5, 0.3, 1.0]))
        res = detection_boxes.soft_nms(bx, sc, method, iou_threshold=nt, sigma=sigma)  # type: ignore[arg-type]
        order, final = paper_soft_nms(bx, sc, method, nt, sigma)
        assert res.order.tolist() == order
        np.testing.assert_allclose(res.scores, final, rtol=1e-12, atol=1e-15)


def test_soft_nms_hand_cases() -> None:
    a, b, c = [0, 0, 10, 10], [5, 0, 15, 10], [100, 100, 110, 110]
    # IoU(a, b) = 1/3: linear with Nt 0.3 gives 0.8 (1 - 1/3); Nt 0.5 leaves it at 0.8 * 1.
    r = detection_boxes.soft_nms([a, b, c], [0.9, 0.8, 0.7], "linear", iou_threshold=0.3)
    assert r.order.tolist() == [0, 2, 1]  # b fell to 0.533, below c's 0.7
    np.testing.assert_allclose(r.scores, [0.9, 0.8 * 2 / 3, 0.7])
    r = detection_boxes.soft_nms([a, b, c], [0.9, 0.8, 0.7], "linear", iou_threshold=0.5)
    np.testing.assert_allclose(r.scores, [0.9, 0.8, 0.7])
    r = detection_boxes.soft_nms([a, b, c], [0.9, 0.8, 0.7], "gaussian", sigma=0.5)
    np.testing.assert_allclose(r.scores, [0.9, 0.8 * math.exp(-(1 / 9) / 0.5), 0.7])
    # With c at 0.5, the rescored b (0.533) still comes before c.
    r2 = detection_boxes.soft_nms([a, b, c], [0.9, 0.8, 0.5], "linear", iou_threshold=0.3)
    assert r2.order.tolist() == [0, 1, 2]
    # An identical box with linear decay drops to 0 and is never selected.
    r = detection_boxes.soft_nms([a, a], [0.9, 0.8], "linear")
    assert r.order.tolist() == [0] and r.scores[1] == 0.0
    with pytest.raises(ValueError, match="method"):
        detection_boxes.soft_nms([a], [0.9], "cubic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scores"):
        detection_boxes.soft_nms([a], [0.9, 0.1])


# --------------------------------------------------------------------------------------------
# YOLOv3 heads (not in torchvision: the paper's figures)
# --------------------------------------------------------------------------------------------


def test_yolov3_heads_paper_figures() -> None:
    # YOLOv3 on COCO: 3 anchors x (4 + 1 + 80) = 255 channels; 416 input -> 13, 26, 52 grids.
    assert anchors.yolo_head_shapes(416) == [(13, 13, 255), (26, 26, 255), (52, 52, 255)]
    assert anchors.yolo_box_count(416) == 10647
    assert anchors.yolo_box_count(608) == 3 * (19 * 19 + 38 * 38 + 76 * 76) == 22743
    assert anchors.yolo_head_shapes(320, classes=20)[0] == (10, 10, 75)
    with pytest.raises(ValueError, match="multiple"):
        anchors.yolo_head_shapes(420)
    with pytest.raises(ValueError, match="empty"):
        anchors.rpn_anchor_count(15, 100)


# --------------------------------------------------------------------------------------------
# live torch cross-checks on thousands of random cases
# --------------------------------------------------------------------------------------------


def _random_pairs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    def rand() -> np.ndarray:
        xy = rng.uniform(-50, 300, (n, 2))
        wh = np.exp(rng.uniform(0, 6, (n, 2)))
        return np.concatenate([xy, xy + wh], axis=1)

    a = rand()
    b = rand()
    b[: n // 2] = a[: n // 2] + rng.normal(0, 20, (n // 2, 4)).clip(-0.9, None) * [1, 1, 0, 0]
    b[: n // 2, 2:] = np.maximum(b[: n // 2, 2:], b[: n // 2, :2] + 0.5)
    return a, b


@pytest.mark.crosscheck
def test_losses_and_coder_match_torch_reexpression() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    a, b = _random_pairs(rng, 4000)
    ta, tb = torch.tensor(a), torch.tensor(b)
    eps = 1e-7
    ix = (torch.minimum(ta[:, 2], tb[:, 2]) - torch.maximum(ta[:, 0], tb[:, 0])).clamp(min=0)
    iy = (torch.minimum(ta[:, 3], tb[:, 3]) - torch.maximum(ta[:, 1], tb[:, 1])).clamp(min=0)
    wa, ha = ta[:, 2] - ta[:, 0], ta[:, 3] - ta[:, 1]
    wb, hb = tb[:, 2] - tb[:, 0], tb[:, 3] - tb[:, 1]
    inter = ix * iy
    union = wa * ha + wb * hb - inter
    iou = inter / (union + eps)
    ex = torch.maximum(ta[:, 2], tb[:, 2]) - torch.minimum(ta[:, 0], tb[:, 0])
    ey = torch.maximum(ta[:, 3], tb[:, 3]) - torch.minimum(ta[:, 1], tb[:, 1])
    rho2 = ((ta[:, 0] + ta[:, 2] - tb[:, 0] - tb[:, 2]) / 2) ** 2 + (
        (ta[:, 1] + ta[:, 3] - tb[:, 1] - tb[:, 3]) / 2
    ) ** 2
    diou = 1 - iou + rho2 / (ex**2 + ey**2 + eps)
    v = 4 / torch.pi**2 * (torch.atan(wb / hb) - torch.atan(wa / ha)) ** 2
    ciou = diou + v / (1 - iou + v + eps) * v
    giou = 1 - iou + (ex * ey - union) / (ex * ey + eps)
    np.testing.assert_allclose(
        detection_boxes.diou_loss(a, b), diou.numpy(), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        detection_boxes.ciou_loss(a, b), ciou.numpy(), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        detection_boxes.giou_loss(a, b), giou.numpy(), rtol=1e-12, atol=1e-12
    )
    # Box coder: encode then decode is the identity; encode matches a torch re-expression.
    w = torch.tensor([10.0, 10.0, 5.0, 5.0], dtype=torch.float64)
    ref = (
        torch.stack(
            [
                (tb[:, 0] + wb / 2 - ta[:, 0] - wa / 2) / wa,
                (tb[:, 1] + hb / 2 - ta[:, 1] - ha / 2) / ha,
                torch.log(wb / wa),
                torch.log(hb / ha),
            ],
            dim=1,
        )
        * w
    )
    enc = detection_boxes.encode_boxes(b, a, (10, 10, 5, 5))
    np.testing.assert_allclose(enc, ref.numpy(), rtol=1e-10, atol=1e-10)
    back = detection_boxes.decode_boxes(enc, a, (10, 10, 5, 5), clip=math.inf)
    np.testing.assert_allclose(back, b, rtol=1e-10, atol=1e-8)


@pytest.mark.crosscheck
def test_roi_level_matches_torch_reexpression() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    xy = rng.uniform(0, 500, (5000, 2))
    wh = np.exp(rng.uniform(0, 7.5, (5000, 2)))
    bx = np.concatenate([xy, xy + wh], axis=1)
    s = torch.sqrt(torch.tensor(wh[:, 0] * wh[:, 1]))
    ref = torch.clamp(torch.floor(4 + torch.log2(s / 224) + 1e-6), 2, 5).to(torch.int64)
    assert detection_boxes.roi_level(bx).tolist() == ref.tolist()
