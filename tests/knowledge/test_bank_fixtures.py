"""The authored bank itself: valid, covering every source section, and its figures verified."""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from compute.templates import generate, registry
from knowledge.coverage import coverage_markdown, section_coverage
from knowledge.fixture_schema import read_bank, validate_bank_data

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DATA = read_bank(FIXTURES)
CARDS = [card for _file, card in DATA.cards]

# Every worked example of ../shared/seeds/README.md, by the section it sits in. Each must be
# taught by a numeric card or by a card whose figures are pinned with `checks`.
WORKED_EXAMPLE_SECTIONS = [
    "000:2.2",
    "000:4.1",
    "000:5.1",
    "000:8.1",
    "000:23",
    "000:23.1",
    "000:17",
    "000:34",
    "000:36",
    "001:3.6",
    "001:3.7",
    "001:3.16",
    "002:mobilenet",
    "002:gradients",
    "002:fitting",
    "003:2.3",
    "003:2.2",
    "003:4.4",
    "003:5.1",
    "003:6.1",
    "004:1",
    "004:8",
    "004:12",
]


def test_fixtures_validate_with_zero_errors() -> None:
    errors = validate_bank_data(DATA)

    assert [str(error) for error in errors] == []


def test_bank_has_at_least_150_cards_of_every_kind() -> None:
    kinds = {
        kind: sum(1 for card in CARDS if card["kind"] == kind)
        for kind in ("concept", "mcq", "numeric")
    }

    assert len(CARDS) >= 150
    assert all(count > 0 for count in kinds.values()), kinds


def test_every_source_section_is_covered_by_a_card() -> None:
    uncovered = [citation for citation, slugs in section_coverage(DATA).items() if not slugs]

    assert uncovered == []


def test_coverage_table_in_the_repository_is_current() -> None:
    committed = (FIXTURES / "COVERAGE.md").read_text(encoding="utf-8")

    assert committed == coverage_markdown(DATA), "run: python manage.py bank_coverage --write"


def test_every_numeric_card_pins_a_registered_template_version_that_generates() -> None:
    known = {(template.id, template.version) for template in registry()}
    for card in CARDS:
        if card["kind"] != "numeric":
            continue
        assert (card["template"], card.get("template_version")) in known, card["slug"]
        variant = generate(
            card["template"],
            1,
            version=card["template_version"],
            constraints=card.get("constraints"),
        )
        assert variant.answer_text, card["slug"]


def test_every_unpublished_card_points_at_the_published_card_that_replaced_it() -> None:
    published = {card["slug"] for card in CARDS if card["status"] == "published"}
    for card in CARDS:
        if card["status"] == "published":
            continue
        named = set(re.findall(r"`([a-z0-9-]+)`", card["answer"]["en"] + card["answer"]["zh"]))
        assert named & published, f"{card['slug']} names no published card that replaces it"


def test_the_bank_has_difficulty_5_derivations_citing_sources() -> None:
    hardest = [card for card in CARDS if card["difficulty"] == 5 and card["status"] == "published"]

    assert len(hardest) >= 5
    assert all(card["sources"] for card in hardest)


@pytest.mark.parametrize("section", WORKED_EXAMPLE_SECTIONS)
def test_every_worked_example_has_a_numeric_or_checked_card(section: str) -> None:
    citing = [card for card in CARDS if section in card["sources"]]
    verified = [card["slug"] for card in citing if card["kind"] == "numeric" or card.get("checks")]

    assert verified, f"no numeric card and no card with checks cites {section}"


def _resolve(path: str) -> Any:
    module_name, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    return value


def _close(actual: Any, expected: Any, tol: float) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return bool(actual is expected)
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return abs(actual - expected) <= tol
    if isinstance(expected, list) and isinstance(actual, list):
        return len(actual) == len(expected) and all(
            _close(a, e, tol) for a, e in zip(actual, expected, strict=True)
        )
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return all(
            key in actual and _close(actual[key], value, tol) for key, value in expected.items()
        )
    equal: bool = actual == expected
    return equal


CHECKS = [
    pytest.param(check, id=f"{card['slug']}[{i}]")
    for card in CARDS
    for i, check in enumerate(card.get("checks") or [])
]


@pytest.mark.parametrize("check", CHECKS)
def test_card_figures_agree_with_compute(check: dict[str, Any]) -> None:
    function = _resolve(check["fn"])
    actual = _plain(function(**check["kwargs"]))

    assert _close(actual, _plain(check["expect"]), float(check.get("tol", 1e-9))), (
        f"{check['fn']}({check['kwargs']}) = {actual!r}, the card says {check['expect']!r}"
    )


def test_cards_with_checks_exist() -> None:
    assert len(CHECKS) >= 20
