"""``create_demo_users``: the demo accounts exist once, keep a changed password, own a demo bank
of draft cards to author, and are never created under production settings."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from knowledge import services
from knowledge.management.commands.create_demo_users import DEMO_BANK
from knowledge.models import Bank, Card

from . import factories

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_KEY = "p" * 20 + "-production-secret-for-the-demo-test-" + "q" * 20

pytestmark = pytest.mark.django_db


@pytest.fixture
def taxonomy() -> None:
    """The topics and source sections the demo cards cite (the whole bank is not needed)."""
    factories.topic("fundamentals/neural-networks", parent=factories.topic("fundamentals"))
    cnn = factories.topic("cnn")
    factories.topic("cnn/pooling", parent=cnn)
    factories.topic("cnn/conv-arithmetic", parent=cnn)
    for section_id in ("2", "9", "24"):
        factories.section("000", section_id)


def _run() -> str:
    out = io.StringIO()
    call_command("create_demo_users", stdout=out)
    return out.getvalue()


def test_the_demo_accounts_are_created_with_the_demo_password(
    taxonomy: None, settings: Any
) -> None:
    output = _run()

    learner = User.objects.get(username="learner")
    instructor = User.objects.get(username="instructor")
    assert learner.check_password(settings.DEMO_PASSWORD)
    assert instructor.check_password(settings.DEMO_PASSWORD)
    assert not learner.is_staff
    assert instructor.is_staff
    assert instructor.groups.filter(name="Instructors").exists()
    assert f"password: {settings.DEMO_PASSWORD}" in output


def test_a_changed_password_and_edited_demo_cards_survive_a_restart(
    taxonomy: None, settings: Any
) -> None:
    _run()
    instructor = User.objects.get(username="instructor")
    instructor.set_password("a-password-of-my-own-2026")
    instructor.save()
    card = Card.objects.get(bank__slug=DEMO_BANK, kind=Card.Kind.CONCEPT)
    Card.objects.filter(pk=card.pk).update(question_en="My own wording?")

    output = _run()

    instructor.refresh_from_db()
    assert instructor.check_password("a-password-of-my-own-2026")
    assert not instructor.check_password(settings.DEMO_PASSWORD)
    assert settings.DEMO_PASSWORD not in output
    assert "unchanged (the account already existed)" in output
    assert Card.objects.get(pk=card.pk).question_en == "My own wording?"
    assert Card.objects.filter(bank__slug=DEMO_BANK).count() == 3
    assert User.objects.filter(username__in=["learner", "instructor"]).count() == 2


def test_the_demo_instructor_owns_a_demo_bank_of_bilingual_draft_cards(
    taxonomy: None,
) -> None:
    _run()

    bank = Bank.objects.get(slug=DEMO_BANK)
    cards = list(Card.objects.filter(bank=bank).order_by("slug"))
    assert bank.owner.username == "instructor"
    assert {card.kind for card in cards} == {"concept", "mcq", "numeric"}
    assert all(card.status == Card.Status.DRAFT for card in cards)
    for card in cards:
        assert card.question_zh and card.question_en and card.answer_zh and card.answer_en
    numeric = next(card for card in cards if card.kind == "numeric")
    assert (numeric.template_id, numeric.template_version) == ("conv.output_size", 1)
    mcq = next(card for card in cards if card.kind == "mcq")
    assert mcq.options.filter(correct=True).count() == 1

    # The instructor finds them in the admin, and can open the numeric card's variants.
    client = Client()
    client.force_login(bank.owner)
    changelist = client.get(
        reverse("admin:knowledge_card_changelist"), {"bank__id__exact": bank.pk}
    )
    variants = client.get(reverse("admin:knowledge_card_variants", args=[numeric.pk]))
    assert changelist.status_code == 200
    for card in cards:
        assert card.slug in changelist.text
    assert variants.status_code == 200
    assert "Seed 1" in variants.text
    # Complete cards: each passes the publish rules as it stands.
    for card in cards:
        assert services.card_publish(card=card, user=bank.owner).status == Card.Status.PUBLISHED


def test_without_the_question_bank_the_demo_bank_fails_clearly_and_leaves_nothing_half_made() -> (
    None
):
    with pytest.raises(CommandError, match="is the question bank loaded"):
        _run()

    assert not Bank.objects.filter(slug=DEMO_BANK).exists()
    assert not Card.objects.exists()


def test_settings_without_demo_accounts_create_nothing(settings: Any) -> None:
    settings.DEMO_ACCOUNTS = False

    output = _run()

    assert "never created" in output
    assert not User.objects.exists()
    assert not Bank.objects.exists()


def test_production_settings_never_create_the_demo_accounts(tmp_path: Path) -> None:
    database = tmp_path / "production.sqlite3"
    environ = {k: v for k, v in os.environ.items() if k not in {"DEMO_ACCOUNTS"}}
    environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=PRODUCTION_KEY,
        ALLOWED_HOSTS="drill.example.com",
        DATABASE_URL=f"sqlite:///{database}",
        DATA_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "create_demo_users"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "never created under config.settings.production" in result.stdout
    if database.exists():  # nothing may have been written to it
        with sqlite3.connect(database) as connection:
            tables = connection.execute("select name from sqlite_master").fetchall()
        assert ("auth_user",) not in tables
