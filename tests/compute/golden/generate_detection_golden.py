"""Produce tests/compute/golden/detection.json: torchvision's detection heads, for test_detection_heads.py.

torchvision is not a test dependency, so its detection models are run once here, in the benchmark
virtualenv (torch 2.14.1, torchvision 0.29.1), and what compute.detection must reproduce is
recorded: FPN feature-map sizes of the Faster R-CNN and RetinaNet ResNet-50 backbones on inputs of
odd and even sizes, the anchors their ``AnchorGenerator`` builds (every coordinate for small
inputs, the count for a full-size one), and SSD300's and SSDlite320's default-box counts.

    cd /work/main && .venv-bench/bin/python tests/compute/golden/generate_detection_golden.py

Models are built with random weights (``weights=None, weights_backbone=None``): shapes and
anchors do not depend on the weights. Backbones run on zero images, on CPU, without the models'
resize-and-pad transform, so the sizes are those of the raw input.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision
from torchvision.models.detection import (
    fasterrcnn_resnet50_fpn,
    retinanet_resnet50_fpn,
    ssd300_vgg16,
    ssdlite320_mobilenet_v3_large,
)
from torchvision.models.detection.image_list import ImageList

OUT = Path(__file__).resolve().parent / "detection.json"
SMALL_INPUTS = [(64, 64), (65, 97), (100, 37), (33, 33), (127, 255), (1, 1), (224, 224)]
LARGE_INPUTS = [(800, 1216)]


def feature_sizes(backbone: torch.nn.Module, hw: tuple[int, int]) -> tuple[list[list[int]], Any]:
    with torch.no_grad():
        feats = backbone(torch.zeros(1, 3, *hw))
    return [list(f.shape[-2:]) for f in feats.values()], feats


def anchors_for(model: Any, hw: tuple[int, int], feats: Any) -> torch.Tensor:
    images = ImageList(torch.zeros(1, 3, *hw), [hw])
    anchors: torch.Tensor = model.anchor_generator(images, list(feats.values()))[0]
    return anchors


def head_cases(model: Any, name: str, strides: list[int]) -> dict[str, Any]:
    model.eval()
    gen = model.rpn.anchor_generator if hasattr(model, "rpn") else model.anchor_generator
    holder = type("Holder", (), {"anchor_generator": gen})()
    out: dict[str, Any] = {
        "name": name,
        "nominal_strides": strides,
        "anchor_sizes": [list(map(float, s)) for s in gen.sizes],
        "aspect_ratios": [list(map(float, r)) for r in gen.aspect_ratios],
        "anchors_per_location": list(gen.num_anchors_per_location()),
        "cases": [],
    }
    for hw in SMALL_INPUTS + LARGE_INPUTS:
        sizes, feats = feature_sizes(model.backbone, hw)
        anchors = anchors_for(holder, hw, feats)
        case: dict[str, Any] = {
            "image_size": list(hw),
            "feature_sizes": sizes,
            "anchor_count": int(anchors.shape[0]),
        }
        if hw in SMALL_INPUTS and anchors.shape[0] <= 2000:  # keep the file small
            case["anchors"] = anchors.to(torch.float64).numpy().ravel().tolist()
        out["cases"].append(case)
    return out


def ssd_case(model: Any, name: str, hw: tuple[int, int]) -> dict[str, Any]:
    model.eval()
    with torch.no_grad():
        feats = model.backbone(torch.zeros(1, 3, *hw))
        maps = list(feats.values())
        images = ImageList(torch.zeros(1, 3, *hw), [hw])
        boxes = model.anchor_generator(images, maps)[0]
    return {
        "name": name,
        "image_size": list(hw),
        "feature_sizes": [list(f.shape[-2:]) for f in maps],
        "aspect_ratios": [list(map(float, r)) for r in model.anchor_generator.aspect_ratios],
        "boxes_per_location": list(model.anchor_generator.num_anchors_per_location()),
        "default_box_count": int(boxes.shape[0]),
        "head_outputs_per_location": [
            int(m.out_channels) for m in _head_convs(model.head.regression_head)
        ],
    }


def _head_convs(head: Any) -> list[Any]:
    """Return the last conv of each level's regression head (its out_channels = 4 * boxes)."""
    convs = []
    for module in head.module_list:
        last = [m for m in module.modules() if isinstance(m, torch.nn.Conv2d)][-1]
        convs.append(last)
    return convs


def main() -> None:
    torch.manual_seed(0)
    payload = {
        "generator": "tests/compute/golden/generate_detection_golden.py",
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "anchor_heads": [
            head_cases(
                fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None),
                "fasterrcnn_resnet50_fpn",
                [4, 8, 16, 32, 64],
            ),
            head_cases(
                retinanet_resnet50_fpn(weights=None, weights_backbone=None),
                "retinanet_resnet50_fpn",
                [8, 16, 32, 64, 128],
            ),
        ],
        "ssd": [
            ssd_case(ssd300_vgg16(weights=None, weights_backbone=None), "ssd300_vgg16", (300, 300)),
            ssd_case(
                ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None),
                "ssdlite320_mobilenet_v3_large",
                (320, 320),
            ),
        ],
    }
    OUT.write_text(json.dumps(payload, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
