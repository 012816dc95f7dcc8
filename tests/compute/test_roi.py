"""compute.roi: RoI Pool and RoI Align against naive per-bin, per-sample loops.

The references below restate torchvision's CPU kernels in plain Python, one bin and one sample
at a time; the vectorized code under test shares none of their structure.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compute.roi import roi_align, roi_pool, roi_pool_quantization


def c_round(value: float) -> int:
    return math.floor(abs(value) + 0.5) * (1 if value >= 0 else -1)


def naive_roi_pool(
    features: np.ndarray, rois: np.ndarray, out: tuple[int, int], scale: float
) -> np.ndarray:
    n_rois = rois.shape[0]
    channels, height, width = features.shape[1:]
    result = np.zeros((n_rois, channels, out[0], out[1]))
    for k in range(n_rois):
        b = int(rois[k, 0])
        x1, y1, x2, y2 = (c_round(v * scale) for v in rois[k, 1:])
        roi_h, roi_w = max(y2 - y1 + 1, 1), max(x2 - x1 + 1, 1)
        for ph in range(out[0]):
            for pw in range(out[1]):
                hs = min(max(math.floor(ph * roi_h / out[0]) + y1, 0), height)
                he = min(max(math.ceil((ph + 1) * roi_h / out[0]) + y1, 0), height)
                ws = min(max(math.floor(pw * roi_w / out[1]) + x1, 0), width)
                we = min(max(math.ceil((pw + 1) * roi_w / out[1]) + x1, 0), width)
                for c in range(channels):
                    cells = [features[b, c, h, w] for h in range(hs, he) for w in range(ws, we)]
                    result[k, c, ph, pw] = max(cells) if cells else 0.0
    return result


def bilinear(plane: np.ndarray, y: float, x: float) -> float:
    height, width = plane.shape
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return 0.0
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= height - 1:
        y0 = y1 = height - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= width - 1:
        x0 = x1 = width - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    return float(
        (1 - ly) * (1 - lx) * plane[y0, x0]
        + (1 - ly) * lx * plane[y0, x1]
        + ly * (1 - lx) * plane[y1, x0]
        + ly * lx * plane[y1, x1]
    )


def naive_roi_align(
    features: np.ndarray,
    rois: np.ndarray,
    out: tuple[int, int],
    scale: float,
    sampling_ratio: int,
    aligned: bool,
) -> np.ndarray:
    n_rois = rois.shape[0]
    channels = features.shape[1]
    result = np.zeros((n_rois, channels, out[0], out[1]))
    shift = 0.5 if aligned else 0.0
    for k in range(n_rois):
        b = int(rois[k, 0])
        x1, y1, x2, y2 = (v * scale - shift for v in rois[k, 1:])
        roi_w, roi_h = x2 - x1, y2 - y1
        if not aligned:
            roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
        bin_h, bin_w = roi_h / out[0], roi_w / out[1]
        grid_h = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_h / out[0])
        grid_w = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_w / out[1])
        count = max(grid_h * grid_w, 1)
        for c in range(channels):
            for ph in range(out[0]):
                for pw in range(out[1]):
                    total = 0.0
                    for iy in range(grid_h):
                        y = y1 + ph * bin_h + (iy + 0.5) * bin_h / grid_h
                        for ix in range(grid_w):
                            x = x1 + pw * bin_w + (ix + 0.5) * bin_w / grid_w
                            total += bilinear(features[b, c], y, x)
                    result[k, c, ph, pw] = total / count
    return result


@st.composite
def roi_cases(draw: st.DrawFn) -> dict[str, Any]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_images = draw(st.integers(1, 2))
    height, width = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    features = rng.normal(size=(n_images, draw(st.integers(1, 2)), height, width))
    scale = draw(st.sampled_from([1.0, 0.5, 0.25, 1 / 3]))
    n_rois = draw(st.integers(0, 4))
    extent_h, extent_w = (height + 2) / scale, (width + 2) / scale
    corner = rng.uniform(-2.0 / scale, [extent_w, extent_h], size=(n_rois, 2))
    size = rng.uniform(0.0, [extent_w, extent_h], size=(n_rois, 2))
    if draw(st.booleans()):  # integer and half-integer coordinates hit the rounding ties
        corner, size = np.round(corner * 2) / 2, np.round(size * 2) / 2
    rois = np.column_stack([rng.integers(0, n_images, n_rois), corner, corner + size])
    output = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    return {"features": features, "rois": rois, "output_size": output, "spatial_scale": scale}


@settings(max_examples=80, deadline=None)
@given(roi_cases())
def test_roi_pool_equals_the_naive_per_bin_max(case: dict[str, Any]) -> None:
    expected = naive_roi_pool(
        case["features"],
        case["rois"],
        case["output_size"],
        case["spatial_scale"],
    )
    np.testing.assert_array_equal(roi_pool(**case), expected)


@settings(max_examples=80, deadline=None)
@given(roi_cases(), st.sampled_from([-1, 0, 1, 2, 3]), st.booleans())
def test_roi_align_equals_the_naive_sample_average(
    case: dict[str, Any], sampling_ratio: int, aligned: bool
) -> None:
    expected = naive_roi_align(
        case["features"],
        case["rois"],
        case["output_size"],
        case["spatial_scale"],
        sampling_ratio,
        aligned,
    )
    got = roi_align(**case, sampling_ratio=sampling_ratio, aligned=aligned)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_roi_align_of_a_linear_ramp_is_the_ramp_at_each_bin_centre() -> None:
    # Bilinear interpolation reproduces a linear function exactly, and the sample average of a
    # linear function over a symmetric grid is its value at the bin centre.
    height, width = 12, 16
    ys, xs = np.mgrid[0:height, 0:width]
    features = (3.0 * ys + 0.5 * xs)[np.newaxis, np.newaxis]
    rois = np.array([[0, 2.0, 1.0, 10.0, 9.0]])  # x1, y1, x2, y2 (aligned: pixel centres)
    got = roi_align(features, rois, (2, 4), aligned=True, sampling_ratio=2)
    centres_y = 1.0 - 0.5 + (np.arange(2) + 0.5) * 4.0
    centres_x = 2.0 - 0.5 + (np.arange(4) + 0.5) * 2.0
    expected = 3.0 * centres_y[:, np.newaxis] + 0.5 * centres_x[np.newaxis, :]
    np.testing.assert_allclose(got[0, 0], expected, rtol=1e-12)


def test_roi_pool_takes_the_maximum_of_each_bin() -> None:
    features = np.arange(16.0).reshape(1, 1, 4, 4)
    # The whole map in 2x2 bins: bin maxima are the bottom-right cells of each quadrant.
    got = roi_pool(features, [[0, 0, 0, 3, 3]], 2)
    assert got[0, 0].tolist() == [[5.0, 7.0], [13.0, 15.0]]


def test_roi_pool_bin_outside_the_map_is_zero() -> None:
    features = np.full((1, 1, 4, 4), -5.0)
    # Cells 2..9 in two bins of four: the second bin (cells 6..9) lies past the 4-cell map.
    got = roi_pool(features, [[0, 2, 2, 9, 9]], 2)
    assert got[0, 0].tolist() == [[-5.0, 0.0], [0.0, 0.0]]


def test_roi_pool_rounds_halves_away_from_zero_like_c() -> None:
    features = np.arange(10.0).reshape(1, 1, 1, 10)
    # x1 = 2.5 -> 3 (NumPy's round-half-even would give 2 and pick up the value 2).
    got = roi_pool(features, [[0, 2.5, 0, 2.5, 0]], 1)
    assert got[0, 0, 0, 0] == 3.0


def test_empty_roi_list_gives_an_empty_result() -> None:
    features = np.zeros((1, 3, 4, 4))
    assert roi_pool(features, np.zeros((0, 5)), (2, 3)).shape == (0, 3, 2, 3)
    assert roi_align(features, np.zeros((0, 5)), (2, 3)).shape == (0, 3, 2, 3)


def test_roi_pool_quantization_floors_twice() -> None:
    feature, feature_int, bin_float, bin_int = roi_pool_quantization(100, 1 / 16, 3)
    assert (feature, feature_int, bin_int) == (6.25, 6, 2)
    assert bin_float == 2.0


@pytest.mark.parametrize(
    ("rois", "argument"),
    [
        ([[0, 5, 0, 4, 3]], "x2 >= x1"),
        ([[0, 0, 5, 4, 3]], "y2 >= y1"),
        ([[1, 0, 0, 4, 4]], "batch"),
        ([[0.5, 0, 0, 4, 4]], "batch"),
        ([[0, 0, 0, 4]], "rois"),
        ([[0, 0, np.nan, 4, 4]], "rois"),
    ],
)
def test_malformed_rois_raise(rois: list[list[float]], argument: str) -> None:
    features = np.zeros((1, 1, 4, 4))
    for op in (roi_pool, roi_align):
        with pytest.raises(ValueError, match=argument):
            op(features, rois, 2)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"output_size": 0}, "output_size"),
        ({"output_size": 2, "spatial_scale": 0.0}, "spatial_scale"),
        ({"output_size": 2, "spatial_scale": float("inf")}, "spatial_scale"),
        ({"output_size": 2, "features": np.zeros((1, 4, 4))}, "features"),
        ({"output_size": 2, "features": np.full((1, 1, 4, 4), np.inf)}, "features"),
    ],
)
def test_invalid_roi_arguments_raise_naming_the_argument(
    kwargs: dict[str, Any], argument: str
) -> None:
    call = {"features": np.zeros((1, 1, 4, 4)), "rois": [[0, 0, 0, 2, 2]], **kwargs}
    for op in (roi_pool, roi_align):
        with pytest.raises(ValueError, match=argument):
            op(**call)
    with pytest.raises(ValueError, match="sampling_ratio"):
        roi_align(np.zeros((1, 1, 4, 4)), [[0, 0, 0, 2, 2]], 2, sampling_ratio=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="roi_size"):
        roi_pool_quantization(-1.0, 1 / 32, 7)
