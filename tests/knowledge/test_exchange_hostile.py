"""Hostile uploads through the admin's import page, and hostile values through every export.

Each pathological upload that once gave a 500 (or held a worker for half a minute) is answered
with a message, writes nothing, and is timed; the longest time is printed (run with ``-s``).
"""

from __future__ import annotations

import copy
import io
import sqlite3
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from defusedxml.ElementTree import fromstring
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from knowledge.exchange import cards_to_apkg, cards_to_moodle_xml
from knowledge.exchange.uploads import MAX_UPLOAD_CARDS
from knowledge.fixture_schema import field_limits
from knowledge.fixture_schema.limits import DEFAULT_LIMITS
from knowledge.models import Bank, Card, CardRevision, Tag, Topic

from . import factories
from .html_checks import html_problems

pytestmark = pytest.mark.django_db

# Generous for a loaded CI machine; the figure measured on a workstation is in the issue note.
REJECTION_SECONDS = 5.0

NUMERIC = {
    "uuid": "6f1c8a52-6a9e-4c1e-9d43-7b1f0f3a2b10",
    "slug": "hostile-numeric",
    "kind": "numeric",
    "bank": "my-bank",
    "topic": "cnn",
    "difficulty": 2,
    "tags": ["conv"],
    "sources": [],
    "status": "draft",
    "question": {"zh": "输出多长？", "en": "How long is the output?"},
    "answer": {"zh": "按公式计算。", "en": "Use the formula."},
    "template": "conv.output_size",
    "template_version": 1,
}
CONCEPT = {
    **{key: value for key, value in NUMERIC.items() if key not in ("template", "template_version")},
    "uuid": "7f1c8a52-6a9e-4c1e-9d43-7b1f0f3a2b10",
    "slug": "hostile-concept",
    "kind": "concept",
    "key_points": [
        {"text": {"zh": "补零", "en": "zero padding"}, "accept": {"zh": ["补零"], "en": ["pad"]}}
    ],
}


def _yaml(**changes: Any) -> bytes:
    return yaml.safe_dump([{**NUMERIC, **changes}], allow_unicode=True).encode()


def _concept_yaml(**changes: Any) -> bytes:
    return yaml.safe_dump([{**CONCEPT, **changes}], allow_unicode=True).encode()


def _nested_block_yaml(size: int) -> bytes:
    """Block mappings nested as deep as ``size`` bytes allow (the 20-100 KB upload of the issue)."""
    lines: list[str] = []
    depth = 0
    while sum(len(line) for line in lines) < size:
        lines.append("  " * depth + f"k{depth}:\n")
        depth += 1
    return ("- " + "".join(lines).lstrip() + "  " * depth + "x\n").encode()


MOODLE_BAD_FRACTION = b"""<?xml version="1.0"?><quiz>
<question type="multichoice"><name><text>Pick</text></name>
<questiontext format="html"><text>Which?</text></questiontext>
<answer fraction="abc"><text>A</text></answer><answer fraction="0"><text>B</text></answer>
</question></quiz>"""

BILLION_LAUGHS = b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + b"".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n".encode()
    for i in range(8)
)

CASES: list[tuple[str, bytes, str, str]] = [
    # (case, upload, format, a phrase the message must contain)
    (
        "constraint of the wrong type",
        _yaml(constraints={"kernel": ["a"]}),
        "fixture",
        "constraints",
    ),
    (
        "constraint that overflows",
        _yaml(constraints={"kernel": [10**30]}),
        "fixture",
        "constraints",
    ),
    ("constraint of 1e308", _yaml(constraints={"kernel": [1e308]}), "fixture", "constraints"),
    ("infinite constraint", _yaml(constraints={"kernel": [float("inf")]}), "fixture", "finite"),
    (
        "constraint list of lists",
        _yaml(constraints={"kernel": [[1] * 500]}),
        "fixture",
        "constraints",
    ),
    (
        "constraint that would loop",
        _yaml(template="norm.l1_l2", constraints={"size": [10**7]}),
        "fixture",
        "constraints",
    ),
    ("constraints not a mapping", _yaml(constraints=["kernel"]), "fixture", "constraints"),
    ("constraint naming nothing", _yaml(constraints={"nope": [3]}), "fixture", "nope"),
    ("no template version", _yaml(template_version=None), "fixture", "template_version"),
    ("template version too big", _yaml(template_version=2**40), "fixture", "template_version"),
    ("mapping for the bank", _yaml(bank={"a": "b"}), "fixture", "bank"),
    ("mapping for the slug", _yaml(slug={"a": "b"}), "fixture", "slug"),
    ("list for the topic", _yaml(topic=["cnn"]), "fixture", "topic"),
    ("mapping for a text", _yaml(question={"zh": {"a": 1}, "en": "Q?"}), "fixture", "question"),
    ("mapping for a tag", _yaml(tags=[{"a": "b"}]), "fixture", "tags"),
    ("over-long slug", _yaml(slug="a" * 200), "fixture", "slug"),
    ("over-long tag", _yaml(tags=["t" * 61]), "fixture", "tags"),
    ("over-long text", _yaml(answer={"zh": "答" * 30_000, "en": "A"}), "fixture", "answer"),
    ("NUL in a text", _yaml(answer={"zh": "答\x00", "en": "A"}), "fixture", "NUL"),
    ("a date for the uuid", _yaml(uuid=__import__("datetime").date(2020, 1, 1)), "fixture", "uuid"),
    (
        "NaN in checks",
        _concept_yaml(checks=[{"fn": "compute.x", "kwargs": {}, "expect": float("nan")}]),
        "fixture",
        "finite",
    ),
    ("deep flow nesting", b"[" * 50_000 + b"]" * 50_000, "fixture", "nest"),
    ("20 KB nested block YAML", _nested_block_yaml(20_000), "fixture", "deeper"),
    ("100 KB nested block YAML", _nested_block_yaml(100_000), "fixture", "deeper"),
    ("billion laughs", BILLION_LAUGHS, "fixture", "aliases"),
    ("Moodle fraction abc", MOODLE_BAD_FRACTION, "moodle", "fraction"),
    ("Moodle fraction inf", MOODLE_BAD_FRACTION.replace(b"abc", b"1e999"), "moodle", "fraction"),
    (
        "Moodle without answers",
        MOODLE_BAD_FRACTION.replace(b"<answer", b"<nothing").replace(b"</answer>", b"</nothing>"),
        "moodle",
        "options",
    ),
    (
        "CSV with an over-long slug",
        b"slug,kind,bank,topic,question_zh,question_en,answer_zh,answer_en,key_points_zh,key_points_en\n"
        + b"a" * 300
        + "x,concept,my-bank,cnn,问？,Q?,答。,A.,点,point\n".encode(),
        "csv",
        "slug",
    ),
]
TIMES: dict[str, float] = {}


@pytest.fixture
def instructor_client(client: Client) -> Client:
    owner = factories.instructor()
    factories.bank(owner)
    factories.topic("cnn")
    client.force_login(owner)
    # The instructor opens the form before uploading: the page's first rendering is not timed.
    assert client.get(reverse("admin:knowledge_card_import")).status_code == 200
    return client


@pytest.mark.parametrize(("case", "upload", "fmt", "phrase"), CASES, ids=[c[0] for c in CASES])
def test_pathological_uploads_are_answered_with_a_message_quickly(
    instructor_client: Client, case: str, upload: bytes, fmt: str, phrase: str
) -> None:
    form: dict[str, Any] = {"format": fmt, "file": SimpleUploadedFile("bank.txt", upload)}
    if fmt == "moodle":
        form.update(bank=Bank.objects.get().pk, topic=Topic.objects.get().pk)

    started = time.perf_counter()
    response = instructor_client.post(reverse("admin:knowledge_card_import"), form)
    TIMES[case] = elapsed = time.perf_counter() - started

    assert response.status_code in (200, 400)
    body = response.content.decode()
    assert "nothing was imported" in body or "error" in body.lower()
    assert phrase.lower() in body.lower()
    assert Card.objects.count() == 0 and CardRevision.objects.count() == 0
    assert elapsed < REJECTION_SECONDS, f"{case} took {elapsed:.2f} s"
    if len(TIMES) == len(CASES):
        slowest = sorted(TIMES, key=TIMES.__getitem__, reverse=True)[:4]
        shown = ", ".join(f"{case} {TIMES[case] * 1000:.0f} ms" for case in slowest)
        print(f"\nslowest rejected uploads: {shown}")


def test_a_long_upload_name_is_answered_not_a_database_error(instructor_client: Client) -> None:
    upload = SimpleUploadedFile("n" * 250 + ".yaml", _concept_yaml())

    response = instructor_client.post(
        reverse("admin:knowledge_card_import"), {"format": "fixture", "file": upload}
    )

    assert response.status_code == 302
    assert Card.objects.get().slug == "hostile-concept"


def test_validator_limits_are_the_columns_of_the_models() -> None:
    assert field_limits() == DEFAULT_LIMITS


# --- Exports ---------------------------------------------------------------------------------

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
SHORT_XSS = "<img src=x onerror=alert(1)>"  # fits a section id's and a tag's column


@pytest.fixture
def hostile_cards() -> list[Card]:
    """Cards of every kind whose every field a hostile curator or instructor wrote."""
    owner = factories.instructor("mallory")
    bank = Bank.objects.create(
        slug="evil-bank", title_zh=XSS, title_en=XSS, owner=owner, description_en=XSS
    )
    topic = factories.topic("evil\x01topic")
    cards = []
    for kind in ("concept", "mcq", "numeric"):
        card = factories.card(
            bank,
            kind=kind,
            slug=f"evil-{kind}",
            topic=topic,
            question_en=f'Q {XSS} $x" onmouseover="alert(3)$ \x01\x1f',
            question_zh=f"问 {XSS}",
            answer_en=f"[a](javascript:alert(4) '$t$') {XSS}",
            answer_zh=f"答 {XSS}",
            **({"template_version": 1} if kind == "numeric" else {}),  # type: ignore[arg-type]
        )
        card.sections.add(factories.section("000", f"1{SHORT_XSS}"))
        card.tags.add(Tag.objects.create(slug=f"t-{kind} {SHORT_XSS}"))
        card.key_points.update(text_en=XSS, accept_en=[XSS])
        card.options.update(text_en=XSS, feedback_en=XSS)
        cards.append(card)
    return cards


def _apkg_notes(data: bytes) -> list[tuple[str, str]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "collection.anki2"
        path.write_bytes(archive.read("collection.anki2"))
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT flds, tags FROM notes").fetchall()


def test_anki_export_escapes_every_field_and_tag(hostile_cards: list[Card]) -> None:
    notes = _apkg_notes(cards_to_apkg(Card.objects.all()))

    assert len(notes) == 2 + 5
    for fields, tags in notes:
        question, answer, source = fields.split("\x1f")
        for field in (question, answer, source):
            assert html_problems(field) == []
        assert "&lt;img" in source  # the section id is there, as text
        assert all("<" not in tag and ">" not in tag and '"' not in tag for tag in tags.split())
        assert "t-" in tags


def test_moodle_export_is_well_formed_and_its_html_sanitized(hostile_cards: list[Card]) -> None:
    root = fromstring(cards_to_moodle_xml(Card.objects.all()))

    html_texts = [
        element.findtext("text") or "" for element in root.iter() if element.get("format") == "html"
    ]
    assert len(html_texts) > 10
    for text in html_texts:
        assert html_problems(text) == []
    plain = [a for a in root.iter("answer") if a.get("format") == "plain_text"]
    assert plain  # typed answers travel as plain text, which Moodle escapes when shown


def _many_yaml() -> bytes:
    """As many cards as an upload may hold, every one a duplicate of the first."""
    cards = [copy.deepcopy(CONCEPT) for _ in range(MAX_UPLOAD_CARDS)]  # copies: no YAML aliases
    return yaml.safe_dump(cards, allow_unicode=True).encode()


def _many_csv() -> bytes:
    header = "slug,kind,bank,topic,question_zh,question_en,answer_zh,answer_en,key_points_zh,key_points_en\n"
    row = "card-{0},concept,my-bank,no-such-topic,问？,Q?,答。,A.,点,point\n"
    return (header + "".join(row.format(i) for i in range(MAX_UPLOAD_CARDS))).encode()


def _many_moodle() -> bytes:
    question = MOODLE_BAD_FRACTION.split(b"<quiz>")[1].split(b"</quiz>")[0]
    return b"<quiz>" + question * MAX_UPLOAD_CARDS + b"</quiz>"


@pytest.mark.parametrize(
    ("upload", "fmt", "phrase"),
    [
        (_many_yaml(), "fixture", "duplicate"),
        (_many_csv(), "csv", "unknown topic"),
        (_many_moodle(), "moodle", "fraction"),
    ],
    ids=["fixture", "csv", "moodle"],
)
def test_the_largest_uploads_allowed_are_refused_quickly(
    instructor_client: Client, upload: bytes, fmt: str, phrase: str
) -> None:
    form: dict[str, Any] = {"format": fmt, "file": SimpleUploadedFile("bank.txt", upload)}
    if fmt == "moodle":
        form.update(bank=Bank.objects.get().pk, topic=Topic.objects.get().pk)

    started = time.perf_counter()
    response = instructor_client.post(reverse("admin:knowledge_card_import"), form)
    elapsed = time.perf_counter() - started

    print(
        f"\n{MAX_UPLOAD_CARDS} {fmt} cards ({len(upload):,} bytes) refused in {elapsed * 1000:.0f} ms"
    )
    assert response.status_code in (200, 400)
    assert phrase in response.content.decode()
    assert Card.objects.count() == 0
    assert elapsed < REJECTION_SECONDS


def test_one_card_more_than_allowed_is_refused_before_validation(instructor_client: Client) -> None:
    cards = [copy.deepcopy(CONCEPT) for _ in range(MAX_UPLOAD_CARDS + 1)]
    upload = yaml.safe_dump(cards, allow_unicode=True).encode()

    response = instructor_client.post(
        reverse("admin:knowledge_card_import"),
        {"format": "fixture", "file": SimpleUploadedFile("bank.yaml", upload)},
    )

    assert f"the limit is {MAX_UPLOAD_CARDS:,}" in response.content.decode()
