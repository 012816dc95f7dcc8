"""The fixture format as an exchange format: export exactly what ``load_bank`` reads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from knowledge.fixture_schema import FixtureError
from knowledge.models import Card
from knowledge.services import card_snapshot

__all__ = ["cards_to_fixture_yaml", "fixture_yaml_to_items"]


def cards_to_fixture_yaml(cards: Iterable[Card]) -> bytes:
    """Return the cards as a YAML list in fixture form (UTF-8, Chinese unescaped)."""
    snapshots = [card_snapshot(card) for card in cards]
    return yaml.safe_dump(snapshots, allow_unicode=True, sort_keys=False, width=100).encode("utf-8")


def fixture_yaml_to_items(
    text: str, *, name: str
) -> tuple[list[dict[str, Any]], list[FixtureError]]:
    """Parse uploaded fixture YAML into cards; YAML aliases are refused (no expansion bombs)."""
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                return [], [
                    FixtureError(name, "", "", "YAML aliases (*name) are not allowed in uploads")
                ]
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return [], [FixtureError(name, "", "", f"invalid YAML: {exc}")]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        return [], [FixtureError(name, "", "", "must be a YAML list of cards (mappings)")]
    return data, []
