"""The fixture format as an exchange format: export exactly what ``load_bank`` reads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from knowledge.fixture_schema import (
    FixtureError,
    YamlLimits,
    YamlTooComplex,
    yaml_dump,
    yaml_load_bounded,
)
from knowledge.models import Card
from knowledge.services import card_snapshot

from .uploads import MAX_UPLOAD_CARDS

__all__ = ["UPLOAD_YAML_LIMITS", "cards_to_fixture_yaml", "fixture_yaml_to_items"]

# A card is about a hundred nodes and at most seven levels deep (checks' arguments go a little
# deeper); building the objects of a YAML document costs about 10 us a node.
UPLOAD_YAML_LIMITS = YamlLimits(max_depth=16, max_nodes=150 * MAX_UPLOAD_CARDS)


def cards_to_fixture_yaml(cards: Iterable[Card]) -> bytes:
    """Return the cards as a YAML list in fixture form (UTF-8, Chinese unescaped)."""
    return yaml_dump([card_snapshot(card) for card in cards]).encode("utf-8")


def fixture_yaml_to_items(
    text: str, *, name: str
) -> tuple[list[dict[str, Any]], list[FixtureError]]:
    """Parse uploaded fixture YAML into cards, or return why it cannot be read.

    The document is bounded in depth and size before it is built, and YAML aliases are refused
    (an upload has no use for them). The cards are not validated here.
    """
    try:
        data = yaml_load_bounded(text, limits=UPLOAD_YAML_LIMITS, allow_aliases=False)
    except YamlTooComplex as exc:
        return [], [FixtureError(name, "", "", f"refused: the file {exc}")]
    except yaml.YAMLError as exc:
        return [], [FixtureError(name, "", "", f"invalid YAML: {exc}")]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        return [], [FixtureError(name, "", "", "must be a YAML list of cards (mappings)")]
    if len(data) > MAX_UPLOAD_CARDS:
        return [], [
            FixtureError(
                name, "", "", f"holds {len(data):,} cards; the limit is {MAX_UPLOAD_CARDS:,}"
            )
        ]
    return data, []
