"""Import and export: fixture YAML round trip, CSV, Moodle XML, Anki, and hostile uploads."""

from __future__ import annotations

import gzip
import io
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import pytest
import yaml
from defusedxml.ElementTree import fromstring
from django.contrib.auth.models import User

from knowledge.exchange import (
    BankImportError,
    UploadRejected,
    cards_import_file,
    cards_to_apkg,
    cards_to_fixture_yaml,
    cards_to_moodle_xml,
)
from knowledge.exchange.anki import note_guid
from knowledge.fixture_schema import normalize_card
from knowledge.models import Bank, Card
from knowledge.services import card_snapshot

from . import factories

pytestmark = pytest.mark.django_db

CSV_HEADER = "slug,kind,bank,topic,difficulty,tags,sources,question_zh,question_en,answer_zh,answer_en,key_points_zh,key_points_en,options_zh,options_en\n"


@pytest.fixture
def owner() -> User:
    return factories.instructor()


@pytest.fixture
def bank(owner: User) -> Bank:
    factories.topic("cnn")
    return factories.bank(owner)


def test_fixture_export_round_trips_exactly(bank: Bank, owner: User) -> None:
    cards = [factories.card(bank, kind=kind) for kind in ("concept", "mcq")]
    cards.append(factories.card(bank, kind="numeric", template_version=1))
    exported = cards_to_fixture_yaml(Card.objects.filter(pk__in=[c.pk for c in cards]))
    before = {str(c.uuid): card_snapshot(c) for c in cards}
    Card.objects.filter(pk__in=[c.pk for c in cards]).update(answer_en="changed")

    report = cards_import_file(exported, fmt="fixture", user=owner, name="export.yaml")

    assert report.updated == 3
    after = {str(c.uuid): card_snapshot(c) for c in Card.objects.all()}
    assert after == before
    assert {item["uuid"]: normalize_card(item) for item in yaml.safe_load(exported)} == before


def test_reimporting_an_unchanged_export_changes_nothing(bank: Bank, owner: User) -> None:
    factories.card(bank)
    exported = cards_to_fixture_yaml(Card.objects.all())

    report = cards_import_file(exported, fmt="fixture", user=owner, name="export.yaml")

    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)


def test_csv_import_creates_draft_concept_and_mcq_cards(bank: Bank, owner: User) -> None:
    rows = (
        CSV_HEADER
        + "pad-why,concept,my-bank,cnn,2,cnn;padding,,为什么要填充？,Why pad?,保持尺寸。,Keeps the size.,保持尺寸|尺寸不变,keeps size|same size,,\n"
        + "pool-kind,mcq,my-bank,cnn,1,,,哪个无参数？,Which has no weights?,池化。,Pooling.,,,*池化::对||卷积::错,*Pooling::Right||Convolution::Wrong\n"
    )

    report = cards_import_file(rows.encode(), fmt="csv", user=owner, name="bank.csv")

    assert report.created == 2
    concept = Card.objects.get(slug="pad-why")
    assert concept.status == "draft"
    assert concept.key_points.get().accept_en == ["keeps size", "same size"]
    mcq = Card.objects.get(slug="pool-kind")
    assert [(o.text_en, o.correct, o.feedback_en) for o in mcq.options.all()] == [
        ("Pooling", True, "Right"),
        ("Convolution", False, "Wrong"),
    ]


def test_csv_with_errors_reports_them_all_and_imports_nothing(bank: Bank, owner: User) -> None:
    rows = (
        CSV_HEADER
        + "ok-card,concept,my-bank,cnn,2,,,问？,Q?,答。,A.,点,point,,\n"
        + "bad-kind,numeric,my-bank,cnn,2,,,问？,Q?,答。,A.,,,,\n"
        + "bad-topic,concept,my-bank,no-such,x,,,问？,Q?,答。,A.,点,point,,\n"
        + "bad-options,mcq,my-bank,cnn,2,,,问？,Q?,答。,A.,,,甲||乙,A\n"
    )

    with pytest.raises(BankImportError) as excinfo:
        cards_import_file(rows.encode(), fmt="csv", user=owner, name="bank.csv")

    messages = [str(error) for error in excinfo.value.errors]
    assert any("row 3" in m and "kind" in m for m in messages)
    assert any("row 4" in m and "difficulty" in m for m in messages)
    assert any("bad-topic" in m and "unknown topic" in m for m in messages)
    assert any("row 5" in m and "options" in m for m in messages)
    assert Card.objects.count() == 0


def test_csv_cannot_overwrite_a_card_in_someone_elses_bank(bank: Bank, owner: User) -> None:
    other = factories.bank(factories.instructor("other"), slug="their-bank")
    theirs = factories.card(other)
    rows = (
        CSV_HEADER.replace("slug,", "uuid,slug,")
        + f"{theirs.uuid},x,concept,my-bank,cnn,2,,,问？,Q?,答。,A.,点,point,,\n"
    )

    with pytest.raises(BankImportError, match="nothing was imported"):
        cards_import_file(rows.encode(), fmt="csv", user=owner, name="bank.csv")
    theirs.refresh_from_db()
    assert theirs.bank == other


def test_moodle_export_parses_and_holds_every_kind(bank: Bank) -> None:
    factories.card(bank, kind="concept", slug="c1")
    factories.card(bank, kind="mcq", slug="m1")
    factories.card(bank, kind="numeric", slug="n1")

    root = fromstring(cards_to_moodle_xml(Card.objects.all()))

    types = [q.get("type") for q in root.findall("question")]
    assert types.count("essay") == 1
    assert types.count("multichoice") == 1
    assert (
        types.count("numerical") + types.count("shortanswer") >= 5
    )  # a fixed set of numeric variants
    numerical = [q for q in root.findall("question") if q.get("type") == "numerical"]
    assert all(q.find("answer/tolerance") is not None for q in numerical)


def test_moodle_export_imports_back_as_drafts(bank: Bank, owner: User) -> None:
    factories.card(bank, kind="mcq", slug="m1")
    exported = cards_to_moodle_xml(Card.objects.all())

    report = cards_import_file(
        exported, fmt="moodle", user=owner, name="quiz.xml", bank="my-bank", topic="cnn"
    )

    assert report.created == 1
    imported = Card.objects.get(slug="moodle-m1")
    assert imported.kind == "mcq" and imported.status == "draft"
    assert [o.correct for o in imported.options.all()] == [True, False]


def test_moodle_numerical_and_shortanswer_import(bank: Bank, owner: User) -> None:
    xml = """<?xml version="1.0"?><quiz>
      <question type="numerical"><name><text>Conv size</text></name>
        <questiontext format="html"><text>&lt;p&gt;Output length?&lt;/p&gt;</text></questiontext>
        <answer fraction="100"><text>24</text><tolerance>0</tolerance></answer></question>
      <question type="shortanswer"><name><text>Pool</text></name>
        <questiontext format="html"><text>Which layer has no weights?</text></questiontext>
        <answer fraction="100"><text>pooling</text></answer><answer fraction="0"><text>conv</text></answer></question>
    </quiz>"""

    report = cards_import_file(
        xml.encode(), fmt="moodle", user=owner, name="q.xml", bank="my-bank", topic="cnn"
    )

    assert report.created == 2
    numeric = Card.objects.get(slug="moodle-conv-size")
    assert numeric.question_en == "Output length?"
    assert numeric.key_points.get().accept_en == ["24"]
    assert Card.objects.get(slug="moodle-pool").key_points.get().accept_en == ["pooling"]


def test_moodle_xml_with_entity_expansion_is_refused(bank: Bank, owner: User) -> None:
    bomb = """<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
    <quiz><question type="essay"><name><text>&b;</text></name></question></quiz>"""

    with pytest.raises(BankImportError) as excinfo:
        cards_import_file(
            bomb.encode(), fmt="moodle", user=owner, name="q.xml", bank="my-bank", topic="cnn"
        )

    assert "DTD or entities" in str(excinfo.value.errors[0])
    assert Card.objects.count() == 0


def test_malformed_xml_is_a_clear_error(bank: Bank, owner: User) -> None:
    with pytest.raises(BankImportError, match="nothing was imported") as excinfo:
        cards_import_file(
            b"<quiz><question>", fmt="moodle", user=owner, name="q.xml", bank="my-bank", topic="cnn"
        )
    assert "malformed XML" in str(excinfo.value.errors[0])


def test_ten_megabytes_of_garbage_is_refused_before_parsing(bank: Bank, owner: User) -> None:
    garbage = bytes(range(256)) * (10 * 1024 * 1024 // 256)

    with pytest.raises(UploadRejected, match="the limit is"):
        cards_import_file(garbage, fmt="csv", user=owner, name="junk.csv")


def test_a_gzip_bomb_is_refused_without_inflating_it(bank: Bank, owner: User) -> None:
    bomb = gzip.compress(b"a" * (50 * 1024 * 1024))
    assert len(bomb) < 1024 * 1024

    with pytest.raises(UploadRejected, match="inflates to more than"):
        cards_import_file(bomb, fmt="csv", user=owner, name="bank.csv.gz")


def test_a_small_gzip_upload_is_accepted(bank: Bank, owner: User) -> None:
    rows = CSV_HEADER + "z-card,concept,my-bank,cnn,2,,,问？,Q?,答。,A.,点,point,,\n"

    report = cards_import_file(
        gzip.compress(rows.encode()), fmt="csv", user=owner, name="bank.csv.gz"
    )

    assert report.created == 1


@pytest.mark.parametrize(
    ("payload", "message"),
    [(b"slug,kind\n\xff\xfe\xfa", "not UTF-8"), (b"", "empty"), (b"a\x00b", "binary")],
)
def test_unreadable_uploads_are_refused_with_a_reason(
    bank: Bank, owner: User, payload: bytes, message: str
) -> None:
    with pytest.raises(UploadRejected, match=message):
        cards_import_file(payload, fmt="csv", user=owner, name="bank.csv")


def test_yaml_aliases_are_refused(bank: Bank, owner: User) -> None:
    text = "- &a {slug: x}\n- *a\n"

    with pytest.raises(BankImportError) as excinfo:
        cards_import_file(text.encode(), fmt="fixture", user=owner, name="x.yaml")

    assert "aliases" in str(excinfo.value.errors[0])


def _apkg_notes(data: bytes) -> list[tuple[str, str]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "collection.anki2"
        path.write_bytes(archive.read("collection.anki2"))
        with sqlite3.connect(path) as conn:
            return sorted(conn.execute("SELECT guid, flds FROM notes").fetchall())


def test_anki_export_has_stable_guids_and_numeric_variants(bank: Bank) -> None:
    concept = factories.card(bank, kind="concept")
    numeric = factories.card(bank, kind="numeric")

    first = _apkg_notes(cards_to_apkg(Card.objects.all()))
    concept.answer_en = "Changed wording."
    concept.save()
    second = _apkg_notes(cards_to_apkg(Card.objects.all()))

    assert len(first) == 1 + 5
    assert [guid for guid, _ in first] == [guid for guid, _ in second]
    assert note_guid(concept) in {guid for guid, _ in first}
    assert note_guid(numeric, 1) in {guid for guid, _ in first}
    assert any("Changed wording." in fields for _, fields in second)


def test_a_card_with_a_malformed_uuid_is_a_reported_error_not_a_crash(
    bank: Bank, owner: User
) -> None:
    rows = (
        CSV_HEADER.replace("slug,", "uuid,slug,")
        + "not-a-uuid,x-card,concept,my-bank,cnn,2,,,问？,Q?,答。,A.,点,point,,\n"
    )

    with pytest.raises(BankImportError) as excinfo:
        cards_import_file(rows.encode(), fmt="csv", user=owner, name="bank.csv")

    assert [e.field for e in excinfo.value.errors] == ["uuid"]
