"""Validate-then-write import of cards given in fixture form, whatever file format they came in.

Every converter (fixture YAML, CSV, Moodle XML) turns a file into cards in the fixture form of
``fixtures/README.md`` and hands them to :func:`cards_import_items`, which is
:func:`knowledge.services.cards_import`: the same validation and write path as the admin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from knowledge.fixture_schema import FixtureError
from knowledge.services import Actor, BankImportError, LoadReport, cards_import

__all__ = ["BankImportError", "cards_import_items"]


def cards_import_items(
    items: Sequence[Mapping[str, Any]],
    *,
    user: Actor,
    name: str,
    strict: bool = False,
    errors: Sequence[FixtureError] = (),
) -> LoadReport:
    """Validate ``items`` (cards in fixture form) and write them all, or raise BankImportError."""
    return cards_import(items=items, user=user, name=name, strict=strict, errors=errors)
