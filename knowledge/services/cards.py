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

import dataclasses
import uuid as uuid_lib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ..models import Bank, Card, CardRevision, CardVersion, KeyPoint, Option, SourceSection, Topic
from ..template_probe import template_problem
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
]

SLUG_MAX = Card._meta.get_field("slug").max_length or 120
TEMPLATE_ID_MAX = Card._meta.get_field("template_id").max_length or 80


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
class _Parts:
    """A card's related rows, read once (or known from the write) for its snapshot and content."""

    tags: list[str]
    citations: list[str]
    key_points: list[KeyPoint]
    options: list[Option]

    @classmethod
    def of(cls, card: Card) -> _Parts:
        return cls(
            tags=[tag.slug for tag in card.tags.all()],
            citations=[
                f"{s.source.code}:{s.section_id}" for s in card.sections.select_related("source")
            ],
            key_points=list(card.key_points.order_by("position")),
            options=list(card.options.order_by("position")),
        )


def card_snapshot(card: Card, *, parts: _Parts | None = None) -> dict[str, Any]:
    """Return the card in fixture form (the format of ``fixtures/cards/*.yaml``)."""
    parts = parts or _Parts.of(card)
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


def card_learner_content(card: Card, *, parts: _Parts | None = None) -> dict[str, Any]:
    """Return what a learner sees and is graded against: the content of a CardVersion."""
    parts = parts or _Parts.of(card)
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


# --- The rules ------------------------------------------------------------------------------


def _may_write(user: Actor, bank: Bank) -> bool:
    if user is None:
        return True  # the system: the loader, migrations
    if getattr(user, "is_superuser", False):
        return True
    return bool(user.is_authenticated and bank.owner_id == user.pk)


def _resolved(data: CardInput, card: Card | None) -> CardInput:
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
    if not _may_write(user, data.bank):
        problems["bank"] = [
            f"you can only write cards of banks you own; {data.bank.slug!r} is not yours"
        ]
    if card is not None and card.pk is not None and not _may_write(user, card.bank):
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


def _raise_if(problems: dict[str, list[str]]) -> None:
    if problems:
        raise ValidationError(problems)


# --- Writing --------------------------------------------------------------------------------


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


def _apply(card: Card, data: CardInput, user: Actor) -> _Parts:
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
    return _Parts(
        tags=[tag.slug for tag in tags],
        citations=[f"{s.source.code}:{s.section_id}" for s in sections],
        key_points=_sync_children(old_points, points, KeyPoint, card),
        options=_sync_children(old_options, options, Option, card),
    )


def _version_sync(
    card: Card, user: Actor, parts: _Parts | None = None, *, is_new: bool = False
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
    parts: _Parts | None = None,
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


def _write(
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
    _raise_if(card_problems(data=data, user=user))
    return _write(card=None, data=_resolved(data, None), user=user, note=note, card_uuid=card_uuid)


def card_update(*, card: Card, data: CardInput, user: Actor = None, note: str = "edited") -> Card:
    """Change ``card`` to ``data``; raise ValidationError listing every problem (nothing written).

    A new CardVersion is written only if the card is published and what learners see changed.
    """
    _raise_if(card_problems(data=data, card=card, user=user))
    return _write(card=card, data=_resolved(data, card), user=user, note=note)


def _status_set(card: Card, status: str, user: Actor) -> Card:
    data = CardInput.from_card(card, status=status)
    problems = card_problems(data=data, card=card, user=user)
    if status != Card.Status.PUBLISHED:
        # Taking a card out of rotation is never refused for its content, only for its owner.
        problems = {k: v for k, v in problems.items() if k == "bank"}
    _raise_if(problems)
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
    _raise_if(card_problems(data=data, card=card, user=user))
    return _write(card=card, data=data, user=user, note=f"template moved to v{version}")


def card_delete(*, card: Card, user: Actor = None) -> None:
    """Delete a card nothing refers to; a card with versions is archived instead (ValidationError)."""
    if not _may_write(user, card.bank):
        raise ValidationError(
            {"bank": [f"the card {card.slug!r} belongs to a bank you do not own"]}
        )
    if card.versions.exists():
        raise ValidationError(
            f"{card.slug} has been shown to learners (it has versions); archive it instead of deleting it."
        )
    card.delete()
