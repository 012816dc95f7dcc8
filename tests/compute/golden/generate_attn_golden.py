"""Produce tests/compute/golden/attn.json: torchvision blocks for tests/compute/test_attention.py.

torchvision is not a test dependency, so its blocks are built once here, in the benchmark
virtualenv (torch 2.14.1, torchvision 0.29.1), and their parameter counts and shapes recorded:
``SqueezeExcitation``, MobileNetV2's ``InvertedResidual`` (with and without its BatchNorms),
``VisionTransformer`` (token count, ``conv_proj``, position embedding, one encoder block) and
DenseNet's channels after every dense block and transition.

    cd /work/main && .venv-bench/bin/python /work/wt/attn/tests/compute/golden/generate_attn_golden.py

Models are built with random weights; no count depends on them.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision
from torchvision.models.densenet import DenseNet, _DenseBlock, _Transition
from torchvision.models.mobilenetv2 import InvertedResidual
from torchvision.models.vision_transformer import VisionTransformer
from torchvision.ops import SqueezeExcitation

OUT = Path(__file__).resolve().parent / "attn.json"
SEED = 20_261_203


def count(module: torch.nn.Module, skip_bn: bool = False) -> int:
    total = 0
    for sub in module.modules():
        if skip_bn and isinstance(sub, torch.nn.BatchNorm2d):
            continue
        total += sum(p.numel() for p in sub.parameters(recurse=False))
    return total


def se_cases(rng: np.random.Generator) -> list[dict[str, int]]:
    out = []
    for _ in range(200):
        c = int(rng.integers(1, 1025))
        s = int(rng.integers(1, 257))
        out.append({"channels": c, "squeeze": s, "params": count(SqueezeExcitation(c, s))})
    return out


def ir_cases(rng: np.random.Generator) -> list[dict[str, int]]:
    out = []
    for _ in range(200):
        inp = int(rng.integers(1, 321))
        oup = int(rng.integers(1, 321))
        t = int(rng.choice([1, 2, 3, 4, 6]))
        stride = int(rng.choice([1, 2]))
        block = InvertedResidual(inp, oup, stride, t)
        out.append(
            {
                "in": inp,
                "out": oup,
                "t": t,
                "stride": stride,
                "params": count(block),
                "params_no_bn": count(block, skip_bn=True),
            }
        )
    return out


def vit_cases(rng: np.random.Generator) -> list[dict[str, int]]:
    out = []
    for image, patch in [(224, 16), (224, 32), (224, 14), (384, 16), (384, 32), (256, 8), (32, 4)]:
        for hidden, heads in [(192, 3), (384, 6), (768, 12)]:
            mlp = 4 * hidden
            model = VisionTransformer(image, patch, 1, heads, hidden, mlp)
            block = model.encoder.layers[0]
            out.append(
                {
                    "image": image,
                    "patch": patch,
                    "hidden": hidden,
                    "heads": heads,
                    "mlp": mlp,
                    "seq_length": int(model.seq_length),
                    "conv_proj": count(model.conv_proj),
                    "pos_embedding": int(model.encoder.pos_embedding.numel()),
                    "class_token": int(model.class_token.numel()),
                    "encoder_block": count(block),
                }
            )
    del rng
    return out


def densenet_cases() -> list[dict[str, Any]]:
    configs = [
        (32, (6, 12, 24, 16), 64),  # densenet121
        (32, (6, 12, 32, 32), 64),  # densenet169
        (32, (6, 12, 48, 32), 64),  # densenet201
        (48, (6, 12, 36, 24), 96),  # densenet161
        (12, (16, 16, 16), 24),
        (24, (3, 5), 17),
    ]
    out = []
    for k, blocks, k0 in configs:
        model = DenseNet(growth_rate=k, block_config=blocks, num_init_features=k0)
        after_block: list[int] = []
        after_transition: list[int] = []
        for module in model.features.children():
            if isinstance(module, _DenseBlock):
                layers = list(module.children())
                first = layers[0].conv1.in_channels
                after_block.append(first + len(layers) * k)
            elif isinstance(module, _Transition):
                after_transition.append(module.conv.out_channels)
        assert after_block[-1] == model.classifier.in_features
        out.append(
            {
                "init": k0,
                "growth": k,
                "blocks": list(blocks),
                "after_block": after_block,
                "after_transition": after_transition,
            }
        )
    return out


def main() -> None:
    rng = np.random.default_rng(SEED)
    torch.manual_seed(SEED)
    data = {
        "versions": {
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "python": platform.python_version(),
        },
        "squeeze_excitation": se_cases(rng),
        "inverted_residual": ir_cases(rng),
        "vit": vit_cases(rng),
        "densenet": densenet_cases(),
    }
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
