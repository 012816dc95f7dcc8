"""The loader makes the MisconceptionLink table match fixtures/misconception_links.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from knowledge.misconception_links import LINKS_FILE, links_read
from knowledge.models import MisconceptionLink
from knowledge.services import BankLoadError, bank_load

pytestmark = pytest.mark.usefixtures("loaded_bank")


def stored_links() -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for template, misconception, slug in MisconceptionLink.objects.order_by(
        "template_id", "misconception_id", "position"
    ).values_list("template_id", "misconception_id", "card__slug"):
        found.setdefault((template, misconception), []).append(slug)
    return found


def edit_links(root: Path) -> dict[str, dict[str, list[str]]]:
    document: dict[str, dict[str, list[str]]] = yaml.safe_load(
        (root / LINKS_FILE).read_text(encoding="utf-8")
    )
    return document


def save_links(root: Path, document: dict[str, dict[str, list[str]]]) -> None:
    (root / LINKS_FILE).write_text(yaml.safe_dump(document), encoding="utf-8")


def test_the_load_stored_every_link_of_the_file_in_its_order(bank_root: Path) -> None:
    assert stored_links() == links_read(bank_root)


def test_an_unchanged_reload_writes_no_link(bank_root: Path) -> None:
    with CaptureQueriesContext(connection) as captured:
        bank_load(bank_root)

    writes = [
        q["sql"]
        for q in captured.captured_queries
        if "misconceptionlink" in q["sql"].lower()
        and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert stored_links() == links_read(bank_root)


def test_a_removed_pair_loses_its_links_and_a_reordered_list_is_repositioned(
    bank_copy: Path,
) -> None:
    document = edit_links(bank_copy)
    template = next(t for t, ms in document.items() if len(ms) >= 2)
    removed, kept = list(document[template])[:2]
    del document[template][removed]
    longest = max(
        ((t, m) for t, ms in document.items() for m, slugs in ms.items() if len(slugs) >= 2),
        key=lambda key: len(document[key[0]][key[1]]),
    )
    document[longest[0]][longest[1]].reverse()
    save_links(bank_copy, document)
    untouched = set(
        MisconceptionLink.objects.filter(template_id=template, misconception_id=kept).values_list(
            "pk", flat=True
        )
    )

    bank_load(bank_copy)

    assert not MisconceptionLink.objects.filter(
        template_id=template, misconception_id=removed
    ).exists()
    assert stored_links() == links_read(bank_copy)
    assert (
        set(
            MisconceptionLink.objects.filter(
                template_id=template, misconception_id=kept
            ).values_list("pk", flat=True)
        )
        == untouched
    )


def test_a_link_to_no_card_stops_the_load_before_anything_is_written(bank_copy: Path) -> None:
    document = edit_links(bank_copy)
    template = next(iter(document))
    misconception = next(iter(document[template]))
    document[template][misconception] = ["no-such-card-anywhere"]
    save_links(bank_copy, document)
    before = stored_links()

    with pytest.raises(BankLoadError) as caught:
        bank_load(bank_copy)

    assert any("no-such-card-anywhere" in str(error) for error in caught.value.errors)
    assert stored_links() == before
