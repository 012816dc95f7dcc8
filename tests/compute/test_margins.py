"""compute/margins.py: ArcFace and CosFace target logits, their errors, and the template."""

from __future__ import annotations

import math

import pytest

from compute import margins
from compute.templates import generate


def test_known_values_at_sixty_degrees() -> None:
    assert margins.arcface_logit(theta_deg=60, s=64, m=0.5) == pytest.approx(
        64 * math.cos(math.pi / 3 + 0.5)
    )
    assert margins.arcface_logit(theta_deg=60, s=64, m=0.5) == pytest.approx(1.5102, abs=1e-4)
    assert margins.cosface_logit(theta_deg=60, s=64, m=0.35) == pytest.approx(9.6)


def test_zero_margin_is_the_plain_scaled_cosine() -> None:
    for t in range(0, 181, 15):
        plain = 30 * math.cos(math.radians(t))
        assert margins.cosface_logit(theta_deg=t, s=30, m=0) == pytest.approx(plain)
        assert margins.arcface_logit(theta_deg=t, s=30, m=0) == pytest.approx(plain)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"loss": "sphereface", "theta_deg": 30, "s": 64, "m": 0.5},
        {"loss": "arcface", "theta_deg": -1, "s": 64, "m": 0.5},
        {"loss": "arcface", "theta_deg": 181, "s": 64, "m": 0.5},
        {"loss": "cosface", "theta_deg": 30, "s": 0, "m": 0.35},
        {"loss": "cosface", "theta_deg": 30, "s": 64, "m": -0.1},
        {"loss": "arcface", "theta_deg": 170, "s": 64, "m": 0.5},
    ],
)
def test_bad_input_raises_value_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        margins.target_logit(**kwargs)  # type: ignore[arg-type]


def test_template_answer_and_misconceptions() -> None:
    seen: set[str] = set()
    for seed in range(300):
        v = generate("ml.margin_logit", seed)
        p = v.params
        answer = float(v.answer)  # type: ignore[arg-type]
        assert answer == pytest.approx(
            margins.target_logit(
                loss=str(p["loss"]),
                theta_deg=float(p["theta_deg"]),
                s=float(p["s"]),
                m=float(p["m"]),
            )
        )
        assert len(v.misconceptions) >= 3
        seen.update(m.id for m in v.misconceptions)
    assert seen == {
        "no_margin",
        "no_scale",
        "margin_in_degrees",
        "other_family",
        "scale_before_margin",
    }
