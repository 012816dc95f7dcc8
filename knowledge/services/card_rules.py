"""The rules every card writer shares: owner scope, field domains, publish rules, template probe."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError

from ..models import Bank, Card
from ..template_probe import template_problem
from .card_content import CardInput, KeyPointInput, OptionInput, template_latest_version
from .common import Actor

__all__ = [
    "SLUG_MAX",
    "TEMPLATE_ID_MAX",
    "card_children_problems",
    "card_field_problems",
    "card_problems",
    "card_template_problems",
    "may_write",
    "raise_if",
    "resolved",
]

SLUG_MAX = Card._meta.get_field("slug").max_length or 120
TEMPLATE_ID_MAX = Card._meta.get_field("template_id").max_length or 80


def may_write(user: Actor, bank: Bank) -> bool:
    if user is None:
        return True  # the system: the loader, migrations
    if getattr(user, "is_superuser", False):
        return True
    return bool(user.is_authenticated and bank.owner_id == user.pk)


def resolved(data: CardInput, card: Card | None) -> CardInput:
    """Fill in what a writer may leave out: the pinned template version, no template off numeric."""
    if data.kind != Card.Kind.NUMERIC:
        return dataclasses.replace(data, template_version=None, constraints={})
    if data.template_version is None:
        if card is not None and card.template_id == data.template_id and card.template_version:
            version: int | None = card.template_version
        else:
            version = template_latest_version(data.template_id)
        return dataclasses.replace(data, template_version=version)
    return data


def card_field_problems(*, data: CardInput) -> dict[str, list[str]]:
    """Return what is wrong with the card's own fields (slug, kind, status, difficulty, question)."""
    problems: dict[str, list[str]] = {}
    if not data.slug or len(data.slug) > SLUG_MAX:
        problems.setdefault("slug", []).append(f"must be 1 to {SLUG_MAX} characters")
    if data.kind not in Card.Kind.values:
        problems.setdefault("kind", []).append(f"must be one of {', '.join(Card.Kind.values)}")
    if data.status not in Card.Status.values:
        problems.setdefault("status", []).append(f"must be one of {', '.join(Card.Status.values)}")
    difficulty = data.difficulty
    if isinstance(difficulty, bool) or not isinstance(difficulty, int) or not 1 <= difficulty <= 5:
        problems.setdefault("difficulty", []).append("must be a whole number from 1 to 5")
    if not data.question_zh.strip() or not data.question_en.strip():
        problems.setdefault("question_en", []).append("a card needs its question in both languages")
    return problems


def card_children_problems(
    *, kind: str, key_points: Sequence[KeyPointInput], options: Sequence[OptionInput]
) -> dict[str, list[str]]:
    """Return what is wrong with the key points or options a card of ``kind`` would have."""
    problems: dict[str, list[str]] = {}
    if kind == Card.Kind.CONCEPT and not key_points:
        problems["key_points"] = ["a concept card needs at least one key point"]
    elif kind == Card.Kind.MCQ:
        wrong = []
        if not 2 <= len(options) <= 6:
            wrong.append("a multiple-choice card needs 2 to 6 options")
        if not any(option.correct for option in options):
            wrong.append("a multiple-choice card needs at least one correct option")
        if wrong:
            problems["options"] = wrong
    return problems


def card_template_problems(
    *,
    kind: str,
    template_id: str,
    template_version: int | None,
    constraints: Any,
    card: Card | None = None,
) -> dict[str, list[str]]:
    """Return what is wrong with a card's template: unknown, or unable to draw variants in time.

    ``template_version`` None means the card's pinned version (the latest for a new card). The
    probe runs with a time budget; call this outside any transaction.
    """
    if kind != Card.Kind.NUMERIC:
        if template_id:
            return {"template_id": ["only numeric cards name a compute template"]}
        return {}
    if not template_id:
        return {"template_id": ["a numeric card names its compute template"]}
    if len(template_id) > TEMPLATE_ID_MAX:
        return {"template_id": [f"must be at most {TEMPLATE_ID_MAX} characters"]}
    if constraints is not None and not isinstance(constraints, Mapping):
        return {"constraints": ["must map parameter names to lists of values"]}
    if template_latest_version(template_id) is None:
        return {"template_id": [f"unknown compute template {template_id!r}"]}
    version = template_version
    if version is None:
        if card is not None and card.template_id == template_id and card.template_version:
            version = card.template_version
        else:
            version = template_latest_version(template_id)
    problem = template_problem(template_id, version, dict(constraints or {}) or None)
    if problem is None:
        return {}
    if "has no version" in problem:
        return {"template_version": [problem]}
    return {"constraints" if constraints else "template_version": [problem]}


def card_problems(
    *, data: CardInput, card: Card | None = None, user: Actor = None
) -> dict[str, list[str]]:
    """Return what is wrong with writing ``data`` (over ``card``, if given) as ``user``, by field.

    Empty when the write may go ahead. These are the rules every writer shares: the owner scope
    (an instructor writes only cards of banks they own), the fields' domains and the publish
    rules (concept: a key point; mcq: 2 to 6 options, one or more correct; numeric: its pinned
    template draws variants under its constraints, probed with a time budget). Call it outside
    any transaction: the probe may take up to its budget.
    """
    problems: dict[str, list[str]] = {}
    if not may_write(user, data.bank):
        problems["bank"] = [
            f"you can only write cards of banks you own; {data.bank.slug!r} is not yours"
        ]
    if card is not None and card.pk is not None and not may_write(user, card.bank):
        problems.setdefault("bank", []).append(
            f"the card {card.slug!r} belongs to a bank you do not own"
        )
    for part in (
        card_field_problems(data=data),
        card_children_problems(kind=data.kind, key_points=data.key_points, options=data.options),
        card_template_problems(
            kind=data.kind,
            template_id=data.template_id,
            template_version=data.template_version,
            constraints=data.constraints,
            card=card,
        ),
    ):
        for name, messages in part.items():
            problems.setdefault(name, []).extend(messages)
    return problems


def raise_if(problems: dict[str, list[str]]) -> None:
    if problems:
        raise ValidationError(problems)
