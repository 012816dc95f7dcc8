"""Numeric cards as concrete variants, for previews and for formats that cannot randomize."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from compute.templates import AnswerKind, generate, get_template
from knowledge.models import Card
from knowledge.rendering import render_markdown

__all__ = ["numeric_variants"]


def numeric_variants(card: Card, seeds: Iterable[int]) -> list[dict[str, Any]]:
    """Return one dict per seed: prompt, answer, misconceptions and worked solution (HTML too).

    ``scalar`` is the answer as a number when it is one (else None) and ``tolerance`` the
    absolute width accepted around it.
    """
    template = get_template(card.template_id, card.template_version)
    variants = []
    for seed in seeds:
        variant = generate(
            card.template_id,
            seed,
            version=card.template_version,
            constraints=card.constraints or None,
        )
        scalar: float | int | None = None
        tolerance = 0.0
        if variant.kind in (AnswerKind.INTEGER, AnswerKind.REAL) and isinstance(
            variant.answer, int | float
        ):
            scalar = variant.answer
            if variant.kind == AnswerKind.REAL:
                tolerance = template.tolerance.width(float(variant.answer))
        variants.append(
            {
                "seed": seed,
                "prompt": {"en": variant.prompt.en, "zh": variant.prompt.zh},
                "prompt_html": {
                    "en": render_markdown(variant.prompt.en),
                    "zh": render_markdown(variant.prompt.zh),
                },
                "answer_text": variant.answer_text,
                "scalar": scalar,
                "tolerance": tolerance,
                "misconceptions": [
                    {
                        "id": m.id,
                        "value": m.text,
                        "credit": m.credit,
                        "feedback_html": {
                            "en": render_markdown(m.feedback.en),
                            "zh": render_markdown(m.feedback.zh),
                        },
                    }
                    for m in variant.misconceptions
                ],
                "solution_html": {
                    "en": render_markdown(variant.solution.en),
                    "zh": render_markdown(variant.solution.zh),
                },
            }
        )
    return variants
