"""Builders for the learning engine's tests: learners, banks, published cards with versions.

Cards are written through the ORM and published with :func:`publish`, which stores the card's
learner-facing content (``knowledge.services.card_learner_content``, the shape the bank's write
path stores) as its next CardVersion; these tests are about the engine, not the bank's rules.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User

from compute.templates import get_template
from knowledge.models import (
    Bank,
    Card,
    CardVersion,
    KeyPoint,
    Option,
    Source,
    SourceSection,
    Topic,
)
from knowledge.services import card_learner_content
from quizzes.models import Attempt, BankSubscription, IssuedItem, ReviewLog


def learner(username: str = "learner") -> User:
    return User.objects.create_user(username, password="pw-learn-123")


def bank(slug: str = "study-bank") -> Bank:
    owner = User.objects.filter(username="owner").first() or User.objects.create_user(
        "owner", password="pw-owner-123", is_staff=True
    )
    return Bank.objects.create(slug=slug, title_zh="题库", title_en="Bank", owner=owner)


def _topic() -> Topic:
    return Topic.objects.get_or_create(
        slug="cnn", defaults={"title_zh": "卷积", "title_en": "CNN"}
    )[0]


def _section(section_id: str) -> SourceSection:
    source, _ = Source.objects.get_or_create(
        code="000", defaults={"file_name": "000.txt", "title_zh": "笔记", "title_en": "Notes"}
    )
    return SourceSection.objects.get_or_create(
        source=source, section_id=section_id, defaults={"title_zh": "节", "title_en": "Section"}
    )[0]


def publish(card: Card) -> CardVersion:
    """Store the card's learner-facing content as its next version and point the card at it."""
    content = card_learner_content(card)
    latest = card.versions.order_by("-version").first()
    number = latest.version + 1 if latest is not None else 1
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    version = CardVersion.objects.create(
        card=card, version=number, content=content, content_hash=digest
    )
    card.version = number
    card.save(update_fields=["version"])
    return version


def _card(in_bank: Bank, *, kind: str, section: str | None, **fields: Any) -> Card:
    slug = fields.pop("slug", None) or f"card-{uuid.uuid4().hex[:8]}"
    values: dict[str, Any] = {
        "slug": slug,
        "bank": in_bank,
        "topic": _topic(),
        "kind": kind,
        "status": Card.Status.PUBLISHED,
        "question_zh": "什么是填充？",
        "question_en": "What is padding?",
        "answer_zh": "在输入边缘补零。",
        "answer_en": "Zeros added around the input.",
    }
    values.update(fields)
    card = Card.objects.create(**values)
    # Each card cites a section of its own unless the test names a shared one (a sibling).
    card.sections.set([_section(section or f"s-{slug}")])
    return card


def concept(in_bank: Bank, *, section: str | None = None, **fields: Any) -> Card:
    """A published concept card with two key points: zero padding; keeps the size."""
    card = _card(in_bank, kind="concept", section=section, **fields)
    KeyPoint.objects.create(
        card=card,
        position=0,
        text_zh="补零",
        text_en="zero padding",
        accept_zh=["补零"],
        accept_en=["zero", "padding"],
    )
    KeyPoint.objects.create(
        card=card,
        position=1,
        text_zh="保持尺寸",
        text_en="keeps the spatial size",
        accept_zh=["保持尺寸", "尺寸不变"],
        accept_en=["same size", "keeps the size"],
    )
    publish(card)
    return card


def mcq(in_bank: Bank, *, multi: bool = False, section: str | None = None, **fields: Any) -> Card:
    """A published MCQ: options 0 (right) and 1 (wrong); with ``multi`` also 2 (right)."""
    card = _card(in_bank, kind="mcq", section=section, **fields)
    options = [("对", "Right", True, "Yes"), ("错", "Wrong", False, "No")]
    if multi:
        options.append(("也对", "Also right", True, "Yes, too"))
    for position, (zh, en, correct, feedback) in enumerate(options):
        Option.objects.create(
            card=card,
            position=position,
            text_zh=zh,
            text_en=en,
            correct=correct,
            feedback_zh=feedback,
            feedback_en=feedback,
        )
    publish(card)
    return card


def numeric(
    in_bank: Bank,
    template_id: str = "conv.output_size",
    *,
    section: str | None = None,
    **fields: Any,
) -> Card:
    """A published numeric card pinned to the template's latest version."""
    card = _card(
        in_bank,
        kind="numeric",
        section=section,
        template_id=template_id,
        template_version=get_template(template_id).version,
        **fields,
    )
    publish(card)
    return card


def subscribe(user: User, to: Bank) -> BankSubscription:
    return BankSubscription.objects.create(learner=user, bank=to)


def review_log(
    user: User, in_bank: Bank, reviews: Iterable[tuple[str, int, datetime]]
) -> list[ReviewLog]:
    """Store ``reviews`` (card key, rating, reviewed_at) as the learner's review log, in bulk.

    One published concept card per card key; each review gets the issued item and graded attempt
    it would have come from. Only what the parameter fit reads is meaningful (card, rating,
    time); the states before and after are left empty.
    """
    rows = sorted(reviews, key=lambda row: row[2])
    keys = sorted({key for key, _, _ in rows})
    topic = _topic()
    cards = Card.objects.bulk_create(
        Card(
            slug=f"log-{in_bank.slug}-{key}",
            bank=in_bank,
            topic=topic,
            kind="concept",
            status=Card.Status.PUBLISHED,
            question_zh="问",
            question_en="Question",
            answer_zh="答",
            answer_en="Answer",
        )
        for key in keys
    )
    by_key = dict(zip(keys, cards, strict=True))
    versions = CardVersion.objects.bulk_create(
        CardVersion(card=card, version=1, content={}, content_hash=f"{card.pk:064d}")
        for card in cards
    )
    version_of = {version.card_id: version for version in versions}
    issued = IssuedItem.objects.bulk_create(
        IssuedItem(
            learner=user,
            card=by_key[key],
            card_version=version_of[by_key[key].pk],
            issued_at=at - timedelta(minutes=1),
            expires_at=at + timedelta(hours=1),
            answered=True,
        )
        for key, _, at in rows
    )
    attempts = Attempt.objects.bulk_create(
        Attempt(
            id=uuid.uuid4(),
            learner=user,
            issued=item,
            card_version=item.card_version,
            response={"rating": rating},
            reviewed_at=at,
            duration_ms=10_000,
            submitted_at=at,
            status=Attempt.Status.GRADED,
            graded_at=at,
        )
        for item, (_, rating, at) in zip(issued, rows, strict=True)
    )
    return ReviewLog.objects.bulk_create(
        ReviewLog(
            attempt=attempt,
            learner=user,
            card_id=attempt.issued.card_id,
            card_version=attempt.card_version,
            response=attempt.response,
            score=1.0 if rating > 1 else 0.0,
            rating=rating,
            phase_before=0,
            elapsed_ms=10_000,
            reviewed_at=at,
            client_id=attempt.id,
            state_before={},
            state_after={},
            due=at + timedelta(days=1),
        )
        for attempt, (_, rating, at) in zip(attempts, rows, strict=True)
    )
