"""The admin's template-version move: old and new variants side by side, then a confirmed move."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from compute.templates import generate
from knowledge.models import Bank, Card

from .. import factories
from ..templates_for_tests import register_v2

pytestmark = pytest.mark.django_db


def _url(card: Card) -> str:
    return reverse("admin:knowledge_card_template_move", args=[card.pk])


def test_the_change_page_offers_the_move_once_a_newer_version_exists(
    admin_client: Client, numeric_card: Card, monkeypatch: pytest.MonkeyPatch
) -> None:
    change = reverse("admin:knowledge_card_change", args=[numeric_card.pk])
    assert _url(numeric_card) not in admin_client.get(change).content.decode()

    register_v2(monkeypatch)

    assert _url(numeric_card) in admin_client.get(change).content.decode()


def test_the_move_page_shows_both_versions_for_the_same_seeds(
    admin_client: Client, numeric_card: Card, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_v2(monkeypatch)

    response = admin_client.get(_url(numeric_card))

    assert response.status_code == 200
    content = response.content.decode()
    assert re.findall(r'<tr data-seed="(\d+)">', content) == ["1", "2", "3"]
    answers = re.findall(r'<span class="answer">(.*?)</span>', content)
    expected = []
    for seed in (1, 2, 3):
        expected += [
            escape(generate("conv.output_size", seed, version=1).answer_text),
            escape(generate("conv.output_size", seed, version=2).answer_text),
        ]
    assert answers == expected
    numeric_card.refresh_from_db()
    assert numeric_card.template_version == 1  # looking moves nothing


def test_confirming_moves_the_card_and_writes_a_version(
    admin_client: Client, numeric_card: Card, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_v2(monkeypatch)

    response = admin_client.post(_url(numeric_card), {"version": "2"})

    assert response.status_code == 302
    numeric_card.refresh_from_db()
    assert (numeric_card.template_version, numeric_card.version) == (2, 2)
    assert numeric_card.versions.get(version=2).content["template"]["version"] == 2


def test_a_card_already_on_the_version_is_not_moved(
    admin_client: Client, numeric_card: Card
) -> None:
    response = admin_client.post(_url(numeric_card), {"version": "1"})

    assert response.status_code == 400
    assert "already pinned to v1" in response.content.decode()
    assert numeric_card.versions.count() == 1


def test_another_instructors_card_cannot_be_moved(
    admin_client: Client, other_bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = factories.card(other_bank, kind="numeric")
    register_v2(monkeypatch)

    response = admin_client.post(_url(theirs), {"version": "2"})

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.template_version == 1


def test_the_template_version_is_not_editable_in_the_change_form(
    admin_client: Client, numeric_card: Card, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_v2(monkeypatch)
    page = admin_client.get(reverse("admin:knowledge_card_change", args=[numeric_card.pk]))

    assert "template_version" not in page.context["adminform"].form.fields
