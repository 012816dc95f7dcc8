"""Classic image processing: histogram equalization and small linear filters.

Histogram equalization (the textbook discrete form, Gonzalez & Woods): an image with ``L`` grey
levels and ``N`` pixels, ``n_k`` of them at level ``k``, maps level ``r`` to
``s = round((L - 1) * sum_{k <= r} n_k / N)``, the cumulative distribution (CDF) scaled to the
level range. Rounding is half up (``floor(x + 0.5)``), not NumPy's half-to-even. OpenCV's
``equalizeHist`` instead stretches ``(CDF - CDF_min) / (N - CDF_min)`` so the darkest occupied
level maps to 0; :func:`equalize_levels` takes ``subtract_min=True`` for that variant.

Filters. Deep-learning "convolution" is cross-correlation: the response at a pixel is
``sum_{u,v} K[u, v] * I[y + u, x + v]`` with the kernel not flipped (``torch.nn.functional.conv2d``,
``scipy.ndimage.correlate``). True convolution flips the kernel in both axes first; for the
antisymmetric Sobel kernels that only flips the sign. Image rows grow downwards and columns to
the right, so ``G_x > 0`` where intensity increases to the right and ``G_y > 0`` where it
increases downwards.

Interpolation. :func:`bilinear_sample` reads an image at a real position ``(x, y)`` given in
pixel-index coordinates (``x`` the column, ``y`` the row, pixel centres at integers: the
``align_corners=True`` convention of ``torch.nn.functional.grid_sample`` and the convention of
``scipy.ndimage.map_coordinates(order=1)``). Every function raises ``ValueError`` on invalid
input.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from compute._validate import check_finite, check_positive_int

__all__ = [
    "PREWITT_X",
    "SOBEL_X",
    "SOBEL_Y",
    "bilinear_sample",
    "correlate2d_valid",
    "equalize_levels",
    "gaussian_kernel",
    "sobel_gradients",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Sobel kernel for the horizontal derivative (responds to vertical edges).
SOBEL_X: IntArray = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.int64)
#: Sobel kernel for the vertical derivative (rows grow downwards).
SOBEL_Y: IntArray = SOBEL_X.T.copy()
#: Prewitt kernel for the horizontal derivative (no centre weighting).
PREWITT_X: IntArray = np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], dtype=np.int64)


def equalize_levels(
    hist: npt.ArrayLike, *, levels: int | None = None, subtract_min: bool = False
) -> IntArray:
    """Return the equalization lookup table ``s[r]`` for a grey-level histogram.

    ``hist: [L]`` non-negative integer counts (``levels`` defaults to ``len(hist)``). With
    ``subtract_min`` the OpenCV variant ``round((L - 1)(CDF - CDF_min) / (N - CDF_min))`` is used
    (CDF_min: the CDF at the first occupied level; an image of one level maps to itself).
    Raises ``ValueError`` for a histogram that is empty, negative or not integer, or a
    ``levels`` shorter than it.
    """
    h = np.asarray(hist)
    if h.ndim != 1 or h.size == 0:
        raise ValueError(f"hist must be a non-empty 1-D array of counts, got shape {h.shape}")
    if not np.issubdtype(h.dtype, np.integer) or (h < 0).any():
        raise ValueError("hist must hold non-negative integer counts")
    n_levels = h.size if levels is None else check_positive_int("levels", levels)
    if n_levels < h.size:
        raise ValueError(f"levels {n_levels} is smaller than the histogram length {h.size}")
    total = int(h.sum())
    if total == 0:
        raise ValueError("hist counts no pixel")
    cdf = np.cumsum(h.astype(np.int64))
    if subtract_min:
        low = int(cdf[np.flatnonzero(h)[0]])
        if total == low:
            return np.arange(h.size, dtype=np.int64)
        scaled = (n_levels - 1) * (cdf - low) / (total - low)
        scaled = np.maximum(scaled, 0.0)
    else:
        scaled = (n_levels - 1) * cdf / total
    return np.floor(scaled + 0.5).astype(np.int64)


def correlate2d_valid(image: npt.ArrayLike, kernel: npt.ArrayLike) -> FloatArray:
    """Return the valid cross-correlation ``out[y, x] = sum K[u, v] I[y + u, x + v]``.

    ``image: [H, W]``, ``kernel: [kh, kw]`` with ``kh <= H`` and ``kw <= W`` ->
    ``[H - kh + 1, W - kw + 1]``. Raises ``ValueError`` for non-2-D or non-finite input or a
    kernel larger than the image.
    """
    img = np.asarray(image, dtype=np.float64)
    ker = np.asarray(kernel, dtype=np.float64)
    if img.ndim != 2 or ker.ndim != 2 or ker.size == 0:
        raise ValueError("image and kernel must be 2-D arrays")
    check_finite("image", img)
    check_finite("kernel", ker)
    kh, kw = ker.shape
    if kh > img.shape[0] or kw > img.shape[1]:
        raise ValueError(f"kernel {ker.shape} is larger than image {img.shape}")
    windows = np.lib.stride_tricks.sliding_window_view(img, (kh, kw))  # [H', W', kh, kw]
    return np.asarray(np.einsum("yxuv,uv->yx", windows, ker), dtype=np.float64)


def sobel_gradients(patch: npt.ArrayLike) -> tuple[float, float]:
    """Return ``(G_x, G_y)`` of the Sobel operator at the centre of a 3x3 patch.

    Raises ``ValueError`` unless ``patch`` is a finite 3x3 array.
    """
    p = np.asarray(patch, dtype=np.float64)
    if p.shape != (3, 3):
        raise ValueError(f"patch must be 3x3, got shape {p.shape}")
    gx = correlate2d_valid(p, SOBEL_X)[0, 0]
    gy = correlate2d_valid(p, SOBEL_Y)[0, 0]
    return float(gx), float(gy)


def gaussian_kernel(size: int, sigma: float) -> FloatArray:
    """Return a normalized ``size x size`` Gaussian kernel (odd ``size``), the outer product of
    the 1-D kernel ``exp(-x^2 / (2 sigma^2))`` with itself (a separable filter).

    Raises ``ValueError`` for an even or non-positive size or a non-positive sigma.
    """
    n = check_positive_int("size", size)
    if n % 2 == 0:
        raise ValueError(f"size must be odd, got {n}")
    s = float(sigma)
    if not (math.isfinite(s) and s > 0):
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")
    x = np.arange(n, dtype=np.float64) - n // 2
    g = np.exp(-(x**2) / (2 * s * s))
    g /= g.sum()
    return np.outer(g, g)


def bilinear_sample(image: npt.ArrayLike, x: float, y: float) -> float:
    """Return the bilinear interpolation of ``image`` at column ``x``, row ``y``.

    With ``x0 = floor(x)``, ``a = x - x0`` (likewise ``y0``, ``b``) the value is
    ``(1-a)(1-b) I[y0, x0] + a(1-b) I[y0, x0+1] + (1-a) b I[y0+1, x0] + a b I[y0+1, x0+1]``.
    Raises ``ValueError`` for a non-2-D or non-finite image, or a position outside
    ``[0, W-1] x [0, H-1]``.
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2 or img.size == 0:
        raise ValueError("image must be a non-empty 2-D array")
    check_finite("image", img)
    h, w = img.shape
    fx, fy = float(x), float(y)
    if not (0.0 <= fx <= w - 1 and 0.0 <= fy <= h - 1):
        raise ValueError(f"position ({x!r}, {y!r}) is outside the image of shape {img.shape}")
    x0, y0 = min(math.floor(fx), max(w - 2, 0)), min(math.floor(fy), max(h - 2, 0))
    a, b = fx - x0, fy - y0
    x1, y1 = min(x0 + 1, w - 1), min(y0 + 1, h - 1)
    top = (1 - a) * img[y0, x0] + a * img[y0, x1]
    bottom = (1 - a) * img[y1, x0] + a * img[y1, x1]
    return float((1 - b) * top + b * bottom)
