"""The instructor admin: who sees and changes what (banks they own, nothing of learners')."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from knowledge.models import Bank

from .. import factories
from .support import (
    CHANGELIST,
    action,
    queries,
    recorded,
)

pytestmark = pytest.mark.django_db


# --- Permissions and scope -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/admin/auth/user/",
        "/admin/auth/user/add/",
        "/admin/auth/group/",
        "/admin/quizzes/workerprobe/",
        "/admin/knowledge/cardrevision/add/",
    ],
)
def test_instructor_cannot_reach_learners_data_or_accounts(admin_client: Client, url: str) -> None:
    response = admin_client.get(url)

    assert response.status_code in (302, 403, 404)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("admin:login"))


def test_instructor_group_grants_authoring_but_nothing_of_learners_data(
    instructor: User,
) -> None:
    assert instructor.has_perm("knowledge.add_card")
    assert instructor.has_perm("knowledge.change_bank")
    assert instructor.has_perm("knowledge.view_cardrevision")
    assert not instructor.has_perm("knowledge.change_cardrevision")
    assert not instructor.has_module_perms("quizzes")
    assert not instructor.has_module_perms("auth")


def test_changelist_shows_only_cards_of_the_instructors_banks(
    admin_client: Client, bank: Bank, other_bank: Bank
) -> None:
    mine = factories.card(bank, slug="mine")
    theirs = factories.card(other_bank, slug="theirs")

    response = admin_client.get(reverse(CHANGELIST))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [mine]
    content = response.content.decode()
    assert reverse("admin:knowledge_card_change", args=[theirs.pk]) not in content


def test_another_instructors_card_cannot_be_opened_or_previewed(
    admin_client: Client, other_bank: Bank
) -> None:
    theirs = factories.card(other_bank, kind="numeric")

    change = admin_client.get(reverse("admin:knowledge_card_change", args=[theirs.pk]))
    variants = admin_client.get(reverse("admin:knowledge_card_variants", args=[theirs.pk]))

    assert change.status_code in (302, 404)
    assert variants.status_code == 404
    assert theirs.question_en not in change.content.decode()


def test_actions_ignore_another_instructors_cards(
    admin_client: Client, bank: Bank, other_bank: Bank
) -> None:
    mine = factories.card(bank, status="draft")
    theirs = factories.card(other_bank, status="draft")

    action(admin_client, "publish", [mine, theirs])
    exported = action(admin_client, "export_fixture", [mine, theirs])

    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert (mine.status, theirs.status) == ("published", "draft")
    assert str(theirs.uuid) not in exported.content.decode()


def test_changelist_filters_do_not_reveal_other_instructors_banks(
    admin_client: Client, bank: Bank, other_bank: Bank
) -> None:
    other_bank.title_en = "Secret colleague bank"
    other_bank.save()
    factories.card(bank)
    factories.card(other_bank)

    response = admin_client.get(reverse(CHANGELIST))

    assert "Secret colleague bank" not in response.content.decode()


def test_edit_history_list_shows_only_the_instructors_cards(
    admin_client: Client, bank: Bank, other_bank: Bank
) -> None:
    mine = recorded(factories.card(bank, slug="mine"))
    recorded(factories.card(other_bank, slug="theirs"))

    response = admin_client.get(reverse("admin:knowledge_cardrevision_changelist"))

    assert response.status_code == 200
    assert [r.card for r in response.context["cl"].result_list] == [mine]


def test_bank_admin_lists_own_banks_and_makes_the_instructor_owner_of_a_new_one(
    admin_client: Client, instructor: User, bank: Bank, other_bank: Bank
) -> None:
    listed = admin_client.get(reverse("admin:knowledge_bank_changelist"))
    created = admin_client.post(
        reverse("admin:knowledge_bank_add"),
        {"slug": "new-bank", "title_zh": "新题库", "title_en": "New bank"},
    )

    assert list(listed.context["cl"].result_list) == [bank]
    assert created.status_code == 302
    assert Bank.objects.get(slug="new-bank").owner == instructor
    other = admin_client.get(reverse("admin:knowledge_bank_change", args=[other_bank.pk]))
    assert other.status_code in (302, 404)
    assert other_bank.title_en not in other.content.decode()


@pytest.mark.parametrize("name", ["import", "variants", "changelist"])
def test_anonymous_visitor_is_sent_to_the_login_page(client: Client, bank: Bank, name: str) -> None:
    card = factories.card(bank, kind="numeric")
    args = [card.pk] if name == "variants" else []

    response = client.get(reverse(f"admin:knowledge_card_{name}", args=args))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("name", ["import", "changelist", "add"])
def test_staff_outside_the_instructors_group_cannot_author_cards(client: Client, name: str) -> None:
    client.force_login(User.objects.create_user("clerk", is_staff=True))

    response = client.get(reverse(f"admin:knowledge_card_{name}"))

    assert response.status_code == 403


@pytest.mark.parametrize("query", ["stride", "步幅"])
def test_changelist_search_finds_cards_in_either_language(
    admin_client: Client, bank: Bank, query: str
) -> None:
    match = factories.card(
        bank, question_en="What does the stride do?", question_zh="步幅有什么作用？"
    )
    factories.card(bank)

    response = admin_client.get(reverse(CHANGELIST), {"q": query})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [match]


def test_changelist_search_finds_a_card_by_its_uuid(admin_client: Client, bank: Bank) -> None:
    match = factories.card(bank)
    factories.card(bank)

    response = admin_client.get(reverse(CHANGELIST), {"q": str(match.uuid)})

    assert list(response.context["cl"].result_list) == [match]


def test_changelist_filters_by_kind_and_status(admin_client: Client, bank: Bank) -> None:
    wanted = factories.card(bank, kind="numeric", status="published")
    factories.card(bank, kind="numeric", status="draft")
    factories.card(bank, kind="concept", status="published")

    response = admin_client.get(reverse(CHANGELIST), {"kind": "numeric", "status": "published"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [wanted]


def test_changelist_query_count_does_not_grow_with_cards(admin_client: Client, bank: Bank) -> None:
    factories.card(bank)
    few = queries(admin_client, reverse(CHANGELIST))
    for i in range(5):
        factories.card(bank, topic=factories.topic(f"t-{i}"))

    assert queries(admin_client, reverse(CHANGELIST)) == few
