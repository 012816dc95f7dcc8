"""``manage.py load_bank``: validated, idempotent, and never overwriting an edit made since.

The package loads the bank once (see conftest); each test edits a copy of that snapshot and
loads again, inside its own rolled-back transaction.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from knowledge import services
from knowledge.fixture_schema import read_bank
from knowledge.models import (
    Card,
    CardRevision,
    CardVersion,
    KeyPoint,
    Option,
    SourceSection,
    TaxonomyRevision,
    Topic,
)
from knowledge.services import BankLoadError, bank_load

from ..admin.support import change

pytestmark = pytest.mark.django_db


def _edit_card(root: Path, **changes: Any) -> dict[str, Any]:
    """Change the first published card of the first card file; return it as edited."""
    path = sorted((root / "cards").glob("*.yaml"))[0]
    cards = yaml.safe_load(path.read_text(encoding="utf-8"))
    index = next(i for i, card in enumerate(cards) if card["status"] == "published")
    for name, value in changes.items():
        if callable(value):
            value(cards[index])
        else:
            cards[index][name] = value
    path.write_text(yaml.safe_dump(cards, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dict(cards[index])


def _append_answer(text: str) -> Any:
    def edit(card: dict[str, Any]) -> None:
        card["answer"]["en"] += text

    return edit


def _owner() -> User:
    return User.objects.get(username=settings.BANK_OWNER)


def test_the_load_wrote_every_card_with_its_parts_versions_and_fixture_hashes(
    bank_root: Path,
) -> None:
    data = read_bank(bank_root)
    cards = [card for _f, card in data.cards]

    assert Card.objects.count() == len(cards)
    concept = sum(len(card["key_points"]) for card in cards if card["kind"] == "concept")
    options = sum(len(card["options"]) for card in cards if card["kind"] == "mcq")
    assert KeyPoint.objects.count() == concept
    assert Option.objects.count() == options
    assert not Card.objects.filter(sections__isnull=True).exists()
    published = sum(card["status"] == "published" for card in cards)
    assert CardVersion.objects.filter(version=1).count() == published
    assert not Card.objects.filter(fixture_hash="").exists()
    assert not Topic.objects.filter(fixture_hash="").exists()
    assert not SourceSection.objects.filter(fixture_hash="").exists()
    assert not Card.objects.filter(kind="numeric", template_version=None).exists()


def test_an_unchanged_reload_writes_nothing_in_at_most_50_queries(
    bank_root: Path, django_assert_max_num_queries: Any
) -> None:
    revisions = CardRevision.objects.count()
    versions = dict(Card.objects.values_list("uuid", "version"))
    taxonomy = TaxonomyRevision.objects.count()

    with django_assert_max_num_queries(50):
        report = bank_load(bank_root)

    assert (report.created, report.updated, report.conflicts) == (0, 0, [])
    assert report.unchanged == Card.objects.count()
    assert CardRevision.objects.count() == revisions
    assert TaxonomyRevision.objects.count() == taxonomy
    assert dict(Card.objects.values_list("uuid", "version")) == versions


def test_a_fixture_edit_applies_when_nobody_edited_the_card(bank_copy: Path) -> None:
    edited = _edit_card(bank_copy, answer=_append_answer("\n\nOne more sentence."))
    card = Card.objects.get(uuid=edited["uuid"])
    count = Card.objects.count()

    report = bank_load(bank_copy)

    card.refresh_from_db()
    assert (report.updated, report.conflicts) == (1, [])
    assert Card.objects.count() == count
    assert card.answer_en.endswith("One more sentence.")
    assert card.version == 2
    assert list(card.versions.values_list("version", flat=True)) == [1, 2]
    assert card.revisions.count() == 2


def test_an_admin_edit_survives_a_reload(bank_root: Path, client: Client) -> None:
    card = Card.objects.filter(kind="concept", status="published").order_by("slug").first()
    assert card is not None
    client.force_login(_owner())

    response = change(client, card, answer_en="Rewritten by the instructor.")
    assert response.status_code == 302
    report = bank_load(bank_root)  # what `make run` does at every start

    card.refresh_from_db()
    assert card.answer_en == "Rewritten by the instructor."
    assert report.conflicts == []  # the fixture did not change: nothing to report
    assert card.revisions.order_by("-created_at", "-id").first().note == "edited in admin"  # type: ignore[union-attr]


def test_a_fixture_edit_over_an_admin_edit_is_a_conflict_and_nothing_is_lost(
    bank_copy: Path,
) -> None:
    edited = _edit_card(bank_copy, answer=_append_answer(" (fixture edit)"))
    card = Card.objects.get(uuid=edited["uuid"])
    services.card_update(
        card=card,
        data=services.CardInput.from_card(card, answer_en="The instructor's answer."),
        user=_owner(),
    )
    revisions = card.revisions.count()
    err = StringIO()

    call_command("load_bank", str(bank_copy), stdout=StringIO(), stderr=err)

    card.refresh_from_db()
    assert card.answer_en == "The instructor's answer."
    assert card.revisions.count() == revisions
    assert f"conflict: card {card.slug} was changed since the last load" in err.getvalue()


def test_overwrite_applies_the_fixture_and_records_a_revision(bank_copy: Path) -> None:
    edited = _edit_card(bank_copy, answer=_append_answer(" (fixture edit)"))
    card = Card.objects.get(uuid=edited["uuid"])
    services.card_update(
        card=card, data=services.CardInput.from_card(card, answer_en="Instructor."), user=None
    )

    call_command("load_bank", str(bank_copy), "--overwrite", stdout=StringIO())

    card.refresh_from_db()
    assert card.answer_en == edited["answer"]["en"]
    latest = card.revisions.order_by("-created_at", "-id").first()
    assert latest is not None and latest.note == services.LOADER_NOTE
    assert bank_load(bank_copy).conflicts == []  # and the card is the fixture's again


def test_force_overwrites_only_the_named_cards(bank_copy: Path) -> None:
    path = sorted((bank_copy / "cards").glob("*.yaml"))[0]
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    first, second = items[0], items[1]
    for item in (first, second):
        item["answer"]["en"] += " (fixture edit)"
        card = Card.objects.get(uuid=item["uuid"])
        services.card_update(
            card=card, data=services.CardInput.from_card(card, answer_en="Edited."), user=None
        )
    path.write_text(yaml.safe_dump(items, allow_unicode=True, sort_keys=False), encoding="utf-8")

    report = bank_load(bank_copy, force=[first["slug"]])

    assert Card.objects.get(uuid=first["uuid"]).answer_en == first["answer"]["en"]
    assert Card.objects.get(uuid=second["uuid"]).answer_en == "Edited."
    assert report.conflicts == [f"card {second['slug']}"]


def test_topic_and_section_edits_survive_and_conflict_like_cards(bank_copy: Path) -> None:
    topic = Topic.objects.order_by("position").first()
    section = SourceSection.objects.select_related("source").order_by("id").first()
    assert topic is not None and section is not None
    topic.title_en = "Curated title"
    services.taxonomy_save(obj=topic, user=None, note="edited in admin")
    section.title_en = "Curated section"
    services.taxonomy_save(obj=section, user=None, note="edited in admin")

    assert bank_load(bank_copy).conflicts == []  # unchanged fixtures: the edits stay
    topics = yaml.safe_load((bank_copy / "topics.yaml").read_text(encoding="utf-8"))
    next(t for t in topics if t["slug"] == topic.slug)["title"]["en"] = "Fixture title"
    (bank_copy / "topics.yaml").write_text(yaml.safe_dump(topics, allow_unicode=True), "utf-8")
    report = bank_load(bank_copy)

    topic.refresh_from_db()
    section.refresh_from_db()
    assert (topic.title_en, section.title_en) == ("Curated title", "Curated section")
    assert report.conflicts == [f"topic {topic.slug}"]
    bank_load(bank_copy, force=[topic.slug])
    topic.refresh_from_db()
    assert topic.title_en == "Fixture title"
    assert TaxonomyRevision.objects.filter(key=topic.slug, note=services.LOADER_NOTE).exists()


def test_cards_missing_from_the_fixtures_are_kept(bank_copy: Path) -> None:
    path = sorted((bank_copy / "cards").glob("*.yaml"))[0]
    removed = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.unlink()

    bank_load(bank_copy)

    assert Card.objects.filter(uuid__in=[card["uuid"] for card in removed]).count() == len(removed)


def test_a_broken_bank_reports_every_error_and_loads_nothing(bank_copy: Path) -> None:
    paths = sorted((bank_copy / "cards").glob("*.yaml"))
    first = yaml.safe_load(paths[0].read_text(encoding="utf-8"))
    first[0]["difficulty"] = 7
    first[1]["answer"]["en"] += " changed"
    paths[0].write_text(yaml.safe_dump(first, allow_unicode=True), encoding="utf-8")
    second = yaml.safe_load(paths[1].read_text(encoding="utf-8"))
    second[-1]["topic"] = "no/such/topic"
    paths[1].write_text(yaml.safe_dump(second, allow_unicode=True), encoding="utf-8")
    answer = Card.objects.get(uuid=first[1]["uuid"]).answer_en

    with pytest.raises(BankLoadError) as excinfo:
        bank_load(bank_copy)

    fields = {(error.file, error.field) for error in excinfo.value.errors}
    assert (f"cards/{paths[0].name}", "difficulty") in fields
    assert (f"cards/{paths[1].name}", "topic") in fields
    assert Card.objects.get(uuid=first[1]["uuid"]).answer_en == answer


def test_load_bank_command_fails_with_every_error_listed(bank_copy: Path) -> None:
    (bank_copy / "cards" / "zz-broken.yaml").write_text("- slug: x\n- [oops", encoding="utf-8")
    err = StringIO()
    count = Card.objects.count()

    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command("load_bank", str(bank_copy), stderr=err)

    assert "cards/zz-broken.yaml: invalid YAML" in err.getvalue()
    assert Card.objects.count() == count


def test_validate_bank_command_writes_nothing() -> None:
    out = StringIO()
    revisions = CardRevision.objects.count()

    call_command("validate_bank", stdout=out)

    assert "error" in out.getvalue()
    assert CardRevision.objects.count() == revisions


def test_the_changelist_shows_the_loaded_bank_to_its_owner(client: Client) -> None:
    client.force_login(_owner())

    response = client.get(reverse("admin:knowledge_card_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == Card.objects.count()
