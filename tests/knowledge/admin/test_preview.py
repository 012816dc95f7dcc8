"""The instructor admin: the learner's-view preview and the numeric variants page."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from compute.templates import generate
from knowledge.models import Bank, Card
from knowledge.rendering import render_markdown

from .. import factories
from .support import (
    action,
    answers,
    queries,
    recorded,
)

pytestmark = pytest.mark.django_db


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


def test_change_page_query_count_does_not_grow_with_source_sections(
    admin_client: Client, bank: Bank
) -> None:
    card = factories.card(bank)
    url = reverse("admin:knowledge_card_change", args=[card.pk])
    few = queries(admin_client, url)
    for i in range(10):
        factories.section(code=f"{i:03d}", section_id=f"{i}.1")

    assert queries(admin_client, url) == few


def test_change_page_shows_the_edit_history(
    admin_client: Client, instructor: User, bank: Bank
) -> None:
    card = recorded(factories.card(bank, status="draft"))
    action(admin_client, "publish", [card])

    response = admin_client.get(reverse("admin:knowledge_card_change", args=[card.pk]))

    content = response.content.decode()
    assert "Edit history" in content
    assert "status -&gt; published" in content and "created" in content


# --- Numeric variants ----------------------------------------------------------------------


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
    assert answers(content) == [escape(v.answer_text) for v in expected]
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
    assert answers(content) == [escape(generate(numeric_card.template_id, 42).answer_text)]


@pytest.mark.parametrize("seed", ["abc", "-3", "1.5", str(2**63), "9" * 5000])
def test_a_seed_that_is_not_a_whole_number_shows_an_error_not_a_500(
    admin_client: Client, numeric_card: Card, seed: str
) -> None:
    url = reverse("admin:knowledge_card_variants", args=[numeric_card.pk])

    response = admin_client.get(url, {"seed": seed})

    assert response.status_code == 200
    content = response.content.decode()
    assert "The seed must be a whole number from 0 to 2**63 - 1." in content
    assert 'class="module variant"' not in content


def test_variants_page_of_a_concept_card_is_not_found(admin_client: Client, bank: Bank) -> None:
    card = factories.card(bank, kind="concept")

    response = admin_client.get(reverse("admin:knowledge_card_variants", args=[card.pk]))

    assert response.status_code == 404


def test_variants_page_of_a_card_its_template_rejects_shows_an_error_not_a_500(
    admin_client: Client, bank: Bank
) -> None:
    # Written through the ORM, as an import or the loader could: neither checks the template.
    card = factories.raw_card(bank, kind="numeric", constraints={"k": [3]})

    response = admin_client.get(reverse("admin:knowledge_card_variants", args=[card.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "The card&#x27;s template or constraints cannot make a variant" in content
    assert "has no parameter named" in content
    assert 'class="module variant"' not in content
