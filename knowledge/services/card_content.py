"""What a card is, as writers hand it over (CardInput) and as readers of a write see it (its
snapshot in fixture form, and the learner-facing content a CardVersion stores)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..models import Bank, Card, KeyPoint, Option, SourceSection, Topic

__all__ = [
    "CardInput",
    "KeyPointInput",
    "OptionInput",
    "Parts",
    "card_learner_content",
    "card_snapshot",
    "template_latest_version",
]


@dataclass(frozen=True)
class KeyPointInput:
    text_zh: str
    text_en: str
    accept_zh: Sequence[str] = ()
    accept_en: Sequence[str] = ()


@dataclass(frozen=True)
class OptionInput:
    text_zh: str
    text_en: str
    correct: bool = False
    feedback_zh: str = ""
    feedback_en: str = ""


@dataclass(frozen=True)
class CardInput:
    """Everything a card is, as one writer hands it over (the admin form, a fixture item)."""

    slug: str
    kind: str
    bank: Bank
    topic: Topic
    question_zh: str
    question_en: str
    answer_zh: str
    answer_en: str
    status: str = Card.Status.DRAFT
    difficulty: int = 2
    erratum_zh: str = ""
    erratum_en: str = ""
    template_id: str = ""
    # None on a numeric card: keep the pinned version (or pin the latest on a new card).
    template_version: int | None = None
    constraints: Mapping[str, Any] = field(default_factory=dict)
    checks: Sequence[Any] = ()
    tags: Sequence[str] = ()  # slugs; a missing tag is created
    sections: Sequence[SourceSection] = ()
    key_points: Sequence[KeyPointInput] = ()
    options: Sequence[OptionInput] = ()

    @classmethod
    def from_card(cls, card: Card, **changes: Any) -> CardInput:
        """Return the card as it is stored, with ``changes`` on top."""
        values: dict[str, Any] = {
            "slug": card.slug,
            "kind": card.kind,
            "bank": card.bank,
            "topic": card.topic,
            "question_zh": card.question_zh,
            "question_en": card.question_en,
            "answer_zh": card.answer_zh,
            "answer_en": card.answer_en,
            "status": card.status,
            "difficulty": card.difficulty,
            "erratum_zh": card.erratum_zh,
            "erratum_en": card.erratum_en,
            "template_id": card.template_id,
            "template_version": card.template_version,
            "constraints": dict(card.constraints or {}),
            "checks": list(card.checks or []),
            "tags": [tag.slug for tag in card.tags.all()],
            "sections": list(card.sections.all()),
            "key_points": [
                KeyPointInput(p.text_zh, p.text_en, list(p.accept_zh), list(p.accept_en))
                for p in card.key_points.order_by("position")
            ],
            "options": [
                OptionInput(o.text_zh, o.text_en, o.correct, o.feedback_zh, o.feedback_en)
                for o in card.options.order_by("position")
            ],
        }
        values.update(changes)
        return cls(**values)


# --- Reads the writes need --------------------------------------------------------------------


def _bilingual(obj: Any, prefix: str) -> dict[str, str]:
    return {"zh": getattr(obj, f"{prefix}_zh"), "en": getattr(obj, f"{prefix}_en")}


@dataclass
class Parts:
    """A card's related rows, read once (or known from the write) for its snapshot and content."""

    tags: list[str]
    citations: list[str]
    key_points: list[KeyPoint]
    options: list[Option]

    @classmethod
    def of(cls, card: Card) -> Parts:
        return cls(
            tags=[tag.slug for tag in card.tags.all()],
            citations=[
                f"{s.source.code}:{s.section_id}" for s in card.sections.select_related("source")
            ],
            key_points=list(card.key_points.order_by("position")),
            options=list(card.options.order_by("position")),
        )


def card_snapshot(card: Card, *, parts: Parts | None = None) -> dict[str, Any]:
    """Return the card in fixture form (the format of ``fixtures/cards/*.yaml``)."""
    parts = parts or Parts.of(card)
    data: dict[str, Any] = {
        "uuid": str(card.uuid),
        "slug": card.slug,
        "kind": card.kind,
        "bank": card.bank.slug,
        "topic": card.topic.slug,
        "difficulty": card.difficulty,
        "tags": sorted(parts.tags),
        "sources": sorted(parts.citations),
        "status": card.status,
        "question": _bilingual(card, "question"),
        "answer": _bilingual(card, "answer"),
    }
    if card.erratum_zh or card.erratum_en:
        data["erratum"] = _bilingual(card, "erratum")
    if card.checks:
        data["checks"] = card.checks
    if card.kind == Card.Kind.CONCEPT:
        data["key_points"] = [
            {"text": _bilingual(p, "text"), "accept": {"zh": p.accept_zh, "en": p.accept_en}}
            for p in parts.key_points
        ]
    elif card.kind == Card.Kind.MCQ:
        data["options"] = [
            {
                "text": _bilingual(o, "text"),
                "correct": o.correct,
                "feedback": _bilingual(o, "feedback"),
            }
            for o in parts.options
        ]
    else:
        data["template"] = card.template_id
        if card.template_version is not None:
            data["template_version"] = card.template_version
        if card.constraints:
            data["constraints"] = card.constraints
    return data


def card_learner_content(card: Card, *, parts: Parts | None = None) -> dict[str, Any]:
    """Return what a learner sees and is graded against: the content of a CardVersion."""
    parts = parts or Parts.of(card)
    return {
        "kind": card.kind,
        "question": _bilingual(card, "question"),
        "answer": _bilingual(card, "answer"),
        "erratum": _bilingual(card, "erratum"),
        "key_points": [
            {"text": _bilingual(p, "text"), "accept": {"zh": p.accept_zh, "en": p.accept_en}}
            for p in parts.key_points
        ],
        "options": [
            {
                "text": _bilingual(o, "text"),
                "correct": o.correct,
                "feedback": _bilingual(o, "feedback"),
            }
            for o in parts.options
        ],
        "template": (
            {
                "id": card.template_id,
                "version": card.template_version,
                "constraints": card.constraints or {},
            }
            if card.kind == Card.Kind.NUMERIC
            else None
        ),
    }


def template_latest_version(template_id: str) -> int | None:
    """Return the latest registered version of ``template_id``, or None if it is unknown."""
    from compute.templates import UnknownTemplate, get_template

    try:
        return get_template(template_id).version
    except UnknownTemplate:
        return None
