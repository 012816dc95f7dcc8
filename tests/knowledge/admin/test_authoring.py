"""The instructor admin: authoring cards through the add and change forms."""

from __future__ import annotations

import pytest
import yaml
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from compute.templates import generate
from knowledge.models import Bank, Card, Topic

from .. import factories
from .support import (
    ADD,
    action,
    answers,
    change,
    errors,
    new_card_data,
    numeric_data,
    options_data,
    recorded,
)

pytestmark = pytest.mark.django_db


def test_instructor_creates_a_concept_card_through_the_add_form(
    admin_client: Client, instructor: User, bank: Bank, topic: Topic
) -> None:
    data = new_card_data(admin_client, bank, topic)

    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 302, errors(response)
    card = Card.objects.get(slug="why-pad")
    assert (card.bank, card.status, card.version) == (bank, "draft", 1)
    assert [(p.text_en, p.accept_zh) for p in card.key_points.all()] == [
        ("keeps the size", ["保持尺寸", "尺寸不变"])
    ]
    revision = card.revisions.get()
    assert revision.edited_by == instructor
    assert revision.snapshot["key_points"][0]["accept"]["en"] == ["keeps the size", "same size"]


def test_instructor_creates_a_multiple_choice_card_with_itsoptions_data(
    admin_client: Client, instructor: User, bank: Bank, topic: Topic
) -> None:
    data = new_card_data(
        admin_client,
        bank,
        topic,
        slug="pick-one",
        kind="mcq",
        **{"key_points-TOTAL_FORMS": 0},
        **options_data(("A", True), ("B", False)),
    )

    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 302, errors(response)
    card = Card.objects.get(slug="pick-one")
    assert [(o.text_en, o.correct) for o in card.options.all()] == [
        ("Option A", True),
        ("Option B", False),
    ]
    assert card.revisions.get().edited_by == instructor


def test_concept_card_without_key_points_is_refused(
    admin_client: Client, bank: Bank, topic: Topic
) -> None:
    data = new_card_data(admin_client, bank, topic, **{"key_points-TOTAL_FORMS": 0})

    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert "A concept card needs at least one key point." in errors(response)
    assert not Card.objects.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ((("A", True),), "A multiple-choice card needs 2 to 6 options."),
        ((("A", False), ("B", False)), "A multiple-choice card needs at least one correct option."),
    ],
)
def test_multiple_choice_card_without_enough_or_correct_options_is_refused(
    admin_client: Client,
    bank: Bank,
    topic: Topic,
    options: tuple[tuple[str, bool], ...],
    message: str,
) -> None:
    data = new_card_data(
        admin_client,
        bank,
        topic,
        kind="mcq",
        **{"key_points-TOTAL_FORMS": 0},
        **options_data(*options),
    )

    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert message in errors(response)
    assert not Card.objects.exists()


def test_deleting_the_last_key_point_of_a_concept_card_is_refused(
    admin_client: Client, bank: Bank
) -> None:
    card = recorded(factories.card(bank, status="draft"))

    response = change(admin_client, card, **{"key_points-0-DELETE": "on"})

    assert response.status_code == 200
    assert "A concept card needs at least one key point." in errors(response)
    assert card.key_points.count() == 1


def test_instructor_cannot_create_a_card_in_a_bank_they_do_not_own(
    admin_client: Client, other_bank: Bank, topic: Topic
) -> None:
    data = new_card_data(admin_client, other_bank, topic)

    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["bank"]
    assert not Card.objects.exists()


def test_edit_history_cannot_be_edited_or_deleted_through_the_card_form(
    admin_client: Client, bank: Bank
) -> None:
    card = recorded(factories.card(bank, status="draft"))
    revision = card.revisions.get()

    response = change(
        admin_client,
        card,
        **{"revisions-0-note": "forged", "revisions-0-DELETE": "on"},
    )

    assert response.status_code == 302
    revision.refresh_from_db()
    assert revision.note == "created"


def test_numeric_card_with_an_unknown_template_is_refused(
    admin_client: Client, bank: Bank, topic: Topic
) -> None:
    data = numeric_data(admin_client, bank, topic, template_id="conv.no_such_template")

    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert "template_id" in response.context["adminform"].form.errors
    assert not Card.objects.exists()


def test_instructor_creates_previews_publishes_and_exports_a_numeric_card(
    admin_client: Client, instructor: User, bank: Bank, topic: Topic
) -> None:
    data = numeric_data(admin_client, bank, topic, constraints='{"kernel": [3]}')

    created = admin_client.post(reverse(ADD), data)

    assert created.status_code == 302, errors(created)
    card = Card.objects.get(slug="conv-size")
    assert card.constraints == {"kernel": [3]}
    variants = admin_client.get(reverse("admin:knowledge_card_variants", args=[card.pk]))
    expected = [
        generate("conv.output_size", seed, constraints={"kernel": [3]}) for seed in (1, 2, 3)
    ]
    assert all(v.params["k"] == 3 for v in expected)
    assert answers(variants.content.decode()) == [escape(v.answer_text) for v in expected]

    action(admin_client, "publish", [card])
    exported = action(admin_client, "export_fixture", [card])

    card.refresh_from_db()
    assert (card.status, card.version) == ("published", 1)
    [item] = yaml.safe_load(exported.content)
    assert (item["uuid"], item["status"], item["constraints"]) == (
        str(card.uuid),
        "published",
        {"kernel": [3]},
    )
    assert list(card.revisions.values_list("edited_by", flat=True)) == [instructor.pk] * 2


@pytest.mark.parametrize(
    ("constraints", "message"),
    [
        ('{"k": [3]}', "has no parameter named [&#x27;k&#x27;]"),
        ('{"kernel": 3}', "constraint &#x27;kernel&#x27; must be a list of values"),
        ('{"kernel": []}', "constraint &#x27;kernel&#x27; lists no values"),
    ],
)
def test_numeric_card_with_constraints_its_template_rejects_is_refused(
    admin_client: Client, bank: Bank, topic: Topic, constraints: str, message: str
) -> None:
    data = numeric_data(admin_client, bank, topic, constraints=constraints)

    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert "constraints" in response.context["adminform"].form.errors
    assert message in response.content.decode()
    assert not Card.objects.exists()


def test_numeric_card_with_an_unknown_template_version_is_refused(
    admin_client: Client, bank: Bank, topic: Topic
) -> None:
    data = numeric_data(admin_client, bank, topic, template_version=99)

    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert "template_version" in response.context["adminform"].form.errors
    assert not Card.objects.exists()
