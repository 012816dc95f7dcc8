"""Writes of the question bank. The admin, the loader, importers and the API all go through these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission
from django.db import IntegrityError, transaction

from .fixture_schema import FixtureError, normalize_card, read_bank, validate_bank_data
from .models import Bank, Card, CardRevision, KeyPoint, Option, Source, SourceSection, Tag, Topic

__all__ = [
    "INSTRUCTORS_GROUP",
    "BankLoadError",
    "LoadReport",
    "bank_load",
    "card_apply_data",
    "card_publish_problems",
    "card_revision_record",
    "card_snapshot",
    "cards_set_status",
    "cards_upsert",
    "instructors_group_ensure",
]

INSTRUCTORS_GROUP = "Instructors"
# What instructors may do: author every part of the bank, and nothing of the learners' data.
INSTRUCTOR_MODELS = (
    "bank",
    "card",
    "keypoint",
    "option",
    "tag",
    "topic",
    "source",
    "sourcesection",
)

User = AbstractBaseUser | AnonymousUser


def instructors_group_ensure() -> Group:
    """Create or refresh the Instructors group and its permissions on the knowledge app."""
    group, _ = Group.objects.get_or_create(name=INSTRUCTORS_GROUP)
    codenames = [
        f"{action}_{model}"
        for model in INSTRUCTOR_MODELS
        for action in ("add", "change", "delete", "view")
    ]
    codenames.append("view_cardrevision")
    permissions = Permission.objects.filter(
        content_type__app_label="knowledge", codename__in=codenames
    )
    group.permissions.set(permissions)
    return group


def _bilingual(obj: Any, prefix: str) -> dict[str, str]:
    return {"zh": getattr(obj, f"{prefix}_zh"), "en": getattr(obj, f"{prefix}_en")}


def card_snapshot(card: Card) -> dict[str, Any]:
    """Return the card in fixture form (the format of ``fixtures/cards/*.yaml``)."""
    data: dict[str, Any] = {
        "uuid": str(card.uuid),
        "slug": card.slug,
        "kind": card.kind,
        "bank": card.bank.slug,
        "topic": card.topic.slug,
        "difficulty": card.difficulty,
        "tags": sorted(tag.slug for tag in card.tags.all()),
        "sources": sorted(section.citation for section in card.sections.select_related("source")),
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
            {
                "text": _bilingual(point, "text"),
                "accept": {"zh": point.accept_zh, "en": point.accept_en},
            }
            for point in card.key_points.all()
        ]
    elif card.kind == Card.Kind.MCQ:
        data["options"] = [
            {
                "text": _bilingual(option, "text"),
                "correct": option.correct,
                "feedback": _bilingual(option, "feedback"),
            }
            for option in card.options.all()
        ]
    else:
        data["template"] = card.template_id
        if card.template_version is not None:
            data["template_version"] = card.template_version
        if card.constraints:
            data["constraints"] = card.constraints
    return data


def _content(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a snapshot whose change is an edit (not a publish/unpublish)."""
    return {key: value for key, value in snapshot.items() if key != "status"}


def card_revision_record(card: Card, *, user: User | None = None, note: str = "") -> bool:
    """Record a revision if the card changed since its last one; bump its version on a published edit.

    The version increases when a published card's content differs from its last published
    revision, so learners' attempts can say which wording they answered. Return True if a
    revision was written.
    """
    snapshot = card_snapshot(card)
    latest = card.revisions.order_by("-created_at", "-id").first()
    if latest is not None and latest.snapshot == snapshot:
        return False
    if card.status == Card.Status.PUBLISHED:
        last_published = (
            card.revisions.filter(status=Card.Status.PUBLISHED)
            .order_by("-created_at", "-id")
            .first()
        )
        if last_published is not None and _content(last_published.snapshot) != _content(snapshot):
            card.version = max(card.version, last_published.version) + 1
            card.save(update_fields=["version", "updated_at"])
    editor = user if isinstance(user, get_user_model()) else None
    CardRevision.objects.create(
        card=card,
        version=card.version,
        status=card.status,
        snapshot=snapshot,
        edited_by=editor,
        note=note[:200],
    )
    return True


def card_publish_problems(card: Card) -> list[str]:
    """Return why ``card`` cannot be shown to learners yet (empty when it can)."""
    problems = []
    if card.kind == Card.Kind.CONCEPT and not card.key_points.exists():
        problems.append("a concept card needs at least one key point")
    elif card.kind == Card.Kind.MCQ:
        options = list(card.options.all())
        if not 2 <= len(options) <= 6:
            problems.append("a multiple-choice card needs 2 to 6 options")
        if not any(option.correct for option in options):
            problems.append("a multiple-choice card needs a correct option")
    elif card.kind == Card.Kind.NUMERIC:
        from compute.templates import generate

        try:
            generate(
                card.template_id,
                0,
                version=card.template_version,
                constraints=card.constraints or None,
            )
        except ValueError as exc:
            problems.append(f"its template cannot draw a variant: {exc}")
    return problems


def cards_set_status(
    cards: Iterable[Card], *, status: str, user: User | None = None
) -> tuple[int, dict[str, list[str]]]:
    """Publish or unpublish cards; return how many changed, and the cards refused with why.

    A card is published only when :func:`card_publish_problems` finds nothing wrong.
    """
    changed = 0
    refused: dict[str, list[str]] = {}
    with transaction.atomic():
        for card in cards:
            if status == Card.Status.PUBLISHED and card.status != status:
                problems = card_publish_problems(card)
                if problems:
                    refused[card.slug] = problems
                    continue
            if card.status != status:
                card.status = status
                card.save(update_fields=["status", "updated_at"])
                card_revision_record(card, user=user, note=f"status -> {status}")
                changed += 1
    return changed, refused


@dataclass
class _Lookup:
    banks: dict[str, Bank]
    topics: dict[str, Topic]
    sections: dict[str, SourceSection]


def _sync_children(
    existing: list[Any], wanted: list[dict[str, Any]], create: Any, fields: tuple[str, ...]
) -> None:
    """Update children in place by position; create the missing ones, delete the extra ones."""
    for position, values in enumerate(wanted):
        if position < len(existing):
            child = existing[position]
            if any(getattr(child, name) != values[name] for name in fields):
                for name in fields:
                    setattr(child, name, values[name])
                child.save()
        else:
            create(position=position, **values)
    for child in existing[len(wanted) :]:
        child.delete()


def card_apply_data(card: Card, data: Mapping[str, Any], *, lookup: _Lookup) -> None:
    """Set a card (saved or not) from validated fixture data, with its tags, sources and children."""
    card.slug = data["slug"]
    card.kind = data["kind"]
    card.bank = lookup.banks[data["bank"]]
    card.topic = lookup.topics[data["topic"]]
    card.difficulty = data["difficulty"]
    card.status = data["status"]
    card.question_zh, card.question_en = data["question"]["zh"], data["question"]["en"]
    card.answer_zh, card.answer_en = data["answer"]["zh"], data["answer"]["en"]
    erratum = data.get("erratum") or {"zh": "", "en": ""}
    card.erratum_zh, card.erratum_en = erratum["zh"], erratum["en"]
    card.checks = list(data.get("checks") or [])
    card.template_id = data.get("template", "") if card.kind == Card.Kind.NUMERIC else ""
    card.template_version = data.get("template_version")
    card.constraints = dict(data.get("constraints") or {})
    card.save()
    card.tags.set([Tag.objects.get_or_create(slug=slug)[0] for slug in data["tags"]])
    card.sections.set([lookup.sections[citation] for citation in data["sources"]])
    if card.kind == Card.Kind.CONCEPT:
        points = [
            {
                "text_zh": p["text"]["zh"],
                "text_en": p["text"]["en"],
                "accept_zh": list(p["accept"]["zh"]),
                "accept_en": list(p["accept"]["en"]),
            }
            for p in data["key_points"]
        ]
        _sync_children(
            list(card.key_points.all()),
            points,
            lambda **kw: KeyPoint.objects.create(card=card, **kw),
            ("text_zh", "text_en", "accept_zh", "accept_en"),
        )
    else:
        card.key_points.all().delete()
    if card.kind == Card.Kind.MCQ:
        options = [
            {
                "text_zh": o["text"]["zh"],
                "text_en": o["text"]["en"],
                "correct": o["correct"],
                "feedback_zh": o["feedback"]["zh"],
                "feedback_en": o["feedback"]["en"],
            }
            for o in data["options"]
        ]
        _sync_children(
            list(card.options.all()),
            options,
            lambda **kw: Option.objects.create(card=card, **kw),
            ("text_zh", "text_en", "correct", "feedback_zh", "feedback_en"),
        )
    else:
        card.options.all().delete()


class BankLoadError(Exception):
    """The fixtures are invalid; nothing was written. ``errors`` lists every problem."""

    def __init__(self, errors: list[FixtureError]) -> None:
        super().__init__(f"{len(errors)} error(s) in the question bank fixtures")
        self.errors = errors


@dataclass
class LoadReport:
    """What a load or an import did, card by card."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    slugs: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


def _bank_owner() -> Any:
    user_model = get_user_model()
    owner, created = user_model.objects.get_or_create(
        username=settings.BANK_OWNER, defaults={"is_staff": True}
    )
    if created:
        owner.set_unusable_password()
        owner.save()
    owner.groups.add(instructors_group_ensure())
    return owner


def cards_upsert(
    items: Iterable[Mapping[str, Any]],
    *,
    lookup: _Lookup,
    note: str,
    user: User | None = None,
    report: LoadReport | None = None,
) -> LoadReport:
    """Create or update validated cards (fixture form) by UUID; skip the unchanged ones.

    Call inside a transaction: a failure half-way must roll back the cards written before it.
    """
    report = report or LoadReport()
    items = list(items)
    existing = {
        str(card.uuid): card
        for card in Card.objects.filter(uuid__in=[item["uuid"] for item in items])
    }
    for item in items:
        card = existing.get(str(item["uuid"]))
        if card is not None and card_snapshot(card) == normalize_card(item):
            report.unchanged += 1
            continue
        is_new = card is None
        card = card or Card(uuid=item["uuid"])
        card_apply_data(card, item, lookup=lookup)
        card_revision_record(card, user=user, note=note[:200])
        report.created += is_new
        report.updated += not is_new
        report.slugs.append(card.slug)
    return report


def bank_load(root: Path | str | None = None) -> LoadReport:
    """Validate the fixtures under ``root`` and load them in one transaction.

    Cards are matched by UUID: existing ones are updated in place, new ones created, and cards
    missing from the fixtures are left alone (learners' history keeps pointing at them). Running
    the load twice changes nothing the second time. Raise ``BankLoadError`` with every problem
    if the fixtures are invalid; then nothing is written.
    """
    data = read_bank(root or settings.BANK_FIXTURES_DIR)
    errors = validate_bank_data(data)
    if errors:
        raise BankLoadError(errors)
    report = LoadReport()
    try:
        with transaction.atomic():
            owner = _bank_owner()
            banks = {}
            for _file, item in data.banks:
                bank, _ = Bank.objects.get_or_create(slug=item["slug"], defaults={"owner": owner})
                bank.title_zh, bank.title_en = item["title"]["zh"], item["title"]["en"]
                bank.description_zh = item["description"]["zh"]
                bank.description_en = item["description"]["en"]
                bank.save()
                banks[bank.slug] = bank
            topics: dict[str, Topic] = {}
            for position, (_file, item) in enumerate(data.topics):
                parent_slug = item["slug"].rpartition("/")[0]
                topic, _ = Topic.objects.update_or_create(
                    slug=item["slug"],
                    defaults={
                        "parent": topics.get(parent_slug),
                        "title_zh": item["title"]["zh"],
                        "title_en": item["title"]["en"],
                        "position": position,
                    },
                )
                topics[topic.slug] = topic
            sections: dict[str, SourceSection] = {}
            for _file, doc in data.sources:
                source, _ = Source.objects.update_or_create(
                    code=doc["id"],
                    defaults={
                        "file_name": doc["file"],
                        "title_zh": doc["title"]["zh"],
                        "title_en": doc["title"]["en"],
                    },
                )
                for position, item in enumerate(doc["sections"]):
                    section, _ = SourceSection.objects.update_or_create(
                        source=source,
                        section_id=item["id"],
                        defaults={
                            "title_zh": item["title"]["zh"],
                            "title_en": item["title"]["en"],
                            "position": position,
                        },
                    )
                    sections[section.citation] = section
            lookup = _Lookup(banks=banks, topics=topics, sections=sections)
            cards_upsert(
                [item for _file, item in data.cards],
                lookup=lookup,
                note="loaded from fixtures",
                report=report,
            )
    except IntegrityError as exc:
        raise BankLoadError([FixtureError("(database)", "", "", str(exc))]) from exc
    return report
