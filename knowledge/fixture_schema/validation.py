"""Validate a whole bank read from a folder: taxonomy first, then the cards that refer to it."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from .cards import validate_cards
from .checking import BankData, FixtureError
from .limits import FieldLimits, field_limits
from .reading import read_bank
from .taxonomy import validate_banks, validate_sources, validate_topics
from .templates import TemplateLookup

__all__ = ["main", "validate_bank_data", "validate_fixtures"]


def validate_bank_data(
    data: BankData,
    *,
    template_exists: TemplateLookup | None = None,
    strict: bool = True,
    limits: FieldLimits | None = None,
) -> list[FixtureError]:
    """Return every problem in ``data`` (parse errors included), in file order.

    See :func:`validate_cards` for ``strict`` and ``template_exists``; ``limits`` defaults to
    the column sizes of the models.
    """
    limits = field_limits() if limits is None else limits
    errors = list(data.errors)
    bank_slugs = validate_banks(data.banks, errors, limits)
    topic_slugs = validate_topics(data.topics, errors, limits)
    validate_sources(data.sources, errors, limits)
    errors += validate_cards(
        data.cards,
        bank_slugs=bank_slugs,
        topic_slugs=topic_slugs,
        section_ids=data.section_ids(),
        limits=limits,
        template_exists=template_exists,
        strict=strict,
    )
    return errors


def validate_fixtures(root: Path | str) -> tuple[BankData, list[FixtureError]]:
    """Read and validate the fixtures under ``root``."""
    data = read_bank(root)
    return data, validate_bank_data(data)


def main(argv: list[str]) -> int:
    """Print every problem of the fixtures folder ``argv[0]`` and a summary; return the exit code."""
    root = Path(argv[0]) if argv else Path("fixtures")
    data, errors = validate_fixtures(root)
    for error in errors:
        print(error)
    kinds: dict[str, int] = {}
    for _name, card in data.cards:
        if isinstance(card, Mapping):
            kinds[str(card.get("kind"))] = kinds.get(str(card.get("kind")), 0) + 1
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    print(f"{len(data.cards)} cards ({summary}); {len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
