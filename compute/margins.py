"""Margin-based softmax logits of face recognition (CosFace, ArcFace) for the target class.

Conventions: feature and class weight are L2-normalized, so the plain logit is ``cos(theta)``
with ``theta`` the angle between them; ``theta_deg`` is in degrees, the ArcFace margin ``m`` in
radians (``0.5`` is about 28.6 degrees), the CosFace margin ``m`` in cosine units; ``s`` is the
scale applied after the margin. ArcFace is valid only while ``theta + m <= pi`` (beyond it the
target logit stops decreasing and implementations switch to a substitute), so such inputs are
rejected. Only the target class gets a margin; the other classes keep ``s * cos(theta_j)``.

Every function raises ``ValueError`` for ``theta_deg`` outside [0, 180], a non-positive scale,
a negative margin, an unknown loss name, or (ArcFace) ``theta + m > pi``.
"""

from __future__ import annotations

import math

__all__ = ["LOSSES", "arcface_logit", "cosface_logit", "target_logit"]

LOSSES = ("arcface", "cosface")


def _check(theta_deg: float, s: float, m: float) -> float:
    if not 0.0 <= theta_deg <= 180.0:
        raise ValueError(f"theta_deg must be in [0, 180], got {theta_deg}")
    if s <= 0:
        raise ValueError(f"scale s must be positive, got {s}")
    if m < 0:
        raise ValueError(f"margin m must be non-negative, got {m}")
    return math.radians(theta_deg)


def arcface_logit(*, theta_deg: float, s: float, m: float) -> float:
    """Return ArcFace's target logit ``s * cos(theta + m)`` (additive angular margin, radians).

    Raises ``ValueError`` on invalid input or when ``theta + m`` exceeds pi.
    """
    theta = _check(theta_deg, s, m)
    if theta + m > math.pi:
        raise ValueError("theta + m exceeds pi: ArcFace's target logit is not monotonic there")
    return s * math.cos(theta + m)


def cosface_logit(*, theta_deg: float, s: float, m: float) -> float:
    """Return CosFace's target logit ``s * (cos(theta) - m)`` (additive cosine margin).

    Raises ``ValueError`` on invalid input.
    """
    theta = _check(theta_deg, s, m)
    return s * (math.cos(theta) - m)


def target_logit(*, loss: str, theta_deg: float, s: float, m: float) -> float:
    """Return the target logit of ``loss`` (``"arcface"`` or ``"cosface"``).

    Raises ``ValueError`` for an unknown loss or what the chosen function raises.
    """
    if loss == "arcface":
        return arcface_logit(theta_deg=theta_deg, s=s, m=m)
    if loss == "cosface":
        return cosface_logit(theta_deg=theta_deg, s=s, m=m)
    raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
