"""Produce tests/compute/golden/det.json: torchvision's box coder, IoU losses, level mapper, RPN anchors.

torchvision is not a test dependency, so it runs once here, in the benchmark virtualenv (torch
2.14.1, torchvision 0.29.1), and test_detection_boxes.py checks compute.detection_boxes and
compute.anchors against what it records:

- ``BoxCoder`` ``encode_single`` / ``decode_single`` with weights (10, 10, 5, 5) and (1, 1, 1, 1),
  on random box pairs (and decode on random deltas, some large enough to hit the clip);
- ``generalized_box_iou_loss``, ``distance_box_iou_loss`` and ``complete_box_iou_loss``
  (``reduction="none"``) on random pairs, overlapping, nested and disjoint;
- ``poolers.LevelMapper`` (canonical 224 at level 4, eps 1e-6) for levels 2-5 and 3-6, on
  random boxes and on the boundary sizes 112, 224, 448;
- VGG16's ``conv5_3`` feature-map size (``vgg16().features[:-1]``) and the count of a
  single-level ``AnchorGenerator`` (3 sizes x 3 ratios) on it, for several image sizes.

    cd /work/wt/det && /work/main/.venv-bench/bin/python tests/compute/golden/generate_det_golden.py

Everything is computed in float64 on CPU with a fixed seed; inputs are rounded to 2 decimals so
the file stays small.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision
from torchvision.models import vgg16
from torchvision.models.detection._utils import BoxCoder
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.ops import complete_box_iou_loss, distance_box_iou_loss, generalized_box_iou_loss
from torchvision.ops.poolers import LevelMapper

OUT = Path(__file__).resolve().parent / "det.json"
RNG = np.random.default_rng(20261203)


def random_boxes(n: int, span: float = 400.0) -> np.ndarray:
    x1 = RNG.uniform(0, span, n)
    y1 = RNG.uniform(0, span, n)
    w = np.exp(RNG.uniform(np.log(2), np.log(span), n))
    h = np.exp(RNG.uniform(np.log(2), np.log(span), n))
    return np.round(np.stack([x1, y1, x1 + w, y1 + h], axis=1), 2)


def near(b: np.ndarray) -> np.ndarray:
    """Perturb boxes so that pairs overlap more often than random ones do."""
    w = b[:, 2] - b[:, 0]
    h = b[:, 3] - b[:, 1]
    cx = b[:, 0] + w / 2 + RNG.normal(0, 0.3, len(b)) * w
    cy = b[:, 1] + h / 2 + RNG.normal(0, 0.3, len(b)) * h
    nw = w * np.exp(RNG.normal(0, 0.4, len(b)))
    nh = h * np.exp(RNG.normal(0, 0.4, len(b)))
    return np.round(np.stack([cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2], axis=1), 2)


def t(a: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(a, dtype=torch.float64)


def box_coder() -> list[dict[str, Any]]:
    out = []
    anchors = random_boxes(150)
    gts = near(anchors)
    deltas = np.round(RNG.normal(0, 1.5, (150, 4)), 3)
    deltas[:10, 2:] = np.round(RNG.uniform(4.5, 30, (10, 2)), 3)  # beyond the clip after /weight
    for weights in ((10.0, 10.0, 5.0, 5.0), (1.0, 1.0, 1.0, 1.0)):
        coder = BoxCoder(weights)
        enc = coder.encode_single(t(gts), t(anchors))
        dec = coder.decode_single(t(deltas), t(anchors))
        out.append(
            {
                "weights": list(weights),
                "anchors": anchors.tolist(),
                "gts": gts.tolist(),
                "encoded": enc.numpy().tolist(),
                "deltas": deltas.tolist(),
                "decoded": dec.numpy().tolist(),
            }
        )
    return out


def losses() -> dict[str, Any]:
    a = random_boxes(300)
    b = np.concatenate([near(a[:200]), random_boxes(100)])
    b[190:200] = np.round(a[190:200] + np.array([2.0, 2.0, -2.0, -2.0]), 2)  # nested
    b[190:200, 2:] = np.maximum(b[190:200, 2:], b[190:200, :2] + 0.5)
    ta, tb = t(a), t(b)
    return {
        "boxes1": a.tolist(),
        "boxes2": b.tolist(),
        "giou": generalized_box_iou_loss(ta, tb, reduction="none").numpy().tolist(),
        "diou": distance_box_iou_loss(ta, tb, reduction="none").numpy().tolist(),
        "ciou": complete_box_iou_loss(ta, tb, reduction="none").numpy().tolist(),
    }


def level_mapper() -> list[dict[str, Any]]:
    out = []
    sides = [112.0, 224.0, 448.0, 896.0, 111.99, 224.01, 447.9, 56.0, 2000.0]
    special = np.array([[0.0, 0.0, s, s] for s in sides] + [[10.0, 10.0, 10.0, 50.0]])
    boxes = np.concatenate([special, random_boxes(200, span=1200.0)])
    for k_min, k_max in ((2, 5), (3, 6)):
        mapper = LevelMapper(k_min, k_max)
        idx = mapper([t(boxes)])
        out.append(
            {
                "k_min": k_min,
                "k_max": k_max,
                "boxes": boxes.tolist(),
                "index": idx.numpy().tolist(),
            }
        )
    return out


def rpn() -> list[dict[str, Any]]:
    features = vgg16(weights=None).features[:-1].eval()
    gen = AnchorGenerator(sizes=((128, 256, 512),), aspect_ratios=((0.5, 1.0, 2.0),))
    out = []
    for hw in ((600, 1000), (600, 800), (375, 500), (33, 47), (224, 224), (511, 513)):
        with torch.no_grad():
            feat = features(torch.zeros(1, 3, *hw))
        anchors = gen(ImageList(torch.zeros(1, 3, *hw), [hw]), [feat])[0]
        out.append(
            {
                "image_size": list(hw),
                "feature_size": list(feat.shape[-2:]),
                "anchor_count": int(anchors.shape[0]),
            }
        )
    return out


def main() -> None:
    torch.manual_seed(0)
    data = {
        "generator": "tests/compute/golden/generate_det_golden.py",
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "python": platform.python_version(),
        "box_coder": box_coder(),
        "losses": losses(),
        "level_mapper": level_mapper(),
        "rpn": rpn(),
    }
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
