"""Validate-then-write import of cards given in fixture form, whatever file format they came in.

Every converter (fixture YAML, CSV, Moodle XML) turns a file into cards in the fixture form of
``fixtures/README.md``; this module validates all of them against the database (the banks the
importing user owns, the existing topics and source sections) and writes them in one
transaction only if there is no error at all. Cards are matched by UUID, then updated in place.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction

from knowledge.fixture_schema import BankData, FixtureError, validate_bank_data
from knowledge.models import Bank, Card, Source, Topic
from knowledge.services import LoadReport, _Lookup, cards_upsert

__all__ = ["BankImportError", "cards_import_items"]


class BankImportError(Exception):
    """Nothing was imported; ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[FixtureError]) -> None:
        super().__init__(f"{len(errors)} error(s); nothing was imported")
        self.errors = list(errors)


def _banks_for(user: AbstractBaseUser | AnonymousUser) -> list[Bank]:
    banks = Bank.objects.all()
    if not getattr(user, "is_superuser", False):
        banks = banks.filter(owner_id=getattr(user, "pk", None))
    return list(banks)


def _database_bank_data(name: str, banks: list[Bank], cards: list[tuple[str, Any]]) -> BankData:
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
                    "id": source.code,
                    "file": source.file_name,
                    "title": {"zh": source.title_zh, "en": source.title_en},
                    "sections": [
                        {"id": s.section_id, "title": {"zh": s.title_zh, "en": s.title_en}}
                        for s in source.sections.all()
                    ],
                },
            )
        )
    data.cards.extend(cards)
    return data


def _valid_uuids(items: Sequence[Mapping[str, Any]]) -> list[str]:
    valid = []
    for item in items:
        try:
            valid.append(str(uuid.UUID(str(item.get("uuid")))))
        except ValueError:
            continue  # reported by the validator
    return valid


def cards_import_items(
    items: Sequence[Mapping[str, Any]],
    *,
    user: AbstractBaseUser | AnonymousUser,
    name: str,
    strict: bool = False,
    errors: Sequence[FixtureError] = (),
) -> LoadReport:
    """Validate ``items`` (cards in fixture form) and write them all, or raise BankImportError.

    ``errors`` are problems a converter already found; they are reported together with the
    validation errors, and any of them stops the import.
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
    # A card that exists but sits in a bank this user does not own may not be overwritten.
    owned = {bank.id for bank in banks}
    existing = {str(card.uuid): card for card in Card.objects.filter(uuid__in=_valid_uuids(items))}
    for item in items:
        card = existing.get(str(item.get("uuid")))
        if card is not None and card.bank_id not in owned:
            all_errors.append(
                FixtureError(
                    name, str(item.get("slug")), "uuid", "belongs to a bank you do not own"
                )
            )
    if all_errors:
        raise BankImportError(all_errors)

    lookup = _Lookup(
        banks={bank.slug: bank for bank in banks},
        topics={topic.slug: topic for topic in Topic.objects.all()},
        sections={
            section.citation: section
            for source in Source.objects.prefetch_related("sections")
            for section in source.sections.all()
        },
    )
    try:
        with transaction.atomic():
            return cards_upsert(items, lookup=lookup, user=user, note=f"imported from {name}")
    except IntegrityError as exc:
        raise BankImportError(
            [FixtureError(name, "", "", f"conflicts with existing cards: {exc}")]
        ) from exc
