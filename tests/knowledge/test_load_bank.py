"""``manage.py load_bank``: validated, idempotent by UUID, all-or-nothing."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from knowledge.fixture_schema import read_bank
from knowledge.models import Card, CardRevision, KeyPoint, Option
from knowledge.services import BankLoadError, bank_load

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_load_bank_loads_every_card_with_its_parts() -> None:
    out = StringIO()
    call_command("load_bank", stdout=out)

    data = read_bank(FIXTURES)
    assert Card.objects.count() == len(data.cards)
    assert f"{len(data.cards)} created" in out.getvalue()
    concept = sum(len(card["key_points"]) for _f, card in data.cards if card["kind"] == "concept")
    options = sum(len(card["options"]) for _f, card in data.cards if card["kind"] == "mcq")
    assert KeyPoint.objects.count() == concept
    assert Option.objects.count() == options
    assert not Card.objects.filter(sections__isnull=True).exists()


def test_loading_twice_changes_nothing() -> None:
    bank_load()
    revisions = CardRevision.objects.count()
    versions = dict(Card.objects.values_list("uuid", "version"))

    report = bank_load()

    assert report.created == report.updated == 0
    assert report.unchanged == Card.objects.count()
    assert CardRevision.objects.count() == revisions
    assert dict(Card.objects.values_list("uuid", "version")) == versions


def test_an_edited_fixture_updates_the_card_in_place_and_bumps_its_version(bank_copy: Path) -> None:
    bank_load(bank_copy)
    path = sorted((bank_copy / "cards").glob("*.yaml"))[0]
    cards = yaml.safe_load(path.read_text(encoding="utf-8"))
    cards[0]["answer"]["en"] += "\n\nOne more sentence."
    cards[0]["status"] = "published"
    path.write_text(yaml.safe_dump(cards, allow_unicode=True, sort_keys=False), encoding="utf-8")
    card = Card.objects.get(uuid=cards[0]["uuid"])
    count = Card.objects.count()

    report = bank_load(bank_copy)

    card.refresh_from_db()
    assert report.updated == 1
    assert Card.objects.count() == count
    assert card.answer_en.endswith("One more sentence.")
    assert card.version == 2
    assert card.revisions.count() == 2


def test_cards_missing_from_the_fixtures_are_kept(bank_copy: Path) -> None:
    bank_load(bank_copy)
    path = sorted((bank_copy / "cards").glob("*.yaml"))[0]
    removed = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.unlink()
    # The sections only that file covered are still listed; a strict load would refuse
    # nothing here because coverage is a test, not a load rule.
    bank_load(bank_copy)

    assert Card.objects.filter(uuid__in=[card["uuid"] for card in removed]).count() == len(removed)


def test_a_broken_bank_reports_every_error_and_loads_nothing(bank_copy: Path) -> None:
    paths = sorted((bank_copy / "cards").glob("*.yaml"))
    first = yaml.safe_load(paths[0].read_text(encoding="utf-8"))
    first[0]["difficulty"] = 7
    paths[0].write_text(yaml.safe_dump(first, allow_unicode=True), encoding="utf-8")
    second = yaml.safe_load(paths[1].read_text(encoding="utf-8"))
    second[-1]["topic"] = "no/such/topic"
    paths[1].write_text(yaml.safe_dump(second, allow_unicode=True), encoding="utf-8")

    with pytest.raises(BankLoadError) as excinfo:
        bank_load(bank_copy)

    fields = {(error.file, error.field) for error in excinfo.value.errors}
    assert (f"cards/{paths[0].name}", "difficulty") in fields
    assert (f"cards/{paths[1].name}", "topic") in fields
    assert Card.objects.count() == 0


def test_load_bank_command_fails_with_every_error_listed(bank_copy: Path) -> None:
    (bank_copy / "cards" / "zz-broken.yaml").write_text("- slug: x\n- [oops", encoding="utf-8")
    err = StringIO()

    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command("load_bank", str(bank_copy), stderr=err)

    assert "cards/zz-broken.yaml: invalid YAML" in err.getvalue()
    assert Card.objects.count() == 0


def test_validate_bank_command_writes_nothing() -> None:
    out = StringIO()
    call_command("validate_bank", stdout=out)

    assert "no errors" in out.getvalue()
    assert Card.objects.count() == 0
