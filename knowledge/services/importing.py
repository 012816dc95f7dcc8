"""Import of cards given in fixture form (the format of ``fixtures/cards/*.yaml``).

:func:`cards_import` is the entry point for every file format once it is converted to fixture
form, and for code that builds a bank (the demo bank): it validates every card against the
database (the banks the user owns, the existing topics and sections, the card rules of
:func:`~knowledge.services.cards.card_problems`), then writes them all in one transaction
through the same code as the admin, or raises BankImportError and writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction

from ..fixture_schema import BankData, FixtureError, normalize_card, validate_bank_data
from ..models import Bank, Card, Source, SourceSection, Topic
from .card_content import (
    CardInput,
    KeyPointInput,
    OptionInput,
    card_snapshot,
    template_latest_version,
)
from .card_rules import card_problems, resolved
from .cards import write
from .common import Actor, CardConflict
from .taxonomy import taxonomy_content

__all__ = [
    "BankImportError",
    "CardLookup",
    "LoadReport",
    "card_input_from_item",
    "card_item_canonical",
    "cards_import",
]


class BankImportError(Exception):
    """Nothing was imported; ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[FixtureError]) -> None:
        super().__init__(f"{len(errors)} error(s); nothing was imported")
        self.errors = list(errors)


@dataclass
class LoadReport:
    """What a load or an import did, card by card (and row by row for the loader)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    slugs: list[str] = field(default_factory=list)
    # Rows the fixtures would change but that were changed elsewhere since the last load.
    conflicts: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        if self.conflicts:
            text += f", {len(self.conflicts)} conflict(s) left alone"
        return text


@dataclass
class CardLookup:
    """The rows fixture items name by slug: banks, topics, sections by citation."""

    banks: dict[str, Bank]
    topics: dict[str, Topic]
    sections: dict[str, SourceSection]

    @classmethod
    def from_database(cls, banks: Sequence[Bank]) -> CardLookup:
        return cls(
            banks={bank.slug: bank for bank in banks},
            topics={topic.slug: topic for topic in Topic.objects.all()},
            sections={
                f"{s.source.code}:{s.section_id}": s
                for s in SourceSection.objects.select_related("source")
            },
        )


def card_input_from_item(item: Mapping[str, Any], *, lookup: CardLookup) -> CardInput:
    """Return the CardInput of a validated fixture item."""
    erratum = item.get("erratum") or {"zh": "", "en": ""}
    kind = item["kind"]
    return CardInput(
        slug=item["slug"],
        kind=kind,
        bank=lookup.banks[item["bank"]],
        topic=lookup.topics[item["topic"]],
        status=item["status"],
        difficulty=item["difficulty"],
        question_zh=item["question"]["zh"],
        question_en=item["question"]["en"],
        answer_zh=item["answer"]["zh"],
        answer_en=item["answer"]["en"],
        erratum_zh=erratum.get("zh", ""),
        erratum_en=erratum.get("en", ""),
        template_id=item.get("template", "") if kind == Card.Kind.NUMERIC else "",
        template_version=item.get("template_version"),
        constraints=dict(item.get("constraints") or {}),
        checks=list(item.get("checks") or []),
        tags=list(item.get("tags") or []),
        sections=[lookup.sections[citation] for citation in item.get("sources") or []],
        key_points=[
            KeyPointInput(p["text"]["zh"], p["text"]["en"], p["accept"]["zh"], p["accept"]["en"])
            for p in item.get("key_points") or []
        ],
        options=[
            OptionInput(
                o["text"]["zh"],
                o["text"]["en"],
                o["correct"],
                o["feedback"]["zh"],
                o["feedback"]["en"],
            )
            for o in item.get("options") or []
        ],
    )


def card_item_canonical(item: Mapping[str, Any], *, card: Card | None = None) -> dict[str, Any]:
    """Return a fixture item as :func:`card_snapshot` would show the card written from it.

    A numeric item without ``template_version`` means "keep the pinned version" (the latest for
    a new card), so the same item always compares equal to the card it produced.
    """
    data = normalize_card(item)
    if data.get("kind") == Card.Kind.NUMERIC and data.get("template_version") is None:
        if card is not None and card.template_id == data.get("template") and card.template_version:
            data["template_version"] = card.template_version
        else:
            latest = template_latest_version(str(data.get("template")))
            if latest is not None:
                data["template_version"] = latest
    return data


def _banks_for(user: Actor) -> list[Bank]:
    banks = Bank.objects.all()
    if user is not None and not getattr(user, "is_superuser", False):
        banks = banks.filter(owner_id=getattr(user, "pk", None))
    return list(banks)


def _database_bank_data(name: str, banks: list[Bank], cards: list[tuple[str, Any]]) -> BankData:
    """The banks, topics and sources of the database in fixture form, for the validator."""
    data = BankData(root=Path("."))
    for bank in banks:
        data.banks.append(
            (
                name,
                {
                    "slug": bank.slug,
                    "title": {
                        "zh": bank.title_zh or bank.title_en,
                        "en": bank.title_en or bank.title_zh,
                    },
                    "description": {
                        "zh": bank.description_zh or "-",
                        "en": bank.description_en or "-",
                    },
                },
            )
        )
    for topic in Topic.objects.order_by("slug"):
        data.topics.append(
            (name, {"slug": topic.slug, "title": {"zh": topic.title_zh, "en": topic.title_en}})
        )
    for source in Source.objects.prefetch_related("sections"):
        data.sources.append(
            (
                f"{source.code}.yaml",
                {
                    **taxonomy_content(source),
                    "sections": [
                        {"id": s.section_id, "title": {"zh": s.title_zh, "en": s.title_en}}
                        for s in source.sections.all()
                    ],
                },
            )
        )
    data.cards.extend(cards)
    return data


def _uuid_or_none(value: Any) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def cards_import(
    *,
    items: Sequence[Mapping[str, Any]],
    user: Actor,
    name: str = "import",
    note: str = "",
    strict: bool = False,
    errors: Sequence[FixtureError] = (),
) -> LoadReport:
    """Validate ``items`` (cards in fixture form) and write them all, or raise BankImportError.

    Cards are matched by UUID: an existing card is updated in place (if ``user`` owns its bank),
    a new one created; an item equal to its card changes nothing. ``errors`` are problems a
    converter already found; they are reported with the validation errors, and any stops the
    import. ``strict`` applies the authored bank's extra rules (Chinese text, tags, sources).
    """
    banks = _banks_for(user)
    data = _database_bank_data(name, banks, [(name, dict(item)) for item in items])
    all_errors = list(errors)
    all_errors += [
        error
        for error in validate_bank_data(data, strict=strict)
        if error.card  # bank/topic/source rows come from the database and are not the upload's
    ]
    if not items and not all_errors:
        all_errors.append(FixtureError(name, "", "", "the file contains no cards"))
    if all_errors:
        raise BankImportError(all_errors)

    lookup = CardLookup.from_database(banks)
    wanted = [_uuid_or_none(item.get("uuid")) for item in items]
    existing = {
        str(card.uuid): card
        for card in Card.objects.filter(uuid__in=[u for u in wanted if u]).select_related(
            "bank", "topic"
        )
    }
    plan: list[tuple[Mapping[str, Any], Card | None, CardInput]] = []
    report = LoadReport()
    for item, card_uuid in zip(items, wanted, strict=True):
        card = existing.get(card_uuid or "")
        label = str(item.get("slug"))
        if card is not None and card.bank_id not in {bank.id for bank in banks}:
            all_errors.append(FixtureError(name, label, "uuid", "belongs to a bank you do not own"))
            continue
        if card is not None and card_snapshot(card) == card_item_canonical(item, card=card):
            report.unchanged += 1
            continue
        card_input = card_input_from_item(item, lookup=lookup)
        for field_name, messages in card_problems(data=card_input, card=card, user=user).items():
            all_errors += [FixtureError(name, label, field_name, m) for m in messages]
        plan.append((item, card, card_input))
    if all_errors:
        raise BankImportError(all_errors)
    try:
        with transaction.atomic():
            for item, card, card_input in plan:
                written = write(
                    card=card,
                    data=resolved(card_input, card),
                    user=user,
                    note=note or f"imported from {name}",
                    card_uuid=item["uuid"],
                )
                report.created += card is None
                report.updated += card is not None
                report.slugs.append(written.slug)
    except (IntegrityError, CardConflict) as exc:
        raise BankImportError(
            [FixtureError(name, "", "", f"conflicts with existing cards: {exc}")]
        ) from exc
    except DatabaseError as exc:  # e.g. a value PostgreSQL refuses that the validator let through
        raise BankImportError(
            [FixtureError(name, "", "", f"the database refused it: {exc}")]
        ) from exc
    return report
