"""Every importer, fed random and mutated files: each is refused with a message and nothing
written, or imported completely. Never an unexpected exception.

The files start from real cards of ``fixtures/cards`` (retargeted at a test bank) and from our
own exports, then have values replaced by hostile ones (wrong types, over-long slugs, NUL, lone
surrogates, dates, NaN, huge numbers, deep nesting, bad constraints), keys removed or added, the
text cut short, re-encoded or compressed. The uploads go through ``cards_import_file``, the entry
point of the admin's import view.
"""

from __future__ import annotations

import copy
import csv
import datetime
import gzip
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import yaml
from django.contrib.auth.models import User
from django.db import transaction
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from knowledge.exchange import (
    BankImportError,
    ImportFormat,
    UploadRejected,
    cards_import_file,
    cards_to_moodle_xml,
    upload_read_cards,
)
from knowledge.exchange.csv_format import CSV_COLUMNS
from knowledge.fixture_schema import read_bank
from knowledge.models import Bank, Card, CardRevision, KeyPoint, Option, Tag

from . import factories

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BANK = "my-bank"
TOPIC = "cnn"
FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _real_cards() -> list[dict[str, Any]]:
    """A few real cards of each kind, pointed at the test bank and topic, citing nothing."""
    cards: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for _file, card in read_bank(FIXTURES).cards:
        kind = str(card.get("kind"))
        if seen.get(kind, 0) >= 4:
            continue
        seen[kind] = seen.get(kind, 0) + 1
        card = copy.deepcopy(card)
        card.update(bank=BANK, topic=TOPIC, sources=[], status="draft")
        cards.append(card)
    return cards


REAL_CARDS = _real_cards()


class _Rollback(Exception):
    """Undo one example's writes, so every example starts from the same database."""


def _counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (Card, KeyPoint, Option, CardRevision, Tag, Bank)
    )


def _assert_answered(upload: bytes, *, fmt: ImportFormat, user: User, **where: str) -> None:
    """Import ``upload``; assert a refusal with messages and no write, or a complete import."""
    before = _counts()
    try:
        with transaction.atomic():
            try:
                report = cards_import_file(upload, fmt=fmt, user=user, name="fuzz", **where)
            except UploadRejected as exc:
                event("unreadable")
                assert str(exc).strip()
                assert _counts() == before
            except BankImportError as exc:
                event("refused")
                assert exc.errors
                assert all(str(error).strip() for error in exc.errors)
                assert _counts() == before
            else:
                event("imported")
                _assert_imported_completely(upload, fmt=fmt, report=report, **where)
            raise _Rollback
    except _Rollback:
        pass


def _assert_imported_completely(
    upload: bytes, *, fmt: ImportFormat, report: Any, **where: str
) -> None:
    items, errors = upload_read_cards(upload, fmt=fmt, name="fuzz", **where)
    assert not errors
    assert report.created + report.updated + report.unchanged == len(items)
    for item in items:
        card = Card.objects.get(uuid=item["uuid"])
        assert (card.slug, card.kind, card.bank.slug, card.topic.slug) == (
            item["slug"],
            item["kind"],
            item["bank"],
            item["topic"],
        )
        assert (card.question_zh, card.question_en) == (
            item["question"]["zh"],
            item["question"]["en"],
        )
        assert (card.answer_zh, card.answer_en) == (item["answer"]["zh"], item["answer"]["en"])
        assert sorted(tag.slug for tag in card.tags.all()) == sorted(set(item["tags"]))
        assert card.key_points.count() == len(item.get("key_points") or [])
        assert card.options.count() == len(item.get("options") or [])
        if card.kind == "numeric":
            assert (card.template_id, card.template_version) == (
                item["template"],
                item["template_version"],
            )
            assert (card.constraints or {}) == (item.get("constraints") or {})


@pytest.fixture
def owner() -> Iterator[User]:
    user = factories.instructor()
    factories.topic(TOPIC)
    factories.bank(user, slug=BANK)
    yield user


# --- Hostile values --------------------------------------------------------------------------


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


HOSTILE = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "",
            " ",
            "a" * 130,
            "a-" * 110 + "a",
            "x" * 25_000,
            "\x00",
            "nul\x00inside",
            "\ud800",
            "<img src=x onerror=alert(1)>",
            "$\u2063MATH0\u2063$",
            "numeric",
            "published",
            "conv.output_size",
            "no.such.template",
        ]
    ),
    st.integers(),
    st.sampled_from([0, -1, 6, 2**31, 2**63, 10**30, -(10**30)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.dates(),
    st.binary(max_size=8),
    st.sets(st.integers(0, 9), max_size=3),
    st.lists(st.integers(), max_size=3),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.dictionaries(st.integers(0, 9), st.text(max_size=3), min_size=1, max_size=2),
    st.builds(_nested, st.integers(1, 40)),
)

CONSTRAINT_VALUES = st.one_of(
    st.lists(HOSTILE, min_size=0, max_size=3),
    st.sampled_from(
        [
            ["a"],
            [10**30],
            [1e308],
            [float("inf")],
            [float("nan")],
            [[1] * 200],
            [-1],
            [0],
            [3.5],
            [True],
            [None],
            ["same"],
            [3, 5, 7],
            list(range(1000)),
        ]
    ),
    HOSTILE,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (keys of mappings, indices of lists)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from _paths(item, (*prefix, index))


def _parent(card: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        card = card[step]
    return card


@st.composite
def mutated_card(draw: st.DrawFn) -> dict[str, Any]:
    """A real card with one to three mutations."""
    card: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(REAL_CARDS)))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(card))
        operation = draw(st.sampled_from(["replace", "replace", "delete", "add", "constraints"]))
        if operation == "constraints" or not paths:
            name = draw(st.sampled_from(["kernel", "stride", "length", "padding", "size", "x"]))
            card["constraints"] = {name: draw(CONSTRAINT_VALUES)}
            continue
        # Half the mutations hit a top-level field: that is where most types are checked.
        top = [path for path in paths if len(path) == 1]
        on_top: bool = draw(st.booleans())
        path = draw(st.sampled_from(top if top and on_top else paths))
        parent = _parent(card, path)
        if operation == "replace":
            parent[path[-1]] = draw(HOSTILE)
        elif operation == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(HOSTILE)
        else:
            parent.append(draw(HOSTILE))
    return card


Mutation = Callable[[bytes], bytes]


@st.composite
def byte_mutation(draw: st.DrawFn) -> Mutation:
    """Leave the file alone, or cut it, re-encode it, splice bytes into it or gzip it."""
    kind = draw(st.sampled_from(["none"] * 6 + ["cut", "splice", "utf16", "gzip"]))
    if kind == "cut":
        fraction = draw(st.floats(0, 1))
        return lambda data: data[: int(len(data) * fraction)]
    if kind == "splice":
        junk = draw(st.binary(min_size=1, max_size=6))
        fraction = draw(st.floats(0, 1))
        return lambda data: (
            data[: int(len(data) * fraction)] + junk + data[int(len(data) * fraction) :]
        )
    if kind == "utf16":
        return lambda data: data.decode("utf-8", "surrogatepass").encode("utf-16", "surrogatepass")
    if kind == "gzip":
        return gzip.compress
    return lambda data: data


# --- Fixture YAML ----------------------------------------------------------------------------


def _with(kind: str, **changes: Any) -> dict[str, Any]:
    card = copy.deepcopy(next(card for card in REAL_CARDS if card["kind"] == kind))
    card.update(changes)
    return card


def _unchanged(data: bytes) -> bytes:
    return data


@FUZZ
# Found by the fuzzing before the fix (each was a 500): kept so every run tries them.
@example(cards=[_with("concept", bank=["my-bank"])], unicode=True, mutation=_unchanged)
@example(cards=[_with("mcq", topic={"cnn": 1})], unicode=True, mutation=_unchanged)
@example(
    cards=[_with("numeric", constraints={"kernel": [datetime.date(2020, 1, 1)]})],
    unicode=True,
    mutation=_unchanged,
)
@example(cards=[_with("numeric", template_version={"v": 1})], unicode=False, mutation=_unchanged)
@given(
    cards=st.lists(mutated_card(), min_size=1, max_size=3),
    unicode=st.booleans(),
    mutation=byte_mutation(),
)
def test_fixture_yaml_uploads_are_refused_with_a_message_or_imported_whole(
    owner: User, cards: list[dict[str, Any]], unicode: bool, mutation: Mutation
) -> None:
    text = yaml.safe_dump(cards, allow_unicode=unicode, sort_keys=False)
    upload = mutation(text.encode("utf-8", "surrogatepass"))

    _assert_answered(upload, fmt="fixture", user=owner)


def test_unmutated_real_cards_import_whole(owner: User) -> None:
    """The starting point of the mutations is a valid upload (else the fuzzing proves little)."""
    text = yaml.safe_dump(REAL_CARDS, allow_unicode=True, sort_keys=False)

    report = cards_import_file(text.encode(), fmt="fixture", user=owner, name="real.yaml")

    assert report.created == len(REAL_CARDS) >= 9
    _assert_imported_completely(text.encode(), fmt="fixture", report=report)


# --- CSV -------------------------------------------------------------------------------------


def _csv_row(card: dict[str, Any]) -> dict[str, str]:
    row = {
        "uuid": card["uuid"],
        "slug": card["slug"],
        "kind": card["kind"],
        "bank": card["bank"],
        "topic": card["topic"],
        "difficulty": str(card["difficulty"]),
        "status": card["status"],
        "tags": ";".join(card["tags"]),
        "sources": "",
        "question_zh": card["question"]["zh"],
        "question_en": card["question"]["en"],
        "answer_zh": card["answer"]["zh"],
        "answer_en": card["answer"]["en"],
    }
    for lang in ("zh", "en"):
        if card["kind"] == "concept":
            row[f"key_points_{lang}"] = "||".join(
                "|".join(point["accept"][lang]) for point in card["key_points"]
            )
        else:
            row[f"options_{lang}"] = "||".join(
                ("*" if option["correct"] else "")
                + option["text"][lang]
                + "::"
                + option["feedback"][lang]
                for option in card["options"]
            )
    return row


CSV_CARDS = [card for card in REAL_CARDS if card["kind"] in ("concept", "mcq")]
CELL = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        ["", "a" * 200, "x" * 30_000, "||", "|", "*", "::", '"', "\n", "\r\n", "concept", "mcq"]
    ),
    st.integers().map(str),
)


@st.composite
def csv_upload(draw: st.DrawFn) -> bytes:
    rows = [_csv_row(card) for card in draw(st.lists(st.sampled_from(CSV_CARDS), max_size=3))]
    columns = list(CSV_COLUMNS)
    if draw(st.booleans()):
        columns.remove(draw(st.sampled_from(columns)))
    if draw(st.booleans()):
        columns.append(draw(st.text(min_size=1, max_size=6)))
    for row in rows:
        for _ in range(draw(st.integers(0, 3))):
            row[draw(st.sampled_from(list(CSV_COLUMNS)))] = draw(CELL)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


@FUZZ
@given(upload=csv_upload(), mutation=byte_mutation())
def test_csv_uploads_are_refused_with_a_message_or_imported_whole(
    owner: User, upload: bytes, mutation: Mutation
) -> None:
    _assert_answered(mutation(upload), fmt="csv", user=owner)


# --- Moodle XML ------------------------------------------------------------------------------


@pytest.fixture
def moodle_export(owner: User) -> bytes:
    """Our own Moodle export of one card of each kind (imported back, they get new slugs)."""
    bank = Bank.objects.get(slug=BANK)
    factories.card(bank, kind="concept", slug="m-concept")
    factories.card(bank, kind="mcq", slug="m-mcq")
    factories.card(bank, kind="numeric", slug="m-numeric", template_version=1)
    return cards_to_moodle_xml(Card.objects.all())


XML_VALUE = st.one_of(
    st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
        max_size=20,
    ),
    st.sampled_from(["abc", "", "-0", "1e999", "nan", "100", "-100", "50.5", "x" * 25_000]),
)


@st.composite
def moodle_upload(draw: st.DrawFn, exported: bytes) -> bytes:
    root = ET.fromstring(exported)
    elements = list(root.iter())
    answers = list(root.iter("answer"))
    for _ in range(draw(st.integers(1, 4))):
        element = draw(st.sampled_from(elements))
        operation = draw(
            st.sampled_from(["fraction", "attribute", "text", "remove", "nest", "type"])
        )
        if operation == "fraction":
            draw(st.sampled_from(answers)).set("fraction", draw(XML_VALUE))
        elif operation == "attribute":
            element.set(draw(st.sampled_from(["fraction", "type", "format"])), draw(XML_VALUE))
        elif operation == "text":
            element.text = draw(XML_VALUE)
        elif operation == "remove" and len(element):
            element.remove(draw(st.sampled_from(list(element))))
        elif operation == "nest":
            ET.SubElement(element, draw(st.sampled_from(["text", "answer", "question", "name"])))
        elif operation == "type":
            element.set(
                "type",
                draw(
                    st.sampled_from(["multichoice", "truefalse", "shortanswer", "essay", "cloze"])
                ),
            )
    xml: bytes = ET.tostring(root, encoding="utf-8")
    return xml


@FUZZ
@given(data=st.data(), mutation=byte_mutation())
def test_moodle_uploads_are_refused_with_a_message_or_imported_whole(
    owner: User, moodle_export: bytes, data: st.DataObject, mutation: Mutation
) -> None:
    upload = mutation(data.draw(moodle_upload(moodle_export)))

    _assert_answered(upload, fmt="moodle", user=owner, bank=BANK, topic=TOPIC)
