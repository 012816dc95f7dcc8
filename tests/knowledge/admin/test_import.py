"""The instructor admin: importing bank files (CSV, fixture YAML, Moodle XML)."""

from __future__ import annotations

import gzip
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from knowledge import services
from knowledge.models import Bank, Card, Topic

from .support import (
    CHANGELIST,
    CSV_HEADER,
    action,
    upload,
)

pytestmark = pytest.mark.django_db


# --- Import --------------------------------------------------------------------------------


def test_csv_import_creates_draft_cards(
    admin_client: Client, instructor: User, bank: Bank, topic: Topic
) -> None:
    rows = (
        CSV_HEADER
        + "pad-why,concept,my-bank,cnn,2,cnn;padding,,为什么要填充？,Why pad?,保持尺寸。,Keeps the size.,"
        "保持尺寸|尺寸不变,keeps size|same size,,\n"
        + "pool-kind,mcq,my-bank,cnn,1,,,哪个无参数？,Which has no weights?,池化。,Pooling.,,,"
        "*池化::对||卷积::错,*Pooling::Right||Convolution::Wrong\n"
    )

    response = upload(admin_client, rows.encode())

    assert response.status_code == 302
    assert response["Location"] == reverse(CHANGELIST)
    cards = Card.objects.order_by("slug")
    assert [(c.slug, c.kind, c.status, c.bank) for c in cards] == [
        ("pad-why", "concept", "draft", bank),
        ("pool-kind", "mcq", "draft", bank),
    ]
    assert all(c.revisions.get().edited_by == instructor for c in cards)
    assert "Imported bank.csv: 2 created" in admin_client.get(response["Location"]).content.decode()


def test_invalid_csv_lists_every_error_and_creates_nothing(
    admin_client: Client, bank: Bank, topic: Topic
) -> None:
    rows = (
        CSV_HEADER
        + "ok-card,concept,my-bank,cnn,2,,,问？,Q?,答。,A.,要点,point,,\n"
        + "bad-kind,essay,my-bank,cnn,2,,,问？,Q?,答。,A.,,,,\n"
        + "bad-points,concept,my-bank,cnn,2,,,问？,Q?,答。,A.,一||二,one,,\n"
        + "bad-bank,concept,nobody-bank,cnn,2,,,问？,Q?,答。,A.,要点,point,,\n"
    )

    response = upload(admin_client, rows.encode())

    assert response.status_code == 400
    content = response.content.decode()
    errors = re.findall(r"<li>(.*?)</li>", content.split('class="errorlist import-errors"')[1])
    assert any("CSV holds concept and mcq cards only" in e for e in errors)
    assert any("need the same number of key points in zh and en (got 2 and 1)" in e for e in errors)
    assert any("nobody-bank" in e for e in errors)
    assert not Card.objects.exists()


def test_csv_import_into_another_instructors_bank_is_refused(
    admin_client: Client, other_bank: Bank, topic: Topic
) -> None:
    rows = CSV_HEADER + "sneaky,concept,their-bank,cnn,2,,,问？,Q?,答。,A.,要点,point,,\n"

    response = upload(admin_client, rows.encode())

    assert response.status_code == 400
    assert "their-bank" in response.content.decode()
    assert not Card.objects.exists()


def test_oversized_upload_is_refused_with_a_clear_message(
    admin_client: Client, bank: Bank, topic: Topic
) -> None:
    row = "big,concept,my-bank,cnn,2,,,问？,Q?,答。,A.,要点,point,,\n"
    content = (CSV_HEADER + row).encode()
    # Over the upload cap, under the request-body cap (which answers 413 before the view).
    content += b" " * (settings.BANK_UPLOAD_MAX_BYTES + 1000 - len(content))

    response = upload(admin_client, content, name="huge.csv")

    assert response.status_code == 400
    limit = f"{settings.BANK_UPLOAD_MAX_BYTES:,}"
    assert f"huge.csv is {len(content):,} bytes; the limit is {limit} bytes." in (
        response.content.decode()
    )
    assert not Card.objects.exists()


def test_fixture_export_imported_back_through_the_admin_changes_nothing(
    admin_client: Client, bank: Bank, mixed_cards: list[Card]
) -> None:
    exported = action(admin_client, "export_fixture", mixed_cards).content
    before = {c.uuid: services.card_snapshot(c) for c in Card.objects.all()}

    response = upload(admin_client, exported, name="cards.yaml", fmt="fixture")

    assert response.status_code == 302
    page = admin_client.get(response["Location"]).content.decode()
    assert "Imported cards.yaml: 0 created, 0 updated, 3 unchanged." in page
    assert {c.uuid: services.card_snapshot(c) for c in Card.objects.all()} == before


def test_gzip_compressed_csv_is_imported(admin_client: Client, bank: Bank, topic: Topic) -> None:
    rows = CSV_HEADER + "zipped,concept,my-bank,cnn,2,,,问？,Q?,答。,A.,要点,point,,\n"

    response = upload(admin_client, gzip.compress(rows.encode()), name="bank.csv.gz")

    assert response.status_code == 302
    assert Card.objects.get().slug == "zipped"


def test_moodle_import_without_a_bank_and_topic_asks_for_them(
    admin_client: Client, bank: Bank, mixed_cards: list[Card]
) -> None:
    exported = action(admin_client, "export_moodle", mixed_cards).content

    response = upload(admin_client, exported, name="quiz.xml", fmt="moodle")

    assert response.status_code == 400
    assert "choose the bank and topic the Moodle questions go to" in response.content.decode()
    assert Card.objects.count() == 3


def test_import_page_is_linked_from_the_changelist(admin_client: Client) -> None:
    response = admin_client.get(reverse(CHANGELIST))

    assert reverse("admin:knowledge_card_import") in response.content.decode()
