from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from knowledge.models import Card, Topic

pytestmark = pytest.mark.django_db


def test_home_lists_every_root_topic_with_its_published_card_count(
    client: Client, loaded_bank: None
) -> None:
    Card.objects.filter(pk=Card.objects.order_by("pk").first().pk).update(  # type: ignore[union-attr]
        status=Card.Status.DRAFT
    )
    published = Card.objects.filter(status=Card.Status.PUBLISHED).count()

    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f"{published} published cards" in html
    children: dict[int | None, list[int]] = {}
    for pk, parent in Topic.objects.values_list("pk", "parent"):
        children.setdefault(parent, []).append(pk)

    def subtree(pk: int) -> list[int]:
        return [pk] + [d for child in children.get(pk, []) for d in subtree(child)]

    roots = Topic.objects.filter(parent=None)
    expected_total = 0
    for topic in roots:
        n = Card.objects.filter(status=Card.Status.PUBLISHED, topic__in=subtree(topic.pk)).count()
        expected_total += n
        assert f'{topic.title_en}<span class="zh">{topic.title_zh}</span> ' in html
        assert f'{topic.title_zh}</span> <span class="count">({n})</span>' in html
    assert expected_total == published  # the roots partition the bank


def test_home_on_an_empty_bank_says_how_to_load_it(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert "manage.py load_bank" in response.content.decode()


def test_home_offers_the_admin_to_staff_only(client: Client, loaded_bank: None) -> None:
    learner = User.objects.create_user("ann", password="pw-123456789")
    staff = User.objects.create_user("ivy", password="pw-123456789", is_staff=True)

    client.force_login(learner)
    assert "Author the bank" not in client.get("/").content.decode()
    client.force_login(staff)
    assert "Author the bank" in client.get("/").content.decode()
