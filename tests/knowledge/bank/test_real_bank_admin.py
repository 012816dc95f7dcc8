"""The instructor admin over the real authored bank (loaded once for this package)."""

from __future__ import annotations

import pytest
import yaml
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from knowledge.models import Card

from .. import factories  # noqa: F401
from ..admin.support import (
    PASSWORD,
    action,
    answers,
)

pytestmark = pytest.mark.django_db


def test_export_of_the_real_bank_yaml_contains_every_selected_uuid(
    loaded_bank: None, client: Client
) -> None:
    owner = User.objects.get(username=settings.BANK_OWNER)
    owner.set_password(PASSWORD)
    owner.save()
    assert client.login(username=owner.username, password=PASSWORD)
    cards = list(Card.objects.filter(bank__owner=owner).order_by("slug")[:20])
    assert cards

    response = action(client, "export_fixture", cards)

    assert response.status_code == 200
    assert {item["uuid"] for item in yaml.safe_load(response.content)} == {
        str(c.uuid) for c in cards
    }


def test_every_card_of_the_real_bank_previews_and_every_numeric_card_shows_variants(
    loaded_bank: None, client: Client
) -> None:
    owner = User.objects.get(username=settings.BANK_OWNER)
    client.force_login(owner)
    cards = list(Card.objects.filter(bank__owner=owner).prefetch_related("options"))
    assert {c.kind for c in cards} == {"concept", "mcq", "numeric"}
    card_admin = admin.site.get_model_admin(Card)

    for card in cards:
        preview = card_admin.preview(card)  # type: ignore[attr-defined]
        assert '<div class="card-preview" lang="en">' in preview, card.slug
        assert '<div class="card-preview" lang="zh">' in preview, card.slug
        assert "<script" not in preview, card.slug
        if card.kind == "numeric":
            variants = client.get(reverse("admin:knowledge_card_variants", args=[card.pk]))
            assert variants.status_code == 200, card.slug
            assert len(answers(variants.content.decode())) == 3, card.slug
    # The full change page (slow to render) for the first card of each kind.
    for kind in ("concept", "mcq", "numeric"):
        card = next(c for c in cards if c.kind == kind)
        page = client.get(reverse("admin:knowledge_card_change", args=[card.pk]))
        assert page.status_code == 200, card.slug
        assert card_admin.preview(card) in page.content.decode()  # type: ignore[attr-defined]
