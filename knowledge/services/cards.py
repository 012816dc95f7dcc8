"""Writes of cards: the only code that creates or changes a Card, its key points and options,
its edit history (CardRevision) and its immutable versions (CardVersion).

Every writer (the admin, the fixture loader, the importers) goes through these functions, so
each rule exists once:

* :func:`card_problems` holds the publish rules, the ownership scope and the template probe;
  it runs before the write transaction opens, so a slow probe holds no database lock;
* :func:`card_create` / :func:`card_update` validate, then write the card with its children, tags
  and citations in one transaction, with the card row locked;
* a :class:`CardVersion` is written when a published card's learner-facing content differs from
  its latest version (not on tag, difficulty, topic, bank or status changes); drafts get none
  until they are published;
* :func:`card_publish`, :func:`card_unpublish`, :func:`card_archive` change the status;
  :func:`card_template_move` moves a numeric card to another version of its template.
"""

from __future__ import annotations

import uuid as uuid_lib
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ..models import Card, CardRevision, CardVersion, KeyPoint, Option
from .card_content import (
    CardInput,
    KeyPointInput,
    OptionInput,
    Parts,
    card_learner_content,
    card_snapshot,
    template_latest_version,
)
from .card_rules import (
    card_children_problems,
    card_field_problems,
    card_problems,
    card_template_problems,
    may_write,
    raise_if,
    resolved,
)
from .common import Actor, CardConflict, content_digest, editor
from .taxonomy import tags_ensure

__all__ = [
    "CardInput",
    "KeyPointInput",
    "OptionInput",
    "card_archive",
    "card_children_problems",
    "card_create",
    "card_delete",
    "card_field_problems",
    "card_learner_content",
    "card_problems",
    "card_publish",
    "card_revision_record",
    "card_snapshot",
    "card_template_move",
    "card_template_problems",
    "card_unpublish",
    "card_update",
    "cards_set_status",
    "template_latest_version",
    "write",
]


def _sync_children(
    existing: list[Any], wanted: list[dict[str, Any]], model: Any, card: Card
) -> list[Any]:
    """Update children in place by position; create the missing ones, delete the extra ones."""
    if not existing:
        return list(
            model.objects.bulk_create(
                [model(card=card, position=i, **values) for i, values in enumerate(wanted)]
            )
        )
    kept = []
    for position, values in enumerate(wanted):
        if position < len(existing):
            child = existing[position]
            if child.position != position or any(getattr(child, k) != v for k, v in values.items()):
                for name, value in values.items():
                    setattr(child, name, value)
                child.position = position
                child.save()
            kept.append(child)
        else:
            kept.append(model.objects.create(card=card, position=position, **values))
    extra = [child.pk for child in existing[len(wanted) :]]
    if extra:
        model.objects.filter(pk__in=extra).delete()
    return kept


def _apply(card: Card, data: CardInput, user: Actor) -> Parts:
    """Set ``card`` (locked, or new) from ``data`` and save it with its children, tags, citations.

    Return the parts written, so the snapshot and the version content need no re-read.
    """
    is_new = card.pk is None
    card.slug = data.slug
    card.kind = data.kind
    card.bank = data.bank
    card.topic = data.topic
    card.status = data.status
    card.difficulty = data.difficulty
    card.question_zh, card.question_en = data.question_zh, data.question_en
    card.answer_zh, card.answer_en = data.answer_zh, data.answer_en
    card.erratum_zh, card.erratum_en = data.erratum_zh, data.erratum_en
    card.template_id = data.template_id if data.kind == Card.Kind.NUMERIC else ""
    card.template_version = data.template_version
    card.constraints = dict(data.constraints or {})
    card.checks = list(data.checks or [])
    card.save()
    tags = tags_ensure(slugs=data.tags, user=user)
    sections = list(dict.fromkeys(data.sections))
    if is_new:
        card.tags.add(*tags)
        card.sections.add(*sections)
    else:
        card.tags.set(tags)
        card.sections.set(sections)
    points = [
        {
            "text_zh": p.text_zh,
            "text_en": p.text_en,
            "accept_zh": list(p.accept_zh),
            "accept_en": list(p.accept_en),
        }
        for p in (data.key_points if data.kind == Card.Kind.CONCEPT else ())
    ]
    options = [
        {
            "text_zh": o.text_zh,
            "text_en": o.text_en,
            "correct": o.correct,
            "feedback_zh": o.feedback_zh,
            "feedback_en": o.feedback_en,
        }
        for o in (data.options if data.kind == Card.Kind.MCQ else ())
    ]
    old_points = [] if is_new else list(card.key_points.order_by("position"))
    old_options = [] if is_new else list(card.options.order_by("position"))
    return Parts(
        tags=[tag.slug for tag in tags],
        citations=[f"{s.source.code}:{s.section_id}" for s in sections],
        key_points=_sync_children(old_points, points, KeyPoint, card),
        options=_sync_children(old_options, options, Option, card),
    )


def _version_sync(
    card: Card, user: Actor, parts: Parts | None = None, *, is_new: bool = False
) -> CardVersion | None:
    """Write a CardVersion if ``card`` is published and learners would see something new.

    Call with the card row locked, inside the write transaction: the next number is read from
    the locked rows, and the unique (card, version) constraint turns any race that slips past
    the lock (SQLite has no row locks) into CardConflict instead of a duplicate.
    """
    if card.status != Card.Status.PUBLISHED:
        return None
    content = card_learner_content(card, parts=parts)
    digest = content_digest(content)
    latest = None if is_new else card.versions.order_by("-version").first()
    if latest is not None and latest.content_hash == digest:
        if card.version != latest.version:
            card.version = latest.version
            card.save(update_fields=["version", "updated_at"])
        return None
    number = latest.version + 1 if latest is not None else max(card.version, 1)
    try:
        with transaction.atomic():
            version = CardVersion.objects.create(
                card=card,
                version=number,
                content=content,
                content_hash=digest,
                created_by=editor(user),
            )
    except IntegrityError as exc:
        raise CardConflict(
            f"{card.slug} was changed by someone else at the same moment; reload it and try again"
        ) from exc
    if card.version != number:
        card.version = number
        card.save(update_fields=["version", "updated_at"])
    return version


def card_revision_record(
    card: Card,
    *,
    user: Actor = None,
    note: str = "",
    parts: Parts | None = None,
    is_new: bool = False,
) -> dict[str, Any] | None:
    """Record a revision if the card changed since its last one; return the snapshot written."""
    snapshot = card_snapshot(card, parts=parts)
    latest = (
        None if is_new else card.revisions.order_by("-created_at", "-id").only("snapshot").first()
    )
    if latest is not None and latest.snapshot == snapshot:
        return None
    CardRevision.objects.create(
        card=card,
        version=card.version,
        status=card.status,
        snapshot=snapshot,
        edited_by=editor(user),
        note=note[:200],
    )
    return snapshot


def write(
    *,
    card: Card | None,
    data: CardInput,
    user: Actor,
    note: str,
    card_uuid: uuid_lib.UUID | str | None = None,
    from_fixture: bool = False,
) -> Card:
    """Write validated ``data`` in one transaction with the card row locked; return the card."""
    with transaction.atomic():
        if card is None:
            target = Card(uuid=card_uuid or uuid_lib.uuid4())
        else:
            target = Card.objects.select_for_update().get(pk=card.pk)
        is_new = target.pk is None
        parts = _apply(target, data, user)
        _version_sync(target, user, parts, is_new=is_new)
        snapshot = card_revision_record(target, user=user, note=note, parts=parts, is_new=is_new)
        if from_fixture:
            target.fixture_hash = content_digest(snapshot or card_snapshot(target, parts=parts))
            Card.objects.filter(pk=target.pk).update(fixture_hash=target.fixture_hash)
    return target


def card_create(
    *,
    data: CardInput,
    user: Actor = None,
    note: str = "created",
    card_uuid: uuid_lib.UUID | str | None = None,
) -> Card:
    """Create a card (with its parts) from ``data``; raise ValidationError listing every problem."""
    raise_if(card_problems(data=data, user=user))
    return write(card=None, data=resolved(data, None), user=user, note=note, card_uuid=card_uuid)


def card_update(*, card: Card, data: CardInput, user: Actor = None, note: str = "edited") -> Card:
    """Change ``card`` to ``data``; raise ValidationError listing every problem (nothing written).

    A new CardVersion is written only if the card is published and what learners see changed.
    """
    raise_if(card_problems(data=data, card=card, user=user))
    return write(card=card, data=resolved(data, card), user=user, note=note)


def _status_set(card: Card, status: str, user: Actor) -> Card:
    data = CardInput.from_card(card, status=status)
    problems = card_problems(data=data, card=card, user=user)
    if status != Card.Status.PUBLISHED:
        # Taking a card out of rotation is never refused for its content, only for its owner.
        problems = {k: v for k, v in problems.items() if k == "bank"}
    raise_if(problems)
    if card.status == status:
        return card
    with transaction.atomic():
        target = Card.objects.select_for_update().get(pk=card.pk)
        target.status = status
        target.save(update_fields=["status", "updated_at"])
        _version_sync(target, user)
        card_revision_record(target, user=user, note=f"status -> {status}")
    return target


def card_publish(*, card: Card, user: Actor = None) -> Card:
    """Publish ``card`` if it is valid (raise ValidationError saying why not)."""
    return _status_set(card, Card.Status.PUBLISHED, user)


def card_unpublish(*, card: Card, user: Actor = None) -> Card:
    """Take ``card`` back to draft; its versions stay."""
    return _status_set(card, Card.Status.DRAFT, user)


def card_archive(*, card: Card, user: Actor = None) -> Card:
    """Take ``card`` out of rotation for good; its versions and history stay."""
    return _status_set(card, Card.Status.ARCHIVED, user)


def cards_set_status(
    *, cards: Iterable[Card], status: str, user: Actor = None
) -> tuple[int, dict[str, list[str]]]:
    """Set the status of each card; return how many changed and, by slug, why others were refused."""
    changed = 0
    refused: dict[str, list[str]] = {}
    for card in cards:
        if card.status == status:
            continue
        try:
            _status_set(card, status, user)
        except ValidationError as exc:
            refused[card.slug] = [m for messages in exc.message_dict.values() for m in messages]
        except CardConflict as exc:
            refused[card.slug] = [str(exc)]
        else:
            changed += 1
    return changed, refused


def card_template_move(*, card: Card, version: int, user: Actor = None) -> Card:
    """Move a numeric card to ``version`` of its template (a published card gets a new version)."""
    if card.kind != Card.Kind.NUMERIC:
        raise ValidationError({"template_version": ["only numeric cards have a template version"]})
    data = CardInput.from_card(card, template_version=version)
    raise_if(card_problems(data=data, card=card, user=user))
    return write(card=card, data=data, user=user, note=f"template moved to v{version}")


def card_delete(*, card: Card, user: Actor = None) -> None:
    """Delete a card nothing refers to; a card with versions is archived instead (ValidationError)."""
    if not may_write(user, card.bank):
        raise ValidationError(
            {"bank": [f"the card {card.slug!r} belongs to a bank you do not own"]}
        )
    if card.versions.exists():
        raise ValidationError(
            f"{card.slug} has been shown to learners (it has versions); archive it instead of deleting it."
        )
    card.delete()
