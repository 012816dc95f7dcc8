"""Live cross-check of compute/margins.py against a PyTorch margin head.

A feature and a class weight at a known angle are L2-normalized with ``F.normalize``; the cosine
comes from their dot product, and the margins are applied the way PyTorch face-recognition heads
do it (ArcFace through ``torch.acos``/``torch.cos``, CosFace by subtracting from the cosine),
then scaled. Thousands of seeded random cases, then every variant of ml.margin_logit.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

from compute import margins
from compute.templates import generate

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.crosscheck


@pytest.fixture(autouse=True, scope="module")
def _single_threaded_torch() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def torch_target_logit(loss: str, theta_deg: float, s: float, m: float, dim: int = 8) -> float:
    """The true-class logit of a torch margin head for a feature at ``theta_deg`` to its class."""
    gen = torch.Generator().manual_seed(int(theta_deg * 1000) % 9973)
    basis, _ = torch.linalg.qr(torch.randn(dim, 2, dtype=torch.float64, generator=gen))
    t = math.radians(theta_deg)
    weight = basis[:, 0] * 3.7  # any length: the head normalizes it
    feature = (math.cos(t) * basis[:, 0] + math.sin(t) * basis[:, 1]) * 12.5
    cos = (F.normalize(feature, dim=0) * F.normalize(weight, dim=0)).sum().clamp(-1.0, 1.0)
    if loss == "arcface":
        return float(s * torch.cos(torch.acos(cos) + m))
    return float(s * (cos - m))


def test_margins_match_torch_on_random_cases() -> None:
    rng = np.random.default_rng(7)
    for _ in range(3000):
        loss = str(rng.choice(margins.LOSSES))
        s = float(rng.uniform(1.0, 80.0))
        m = float(rng.uniform(0.0, 0.8))
        high = 180.0 - math.degrees(m) if loss == "arcface" else 180.0
        theta = float(rng.uniform(0.5, high - 0.5))
        ours = margins.target_logit(loss=loss, theta_deg=theta, s=s, m=m)
        assert ours == pytest.approx(torch_target_logit(loss, theta, s, m), abs=1e-6)


def test_template_variants_match_torch() -> None:
    for seed in range(400):
        v = generate("ml.margin_logit", seed)
        p = v.params
        ref = torch_target_logit(
            str(p["loss"]), float(p["theta_deg"]), float(p["s"]), float(p["m"])
        )
        assert float(v.answer) == pytest.approx(ref, abs=1e-6)  # type: ignore[arg-type]
