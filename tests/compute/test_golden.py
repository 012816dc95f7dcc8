"""compute/ against torchvision golden vectors (tests/compute/golden/*.json).

The JSON files were produced by tests/compute/golden/generate_golden.py with torch + torchvision
in a scratch virtualenv (see that script's docstring to regenerate). This module imports neither
torch nor torchvision. Goldens were computed in float64 on CPU, so tolerances are tight; NMS
indices must match exactly, order included.
"""

from __future__ import annotations

import importlib
import json
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
GOLDEN_FILES = ("boxes.json", "nms.json", "roi.json", "losses.json", "models.json")

RTOL = 1e-9
ATOL = 1e-12


@cache
def golden(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN_DIR / name).read_text())
    return data


def mod(name: str) -> ModuleType:
    """Import lazily so that one missing compute module fails only its own tests."""
    return importlib.import_module(name)


def as_array(obj: dict[str, Any]) -> np.ndarray:
    dtype = np.int64 if obj["dtype"] == "int64" else np.float64
    return np.asarray(obj["data"], dtype=dtype).reshape(obj["shape"])


def cases(file: str, key: str) -> list[Any]:
    return [pytest.param(c, id=c["name"]) for c in golden(file)[key]]


def assert_close(actual: Any, expected: np.ndarray) -> None:
    got = np.asarray(actual, dtype=np.float64)
    assert got.shape == expected.shape, f"shape {got.shape} != torchvision {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def assert_indices(actual: Any, expected: np.ndarray) -> None:
    got = np.asarray(actual)
    assert got.dtype == np.int64, f"indices dtype {got.dtype}, expected int64"
    assert got.shape == expected.shape, f"kept {got.shape[0]} boxes, torchvision {expected.shape}"
    np.testing.assert_array_equal(got, expected)


def output_size(value: int | list[int]) -> int | tuple[int, int]:
    return value if isinstance(value, int) else (value[0], value[1])


# --------------------------------------------------------------------------------------------
# Golden files themselves
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_golden_file_records_versions(name: str) -> None:
    data = golden(name)
    assert data["torch_version"] and data["torchvision_version"]
    assert data["generator"] == "tests/compute/golden/generate_golden.py"


# --------------------------------------------------------------------------------------------
# compute.boxes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases("boxes.json", "box_iou"))
def test_box_iou(case: dict[str, Any]) -> None:
    boxes = mod("compute.boxes")
    got = boxes.box_iou(as_array(case["boxes1"]), as_array(case["boxes2"]), fmt=case["fmt"])
    assert_close(got, as_array(case["iou"]))


@pytest.mark.parametrize("case", cases("boxes.json", "generalized_box_iou"))
def test_generalized_box_iou(case: dict[str, Any]) -> None:
    boxes = mod("compute.boxes")
    got = boxes.generalized_box_iou(
        as_array(case["boxes1"]), as_array(case["boxes2"]), fmt=case["fmt"]
    )
    assert_close(got, as_array(case["giou"]))


@pytest.mark.parametrize("case", cases("boxes.json", "box_convert"))
def test_box_convert(case: dict[str, Any]) -> None:
    boxes = mod("compute.boxes")
    got = boxes.box_convert(as_array(case["boxes"]), case["in_fmt"], case["out_fmt"])
    assert_close(got, as_array(case["out"]))


def test_box_iou_accepts_plain_lists() -> None:
    boxes = mod("compute.boxes")
    case = golden("boxes.json")["box_iou"][1]  # handmade_8x8
    b1 = as_array(case["boxes1"]).tolist()
    b2 = as_array(case["boxes2"]).tolist()
    assert_close(boxes.box_iou(b1, b2), as_array(case["iou"]))


@pytest.mark.parametrize("case", cases("nms.json", "nms"))
def test_nms(case: dict[str, Any]) -> None:
    boxes = mod("compute.boxes")
    got = boxes.nms(as_array(case["boxes"]), as_array(case["scores"]), case["iou_threshold"])
    assert_indices(got, as_array(case["keep"]))


@pytest.mark.parametrize("case", cases("nms.json", "batched_nms"))
def test_batched_nms(case: dict[str, Any]) -> None:
    boxes = mod("compute.boxes")
    got = boxes.batched_nms(
        as_array(case["boxes"]),
        as_array(case["scores"]),
        as_array(case["idxs"]),
        case["iou_threshold"],
    )
    assert_indices(got, as_array(case["keep"]))


# --------------------------------------------------------------------------------------------
# compute.roi
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases("roi.json", "roi_align"))
def test_roi_align(case: dict[str, Any]) -> None:
    roi = mod("compute.roi")
    got = roi.roi_align(
        as_array(golden("roi.json")["features"]),
        as_array(case["rois"]),
        output_size(case["output_size"]),
        spatial_scale=case["spatial_scale"],
        sampling_ratio=case["sampling_ratio"],
        aligned=case["aligned"],
    )
    assert_close(got, as_array(case["out"]))


@pytest.mark.parametrize("case", cases("roi.json", "roi_pool"))
def test_roi_pool(case: dict[str, Any]) -> None:
    roi = mod("compute.roi")
    got = roi.roi_pool(
        as_array(golden("roi.json")["features"]),
        as_array(case["rois"]),
        output_size(case["output_size"]),
        spatial_scale=case["spatial_scale"],
    )
    assert_close(got, as_array(case["out"]))


# --------------------------------------------------------------------------------------------
# compute.losses
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases("losses.json", "sigmoid_focal_loss"))
def test_sigmoid_focal_loss(case: dict[str, Any]) -> None:
    losses = mod("compute.losses")
    got = losses.sigmoid_focal_loss(
        as_array(case["logits"]),
        as_array(case["targets"]),
        alpha=case["alpha"],
        gamma=case["gamma"],
        reduction=case["reduction"],
    )
    assert_close(got, as_array(case["out"]))


# --------------------------------------------------------------------------------------------
# compute.params against torchvision.models
# --------------------------------------------------------------------------------------------

MODELS: dict[str, dict[str, Any]] = golden("models.json")["models"]


def test_named_networks_cover_the_contract() -> None:
    params = mod("compute.params")
    for name in ("alexnet", "vgg16", "resnet18"):
        assert name in params.NAMED_NETWORKS, f"NAMED_NETWORKS lacks {name}"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_network_params_match_torchvision(name: str) -> None:
    params = mod("compute.params")
    if name not in params.NAMED_NETWORKS:
        pytest.skip(f"compute.params.NAMED_NETWORKS does not define {name}")
    got = params.network_params(params.NAMED_NETWORKS[name])
    assert got == MODELS[name]["params_total"]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_conv2d_params_per_layer(name: str) -> None:
    params = mod("compute.params")
    for layer in MODELS[name]["conv_layers"]:
        kh, kw = layer["kernel"]
        got = params.conv2d_params(
            layer["in"], layer["out"], kh if kh == kw else (kh, kw), layer["bias"], layer["groups"]
        )
        assert got == layer["params"], layer


@pytest.mark.parametrize("name", sorted(MODELS))
def test_linear_params_per_layer(name: str) -> None:
    params = mod("compute.params")
    for layer in MODELS[name]["linear_layers"]:
        assert params.linear_params(layer["in"], layer["out"], layer["bias"]) == layer["params"]


@pytest.mark.parametrize("name", sorted(n for n, m in MODELS.items() if m["bn_layers"]))
def test_batchnorm_params_sum_to_torchvision(name: str) -> None:
    params = mod("compute.params")
    counts = [params.batchnorm_params(n) for n in MODELS[name]["bn_num_features"]]
    assert sum(c.learnable for c in counts) == MODELS[name]["bn_learnable"]
    assert sum(c.buffers for c in counts) == MODELS[name]["bn_buffers"]
