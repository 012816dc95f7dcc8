"""Version numbers under concurrent saves, and pinned template versions."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from knowledge import services
from knowledge.models import Card
from knowledge.selectors import card_version_current

from . import factories
from .templates_for_tests import register_v2

WRITERS = 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_get_consecutive_versions_with_no_duplicate_or_gap() -> None:
    """Each writer has its own connection; the card row lock serializes the version numbers."""
    bank = factories.bank(factories.instructor())
    card = factories.card(bank)
    gate = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            mine = Card.objects.get(pk=card.pk)
            data = services.CardInput.from_card(mine, answer_en=f"Answer from writer {n}.")
            gate.wait(timeout=30)
            services.card_update(card=mine, data=data)
        except BaseException as exc:  # handed to the test below
            errors.append(exc)
        finally:
            connection.close()

    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)

    assert errors == []
    card.refresh_from_db()
    numbers = list(card.versions.order_by("version").values_list("version", flat=True))
    assert numbers == list(range(1, WRITERS + 2))
    assert card.version == WRITERS + 1
    answers = {v.content["answer"]["en"] for v in card.versions.exclude(version=1)}
    assert answers == {f"Answer from writer {n}." for n in range(WRITERS)}


@pytest.mark.django_db
def test_a_new_template_version_changes_no_card_until_it_is_moved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bank = factories.bank(factories.instructor())
    card = factories.card(bank, kind="numeric")
    before = card_version_current(card=card)

    register_v2(monkeypatch)
    card = services.card_update(
        card=card, data=services.CardInput.from_card(card, template_version=None, difficulty=4)
    )

    assert card.template_version == 1  # an edit keeps the pinned version
    assert card_version_current(card=card) == before

    card = services.card_template_move(card=card, version=2)

    current = card_version_current(card=card)
    assert (card.template_version, card.version) == (2, 2)
    assert current is not None and current.content["template"]["version"] == 2
    assert card.revisions.order_by("-created_at", "-id").first().note == "template moved to v2"  # type: ignore[union-attr]


@pytest.mark.django_db
def test_a_move_to_an_unknown_version_is_refused() -> None:
    from django.core.exceptions import ValidationError

    card = factories.card(factories.bank(factories.instructor()), kind="numeric")

    with pytest.raises(ValidationError, match="no version 7"):
        services.card_template_move(card=card, version=7)

    card.refresh_from_db()
    assert card.template_version == 1


@pytest.mark.django_db
def test_a_fixture_item_without_template_version_keeps_the_pin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    card = factories.card(factories.bank(factories.instructor()), kind="numeric")
    item: dict[str, Any] = services.card_snapshot(card)
    del item["template_version"]

    register_v2(monkeypatch)

    assert services.card_item_canonical(item, card=card)["template_version"] == 1
    assert services.card_item_canonical(item)["template_version"] == 2  # a new card: the latest
