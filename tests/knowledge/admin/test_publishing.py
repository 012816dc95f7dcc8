"""The instructor admin: publishing, versions, and export of the selected cards."""

from __future__ import annotations

import io
import zipfile

import pytest
import yaml
from defusedxml.ElementTree import fromstring
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from knowledge.models import Bank, Card, CardRevision

from .. import factories
from .support import (
    action,
    change,
    recorded,
)

pytestmark = pytest.mark.django_db


# --- Publishing and versions ---------------------------------------------------------------


def test_bulk_publish_publishes_drafts_and_unpublish_reverts(
    admin_client: Client, instructor: User, bank: Bank
) -> None:
    drafts = [recorded(factories.card(bank, status="draft")) for _ in range(2)]
    untouched = recorded(factories.card(bank, status="draft"))

    response = action(admin_client, "publish", drafts)

    assert response.status_code == 302
    for card in drafts:
        card.refresh_from_db()
        assert card.status == "published"
        latest = card.revisions.order_by("-created_at", "-id").first()
        assert latest is not None
        assert (latest.status, latest.note, latest.edited_by) == (
            "published",
            "status -> published",
            instructor,
        )
    untouched.refresh_from_db()
    assert untouched.status == "draft"

    action(admin_client, "unpublish", drafts)

    assert set(
        Card.objects.filter(pk__in=[c.pk for c in drafts]).values_list("status", flat=True)
    ) == {"draft"}
    assert CardRevision.objects.filter(note="status -> draft", edited_by=instructor).count() == 2


def test_publish_then_unpublish_keeps_the_version(admin_client: Client, bank: Bank) -> None:
    card = recorded(factories.card(bank, status="draft"))

    action(admin_client, "publish", [card])
    action(admin_client, "unpublish", [card])
    action(admin_client, "publish", [card])

    card.refresh_from_db()
    assert (card.status, card.version) == ("published", 1)


def test_editing_a_published_cards_text_bumps_its_version_once(
    admin_client: Client, instructor: User, bank: Bank
) -> None:
    card = recorded(factories.card(bank, status="published"))

    response = change(admin_client, card, answer_en="Zeros added around the input border.")

    assert response.status_code == 302
    card.refresh_from_db()
    assert (card.answer_en, card.version) == ("Zeros added around the input border.", 2)
    latest = card.revisions.order_by("-created_at", "-id").first()
    assert latest is not None
    assert (latest.version, latest.edited_by, latest.note) == (2, instructor, "edited in admin")


def test_saving_a_published_card_unchanged_keeps_its_version_and_history(
    admin_client: Client, bank: Bank
) -> None:
    card = recorded(factories.card(bank, status="published"))

    response = change(admin_client, card)

    assert response.status_code == 302
    card.refresh_from_db()
    assert card.version == 1
    assert card.revisions.count() == 1


def test_editing_a_draft_does_not_bump_its_version(
    admin_client: Client, instructor: User, bank: Bank
) -> None:
    card = recorded(factories.card(bank, status="draft"))

    response = change(admin_client, card, question_en="What is zero padding?")

    assert response.status_code == 302
    card.refresh_from_db()
    assert (card.question_en, card.version) == ("What is zero padding?", 1)
    assert card.revisions.filter(edited_by=instructor, note="edited in admin").count() == 1


def test_unpublish_edit_and_republish_bumps_the_version_once(
    admin_client: Client, bank: Bank
) -> None:
    card = recorded(factories.card(bank, status="published"))

    action(admin_client, "unpublish", [card])
    change(admin_client, card, answer_en="First rewording.")
    change(admin_client, card, answer_en="Second rewording.")
    card.refresh_from_db()
    assert (card.status, card.version) == ("draft", 1)
    action(admin_client, "publish", [card])

    card.refresh_from_db()
    assert (card.status, card.version, card.answer_en) == ("published", 2, "Second rewording.")


# --- Export --------------------------------------------------------------------------------


def test_fixture_export_downloads_yaml_of_the_selected_cards(
    admin_client: Client, bank: Bank, mixed_cards: list[Card]
) -> None:
    left_out = factories.card(bank)

    response = action(admin_client, "export_fixture", mixed_cards)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml"
    assert response["Content-Disposition"] == 'attachment; filename="cards.yaml"'
    items = yaml.safe_load(response.content)
    assert {item["uuid"] for item in items} == {str(c.uuid) for c in mixed_cards}
    assert str(left_out.uuid) not in response.content.decode()


def test_anki_export_downloads_an_apkg_zip(admin_client: Client, mixed_cards: list[Card]) -> None:
    response = action(admin_client, "export_anki", mixed_cards)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="cards.apkg"'
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        assert {"collection.anki2", "media"} <= set(archive.namelist())


def test_moodle_export_downloads_xml_that_parses(
    admin_client: Client, mixed_cards: list[Card]
) -> None:
    response = action(admin_client, "export_moodle", mixed_cards)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == 'attachment; filename="cards.xml"'
    root = fromstring(response.content)
    assert root.tag == "quiz"
    assert root.findall("question")


def test_a_card_learners_saw_cannot_be_deleted_in_the_admin_only_archived(
    admin_client: Client, bank: Bank
) -> None:
    card = factories.card(bank, status="published")
    url = reverse("admin:knowledge_card_delete", args=[card.pk])

    page = admin_client.get(url)
    admin_client.post(url, {"post": "yes"})
    action(admin_client, "archive", [card])

    assert "archive it instead of deleting it" in page.content.decode()
    card.refresh_from_db()
    assert card.status == "archived"
    assert card.versions.count() == 1


def test_a_draft_nobody_saw_can_be_deleted_in_the_admin(admin_client: Client, bank: Bank) -> None:
    card = factories.card(bank, status="draft")

    response = admin_client.post(
        reverse("admin:knowledge_card_delete", args=[card.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Card.objects.filter(pk=card.pk).exists()
