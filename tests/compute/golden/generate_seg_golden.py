"""Produce tests/compute/golden/seg.json: torchvision's segmentation models, for test_segmentation.py.

torchvision is not a test dependency, so its DeepLabv3 and FCN models are built once here, in the
benchmark virtualenv (torch 2.14.1, torchvision 0.29.1), and what compute.segmentation must
reproduce is recorded: the backbone's output size at output stride 8 (torchvision's default,
``replace_stride_with_dilation=[False, True, True]``) on odd and even inputs, the dilations of
the backbone's last two stages, and the ASPP branch rates of the DeepLabv3 head.

    cd /work/wt/seg && /work/main/.venv-bench/bin/python tests/compute/golden/generate_seg_golden.py

Models have random weights (``weights=None, weights_backbone=None``); sizes do not depend on them.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import torch
import torchvision
from torchvision.models.segmentation import deeplabv3_resnet50, fcn_resnet50

OUT = Path(__file__).resolve().parent / "seg.json"
INPUTS = [(513, 513), (321, 481), (224, 224), (97, 65), (520, 520), (33, 47)]


def backbone_sizes(model: Any) -> list[dict[str, Any]]:
    out = []
    with torch.no_grad():
        for hw in INPUTS:
            feats = model.backbone(torch.zeros(1, 3, *hw))
            full = model(torch.zeros(1, 3, *hw))["out"]
            out.append(
                {
                    "input": list(hw),
                    "out": list(feats["out"].shape[1:]),
                    "logits": list(full.shape[1:]),
                }
            )
    return out


def dilations(model: Any) -> dict[str, list[int]]:
    bb = model.backbone
    return {
        name: [int(m.conv2.dilation[0]) for m in getattr(bb, name)] for name in ("layer3", "layer4")
    }


def main() -> None:
    torch.manual_seed(0)
    deeplab = deeplabv3_resnet50(weights=None, weights_backbone=None, num_classes=21).eval()
    fcn = fcn_resnet50(weights=None, weights_backbone=None, num_classes=21).eval()
    aspp = deeplab.classifier[0]
    rates = [int(branch[0].dilation[0]) for branch in list(aspp.convs)[1:4]]
    data = {
        "generator": {
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "python": platform.python_version(),
        },
        "deeplabv3_resnet50": {
            "aspp_rates": rates,
            "aspp_branches": len(aspp.convs),
            "dilations": dilations(deeplab),
            "sizes": backbone_sizes(deeplab),
        },
        "fcn_resnet50": {"dilations": dilations(fcn), "sizes": backbone_sizes(fcn)},
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
