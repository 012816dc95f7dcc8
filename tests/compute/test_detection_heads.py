"""compute.detection's head arithmetic against torchvision's detection models (golden vectors).

tests/compute/golden/detection.json was written by generate_detection_golden.py in the benchmark
virtualenv (torch and torchvision are not test dependencies): FPN level sizes of Faster R-CNN's and
RetinaNet's ResNet-50 backbones on odd and even inputs, the anchors of their AnchorGenerators, and
SSD300's and SSDlite320's default boxes.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from compute import detection

GOLDEN = Path(__file__).resolve().parent / "golden" / "detection.json"


@cache
def golden() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GOLDEN.read_text())
    return data


HEADS = {
    "fasterrcnn_resnet50_fpn": detection.FASTER_RCNN_FPN,
    "retinanet_resnet50_fpn": detection.RETINANET,
}


def head_cases() -> list[Any]:
    return [
        pytest.param(h, c, id=f"{h['name']}-{c['image_size'][0]}x{c['image_size'][1]}")
        for h in golden()["anchor_heads"]
        for c in h["cases"]
    ]


def test_golden_file_records_its_origin() -> None:
    data = golden()
    assert data["generator"] == "tests/compute/golden/generate_detection_golden.py"
    assert data["torch_version"] and data["torchvision_version"]


@pytest.mark.parametrize("head", golden()["anchor_heads"], ids=lambda h: h["name"])
def test_anchor_head_constants_are_torchvisions(head: dict[str, Any]) -> None:
    ours = HEADS[head["name"]]
    assert list(ours.strides) == head["nominal_strides"]
    assert [list(s) for s in ours.sizes] == head["anchor_sizes"]
    assert [list(ours.aspect_ratios)] * len(ours.sizes) == head["aspect_ratios"]
    assert list(ours.per_location) == head["anchors_per_location"]


@pytest.mark.parametrize(("head", "case"), head_cases())
def test_fpn_level_sizes_and_anchor_counts(head: dict[str, Any], case: dict[str, Any]) -> None:
    ours = HEADS[head["name"]]
    hw = tuple(case["image_size"])
    sizes = detection.fpn_level_sizes(hw, ours.strides)
    assert [list(s) for s in sizes] == case["feature_sizes"]
    assert ours.count(hw) == case["anchor_count"]
    assert detection.anchor_count(sizes, ours.per_location) == case["anchor_count"]


@pytest.mark.parametrize(("head", "case"), [p for p in head_cases() if "anchors" in p.values[1]])
def test_anchor_grid_reproduces_every_anchor(head: dict[str, Any], case: dict[str, Any]) -> None:
    ours = HEADS[head["name"]]
    hw = tuple(case["image_size"])
    got = detection.anchor_grid(
        hw,
        [tuple(s) for s in case["feature_sizes"]],
        ours.sizes,
        [ours.aspect_ratios] * len(ours.sizes),
    )
    want = np.asarray(case["anchors"]).reshape(-1, 4)
    # torchvision builds anchors in float32; all of these are small integers, exact in both.
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("case", golden()["ssd"], ids=lambda c: c["name"])
def test_ssd_default_box_counts(case: dict[str, Any]) -> None:
    per = [detection.ssd_boxes_per_location(r) for r in case["aspect_ratios"]]
    assert per == case["boxes_per_location"]
    assert [4 * n for n in per] == case["head_outputs_per_location"]
    sides = [h for h, w in case["feature_sizes"]]
    assert all(h == w for h, w in case["feature_sizes"])
    assert (
        detection.ssd_default_box_count(sides, case["aspect_ratios"]) == case["default_box_count"]
    )


def test_ssd300_defaults_give_8732_boxes() -> None:
    ssd300 = next(c for c in golden()["ssd"] if c["name"] == "ssd300_vgg16")
    assert [h for h, _ in ssd300["feature_sizes"]] == list(detection.SSD300_FEATURE_SIZES)
    assert detection.ssd_default_box_count() == ssd300["default_box_count"] == 8732


def test_yolov1_paper_configuration() -> None:
    # YOLOv1 is not in torchvision; the paper (Redmon et al., 2016, section 2) gives 7 x 7 x 30.
    assert detection.yolov1_output_shape() == (7, 7, 30)
    assert detection.yolov1_output_shape(grid=13, boxes=5, classes=80) == (13, 13, 105)
    with pytest.raises(ValueError, match="grid"):
        detection.yolov1_output_shape(grid=0)


def test_fpn_level_sizes_round_up() -> None:
    assert detection.fpn_level_sizes((65, 97), (4, 32)) == [(17, 25), (3, 4)]
    with pytest.raises(ValueError, match="powers of two"):
        detection.fpn_level_sizes((64, 64), (6,))
