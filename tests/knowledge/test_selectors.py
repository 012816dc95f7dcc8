"""Reads shared by the web UI and the API: topic tree, search, card detail."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from knowledge.models import Bank, Card
from knowledge.selectors import card_detail, card_search, topic_tree_with_counts

from . import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank() -> Bank:
    return factories.bank(factories.instructor())


def test_topic_tree_counts_published_cards_over_the_subtree(bank: Bank) -> None:
    root = factories.topic("cnn")
    child = factories.topic("cnn/pooling", parent=root)
    factories.card(bank, topic=root)
    factories.card(bank, topic=child)
    factories.card(bank, topic=child)
    factories.card(bank, topic=child, status="draft")

    with CaptureQueriesContext(connection) as queries:
        tree = topic_tree_with_counts()

    assert len(queries) == 1
    [node] = tree
    assert (node.slug, node.card_count, node.own_card_count) == ("cnn", 3, 1)
    assert [(c.slug, c.card_count) for c in node.children] == [("cnn/pooling", 2)]


def test_search_finds_cards_in_either_language(bank: Bank) -> None:
    wanted = factories.card(
        bank, question_en="Why does BatchNorm help?", question_zh="为什么批归一化有用？"
    )
    factories.card(bank, question_en="What is NMS?", question_zh="什么是非极大值抑制？")

    assert list(card_search(query="batchnorm")) == [wanted]
    assert list(card_search(query="批归一化")) == [wanted]


def test_search_filters_by_tag_topic_kind_and_difficulty(bank: Bank) -> None:
    parent = factories.topic("detection")
    child = factories.topic("detection/iou-nms", parent=parent)
    numeric = factories.card(bank, kind="numeric", topic=child, difficulty=4)
    factories.card(bank, kind="mcq", topic=child, difficulty=2)
    numeric.tags.create(slug="iou")

    assert list(card_search(kind="numeric")) == [numeric]
    assert list(card_search(topic="detection", difficulty=4)) == [numeric]
    assert list(card_search(tag="iou")) == [numeric]
    assert card_search(topic="detection").count() == 2


def test_search_hides_drafts_unless_asked(bank: Bank) -> None:
    draft = factories.card(bank, status="draft")

    assert draft not in card_search()
    assert draft in card_search(published_only=False)


def test_search_query_count_does_not_grow_with_the_result(bank: Bank) -> None:
    for _ in range(3):
        factories.card(bank).tags.create(slug=f"t{Card.objects.count()}")
    with CaptureQueriesContext(connection) as few:
        [list(card.tags.all()) for card in card_search()]
    for _ in range(10):
        factories.card(bank).tags.create(slug=f"t{Card.objects.count()}")
    with CaptureQueriesContext(connection) as many:
        [list(card.tags.all()) for card in card_search()]

    assert len(many) == len(few)


def test_card_detail_renders_every_text_safely(bank: Bank) -> None:
    card = factories.card(
        bank,
        kind="mcq",
        answer_en="Use $\\sigma(x)$ <script>x()</script>",
        erratum_en="Source said 0.5",
        erratum_zh="原文写 0.5",
    )

    detail = card_detail(card_uuid=card.uuid)

    assert r'<span class="math math-inline">\(\sigma(x)\)</span>' in detail.html["answer"]["en"]
    assert "<script>" not in detail.html["answer"]["en"]
    assert detail.html["erratum"]["zh"] == "<p>原文写 0.5</p>"
    assert [o["correct"] for o in detail.options] == [True, False]
    assert detail.citations == ["000:1"]


def test_card_detail_of_a_draft_is_not_found_for_learners(bank: Bank) -> None:
    card = factories.card(bank, status="draft")

    with pytest.raises(Card.DoesNotExist):
        card_detail(card_uuid=card.uuid)
    assert card_detail(card_uuid=card.uuid, published_only=False).card == card
