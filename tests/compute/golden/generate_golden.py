"""Produce the torchvision golden vectors that tests/compute/test_golden.py checks compute/ against.

The test suite itself never imports torch or torchvision; it only reads the JSON files written here.
torchvision is not a project dependency, so regenerate from a scratch virtualenv outside the repo
(never commit it):

    python3.11 -m venv /work/tv-venv
    /work/tv-venv/bin/pip install torch==2.14.1 torchvision==0.29.1 numpy
    cd /work/main && /work/tv-venv/bin/python tests/compute/golden/generate_golden.py

Output (next to this script): boxes.json, nms.json, roi.json, losses.json, models.json.
Inputs come from seeded NumPy generators (independent of torch's RNG), every op runs on CPU in
float64, and values are stored unrounded (JSON floats round-trip float64 exactly). Each file
records the torch and torchvision versions that produced it. Arrays are stored together with their
shape so that empty arrays keep their shape.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision
from torch import nn
from torchvision import models, ops

OUT_DIR = Path(__file__).resolve().parent
SEED = 20261122
FMTS = ("xyxy", "xywh", "cxcywh")


def arr(x: Any) -> dict[str, Any]:
    """Encode a tensor or array as {"shape": [...], "data": flat list} (float64 or int64)."""
    a = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if a.dtype.kind in "iub":
        return {
            "shape": list(a.shape),
            "dtype": "int64",
            "data": a.astype(np.int64).ravel().tolist(),
        }
    return {
        "shape": list(a.shape),
        "dtype": "float64",
        "data": a.astype(np.float64).ravel().tolist(),
    }


def t64(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


def header(kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "generator": "tests/compute/golden/generate_golden.py",
        "seed": SEED,
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "dtype": "float64 (CPU)",
    }


def write(name: str, payload: dict[str, Any]) -> None:
    path = OUT_DIR / name
    path.write_text(json.dumps(payload, separators=(",", ":")) + "\n")
    print(f"wrote {path.relative_to(OUT_DIR.parents[2])} ({path.stat().st_size:,} bytes)")


# --------------------------------------------------------------------------------------------
# Box inputs
# --------------------------------------------------------------------------------------------


def random_boxes(rng: np.random.Generator, n: int, extent: float = 100.0) -> np.ndarray:
    """n valid xyxy boxes with positive width/height inside roughly [0, extent]^2."""
    xy = rng.uniform(0.0, extent, size=(n, 2))
    wh = rng.uniform(0.5, extent * 0.4, size=(n, 2))
    return np.concatenate([xy, xy + wh], axis=1)


def clustered_boxes(
    rng: np.random.Generator, n: int, clusters: int, extent: float = 400.0
) -> np.ndarray:
    """Detector-like proposals: jittered copies of a few object boxes."""
    centers = rng.uniform(0.1 * extent, 0.9 * extent, size=(clusters, 2))
    sizes = rng.uniform(0.05 * extent, 0.25 * extent, size=(clusters, 2))
    which = rng.integers(0, clusters, size=n)
    c = centers[which] + rng.normal(0.0, 1.0, size=(n, 2)) * sizes[which] * 0.15
    wh = sizes[which] * rng.uniform(0.7, 1.3, size=(n, 2))
    return np.concatenate([c - wh / 2, c + wh / 2], axis=1)


HANDMADE = np.array(
    [
        [0.0, 0.0, 10.0, 10.0],  # reference
        [0.0, 0.0, 10.0, 10.0],  # identical
        [2.0, 2.0, 8.0, 8.0],  # nested inside
        [10.0, 0.0, 20.0, 10.0],  # touches the right edge (zero overlap)
        [5.0, 5.0, 15.0, 15.0],  # quarter overlap
        [30.0, 30.0, 40.0, 45.0],  # disjoint, far
        [0.0, 0.0, 10.0, 5.0],  # lower half (IoU 0.5 with reference)
        [-5.0, -5.0, 0.5, 0.5],  # negative coordinates, small corner overlap
        [3.0, 4.0, 3.0, 9.0],  # zero width (degenerate)
    ]
)


def gen_boxes(rng: np.random.Generator) -> dict[str, Any]:
    out = header("boxes")
    iou_cases: list[dict[str, Any]] = []
    giou_cases: list[dict[str, Any]] = []

    b1 = random_boxes(rng, 37)
    b2 = random_boxes(rng, 53)
    # Non-degenerate handmade set for GIoU (its enclosing box must have positive area).
    hand = HANDMADE[:-1]
    pairs = {
        "random_37x53": (b1, b2),
        "handmade_8x8": (hand, hand),
        "handmade_with_zero_width_9x9": (HANDMADE, HANDMADE[:8]),
        "integer_grid_20x20": (
            np.floor(random_boxes(rng, 20, extent=30.0)),
            np.ceil(random_boxes(rng, 20, extent=30.0)),
        ),
        "empty_rhs_5x0": (b1[:5], np.zeros((0, 4))),
        "empty_lhs_0x4": (np.zeros((0, 4)), b2[:4]),
    }
    for name, (x, y) in pairs.items():
        tx, ty = t64(x), t64(y)
        iou = ops.box_iou(tx, ty)
        iou_cases.append(
            {"name": name, "fmt": "xyxy", "boxes1": arr(tx), "boxes2": arr(ty), "iou": arr(iou)}
        )
        if "zero_width" not in name:
            giou = ops.generalized_box_iou(tx, ty)
            giou_cases.append(
                {
                    "name": name,
                    "fmt": "xyxy",
                    "boxes1": arr(tx),
                    "boxes2": arr(ty),
                    "giou": arr(giou),
                }
            )

    # The same random pair given in the other formats (compute's fmt= argument); torchvision has
    # no fmt argument, so the golden is box_iou of the xyxy originals.
    tx, ty = t64(b1[:12]), t64(b2[:15])
    for fmt in ("xywh", "cxcywh"):
        cx, cy = ops.box_convert(tx, "xyxy", fmt), ops.box_convert(ty, "xyxy", fmt)
        iou_cases.append(
            {
                "name": f"random_12x15_{fmt}",
                "fmt": fmt,
                "boxes1": arr(cx),
                "boxes2": arr(cy),
                "iou": arr(ops.box_iou(tx, ty)),
            }
        )
        giou_cases.append(
            {
                "name": f"random_12x15_{fmt}",
                "fmt": fmt,
                "boxes1": arr(cx),
                "boxes2": arr(cy),
                "giou": arr(ops.generalized_box_iou(tx, ty)),
            }
        )

    convert_cases: list[dict[str, Any]] = []
    base = t64(random_boxes(rng, 16))
    for in_fmt in FMTS:
        src = ops.box_convert(base, "xyxy", in_fmt)
        for out_fmt in FMTS:
            convert_cases.append(
                {
                    "name": f"{in_fmt}_to_{out_fmt}",
                    "in_fmt": in_fmt,
                    "out_fmt": out_fmt,
                    "boxes": arr(src),
                    "out": arr(ops.box_convert(src, in_fmt, out_fmt)),
                }
            )

    out["box_iou"] = iou_cases
    out["generalized_box_iou"] = giou_cases
    out["box_convert"] = convert_cases
    return out


# --------------------------------------------------------------------------------------------
# NMS
# --------------------------------------------------------------------------------------------


def gen_nms(rng: np.random.Generator) -> dict[str, Any]:
    out = header("nms")
    nms_cases: list[dict[str, Any]] = []

    def add(name: str, boxes: np.ndarray, scores: np.ndarray, thr: float) -> None:
        tb, ts = t64(boxes.reshape(-1, 4)), t64(scores.reshape(-1))
        keep = ops.nms(tb, ts, thr)
        nms_cases.append(
            {
                "name": f"{name}_t{thr}",
                "iou_threshold": thr,
                "boxes": arr(tb),
                "scores": arr(ts),
                "keep": arr(keep),
            }
        )

    clustered = clustered_boxes(rng, 300, clusters=12)
    scores = rng.uniform(0.0, 1.0, size=300)
    equal = np.full(60, 0.5)
    cl60 = clustered_boxes(rng, 60, clusters=5)
    quantized = np.round(rng.uniform(0.0, 1.0, size=150) * 4) / 4  # 5 levels, many ties
    cl150 = clustered_boxes(rng, 150, clusters=8)
    for thr in (0.3, 0.5, 0.7):
        add("clustered_300", clustered, scores, thr)
        add("equal_scores_60", cl60, equal, thr)
        add("tied_scores_150", cl150, quantized, thr)
        add("empty", np.zeros((0, 4)), np.zeros(0), thr)
    add("single_box", np.array([[1.0, 2.0, 3.0, 4.0]]), np.array([0.9]), 0.5)
    # IoU exactly 0.5 with the threshold 0.5: not suppressed (suppression needs IoU > threshold).
    add("iou_equals_threshold", HANDMADE[[0, 6]], np.array([0.9, 0.8]), 0.5)
    # Identical boxes: IoU 1.0 is not > 1.0, so both survive at threshold 1.0; one at 0.99.
    dup = np.array([[0.0, 0.0, 4.0, 4.0], [0.0, 0.0, 4.0, 4.0], [1.0, 1.0, 5.0, 5.0]])
    add("duplicates", dup, np.array([0.3, 0.7, 0.5]), 1.0)
    add("duplicates", dup, np.array([0.3, 0.7, 0.5]), 0.99)
    # Scores out of input order plus negative scores.
    add("negative_scores_40", random_boxes(rng, 40, extent=30.0), rng.normal(0, 1, size=40), 0.5)

    batched: list[dict[str, Any]] = []

    def add_b(
        name: str, boxes: np.ndarray, scores: np.ndarray, idxs: np.ndarray, thr: float
    ) -> None:
        tb, ts = t64(boxes.reshape(-1, 4)), t64(scores.reshape(-1))
        ti = torch.from_numpy(idxs.astype(np.int64).reshape(-1))
        keep = ops.batched_nms(tb, ts, ti, thr)
        batched.append(
            {
                "name": f"{name}_t{thr}",
                "iou_threshold": thr,
                "boxes": arr(tb),
                "scores": arr(ts),
                "idxs": arr(ti),
                "keep": arr(keep),
            }
        )

    # Distinct continuous scores: batched_nms orders survivors by score, so ties between
    # classes would make the order implementation-defined.
    b400 = clustered_boxes(rng, 400, clusters=10)
    s400 = rng.uniform(0.0, 1.0, size=400)
    i400 = rng.integers(0, 5, size=400)
    # > 1000 boxes: torchvision switches from the coordinate-offset trick to a per-class loop.
    b1200 = clustered_boxes(rng, 1200, clusters=25, extent=800.0)
    s1200 = rng.uniform(0.0, 1.0, size=1200)
    i1200 = rng.integers(0, 7, size=1200)
    for thr in (0.3, 0.5, 0.7):
        add_b("clustered_400_5cls", b400, s400, i400, thr)
    add_b("clustered_1200_7cls", b1200, s1200, i1200, 0.5)
    add_b(
        "same_boxes_two_classes",
        np.tile(dup[:2], (2, 1)),
        np.array([0.9, 0.8, 0.7, 0.6]),
        np.array([0, 0, 1, 1]),
        0.5,
    )
    add_b("empty", np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64), 0.5)

    out["nms"] = nms_cases
    out["batched_nms"] = batched
    return out


# --------------------------------------------------------------------------------------------
# RoI Align / RoI Pool
# --------------------------------------------------------------------------------------------


def gen_roi(rng: np.random.Generator) -> dict[str, Any]:
    out = header("roi")
    features = rng.normal(0.0, 1.0, size=(2, 3, 11, 13))
    tf = t64(features)
    out["features"] = arr(tf)

    # RoIs in feature-map coordinates; divided by spatial_scale below so that, after scaling,
    # every case sees the same feature-space boxes (powers of two keep that exact).
    feat_rois = np.array(
        [
            [0, 1.0, 1.0, 6.0, 5.0],
            [1, 0.3, 2.7, 11.4, 9.8],
            [0, -2.5, -1.5, 4.2, 3.3],  # partly left/above the map
            [1, 8.6, 6.2, 15.5, 13.9],  # partly right/below the map
            [0, 4.25, 3.75, 4.75, 4.5],  # smaller than one cell
            [1, 2.0, 2.0, 2.0, 7.0],  # zero width
            [0, -4.0, -4.0, -1.5, -2.0],  # entirely outside (above-left)
            [1, 0.0, 0.0, 13.0, 11.0],  # whole map
            [0, 6.5, 0.5, 12.5, 10.5],  # half-integer corners (roi_pool rounding)
            [1, 1.5, 2.5, 4.5, 8.5],  # half-integers 1.5/2.5/4.5/8.5
        ]
    )
    extra = np.column_stack(
        [rng.integers(0, 2, size=6), random_boxes(rng, 6, extent=10.0)]
    )  # random rois, some spilling past the right/bottom edge
    feat_rois = np.concatenate([feat_rois, extra], axis=0)

    align_cases: list[dict[str, Any]] = []
    pool_cases: list[dict[str, Any]] = []
    for scale in (1.0, 0.5, 0.25, 0.125):
        rois = feat_rois.copy()
        rois[:, 1:] /= scale
        tr = t64(rois)
        for aligned in (False, True):
            for sampling_ratio in (-1, 0, 2):
                if scale == 0.125 and sampling_ratio == 0:
                    continue  # same path as -1; keeps the file small
                output_size = (3, 4) if sampling_ratio != 0 else (2, 2)
                y = ops.roi_align(
                    tf,
                    tr,
                    output_size=output_size,
                    spatial_scale=scale,
                    sampling_ratio=sampling_ratio,
                    aligned=aligned,
                )
                align_cases.append(
                    {
                        "name": f"s{scale}_aligned{aligned}_sr{sampling_ratio}",
                        "spatial_scale": scale,
                        "aligned": aligned,
                        "sampling_ratio": sampling_ratio,
                        "output_size": list(output_size),
                        "rois": arr(tr),
                        "out": arr(y),
                    }
                )
        for output_size in ((3, 3), (2, 4)):
            y = ops.roi_pool(tf, tr, output_size=output_size, spatial_scale=scale)
            pool_cases.append(
                {
                    "name": f"s{scale}_out{output_size[0]}x{output_size[1]}",
                    "spatial_scale": scale,
                    "output_size": list(output_size),
                    "rois": arr(tr),
                    "out": arr(y),
                }
            )
    # An int output_size and a single RoI.
    one = t64(np.array([[1, 2.0, 1.0, 9.0, 7.0]]))
    align_cases.append(
        {
            "name": "int_output_size_5",
            "spatial_scale": 1.0,
            "aligned": True,
            "sampling_ratio": 2,
            "output_size": 5,
            "rois": arr(one),
            "out": arr(ops.roi_align(tf, one, 5, 1.0, 2, True)),
        }
    )
    pool_cases.append(
        {
            "name": "int_output_size_5",
            "spatial_scale": 1.0,
            "output_size": 5,
            "rois": arr(one),
            "out": arr(ops.roi_pool(tf, one, 5, 1.0)),
        }
    )
    out["roi_align"] = align_cases
    out["roi_pool"] = pool_cases
    return out


# --------------------------------------------------------------------------------------------
# Sigmoid focal loss
# --------------------------------------------------------------------------------------------


def gen_losses(rng: np.random.Generator) -> dict[str, Any]:
    out = header("losses")
    logits = rng.normal(0.0, 3.0, size=(6, 5))
    targets = (rng.uniform(size=(6, 5)) < 0.3).astype(np.float64)
    tl, tt = t64(logits), t64(targets)
    extreme = t64(np.array([-60.0, -25.0, -8.0, 0.0, 8.0, 25.0, 60.0] * 2))
    extreme_t = t64(np.array([0.0] * 7 + [1.0] * 7))
    soft_t = t64(rng.uniform(size=(6, 5)))
    cases: list[dict[str, Any]] = []

    def add(
        name: str, x: torch.Tensor, t: torch.Tensor, alpha: float, gamma: float, red: str
    ) -> None:
        y = ops.sigmoid_focal_loss(x, t, alpha=alpha, gamma=gamma, reduction=red)
        cases.append(
            {
                "name": f"{name}_a{alpha}_g{gamma}_{red}",
                "alpha": alpha,
                "gamma": gamma,
                "reduction": red,
                "logits": arr(x),
                "targets": arr(t),
                "out": arr(y),
            }
        )

    for alpha in (0.25, 0.5, 0.9):
        for gamma in (0.0, 1.0, 2.0, 5.0):
            for red in ("none", "mean", "sum"):
                add("random_6x5", tl, tt, alpha, gamma, red)
    for red in ("none", "sum"):
        add("extreme_logits", extreme, extreme_t, 0.25, 2.0, red)
    add("non_integer_gamma", tl, tt, 0.25, 1.5, "none")
    # torchvision: alpha < 0 switches the alpha_t weighting off.
    add("alpha_negative_disables_weighting", tl, tt, -1.0, 2.0, "none")
    # Soft (probability) targets: torchvision's formula applies unchanged.
    add("soft_targets", tl, soft_t, 0.25, 2.0, "none")
    out["sigmoid_focal_loss"] = cases
    return out


# --------------------------------------------------------------------------------------------
# torchvision.models parameter counts
# --------------------------------------------------------------------------------------------

BUILDERS: dict[str, Any] = {
    "alexnet": lambda: models.alexnet(weights=None),
    "vgg16": lambda: models.vgg16(weights=None),
    "vgg16_bn": lambda: models.vgg16_bn(weights=None),
    "resnet18": lambda: models.resnet18(weights=None),
    "resnet50": lambda: models.resnet50(weights=None),
    "googlenet": lambda: models.googlenet(weights=None, aux_logits=False, init_weights=False),
    "mobilenet_v2": lambda: models.mobilenet_v2(weights=None),
    "squeezenet1_0": lambda: models.squeezenet1_0(weights=None),
}


def count_model(model: nn.Module) -> dict[str, Any]:
    params = list(model.parameters())
    bn_layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    conv_specs: dict[tuple[int, int, int, int, bool, int], int] = {}
    for m in convs:
        kh, kw = m.kernel_size
        spec = (m.in_channels, m.out_channels, kh, kw, m.bias is not None, m.groups)
        conv_specs[spec] = sum(p.numel() for p in m.parameters(recurse=False))
    linear_specs: dict[tuple[int, int, bool], int] = {}
    for lin in linears:
        linear_specs[(lin.in_features, lin.out_features, lin.bias is not None)] = sum(
            p.numel() for p in lin.parameters(recurse=False)
        )
    return {
        "params_total": sum(p.numel() for p in params),
        "params_trainable": sum(p.numel() for p in params if p.requires_grad),
        "buffers_total": sum(b.numel() for b in model.buffers()),
        "conv_params": sum(p.numel() for m in convs for p in m.parameters(recurse=False)),
        "linear_params": sum(p.numel() for m in linears for p in m.parameters(recurse=False)),
        "bn_layers": len(bn_layers),
        "bn_num_features": [m.num_features for m in bn_layers],
        "bn_learnable": sum(p.numel() for m in bn_layers for p in m.parameters(recurse=False)),
        "bn_buffers": sum(b.numel() for m in bn_layers for b in m.buffers(recurse=False)),
        # Unique layer configurations with their parameter counts (for conv2d_params etc.).
        "conv_layers": [
            {
                "in": s[0],
                "out": s[1],
                "kernel": [s[2], s[3]],
                "bias": s[4],
                "groups": s[5],
                "params": n,
            }
            for s, n in sorted(conv_specs.items())
        ],
        "linear_layers": [
            {"in": s[0], "out": s[1], "bias": s[2], "params": n}
            for s, n in sorted(linear_specs.items())
        ],
    }


def gen_models() -> dict[str, Any]:
    out = header("models")
    out["note"] = (
        "weights=None; googlenet(aux_logits=False, init_weights=False). params_* count "
        "nn.Parameter elements; buffers_total counts running_mean, running_var and "
        "num_batches_tracked (1 per BatchNorm layer)."
    )
    out["models"] = {name: count_model(build()) for name, build in BUILDERS.items()}
    return out


def main() -> None:
    torch.use_deterministic_algorithms(True)
    root = np.random.default_rng(SEED)
    rngs = root.spawn(4)
    write("boxes.json", gen_boxes(rngs[0]))
    write("nms.json", gen_nms(rngs[1]))
    write("roi.json", gen_roi(rngs[2]))
    write("losses.json", gen_losses(rngs[3]))
    write("models.json", gen_models())


if __name__ == "__main__":
    main()
