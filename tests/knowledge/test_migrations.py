"""The data migration of card versions: rows written before it get pinned, versioned and hashed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from compute.templates import get_template
from knowledge import services
from knowledge.models import Card, CardVersion

BEFORE = [("knowledge", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_existing_cards_are_pinned_versioned_and_hashed() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("auth", "User").objects.create(username="old-owner")
    bank = old.get_model("knowledge", "Bank").objects.create(
        slug="old-bank", title_zh="旧", title_en="Old", owner_id=user.pk
    )
    topic = old.get_model("knowledge", "Topic").objects.create(
        slug="cnn", title_zh="卷积", title_en="CNN"
    )
    card_model = old.get_model("knowledge", "Card")
    common = {
        "bank_id": bank.pk,
        "topic_id": topic.pk,
        "question_zh": "问？",
        "question_en": "Q?",
        "answer_zh": "答。",
        "answer_en": "A.",
    }
    numeric = card_model.objects.create(
        slug="old-numeric",
        kind="numeric",
        status="published",
        version=3,
        template_id="conv.output_size",
        **common,
    )
    draft = card_model.objects.create(slug="old-draft", kind="concept", status="draft", **common)
    old.get_model("knowledge", "KeyPoint").objects.create(
        card_id=draft.pk, text_zh="点", text_en="point", accept_zh=["点"], accept_en=["point"]
    )
    snapshot = {
        "uuid": str(numeric.uuid),
        "slug": "old-numeric",
        "kind": "numeric",
        "bank": "old-bank",
        "topic": "cnn",
        "difficulty": 2,
        "tags": [],
        "sources": [],
        "status": "published",
        "question": {"zh": "问？", "en": "Q?"},
        "answer": {"zh": "答。", "en": "A."},
        "template": "conv.output_size",
    }
    old.get_model("knowledge", "CardRevision").objects.create(
        card_id=numeric.pk,
        version=3,
        status="published",
        snapshot=snapshot,
        note="loaded from fixtures",
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    card = Card.objects.get(slug="old-numeric")
    assert card.template_version == get_template("conv.output_size").version
    version = CardVersion.objects.get(card=card)
    assert version.version == 3
    assert version.content == services.card_learner_content(card)
    assert version.content_hash == services.content_digest(version.content)
    # Last written by the loader: the next load knows it was not edited since.
    assert card.fixture_hash == services.content_digest(services.card_snapshot(card))
    untouched = Card.objects.get(slug="old-draft")
    assert (untouched.template_version, untouched.fixture_hash) == (None, "")
    assert not untouched.versions.exists()
