"""The instructor admin: authoring, preview, numeric variants, publishing, export, import, scope.

Every test drives the real admin through the Django test client, logged in as an instructor (a
staff user in the ``Instructors`` group who owns a bank). The banks are built here, independent
of the authored question bank, except where a test is about the real bank.
"""

from __future__ import annotations

import gzip
import io
import re
import zipfile
from typing import Any

import pytest
import yaml
from defusedxml.ElementTree import fromstring
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from compute.templates import generate
from knowledge import services
from knowledge.models import Bank, Card, CardRevision, Topic
from knowledge.rendering import render_markdown

from . import factories

pytestmark = pytest.mark.django_db

PASSWORD = "pw-teach-123"  # the password factories.instructor sets
CHANGELIST = "admin:knowledge_card_changelist"
CSV_HEADER = (
    "slug,kind,bank,topic,difficulty,tags,sources,question_zh,question_en,answer_zh,answer_en,"
    "key_points_zh,key_points_en,options_zh,options_en\n"
)


@pytest.fixture
def instructor() -> User:
    return factories.instructor("teacher")


@pytest.fixture
def bank(instructor: User) -> Bank:
    return factories.bank(instructor, slug="my-bank")


@pytest.fixture
def topic() -> Topic:
    return factories.topic("cnn")


@pytest.fixture
def other_bank() -> Bank:
    """A bank owned by another instructor."""
    return factories.bank(factories.instructor("colleague"), slug="their-bank")


@pytest.fixture
def admin_client(instructor: User) -> Client:
    """A test client logged in as the instructor through the real authentication backend."""
    client = Client()
    assert client.login(username=instructor.username, password=PASSWORD)
    return client


def _form_data(response: Any) -> dict[str, Any]:
    """Return the POST data of an admin add/change page as it stands: every form and formset."""
    data: dict[str, Any] = {}

    def add(form: Any) -> None:
        for name in form.fields:
            value = form[name].value()
            if value is None:
                continue
            if isinstance(value, list | tuple):
                data[form.add_prefix(name)] = [str(v) for v in value]
            else:
                data[form.add_prefix(name)] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def _change(client: Client, card: Card, **changes: Any) -> Any:
    """Submit the card's change form as served, with ``changes`` (POST names, inlines prefixed)."""
    url = reverse("admin:knowledge_card_change", args=[card.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = _form_data(page)
    data.update(changes)
    return client.post(url, data)


def _action(client: Client, action: str, cards: list[Card]) -> Any:
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [c.pk for c in cards], "index": 0},
    )


def _recorded(card: Card) -> Card:
    """Record the card's first revision, as the loader and the admin do when a card is written."""
    services.card_revision_record(card, note="created")
    return card


def _answers(content: str) -> list[str]:
    return re.findall(r'<span class="answer">(.*?)</span>', content)


# --- Authoring -----------------------------------------------------------------------------

ADD = "admin:knowledge_card_add"


def _new_card_data(client: Client, bank: Bank, topic: Topic, **fields: Any) -> dict[str, Any]:
    """The add form as the admin serves it, filled in as a concept card with ``fields`` on top."""
    page = client.get(reverse(ADD))
    assert page.status_code == 200
    data = _form_data(page)
    data.update(
        {
            "slug": "why-pad",
            "kind": "concept",
            "status": "draft",
            "bank": bank.pk,
            "topic": topic.pk,
            "difficulty": 2,
            "question_zh": "为什么要填充？",
            "question_en": "Why pad the input?",
            "answer_zh": "保持空间尺寸。",
            "answer_en": "To keep the spatial size.",
            "constraints": "{}",
            "checks": "[]",
            "key_points-TOTAL_FORMS": 1,
            "key_points-0-position": 0,
            "key_points-0-text_zh": "保持尺寸",
            "key_points-0-text_en": "keeps the size",
            "key_points-0-accept_zh": '["保持尺寸", "尺寸不变"]',
            "key_points-0-accept_en": '["keeps the size", "same size"]',
        }
    )
    data.update(fields)
    return data


def _options(*options: tuple[str, bool]) -> dict[str, Any]:
    data: dict[str, Any] = {"options-TOTAL_FORMS": len(options)}
    for i, (text, correct) in enumerate(options):
        data |= {
            f"options-{i}-position": i,
            f"options-{i}-text_zh": f"选项{text}",
            f"options-{i}-text_en": f"Option {text}",
            f"options-{i}-feedback_zh": "说明",
            f"options-{i}-feedback_en": "Because.",
        }
        if correct:
            data[f"options-{i}-correct"] = "on"
    return data


def _errors(response: Any) -> str:
    """Every error the add/change page shows: the card form's and each inline formset's."""
    form = response.context["adminform"].form
    parts = [str(form.errors)]
    for inline in response.context["inline_admin_formsets"]:
        parts.append(str(inline.formset.non_form_errors()))
        parts.extend(str(f.errors) for f in inline.formset.forms)
    return "".join(parts)


def test_instructor_creates_a_concept_card_through_the_add_form(
    admin_client: Client, instructor: User, bank: Bank, topic: Topic
) -> None:
    data = _new_card_data(admin_client, bank, topic)

    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 302, _errors(response)
    card = Card.objects.get(slug="why-pad")
    assert (card.bank, card.status, card.version) == (bank, "draft", 1)
    assert [(p.text_en, p.accept_zh) for p in card.key_points.all()] == [
        ("keeps the size", ["保持尺寸", "尺寸不变"])
    ]
    revision = card.revisions.get()
    assert revision.edited_by == instructor
    assert revision.snapshot["key_points"][0]["accept"]["en"] == ["keeps the size", "same size"]


def test_instructor_creates_a_multiple_choice_card_with_its_options(
    admin_client: Client, instructor: User, bank: Bank, topic: Topic
) -> None:
    data = _new_card_data(
        admin_client,
        bank,
        topic,
        slug="pick-one",
        kind="mcq",
        **{"key_points-TOTAL_FORMS": 0},
        **_options(("A", True), ("B", False)),
    )

    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 302, _errors(response)
    card = Card.objects.get(slug="pick-one")
    assert [(o.text_en, o.correct) for o in card.options.all()] == [
        ("Option A", True),
        ("Option B", False),
    ]
    assert card.revisions.get().edited_by == instructor


def test_concept_card_without_key_points_is_refused(
    admin_client: Client, bank: Bank, topic: Topic
) -> None:
    data = _new_card_data(admin_client, bank, topic, **{"key_points-TOTAL_FORMS": 0})

    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert "A concept card needs at least one key point." in _errors(response)
    assert not Card.objects.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ((("A", True),), "A multiple-choice card needs 2 to 6 options."),
        ((("A", False), ("B", False)), "Mark at least one option correct."),
    ],
)
def test_multiple_choice_card_without_enough_or_correct_options_is_refused(
    admin_client: Client,
    bank: Bank,
    topic: Topic,
    options: tuple[tuple[str, bool], ...],
    message: str,
) -> None:
    data = _new_card_data(
        admin_client,
        bank,
        topic,
        kind="mcq",
        **{"key_points-TOTAL_FORMS": 0},
        **_options(*options),
    )

    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert message in _errors(response)
    assert not Card.objects.exists()


def test_deleting_the_last_key_point_of_a_concept_card_is_refused(
    admin_client: Client, bank: Bank
) -> None:
    card = _recorded(factories.card(bank, status="draft"))

    response = _change(admin_client, card, **{"key_points-0-DELETE": "on"})

    assert response.status_code == 200
    assert "A concept card needs at least one key point." in _errors(response)
    assert card.key_points.count() == 1


def test_instructor_cannot_create_a_card_in_a_bank_they_do_not_own(
    admin_client: Client, other_bank: Bank, topic: Topic
) -> None:
    data = _new_card_data(admin_client, other_bank, topic)

    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["bank"]
    assert not Card.objects.exists()


def test_edit_history_cannot_be_edited_or_deleted_through_the_card_form(
    admin_client: Client, bank: Bank
) -> None:
    card = _recorded(factories.card(bank, status="draft"))
    revision = card.revisions.get()

    response = _change(
        admin_client,
        card,
        **{"revisions-0-note": "forged", "revisions-0-DELETE": "on"},
    )

    assert response.status_code == 302
    revision.refresh_from_db()
    assert revision.note == "created"


def test_numeric_card_with_an_unknown_template_is_refused(
    admin_client: Client, bank: Bank, topic: Topic
) -> None:
    data = _numeric_data(admin_client, bank, topic, template_id="conv.no_such_template")

    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert "template_id" in response.context["adminform"].form.errors
    assert not Card.objects.exists()


def _numeric_data(client: Client, bank: Bank, topic: Topic, **fields: Any) -> dict[str, Any]:
    numeric = {
        "slug": "conv-size",
        "kind": "numeric",
        "difficulty": 3,
        "question_zh": "计算卷积输出尺寸。",
        "question_en": "Compute the convolution output size.",
        "answer_zh": "$O=\\lfloor (L+2p-k)/s \\rfloor+1$",
        "answer_en": "$O=\\lfloor (L+2p-k)/s \\rfloor+1$",
        "template_id": "conv.output_size",
        "key_points-TOTAL_FORMS": 0,
    }
    return _new_card_data(client, bank, topic, **(numeric | fields))


def test_instructor_creates_previews_publishes_and_exports_a_numeric_card(
    admin_client: Client, instructor: User, bank: Bank, topic: Topic
) -> None:
    data = _numeric_data(admin_client, bank, topic, constraints='{"kernel": [3]}')

    created = admin_client.post(reverse(ADD), data)

    assert created.status_code == 302, _errors(created)
    card = Card.objects.get(slug="conv-size")
    assert card.constraints == {"kernel": [3]}
    variants = admin_client.get(reverse("admin:knowledge_card_variants", args=[card.pk]))
    expected = [
        generate("conv.output_size", seed, constraints={"kernel": [3]}) for seed in (1, 2, 3)
    ]
    assert all(v.params["k"] == 3 for v in expected)
    assert _answers(variants.content.decode()) == [escape(v.answer_text) for v in expected]

    _action(admin_client, "publish", [card])
    exported = _action(admin_client, "export_fixture", [card])

    card.refresh_from_db()
    assert (card.status, card.version) == ("published", 1)
    [item] = yaml.safe_load(exported.content)
    assert (item["uuid"], item["status"], item["constraints"]) == (
        str(card.uuid),
        "published",
        {"kernel": [3]},
    )
    assert list(card.revisions.values_list("edited_by", flat=True)) == [instructor.pk] * 2


@pytest.mark.parametrize(
    ("constraints", "message"),
    [
        ('{"k": [3]}', "has no parameter named [&#x27;k&#x27;]"),
        ('{"kernel": 3}', "constraint &#x27;kernel&#x27; must be a list of values"),
        ('{"kernel": []}', "constraint &#x27;kernel&#x27; lists no values"),
    ],
)
def test_numeric_card_with_constraints_its_template_rejects_is_refused(
    admin_client: Client, bank: Bank, topic: Topic, constraints: str, message: str
) -> None:
    data = _numeric_data(admin_client, bank, topic, constraints=constraints)

    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert "constraints" in response.context["adminform"].form.errors
    assert message in response.content.decode()
    assert not Card.objects.exists()


def test_numeric_card_with_an_unknown_template_version_is_refused(
    admin_client: Client, bank: Bank, topic: Topic
) -> None:
    data = _numeric_data(admin_client, bank, topic, template_version=99)

    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert "template_version" in response.context["adminform"].form.errors
    assert not Card.objects.exists()


# --- Preview -------------------------------------------------------------------------------


def test_change_page_previews_markdown_and_math_in_both_languages(
    admin_client: Client, bank: Bank
) -> None:
    card = factories.card(
        bank,
        question_en="Is **padding** free? Compute $a_1 * b_2$.",
        question_zh="**填充**是免费的吗？计算 $a_1 * b_2$。",
        answer_en="It adds *zeros*.",
        answer_zh="它补*零*。",
    )

    response = admin_client.get(reverse("admin:knowledge_card_change", args=[card.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    en = re.search(r'<div class="card-preview" lang="en">(.*?)</div>', content, re.S)
    zh = re.search(r'<div class="card-preview" lang="zh">(.*?)</div>', content, re.S)
    assert en and zh
    math = r'<span class="math math-inline">\(a_1 * b_2\)</span>'
    assert "<strong>padding</strong>" in en.group(1) and math in en.group(1)
    assert "<em>zeros</em>" in en.group(1)
    assert "<strong>填充</strong>" in zh.group(1) and math in zh.group(1)
    assert "<em>零</em>" in zh.group(1)


def test_preview_does_not_emit_a_script_from_the_cards_markdown(
    admin_client: Client, bank: Bank
) -> None:
    card = factories.card(
        bank,
        question_en="Hello <script>alert('owned')</script> $x<y$",
        answer_zh='<img src=x onerror="alert(1)">答',
    )

    response = admin_client.get(reverse("admin:knowledge_card_change", args=[card.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert('owned')" not in content
    assert 'onerror="alert(1)"' not in content
    # The math is escaped, not dropped: the learner still sees x < y.
    assert r'<span class="math math-inline">\(x&lt;y\)</span>' in content


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_change_page_query_count_does_not_grow_with_source_sections(
    admin_client: Client, bank: Bank
) -> None:
    card = factories.card(bank)
    url = reverse("admin:knowledge_card_change", args=[card.pk])
    few = _queries(admin_client, url)
    for i in range(10):
        factories.section(code=f"{i:03d}", section_id=f"{i}.1")

    assert _queries(admin_client, url) == few


def test_change_page_shows_the_edit_history(
    admin_client: Client, instructor: User, bank: Bank
) -> None:
    card = _recorded(factories.card(bank, status="draft"))
    _action(admin_client, "publish", [card])

    response = admin_client.get(reverse("admin:knowledge_card_change", args=[card.pk]))

    content = response.content.decode()
    assert "Edit history" in content
    assert "status -&gt; published" in content and "created" in content


# --- Numeric variants ----------------------------------------------------------------------


@pytest.fixture
def numeric_card(bank: Bank) -> Card:
    return factories.card(bank, kind="numeric", slug="conv-out")


def test_variants_page_shows_three_variants_with_answers_misconceptions_and_solutions(
    admin_client: Client, numeric_card: Card
) -> None:
    response = admin_client.get(reverse("admin:knowledge_card_variants", args=[numeric_card.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    expected = [generate(numeric_card.template_id, seed) for seed in (1, 2, 3)]
    assert re.findall(r'<section class="module variant" data-seed="(\d+)">', content) == [
        "1",
        "2",
        "3",
    ]
    assert _answers(content) == [escape(v.answer_text) for v in expected]
    for variant in expected:
        assert variant.misconceptions
        for misconception in variant.misconceptions:
            assert f"<code>{misconception.id}</code>" in content
        assert render_markdown(variant.solution.en) in content
        assert render_markdown(variant.solution.zh) in content


def test_change_page_links_a_numeric_card_to_its_variants(
    admin_client: Client, numeric_card: Card
) -> None:
    response = admin_client.get(reverse("admin:knowledge_card_change", args=[numeric_card.pk]))

    assert reverse("admin:knowledge_card_variants", args=[numeric_card.pk]) in (
        response.content.decode()
    )


def test_seed_field_reproduces_exactly_one_variant(
    admin_client: Client, numeric_card: Card
) -> None:
    url = reverse("admin:knowledge_card_variants", args=[numeric_card.pk])

    response = admin_client.get(url, {"seed": "42"})

    assert response.status_code == 200
    content = response.content.decode()
    assert content.count('class="module variant"') == 1
    assert 'data-seed="42"' in content
    assert _answers(content) == [escape(generate(numeric_card.template_id, 42).answer_text)]


@pytest.mark.parametrize("seed", ["abc", "-3", "1.5"])
def test_a_seed_that_is_not_a_whole_number_shows_an_error_not_a_500(
    admin_client: Client, numeric_card: Card, seed: str
) -> None:
    url = reverse("admin:knowledge_card_variants", args=[numeric_card.pk])

    response = admin_client.get(url, {"seed": seed})

    assert response.status_code == 200
    content = response.content.decode()
    assert "The seed must be a whole number, 0 or more." in content
    assert 'class="module variant"' not in content


def test_variants_page_of_a_concept_card_is_not_found(admin_client: Client, bank: Bank) -> None:
    card = factories.card(bank, kind="concept")

    response = admin_client.get(reverse("admin:knowledge_card_variants", args=[card.pk]))

    assert response.status_code == 404


def test_variants_page_of_a_card_its_template_rejects_shows_an_error_not_a_500(
    admin_client: Client, bank: Bank
) -> None:
    # Written through the ORM, as an import or the loader could: neither checks the template.
    card = factories.card(bank, kind="numeric", constraints={"k": [3]})

    response = admin_client.get(reverse("admin:knowledge_card_variants", args=[card.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "The card&#x27;s template or constraints cannot make a variant" in content
    assert "has no parameter named" in content
    assert 'class="module variant"' not in content


# --- Publishing and versions ---------------------------------------------------------------


def test_bulk_publish_publishes_drafts_and_unpublish_reverts(
    admin_client: Client, instructor: User, bank: Bank
) -> None:
    drafts = [_recorded(factories.card(bank, status="draft")) for _ in range(2)]
    untouched = _recorded(factories.card(bank, status="draft"))

    response = _action(admin_client, "publish", drafts)

    assert response.status_code == 302
    for card in drafts:
        card.refresh_from_db()
        assert card.status == "published"
        latest = card.revisions.order_by("-created_at", "-id").first()
        assert latest is not None
        assert (latest.status, latest.note, latest.edited_by) == (
            "published",
            "status -> published",
            instructor,
        )
    untouched.refresh_from_db()
    assert untouched.status == "draft"

    _action(admin_client, "unpublish", drafts)

    assert set(
        Card.objects.filter(pk__in=[c.pk for c in drafts]).values_list("status", flat=True)
    ) == {"draft"}
    assert CardRevision.objects.filter(note="status -> draft", edited_by=instructor).count() == 2


def test_publish_then_unpublish_keeps_the_version(admin_client: Client, bank: Bank) -> None:
    card = _recorded(factories.card(bank, status="draft"))

    _action(admin_client, "publish", [card])
    _action(admin_client, "unpublish", [card])
    _action(admin_client, "publish", [card])

    card.refresh_from_db()
    assert (card.status, card.version) == ("published", 1)


def test_editing_a_published_cards_text_bumps_its_version_once(
    admin_client: Client, instructor: User, bank: Bank
) -> None:
    card = _recorded(factories.card(bank, status="published"))

    response = _change(admin_client, card, answer_en="Zeros added around the input border.")

    assert response.status_code == 302
    card.refresh_from_db()
    assert (card.answer_en, card.version) == ("Zeros added around the input border.", 2)
    latest = card.revisions.order_by("-created_at", "-id").first()
    assert latest is not None
    assert (latest.version, latest.edited_by, latest.note) == (2, instructor, "edited in admin")


def test_saving_a_published_card_unchanged_keeps_its_version_and_history(
    admin_client: Client, bank: Bank
) -> None:
    card = _recorded(factories.card(bank, status="published"))

    response = _change(admin_client, card)

    assert response.status_code == 302
    card.refresh_from_db()
    assert card.version == 1
    assert card.revisions.count() == 1


def test_editing_a_draft_does_not_bump_its_version(
    admin_client: Client, instructor: User, bank: Bank
) -> None:
    card = _recorded(factories.card(bank, status="draft"))

    response = _change(admin_client, card, question_en="What is zero padding?")

    assert response.status_code == 302
    card.refresh_from_db()
    assert (card.question_en, card.version) == ("What is zero padding?", 1)
    assert card.revisions.filter(edited_by=instructor, note="edited in admin").count() == 1


def test_unpublish_edit_and_republish_bumps_the_version_once(
    admin_client: Client, bank: Bank
) -> None:
    card = _recorded(factories.card(bank, status="published"))

    _action(admin_client, "unpublish", [card])
    _change(admin_client, card, answer_en="First rewording.")
    _change(admin_client, card, answer_en="Second rewording.")
    card.refresh_from_db()
    assert (card.status, card.version) == ("draft", 1)
    _action(admin_client, "publish", [card])

    card.refresh_from_db()
    assert (card.status, card.version, card.answer_en) == ("published", 2, "Second rewording.")


# --- Export --------------------------------------------------------------------------------


@pytest.fixture
def mixed_cards(bank: Bank) -> list[Card]:
    return [factories.card(bank, kind=kind) for kind in ("concept", "mcq", "numeric")]


def test_fixture_export_downloads_yaml_of_the_selected_cards(
    admin_client: Client, bank: Bank, mixed_cards: list[Card]
) -> None:
    left_out = factories.card(bank)

    response = _action(admin_client, "export_fixture", mixed_cards)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml"
    assert response["Content-Disposition"] == 'attachment; filename="cards.yaml"'
    items = yaml.safe_load(response.content)
    assert {item["uuid"] for item in items} == {str(c.uuid) for c in mixed_cards}
    assert str(left_out.uuid) not in response.content.decode()


def test_anki_export_downloads_an_apkg_zip(admin_client: Client, mixed_cards: list[Card]) -> None:
    response = _action(admin_client, "export_anki", mixed_cards)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="cards.apkg"'
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        assert {"collection.anki2", "media"} <= set(archive.namelist())


def test_moodle_export_downloads_xml_that_parses(
    admin_client: Client, mixed_cards: list[Card]
) -> None:
    response = _action(admin_client, "export_moodle", mixed_cards)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == 'attachment; filename="cards.xml"'
    root = fromstring(response.content)
    assert root.tag == "quiz"
    assert root.findall("question")


def test_export_of_the_real_bank_yaml_contains_every_selected_uuid(
    loaded_bank: None, client: Client
) -> None:
    owner = User.objects.get(username=settings.BANK_OWNER)
    owner.set_password(PASSWORD)
    owner.save()
    assert client.login(username=owner.username, password=PASSWORD)
    cards = list(Card.objects.filter(bank__owner=owner).order_by("slug")[:20])
    assert cards

    response = _action(client, "export_fixture", cards)

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
            assert len(_answers(variants.content.decode())) == 3, card.slug
    # The full change page (slow to render) for the first card of each kind.
    for kind in ("concept", "mcq", "numeric"):
        card = next(c for c in cards if c.kind == kind)
        page = client.get(reverse("admin:knowledge_card_change", args=[card.pk]))
        assert page.status_code == 200, card.slug
        assert card_admin.preview(card) in page.content.decode()  # type: ignore[attr-defined]


# --- Permissions and scope -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/admin/auth/user/",
        "/admin/auth/user/add/",
        "/admin/auth/group/",
        "/admin/quizzes/workerprobe/",
        "/admin/knowledge/cardrevision/add/",
    ],
)
def test_instructor_cannot_reach_learners_data_or_accounts(admin_client: Client, url: str) -> None:
    response = admin_client.get(url)

    assert response.status_code in (302, 403, 404)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("admin:login"))


def test_instructor_group_grants_authoring_but_nothing_of_learners_data(
    instructor: User,
) -> None:
    assert instructor.has_perm("knowledge.add_card")
    assert instructor.has_perm("knowledge.change_bank")
    assert instructor.has_perm("knowledge.view_cardrevision")
    assert not instructor.has_perm("knowledge.change_cardrevision")
    assert not instructor.has_module_perms("quizzes")
    assert not instructor.has_module_perms("auth")


def test_changelist_shows_only_cards_of_the_instructors_banks(
    admin_client: Client, bank: Bank, other_bank: Bank
) -> None:
    mine = factories.card(bank, slug="mine")
    theirs = factories.card(other_bank, slug="theirs")

    response = admin_client.get(reverse(CHANGELIST))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [mine]
    content = response.content.decode()
    assert reverse("admin:knowledge_card_change", args=[theirs.pk]) not in content


def test_another_instructors_card_cannot_be_opened_or_previewed(
    admin_client: Client, other_bank: Bank
) -> None:
    theirs = factories.card(other_bank, kind="numeric")

    change = admin_client.get(reverse("admin:knowledge_card_change", args=[theirs.pk]))
    variants = admin_client.get(reverse("admin:knowledge_card_variants", args=[theirs.pk]))

    assert change.status_code in (302, 404)
    assert variants.status_code == 404
    assert theirs.question_en not in change.content.decode()


def test_actions_ignore_another_instructors_cards(
    admin_client: Client, bank: Bank, other_bank: Bank
) -> None:
    mine = factories.card(bank, status="draft")
    theirs = factories.card(other_bank, status="draft")

    _action(admin_client, "publish", [mine, theirs])
    exported = _action(admin_client, "export_fixture", [mine, theirs])

    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert (mine.status, theirs.status) == ("published", "draft")
    assert str(theirs.uuid) not in exported.content.decode()


def test_changelist_filters_do_not_reveal_other_instructors_banks(
    admin_client: Client, bank: Bank, other_bank: Bank
) -> None:
    other_bank.title_en = "Secret colleague bank"
    other_bank.save()
    factories.card(bank)
    factories.card(other_bank)

    response = admin_client.get(reverse(CHANGELIST))

    assert "Secret colleague bank" not in response.content.decode()


def test_edit_history_list_shows_only_the_instructors_cards(
    admin_client: Client, bank: Bank, other_bank: Bank
) -> None:
    mine = _recorded(factories.card(bank, slug="mine"))
    _recorded(factories.card(other_bank, slug="theirs"))

    response = admin_client.get(reverse("admin:knowledge_cardrevision_changelist"))

    assert response.status_code == 200
    assert [r.card for r in response.context["cl"].result_list] == [mine]


def test_bank_admin_lists_own_banks_and_makes_the_instructor_owner_of_a_new_one(
    admin_client: Client, instructor: User, bank: Bank, other_bank: Bank
) -> None:
    listed = admin_client.get(reverse("admin:knowledge_bank_changelist"))
    created = admin_client.post(
        reverse("admin:knowledge_bank_add"),
        {"slug": "new-bank", "title_zh": "新题库", "title_en": "New bank"},
    )

    assert list(listed.context["cl"].result_list) == [bank]
    assert created.status_code == 302
    assert Bank.objects.get(slug="new-bank").owner == instructor
    other = admin_client.get(reverse("admin:knowledge_bank_change", args=[other_bank.pk]))
    assert other.status_code in (302, 404)
    assert other_bank.title_en not in other.content.decode()


@pytest.mark.parametrize("name", ["import", "variants", "changelist"])
def test_anonymous_visitor_is_sent_to_the_login_page(client: Client, bank: Bank, name: str) -> None:
    card = factories.card(bank, kind="numeric")
    args = [card.pk] if name == "variants" else []

    response = client.get(reverse(f"admin:knowledge_card_{name}", args=args))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("name", ["import", "changelist", "add"])
def test_staff_outside_the_instructors_group_cannot_author_cards(client: Client, name: str) -> None:
    client.force_login(User.objects.create_user("clerk", is_staff=True))

    response = client.get(reverse(f"admin:knowledge_card_{name}"))

    assert response.status_code == 403


@pytest.mark.parametrize("query", ["stride", "步幅"])
def test_changelist_search_finds_cards_in_either_language(
    admin_client: Client, bank: Bank, query: str
) -> None:
    match = factories.card(
        bank, question_en="What does the stride do?", question_zh="步幅有什么作用？"
    )
    factories.card(bank)

    response = admin_client.get(reverse(CHANGELIST), {"q": query})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [match]


def test_changelist_search_finds_a_card_by_its_uuid(admin_client: Client, bank: Bank) -> None:
    match = factories.card(bank)
    factories.card(bank)

    response = admin_client.get(reverse(CHANGELIST), {"q": str(match.uuid)})

    assert list(response.context["cl"].result_list) == [match]


def test_changelist_filters_by_kind_and_status(admin_client: Client, bank: Bank) -> None:
    wanted = factories.card(bank, kind="numeric", status="published")
    factories.card(bank, kind="numeric", status="draft")
    factories.card(bank, kind="concept", status="published")

    response = admin_client.get(reverse(CHANGELIST), {"kind": "numeric", "status": "published"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [wanted]


def test_changelist_query_count_does_not_grow_with_cards(admin_client: Client, bank: Bank) -> None:
    factories.card(bank)
    few = _queries(admin_client, reverse(CHANGELIST))
    for i in range(5):
        factories.card(bank, topic=factories.topic(f"t-{i}"))

    assert _queries(admin_client, reverse(CHANGELIST)) == few


# --- Import --------------------------------------------------------------------------------


def _upload(client: Client, content: bytes, name: str = "bank.csv", fmt: str = "csv") -> Any:
    return client.post(
        reverse("admin:knowledge_card_import"),
        {"format": fmt, "file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )


def test_csv_import_creates_draft_cards(
    admin_client: Client, instructor: User, bank: Bank, topic: Topic
) -> None:
    rows = (
        CSV_HEADER
        + "pad-why,concept,my-bank,cnn,2,cnn;padding,,为什么要填充？,Why pad?,保持尺寸。,Keeps the size.,"
        "保持尺寸|尺寸不变,keeps size|same size,,\n"
        + "pool-kind,mcq,my-bank,cnn,1,,,哪个无参数？,Which has no weights?,池化。,Pooling.,,,"
        "*池化::对||卷积::错,*Pooling::Right||Convolution::Wrong\n"
    )

    response = _upload(admin_client, rows.encode())

    assert response.status_code == 302
    assert response["Location"] == reverse(CHANGELIST)
    cards = Card.objects.order_by("slug")
    assert [(c.slug, c.kind, c.status, c.bank) for c in cards] == [
        ("pad-why", "concept", "draft", bank),
        ("pool-kind", "mcq", "draft", bank),
    ]
    assert all(c.revisions.get().edited_by == instructor for c in cards)
    assert "Imported bank.csv: 2 created" in admin_client.get(response["Location"]).content.decode()


def test_invalid_csv_lists_every_error_and_creates_nothing(
    admin_client: Client, bank: Bank, topic: Topic
) -> None:
    rows = (
        CSV_HEADER
        + "ok-card,concept,my-bank,cnn,2,,,问？,Q?,答。,A.,要点,point,,\n"
        + "bad-kind,essay,my-bank,cnn,2,,,问？,Q?,答。,A.,,,,\n"
        + "bad-points,concept,my-bank,cnn,2,,,问？,Q?,答。,A.,一||二,one,,\n"
        + "bad-bank,concept,nobody-bank,cnn,2,,,问？,Q?,答。,A.,要点,point,,\n"
    )

    response = _upload(admin_client, rows.encode())

    assert response.status_code == 400
    content = response.content.decode()
    errors = re.findall(r"<li>(.*?)</li>", content.split('class="errorlist import-errors"')[1])
    assert any("CSV holds concept and mcq cards only" in e for e in errors)
    assert any("need the same number of key points in zh and en (got 2 and 1)" in e for e in errors)
    assert any("nobody-bank" in e for e in errors)
    assert not Card.objects.exists()


def test_csv_import_into_another_instructors_bank_is_refused(
    admin_client: Client, other_bank: Bank, topic: Topic
) -> None:
    rows = CSV_HEADER + "sneaky,concept,their-bank,cnn,2,,,问？,Q?,答。,A.,要点,point,,\n"

    response = _upload(admin_client, rows.encode())

    assert response.status_code == 400
    assert "their-bank" in response.content.decode()
    assert not Card.objects.exists()


def test_oversized_upload_is_refused_with_a_clear_message(
    admin_client: Client, bank: Bank, topic: Topic
) -> None:
    row = "big,concept,my-bank,cnn,2,,,问？,Q?,答。,A.,要点,point,,\n"
    content = (CSV_HEADER + row).encode()
    content += b" " * (6 * 1024 * 1024 - len(content))

    response = _upload(admin_client, content, name="huge.csv")

    assert response.status_code == 400
    limit = f"{settings.BANK_UPLOAD_MAX_BYTES:,}"
    assert f"huge.csv is {len(content):,} bytes; the limit is {limit} bytes." in (
        response.content.decode()
    )
    assert not Card.objects.exists()


def test_fixture_export_imported_back_through_the_admin_changes_nothing(
    admin_client: Client, bank: Bank, mixed_cards: list[Card]
) -> None:
    exported = _action(admin_client, "export_fixture", mixed_cards).content
    before = {c.uuid: services.card_snapshot(c) for c in Card.objects.all()}

    response = _upload(admin_client, exported, name="cards.yaml", fmt="fixture")

    assert response.status_code == 302
    page = admin_client.get(response["Location"]).content.decode()
    assert "Imported cards.yaml: 0 created, 0 updated, 3 unchanged." in page
    assert {c.uuid: services.card_snapshot(c) for c in Card.objects.all()} == before


def test_gzip_compressed_csv_is_imported(admin_client: Client, bank: Bank, topic: Topic) -> None:
    rows = CSV_HEADER + "zipped,concept,my-bank,cnn,2,,,问？,Q?,答。,A.,要点,point,,\n"

    response = _upload(admin_client, gzip.compress(rows.encode()), name="bank.csv.gz")

    assert response.status_code == 302
    assert Card.objects.get().slug == "zipped"


def test_moodle_import_without_a_bank_and_topic_asks_for_them(
    admin_client: Client, bank: Bank, mixed_cards: list[Card]
) -> None:
    exported = _action(admin_client, "export_moodle", mixed_cards).content

    response = _upload(admin_client, exported, name="quiz.xml", fmt="moodle")

    assert response.status_code == 400
    assert "choose the bank and topic the Moodle questions go to" in response.content.decode()
    assert Card.objects.count() == 3


def test_import_page_is_linked_from_the_changelist(admin_client: Client) -> None:
    response = admin_client.get(reverse(CHANGELIST))

    assert reverse("admin:knowledge_card_import") in response.content.decode()


@pytest.mark.django_db
def test_publishing_refuses_an_incomplete_card_and_says_why() -> None:
    from knowledge.services import cards_set_status

    owner = factories.instructor("publisher")
    incomplete = factories.card(
        factories.bank(owner, slug="pub-bank"), kind="concept", status="draft"
    )
    incomplete.key_points.all().delete()

    changed, refused = cards_set_status([incomplete], status="published", user=owner)

    incomplete.refresh_from_db()
    assert changed == 0
    assert incomplete.status == "draft"
    assert refused == {incomplete.slug: ["a concept card needs at least one key point"]}
