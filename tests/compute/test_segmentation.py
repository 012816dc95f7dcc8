"""compute.segmentation and compute.imageproc against independent references, and their templates.

Metrics: scikit-learn (confusion_matrix, accuracy, recall, jaccard_score, f1_score) on thousands of
random label maps. Sizes: PyTorch modules on the ``meta`` device (shapes without data) for the
U-Net, ``adaptive_avg_pool1d`` for PSPNet's windows, torchvision's DeepLabv3/FCN golden vectors
(tests/compute/golden/seg.json) for output strides and ASPP rates. Filters: ``torch.conv2d`` and
``scipy.ndimage``. Histogram equalization: exact rational arithmetic.
"""

from __future__ import annotations

import functools
import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import ndimage
from sklearn import metrics as skm

from compute import imageproc, segmentation
from compute.templates import generate


@pytest.fixture(autouse=True, scope="module")
def _single_threaded_torch() -> Any:
    """Thousands of tiny torch calls run far faster without intra-op thread hand-offs."""
    try:
        import torch
    except ImportError:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


GOLDEN = json.loads((Path(__file__).resolve().parent / "golden" / "seg.json").read_text())
SEEDS = range(200)


# --------------------------------------------------------------------------------------------
# Metrics against scikit-learn
# --------------------------------------------------------------------------------------------


def random_maps(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    k = int(rng.integers(2, 8))
    shape = (int(rng.integers(1, 12)), int(rng.integers(1, 12)))
    t = rng.integers(0, k, size=shape)
    # Mostly right, with some classes absent from one map or both.
    p = np.where(rng.random(shape) < rng.random(), t, rng.integers(0, k, size=shape))
    if rng.random() < 0.3:
        p[p == k - 1] = 0  # class k-1 never predicted
    return t, p, k


def test_scores_match_sklearn_on_random_label_maps() -> None:
    rng = np.random.default_rng(11)
    for _ in range(2000):
        t, p, k = random_maps(rng)
        labels = list(range(k))
        cm = segmentation.segmentation_confusion(t, p, num_classes=k)
        ref = skm.confusion_matrix(t.ravel(), p.ravel(), labels=labels)
        np.testing.assert_array_equal(cm, ref)
        s = segmentation.segmentation_scores(cm)
        assert s.pixel_accuracy == pytest.approx(np.trace(ref) / ref.sum())
        present = np.isin(labels, t)
        recall = skm.recall_score(
            t.ravel(), p.ravel(), labels=labels, average=None, zero_division=0
        )
        np.testing.assert_allclose(s.class_accuracy[present], recall[present])
        assert np.isnan(s.class_accuracy[~present]).all()
        assert s.mean_pixel_accuracy == pytest.approx(recall[present].mean())
        jac = skm.jaccard_score(t.ravel(), p.ravel(), labels=labels, average=None, zero_division=0)
        seen = np.isin(labels, t) | np.isin(labels, p)
        np.testing.assert_allclose(s.class_iou[seen], jac[seen])
        assert np.isnan(s.class_iou[~seen]).all()
        assert s.mean_iou == pytest.approx(jac[seen].mean())
        freq = np.bincount(t.ravel(), minlength=k) / t.size
        assert s.fw_iou == pytest.approx(float(np.sum(freq * jac)))


def test_ignore_index_drops_pixels() -> None:
    rng = np.random.default_rng(3)
    for _ in range(500):
        t, p, k = random_maps(rng)
        t = t.copy()
        t[rng.random(t.shape) < 0.2] = 255
        t.flat[0] = 0
        keep = t != 255
        cm = segmentation.segmentation_confusion(t, p, num_classes=k, ignore_index=255)
        want = skm.confusion_matrix(t[keep], p[keep], labels=list(range(k)))
        np.testing.assert_array_equal(cm, want)


def test_dice_matches_f1_and_converts_with_iou() -> None:
    rng = np.random.default_rng(5)
    for _ in range(2000):
        n = int(rng.integers(1, 200))
        a = rng.random(n) < rng.random()
        b = rng.random(n) < rng.random()
        if not (a.any() or b.any()):
            continue
        d = segmentation.dice_from_counts(int((a & b).sum()), int(a.sum()), int(b.sum()))
        assert d == pytest.approx(skm.f1_score(a, b, zero_division=0))
        j = skm.jaccard_score(a, b, zero_division=0)
        assert segmentation.dice_from_iou(j) == pytest.approx(d)
        assert segmentation.iou_from_dice(d) == pytest.approx(j)
        assert j <= d + 1e-12


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: segmentation.segmentation_confusion([0, 1], [0], num_classes=2), "shape"),
        (lambda: segmentation.segmentation_confusion([0, 2], [0, 1], num_classes=2), "outside"),
        (lambda: segmentation.segmentation_confusion([0.5], [0], num_classes=2), "integer"),
        (lambda: segmentation.segmentation_scores([[1, 2]]), "square"),
        (lambda: segmentation.segmentation_scores([[0, 0], [0, 0]]), "empty"),
        (lambda: segmentation.segmentation_scores([[1, -1], [0, 2]]), "non-negative"),
        (lambda: segmentation.dice_from_counts(5, 3, 9), "exceed"),
        (lambda: segmentation.dice_from_iou(1.5), "iou"),
        (lambda: segmentation.unet_valid_sizes(570), "odd"),
        (lambda: segmentation.unet_valid_sizes(60), "small"),
        (lambda: segmentation.output_stride_size(513, 12), "power of two"),
        (lambda: segmentation.aspp_rates(32, (5,)), "integer"),
        (lambda: segmentation.psp_concat_channels(2047), "evenly"),
        (lambda: imageproc.equalize_levels([0, 0]), "no pixel"),
        (lambda: imageproc.equalize_levels([1.5, 2]), "integer"),
        (lambda: imageproc.correlate2d_valid(np.ones((2, 2)), np.ones((3, 3))), "larger"),
        (lambda: imageproc.sobel_gradients(np.ones((2, 3))), "3x3"),
        (lambda: imageproc.gaussian_kernel(4, 1.0), "odd"),
    ],
)
def test_bad_input_raises_value_error(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_metric_templates_match_sklearn() -> None:
    for tid in ("seg.pixel_accuracy", "seg.miou"):
        for seed in SEEDS:
            v = generate(tid, seed)
            m = np.asarray(v.params["m"])
            cells = [(i, j) for i in range(3) for j in range(3)]
            y_true = np.repeat([i for i, _ in cells], [m[i, j] for i, j in cells])
            y_pred = np.repeat([j for _, j in cells], [m[i, j] for i, j in cells])
            asked = v.params["asked"]
            if asked == "pa":
                want = skm.accuracy_score(y_true, y_pred)
            elif asked == "mpa":
                want = skm.recall_score(y_true, y_pred, average="macro")
            elif asked == "miou":
                want = skm.jaccard_score(y_true, y_pred, average="macro")
            else:
                want = skm.jaccard_score(y_true, y_pred, average="weighted")
            assert v.answer == pytest.approx(want, abs=1e-12), (tid, seed)


def test_dice_template_matches_f1() -> None:
    for seed in SEEDS:
        v = generate("seg.dice", seed)
        p = v.params
        if p["asked"] == "from_iou":
            j = Fraction(str(p["iou"]))
            assert v.answer == pytest.approx(float(2 * j / (1 + j)))
            continue
        a = np.zeros(p["a"] + p["b"] - p["inter"], dtype=bool)
        b = a.copy()
        a[: p["a"]] = True
        b[p["a"] - p["inter"] :] = True
        assert v.answer == pytest.approx(skm.f1_score(a, b), abs=1e-12), seed


# --------------------------------------------------------------------------------------------
# Sizes against PyTorch shapes and torchvision goldens
# --------------------------------------------------------------------------------------------


@functools.cache
def torch_unet_sizes(size: int, depth: int = 4) -> dict[str, Any]:
    """Run a 1-channel valid-conv U-Net on the meta device and record every side."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    def block() -> Any:
        return nn.Sequential(nn.Conv2d(1, 1, 3), nn.ReLU(), nn.Conv2d(1, 1, 3), nn.ReLU()).to(
            "meta"
        )

    pool = nn.MaxPool2d(2)
    x = torch.empty(1, 1, size, size, device="meta")
    enc, up, dec = [], [], []
    skips = []
    for _ in range(depth):
        x = block()(x)
        enc.append(x.shape[-1])
        skips.append(x)
        x = pool(x)
    x = block()(x)
    bottom = x.shape[-1]
    for skip in reversed(skips):
        x = nn.ConvTranspose2d(1, 1, 2, stride=2).to("meta")(x)
        up.append(x.shape[-1])
        m = (skip.shape[-1] - x.shape[-1]) // 2
        cropped = skip[..., m : m + x.shape[-1], m : m + x.shape[-1]]
        x = block()(torch.cat([cropped, x], dim=1)[:, :1])
        dec.append(x.shape[-1])
    return {
        "encoder": tuple(enc),
        "bottom": bottom,
        "up": tuple(reversed(up)),
        "decoder": tuple(reversed(dec)),
    }


@pytest.mark.crosscheck
def test_unet_sizes_match_torch_shapes() -> None:
    for size in (572, *range(188, 1101, 16)):
        for depth in (3, 4):
            try:
                ours = segmentation.unet_valid_sizes(size, depth=depth)
            except ValueError:
                continue
            ref = torch_unet_sizes(size, depth)
            assert ours.encoder == ref["encoder"]
            assert ours.bottom == ref["bottom"]
            assert ours.up == ref["up"]
            assert ours.decoder == ref["decoder"]
            assert ours.output == ref["decoder"][0]
    assert segmentation.unet_valid_sizes(572).output == 388  # the paper's Fig. 1


@pytest.mark.crosscheck
def test_unet_templates_match_torch_shapes() -> None:
    for seed in SEEDS:
        v = generate("seg.unet_output", seed)
        assert v.answer == torch_unet_sizes(v.params["size"])["decoder"][0]
        c = generate("seg.unet_crop", seed)
        ref = torch_unet_sizes(c.params["size"])
        lv = c.params["level"] - 1
        assert c.answer == (ref["encoder"][lv], ref["up"][lv])


@pytest.mark.parametrize("model", ["deeplabv3_resnet50", "fcn_resnet50"])
def test_output_stride_matches_torchvision(model: str) -> None:
    data = GOLDEN[model]
    for case in data["sizes"]:
        h, w = case["input"]
        assert [segmentation.output_stride_size(h, 8), segmentation.output_stride_size(w, 8)] == (
            case["out"][1:]
        )
    # Output stride 8: layer3 and layer4 replace their stride by dilation (2, then 4).
    assert data["dilations"]["layer3"][1:] == [2] * 5
    assert data["dilations"]["layer4"][1:] == [4, 4]


def test_aspp_rates_match_torchvision() -> None:
    data = GOLDEN["deeplabv3_resnet50"]
    assert list(segmentation.aspp_rates(8)) == data["aspp_rates"]
    # 1x1 branch + three atrous branches + image pooling.
    assert data["aspp_branches"] == 5
    assert segmentation.aspp_rates(16) == segmentation.DEEPLABV3_ASPP_RATES_OS16


def test_aspp_template_against_golden_rule() -> None:
    for seed in SEEDS:
        v = generate("seg.aspp", seed)
        p = v.params
        rate = p["base"] * 16 // p["os"]
        assert v.answer == (math.ceil(p["size"] / p["os"]), 2 * rate + 1)


@pytest.mark.crosscheck
def test_adaptive_pool_windows_match_torch() -> None:
    torch = pytest.importorskip("torch")
    for n in range(1, 140):
        eye = torch.eye(n, dtype=torch.float64).unsqueeze(1)  # n inputs, one basis vector each
        for b in range(1, 9):
            out = torch.nn.functional.adaptive_avg_pool1d(eye, b)[:, 0, :]  # [n, b]
            covered = (out > 0).numpy()
            windows = segmentation.adaptive_pool_windows(n, b)
            for i, (s, e) in enumerate(windows):
                np.testing.assert_array_equal(np.flatnonzero(covered[:, i]), np.arange(s, e))
    for seed in SEEDS:
        v = generate("seg.psp_windows", seed)
        f, b = v.params["f"], v.params["bins"]
        eye = torch.eye(f, dtype=torch.float64).unsqueeze(1)
        lengths = (torch.nn.functional.adaptive_avg_pool1d(eye, b)[:, 0, :] > 0).sum(0)
        assert v.answer == tuple(int(x) for x in lengths)


def test_psp_concat_channels() -> None:
    assert segmentation.psp_concat_channels(2048) == 4096  # 2048 + 4 x 512


# --------------------------------------------------------------------------------------------
# Classic image processing
# --------------------------------------------------------------------------------------------


def exact_equalize(hist: list[int], levels: int) -> list[int]:
    n = sum(hist)
    out, c = [], 0
    for h in hist:
        c += h
        x = Fraction((levels - 1) * c, n)
        out.append(math.floor(x + Fraction(1, 2)))
    return out


def test_equalization_matches_exact_arithmetic() -> None:
    rng = np.random.default_rng(7)
    for _ in range(3000):
        levels = int(rng.choice([4, 8, 16, 256]))
        hist = rng.integers(0, 50, size=levels)
        hist[rng.integers(levels)] += 1
        ours = imageproc.equalize_levels(hist)
        assert ours.tolist() == exact_equalize(hist.tolist(), levels)
        assert ours[-1] == levels - 1  # the CDF ends at N
    # Gonzalez & Woods' 3-bit example: 64x64 image.
    g = [790, 1023, 850, 656, 329, 245, 122, 81]
    assert imageproc.equalize_levels(g).tolist() == [1, 3, 5, 6, 6, 7, 7, 7]


def test_equalization_opencv_variant_maps_first_level_to_zero() -> None:
    rng = np.random.default_rng(8)
    for _ in range(500):
        hist = rng.integers(0, 30, size=256)
        hist[:5] = 0
        hist[7] += 1
        lut = imageproc.equalize_levels(hist, subtract_min=True)
        first = int(np.flatnonzero(hist)[0])
        assert lut[first] == 0 and lut[-1] == 255
        cdf = np.cumsum(hist)
        n, low = int(cdf[-1]), int(cdf[first])
        if n > low:
            want = [
                math.floor(Fraction(255 * max(int(c) - low, 0), n - low) + Fraction(1, 2))
                for c in cdf
            ]
            assert lut.tolist() == want


def test_hist_template_matches_exact_arithmetic() -> None:
    for seed in SEEDS:
        v = generate("cv.hist_equalization", seed)
        assert v.answer == exact_equalize(list(v.params["hist"]), 8)[v.params["r"]]


@pytest.mark.crosscheck
def test_correlation_matches_torch_and_scipy() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    for _ in range(2000):
        img = rng.normal(size=(int(rng.integers(3, 9)), int(rng.integers(3, 9))))
        ker = rng.normal(size=(int(rng.integers(1, 4)), int(rng.integers(1, 4))))
        ours = imageproc.correlate2d_valid(img, ker)
        ref = torch.nn.functional.conv2d(
            torch.tensor(img)[None, None], torch.tensor(ker)[None, None]
        )[0, 0].numpy()
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)


def test_sobel_matches_scipy() -> None:
    rng = np.random.default_rng(10)
    for _ in range(3000):
        patch = rng.integers(0, 256, size=(3, 3)).astype(np.float64)
        gx, gy = imageproc.sobel_gradients(patch)
        assert gx == ndimage.sobel(patch, axis=1)[1, 1]
        assert gy == ndimage.sobel(patch, axis=0)[1, 1]
    for seed in SEEDS:
        v = generate("cv.sobel", seed)
        patch = np.asarray(v.params["patch"], dtype=np.float64)
        assert v.answer == (ndimage.sobel(patch, axis=1)[1, 1], ndimage.sobel(patch, axis=0)[1, 1])


def test_gaussian_kernel_is_separable_and_normalized() -> None:
    rng = np.random.default_rng(12)
    for _ in range(300):
        size = int(rng.choice([3, 5, 7]))
        sigma = float(rng.uniform(0.3, 3.0))
        k = imageproc.gaussian_kernel(size, sigma)
        assert k.sum() == pytest.approx(1.0)
        img = rng.normal(size=(9, 9))
        two_pass = ndimage.correlate1d(
            ndimage.correlate1d(img, k[size // 2] / k[size // 2].sum(), axis=0),
            k[size // 2] / k[size // 2].sum(),
            axis=1,
        )
        r = size // 2
        np.testing.assert_allclose(
            imageproc.correlate2d_valid(img, k), two_pass[r : 9 - r, r : 9 - r], atol=1e-12
        )


def test_bilinear_matches_scipy_map_coordinates() -> None:
    rng = np.random.default_rng(13)
    for _ in range(3000):
        h, w = int(rng.integers(1, 7)), int(rng.integers(1, 7))
        img = rng.normal(size=(h, w))
        x, y = float(rng.uniform(0, w - 1)), float(rng.uniform(0, h - 1))
        if rng.random() < 0.1:
            x = float(w - 1)  # the last column exactly
        want = ndimage.map_coordinates(img, [[y], [x]], order=1)[0]
        assert imageproc.bilinear_sample(img, x, y) == pytest.approx(want, abs=1e-12)
    with pytest.raises(ValueError, match="outside"):
        imageproc.bilinear_sample(np.ones((2, 2)), 1.5, 0.0)


@pytest.mark.crosscheck
def test_bilinear_template_matches_torch_grid_sample() -> None:
    torch = pytest.importorskip("torch")
    for seed in SEEDS:
        v = generate("cv.bilinear", seed)
        p = v.params
        img = torch.tensor(p["q"], dtype=torch.float64)[None, None]
        # align_corners=True: -1 and 1 are the centres of the first and last pixels.
        grid = torch.tensor([[[[2 * p["a"] - 1, 2 * p["b"] - 1]]]], dtype=torch.float64)
        want = torch.nn.functional.grid_sample(img, grid, align_corners=True)[0, 0, 0, 0]
        assert v.answer == pytest.approx(float(want), abs=1e-9), seed


def brute_force_pq(gt: np.ndarray, pred: np.ndarray) -> tuple[Fraction, list[float], int, int]:
    """PQ of one class from two instance-id maps (0 = not this class), matched by brute force."""
    gts = [g for g in np.unique(gt) if g]
    preds = [q for q in np.unique(pred) if q]
    matches: list[tuple[int, int, float]] = []
    for g in gts:
        for q in preds:
            a, b = gt == g, pred == q
            iou = skm.jaccard_score(a.ravel(), b.ravel(), zero_division=0)
            if iou > 0.5:
                matches.append((g, q, iou))
    # Non-overlapping segments: each side appears in at most one match.
    assert len({m[0] for m in matches}) == len(matches) == len({m[1] for m in matches})
    tp = len(matches)
    fp, fn = len(preds) - tp, len(gts) - tp
    ious = [m[2] for m in matches]
    num_ = sum(Fraction(x) for x in ious)
    den = tp + Fraction(fp, 2) + Fraction(fn, 2)
    return (num_ / den if den else Fraction(0)), ious, fp, fn


def random_instances(rng: np.random.Generator, n: int) -> np.ndarray:
    """An instance-id map of up to n axis-aligned rectangles, later ones painted over."""
    m = np.zeros((16, 16), dtype=np.int64)
    for k in range(1, n + 1):
        y, x = rng.integers(0, 12, size=2)
        h, w = rng.integers(2, 8, size=2)
        m[y : y + h, x : x + w] = k
    return m


def test_panoptic_quality_matches_brute_force_matching() -> None:
    rng = np.random.default_rng(14)
    checked = 0
    for _ in range(1500):
        gt = random_instances(rng, int(rng.integers(1, 5)))
        pred = gt.copy()
        # Perturb: shift some instances, drop some, add spurious ones.
        pred = np.where(rng.random(gt.shape) < 0.1, 0, pred)
        pred = np.roll(pred, int(rng.integers(-2, 3)), axis=int(rng.integers(0, 2)))
        extra = random_instances(rng, int(rng.integers(0, 3)))
        pred = np.where(extra > 0, extra + 10, pred)
        want, ious, fp, fn = brute_force_pq(gt, pred)
        if not ious and fp + fn == 0:
            continue
        got = segmentation.panoptic_quality(ious, fp, fn)
        assert got.pq == pytest.approx(float(want), abs=1e-12)
        assert got.pq == pytest.approx(got.sq * got.rq, abs=1e-12)
        checked += 1
    assert checked > 1000


def test_pq_template_matches_exact_arithmetic() -> None:
    for seed in SEEDS:
        v = generate("seg.panoptic_quality", seed)
        p = v.params
        tp = len(p["ious"])
        want = sum(Fraction(str(x)) for x in p["ious"]) / (
            tp + Fraction(p["fp"], 2) + Fraction(p["fn"], 2)
        )
        assert v.answer == pytest.approx(float(want), abs=1e-12), seed
    with pytest.raises(ValueError, match="undefined"):
        segmentation.panoptic_quality([], 0, 0)
    with pytest.raises(ValueError, match="needs IoU"):
        segmentation.panoptic_quality([0.5], 0, 0)
