"""compute.attention and compute.architectures against torchvision blocks (golden vectors).

tests/compute/golden/attn.json was written by generate_attn_golden.py in the benchmark virtualenv
(torchvision is not a test dependency): parameter counts of ``SqueezeExcitation`` and MobileNetV2's
``InvertedResidual``, ViT token counts, ``conv_proj``, position embedding and encoder-block
parameters, and DenseNet's channels after every block and transition. The live PyTorch
cross-checks are in test_crosscheck_attention.py; argument errors and the closed forms are here.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from compute import architectures as arch
from compute import attention as attn

NOT_A_BOOL: Any = 1
GOLDEN = Path(__file__).resolve().parent / "golden" / "attn.json"


@cache
def golden() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GOLDEN.read_text())
    return data


def test_golden_file_records_its_origin() -> None:
    assert golden()["versions"]["torchvision"]


def test_se_params_match_torchvision_squeeze_excitation() -> None:
    cases = golden()["squeeze_excitation"]
    assert len(cases) >= 100
    for c in cases:
        assert arch.se_params(c["channels"], c["squeeze"]) == c["params"], c


def test_inverted_residual_params_match_torchvision() -> None:
    cases = golden()["inverted_residual"]
    assert {c["t"] for c in cases} >= {1, 6}
    for c in cases:
        assert arch.inverted_residual_params(c["in"], c["out"], c["t"]) == c["params"], c
        no_bn = arch.inverted_residual_params(c["in"], c["out"], c["t"], count_bn=False)
        assert no_bn == c["params_no_bn"], c


def test_vit_counts_match_torchvision_vision_transformer() -> None:
    for c in golden()["vit"]:
        assert attn.vit_tokens(c["image"], c["patch"]) == c["seq_length"], c
        assert attn.vit_patch_embed_params(c["patch"], 3, c["hidden"]) == c["conv_proj"], c
        assert attn.vit_pos_embed_params(c["image"], c["patch"], c["hidden"]) == c["pos_embedding"]
        assert c["class_token"] == c["hidden"]
        # torchvision's EncoderBlock: LayerNorm, MultiheadAttention, LayerNorm, MLP (two Linear).
        block = attn.encoder_layer_params(c["hidden"], c["heads"], c["mlp"])
        assert block == c["encoder_block"], c


def test_vit_b16_figures() -> None:
    assert attn.vit_tokens(224, 16) == 197
    assert attn.vit_tokens(224, 16, extra_tokens=2) == 198  # DeiT: class + distillation token
    assert attn.vit_patch_embed_params(16, 3, 768) == 16 * 16 * 3 * 768 + 768 == 590_592


def test_densenet_channels_match_torchvision() -> None:
    for c in golden()["densenet"]:
        got = arch.densenet_channels(c["init"], c["growth"], c["blocks"])
        assert list(got.after_block) == c["after_block"], c
        assert list(got.after_transition) == c["after_transition"], c


def test_densenet121_channels() -> None:
    got = arch.densenet_channels(64, 32, (6, 12, 24, 16))
    assert got.after_block == (256, 512, 1024, 1024)
    assert got.after_transition == (128, 256, 512)


def test_mha_params_closed_form() -> None:
    rng = np.random.default_rng(3)
    for _ in range(2000):
        h = int(rng.integers(1, 17))
        d = h * int(rng.integers(1, 65))
        assert attn.mha_params(d, h) == 4 * d * d + 4 * d
        assert attn.mha_params(d, h, bias=False) == 4 * d * d


def test_mha_flops_closed_form() -> None:
    assert attn.mha_macs(196, 768) == 4 * 196 * 768**2 + 2 * 196**2 * 768
    assert attn.mha_flops(10, 8, kv_len=20) == 2 * (2 * 10 * 64 + 2 * 20 * 64 + 2 * 10 * 20 * 8)


def test_pointwise_mac_bound_is_reached_only_at_equal_channels() -> None:
    rng = np.random.default_rng(5)
    for _ in range(1000):
        hw = int(rng.integers(1, 40))
        product = int(rng.integers(1, 2000))
        macs = [
            (arch.pointwise_mac(hw, 1, c1, product // c1), c1)
            for c1 in range(1, product + 1)
            if product % c1 == 0
        ]
        bound = arch.pointwise_mac_lower_bound(hw, 1, hw * product)
        assert all(m >= bound - 1e-9 for m, _ in macs)
        root = math.isqrt(product)
        if root * root == product:
            best = min(macs)
            assert best[1] == root and best[0] == pytest.approx(bound)


def test_norm_counts_per_kind() -> None:
    shape = (8, 32, 14, 14)
    assert arch.norm_statistics("batch", shape) == 32
    assert arch.norm_statistics("layer", shape) == 8
    assert arch.norm_statistics("instance", shape) == 256
    assert arch.norm_statistics("group", shape, groups=4) == 32
    assert arch.norm_affine_params("layer", shape) == 2 * 32 * 14 * 14
    assert arch.norm_affine_params("instance", shape, affine=False) == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: attn.mha_params(10, 3), "num_heads"),
        (lambda: attn.mha_params(0, 1), "embed_dim"),
        (lambda: attn.mha_params(8, 2, bias=NOT_A_BOOL), "bias"),
        (lambda: attn.vit_tokens(224, 15), "image_size"),
        (lambda: attn.vit_tokens(224, 16, extra_tokens=-1), "extra_tokens"),
        (lambda: attn.encoder_layer_params(8, 2, 0), "dim_feedforward"),
        (lambda: arch.se_params(8, 0), "squeeze_channels"),
        (lambda: arch.inverted_residual_params(8, 8, 0), "expand_ratio"),
        (lambda: arch.densenet_channels(64, 32, ()), "block_layers"),
        (lambda: arch.densenet_channels(64, 32, (6,), compression=0.0), "compression"),
        (lambda: arch.group_conv_params(12, 8, 3, 5), "groups"),
        (lambda: arch.pointwise_mac(0, 1, 1, 1), "height"),
        (lambda: arch.norm_statistics("batchx", (1, 2, 3, 4)), "kind"),
        (lambda: arch.norm_statistics("group", (1, 6, 3, 4), groups=4), "groups"),
        (lambda: arch.norm_statistics("layer", (1, 6, 3)), "shape"),
        (lambda: arch.norm_forward(np.full((1, 2, 2, 2), np.nan), "batch"), "x"),
    ],
)
def test_bad_arguments_raise_value_error(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}"):
        call()
