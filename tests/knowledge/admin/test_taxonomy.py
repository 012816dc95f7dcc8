"""The shared taxonomy in the admin: curators change it, nobody deletes what cards use, all recorded."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from knowledge import services
from knowledge.models import Bank, Card, Source, SourceSection, Tag, TaxonomyRevision, Topic

from .. import factories
from .support import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator_client() -> Client:
    client = Client()
    curator = factories.curator("keeper")
    assert client.login(username=curator.username, password=PASSWORD)
    return client


@pytest.fixture
def tagged(bank: Bank) -> list[Card]:
    return [factories.card(bank, tags=["padding"]) for _ in range(3)]


def test_instructors_may_look_at_the_taxonomy_but_not_change_it(
    admin_client: Client, topic: Topic
) -> None:
    listed = admin_client.get(reverse("admin:knowledge_topic_changelist"))
    posted = admin_client.post(
        reverse("admin:knowledge_topic_change", args=[topic.pk]),
        {"slug": "cnn", "title_zh": "改", "title_en": "Renamed", "position": 0},
    )
    deleted = admin_client.post(
        reverse("admin:knowledge_topic_delete", args=[topic.pk]), {"post": "yes"}
    )

    assert listed.status_code == 200
    assert posted.status_code == 403
    assert deleted.status_code == 403
    topic.refresh_from_db()
    assert topic.title_en == "CNN"
    assert admin_client.get(reverse("admin:knowledge_tag_add")).status_code == 403


def test_a_curator_changes_a_topic_and_the_change_is_recorded(
    curator_client: Client, topic: Topic
) -> None:
    response = curator_client.post(
        reverse("admin:knowledge_topic_change", args=[topic.pk]),
        {
            "slug": "cnn",
            "title_zh": "卷积网络",
            "title_en": "Convolutional networks",
            "position": 0,
        },
    )

    assert response.status_code == 302
    revision = TaxonomyRevision.objects.get(kind="topic", key="cnn")
    assert revision.action == "changed"
    assert (revision.before["title"]["en"], revision.after["title"]["en"]) == (  # type: ignore[index]
        "CNN",
        "Convolutional networks",
    )
    assert revision.edited_by == User.objects.get(username="keeper")


def test_deleting_a_tag_cards_use_is_refused_with_a_message(
    curator_client: Client, tagged: list[Card]
) -> None:
    tag = Tag.objects.get(slug="padding")
    url = reverse("admin:knowledge_tag_delete", args=[tag.pk])

    page = curator_client.get(url)
    curator_client.post(url, {"post": "yes"})

    assert "used by 3 card(s)" in page.content.decode()
    assert Tag.objects.filter(pk=tag.pk).exists()
    assert tag.cards.count() == 3


def test_bulk_deleting_a_used_tag_is_refused_too(
    curator_client: Client, tagged: list[Card]
) -> None:
    tag = Tag.objects.get(slug="padding")

    page = curator_client.post(
        reverse("admin:knowledge_tag_changelist"),
        {"action": "delete_selected", "_selected_action": [tag.pk], "post": "yes"},
    )

    assert "used by 3 card(s)" in page.content.decode()
    assert tag.cards.count() == 3


def test_deleting_a_source_whose_sections_cards_cite_is_refused(
    curator_client: Client, tagged: list[Card]
) -> None:
    source = Source.objects.get(code="000")

    curator_client.post(reverse("admin:knowledge_source_delete", args=[source.pk]), {"post": "yes"})

    assert Source.objects.filter(pk=source.pk).exists()
    assert all(card.sections.exists() for card in tagged)


def test_an_unused_tag_is_deleted_and_the_deletion_recorded(curator_client: Client) -> None:
    tag = Tag.objects.create(slug="unused")

    response = curator_client.post(
        reverse("admin:knowledge_tag_delete", args=[tag.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Tag.objects.filter(slug="unused").exists()
    assert TaxonomyRevision.objects.filter(kind="tag", key="unused", action="deleted").exists()


def test_deleting_a_cited_section_in_the_source_form_is_refused(
    curator_client: Client, tagged: list[Card]
) -> None:
    section = SourceSection.objects.get(source__code="000", section_id="1")
    source = section.source
    data = {
        "code": source.code,
        "file_name": source.file_name,
        "title_zh": source.title_zh,
        "title_en": source.title_en,
        "sections-TOTAL_FORMS": 1,
        "sections-INITIAL_FORMS": 1,
        "sections-0-id": section.pk,
        "sections-0-source": source.pk,
        "sections-0-section_id": section.section_id,
        "sections-0-title_zh": section.title_zh,
        "sections-0-title_en": section.title_en,
        "sections-0-position": 0,
        "sections-0-DELETE": "on",
    }

    response = curator_client.post(reverse("admin:knowledge_source_change", args=[source.pk]), data)

    assert response.status_code == 200
    assert "is cited by 3 card(s)" in response.content.decode()
    assert SourceSection.objects.filter(pk=section.pk).exists()


def test_the_taxonomy_services_refuse_an_instructor(instructor: User, topic: Topic) -> None:
    topic.title_en = "Renamed"

    with pytest.raises(PermissionDenied):
        services.taxonomy_save(obj=topic, user=instructor)
    with pytest.raises(PermissionDenied):
        services.taxonomy_delete(obj=topic, user=instructor)

    topic.refresh_from_db()
    assert topic.title_en == "CNN"


def test_a_new_tag_from_a_card_is_created_and_recorded(bank: Bank) -> None:
    factories.card(bank, tags=["brand-new"])

    assert TaxonomyRevision.objects.filter(kind="tag", key="brand-new", action="created").exists()
