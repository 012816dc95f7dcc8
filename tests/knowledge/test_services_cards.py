"""The card services: the one write path, its rules, versions and statuses."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from knowledge import services
from knowledge.models import Bank, Card, CardVersion
from knowledge.selectors import card_version_current

from . import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner() -> User:
    return factories.instructor()


@pytest.fixture
def bank(owner: User) -> Bank:
    return factories.bank(owner)


def _update(card: Card, user: User | None = None, **changes: Any) -> Card:
    return services.card_update(
        card=card, data=services.CardInput.from_card(card, **changes), user=user
    )


def test_publishing_a_card_writes_version_1_with_what_learners_see(bank: Bank) -> None:
    card = factories.card(bank, kind="mcq", status="draft")
    assert not card.versions.exists()

    card = services.card_publish(card=card)

    version = card_version_current(card=card)
    assert version is not None and (card.version, version.version) == (1, 1)
    assert version.content["question"] == {"zh": "什么是填充？", "en": "What is padding?"}
    assert [o["correct"] for o in version.content["options"]] == [True, False]
    assert version.content_hash == services.content_digest(version.content)


@pytest.mark.parametrize(
    "change",
    [
        {"question_en": "What is zero padding?"},
        {"answer_zh": "补零。"},
        {"erratum_en": "The notes say 'same' here."},
        {"key_points": [services.KeyPointInput("步幅", "stride", ["步幅"], ["stride"])]},
    ],
)
def test_a_change_learners_see_writes_the_next_version(bank: Bank, change: dict[str, Any]) -> None:
    card = factories.card(bank)

    card = _update(card, **change)

    assert card.version == 2
    assert list(card.versions.values_list("version", flat=True)) == [1, 2]


@pytest.mark.parametrize("change", ["tags", "difficulty", "topic", "bank", "status"])
def test_a_change_learners_do_not_see_writes_no_version(
    bank: Bank, owner: User, change: str
) -> None:
    card = factories.card(bank)
    values: dict[str, object] = {
        "tags": ["padding"],
        "difficulty": 4,
        "topic": factories.topic("cnn/other"),
        "bank": factories.bank(owner, slug="second-bank"),
        "status": "archived",
    }

    card = _update(card, owner, **{change: values[change]})

    assert card.version == 1
    assert card.versions.count() == 1
    assert card.revisions.count() == 2  # the edit history has it, the versions do not


def test_editing_a_draft_writes_no_version_until_it_is_published(bank: Bank) -> None:
    card = factories.card(bank)
    card = services.card_unpublish(card=card)
    card = _update(card, answer_en="First rewording.")
    card = _update(card, answer_en="Second rewording.")
    assert card.versions.count() == 1

    card = services.card_publish(card=card)

    assert card.version == 2
    assert card_version_current(card=card).content["answer"]["en"] == "Second rewording."  # type: ignore[union-attr]


def test_versions_are_immutable_snapshots(bank: Bank) -> None:
    card = factories.card(bank)
    first = card_version_current(card=card)

    _update(card, question_en="Changed later.")

    first.refresh_from_db()  # type: ignore[union-attr]
    assert first.content["question"]["en"] == "What is padding?"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kind", "changes", "field", "message"),
    [
        ("concept", {"key_points": []}, "key_points", "at least one key point"),
        ("mcq", {"options": []}, "options", "2 to 6 options"),
        (
            "mcq",
            {"options": [services.OptionInput("甲", "A"), services.OptionInput("乙", "B")]},
            "options",
            "at least one correct option",
        ),
        ("numeric", {"constraints": {"k": [3]}}, "constraints", "no parameter named"),
        ("numeric", {"constraints": {"kernel": ["a"]}}, "constraints", "not an integer"),
        ("numeric", {"template_version": 99}, "template_version", "no version 99"),
        ("numeric", {"template_id": "conv.nope"}, "template_id", "unknown compute template"),
        ("concept", {"template_id": "conv.output_size"}, "template_id", "only numeric cards"),
        ("concept", {"difficulty": 9}, "difficulty", "from 1 to 5"),
        ("concept", {"slug": "x" * 121}, "slug", "1 to 120 characters"),
    ],
)
def test_an_invalid_card_is_refused_with_every_problem_and_nothing_written(
    bank: Bank, kind: str, changes: dict[str, Any], field: str, message: str
) -> None:
    card = factories.card(bank, kind=kind, status="draft")
    before = services.card_snapshot(card)

    with pytest.raises(ValidationError) as excinfo:
        _update(card, **changes)

    assert any(message in m for m in excinfo.value.message_dict[field])
    assert services.card_snapshot(Card.objects.get(pk=card.pk)) == before


def test_publish_refuses_a_card_that_became_invalid_and_says_why(bank: Bank) -> None:
    card = factories.card(bank, status="draft")
    card.key_points.all().delete()  # behind the services' back, as a broken row would be

    changed, refused = services.cards_set_status(cards=[card], status="published", user=None)

    card.refresh_from_db()
    assert (changed, card.status) == (0, "draft")
    assert refused == {card.slug: ["a concept card needs at least one key point"]}


def test_an_instructor_writes_only_cards_of_banks_they_own(bank: Bank) -> None:
    other = factories.instructor("colleague")
    card = factories.card(bank)

    with pytest.raises(ValidationError) as excinfo:
        _update(card, other, answer_en="Taken over.")
    with pytest.raises(ValidationError):
        services.card_archive(card=card, user=other)

    assert "belongs to a bank you do not own" in str(excinfo.value)
    assert Card.objects.get(pk=card.pk).answer_en == "Zeros added around the input."


def test_a_new_numeric_card_is_pinned_to_the_latest_template_version(bank: Bank) -> None:
    from compute.templates import get_template

    card = factories.card(bank, kind="numeric")

    assert card.template_version == get_template("conv.output_size").version
    assert card_version_current(card=card).content["template"] == {  # type: ignore[union-attr]
        "id": "conv.output_size",
        "version": card.template_version,
        "constraints": {},
    }


def test_an_archived_card_keeps_its_history_and_cannot_be_deleted(bank: Bank) -> None:
    card = factories.card(bank)

    card = services.card_archive(card=card)

    assert card.status == "archived"
    assert card.versions.count() == 1
    with pytest.raises(ValidationError, match="archive it instead"):
        services.card_delete(card=card)
    assert Card.objects.filter(pk=card.pk).exists()


def test_a_draft_nobody_saw_can_be_deleted(bank: Bank, owner: User) -> None:
    card = factories.card(bank, status="draft")

    services.card_delete(card=card, user=owner)

    assert not Card.objects.filter(pk=card.pk).exists()


def test_the_database_refuses_a_numeric_card_without_a_template_version(bank: Bank) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        factories.raw_card(bank, kind="numeric", template_version=None)


def test_a_version_row_is_unique_per_card_and_number(bank: Bank) -> None:
    from django.db import IntegrityError, transaction

    card = factories.card(bank)

    with pytest.raises(IntegrityError), transaction.atomic():
        CardVersion.objects.create(card=card, version=1, content={}, content_hash="x")
