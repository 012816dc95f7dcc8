"""Reads of the question bank, shared by the web UI, the REST API and the admin."""

from __future__ import annotations

import uuid as uuid_lib
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from .models import Card, CardVersion, KeyPoint, Option, Topic
from .rendering import render_markdown

__all__ = [
    "CardDetail",
    "TopicNode",
    "card_detail",
    "card_search",
    "card_version",
    "card_version_current",
    "topic_tree_with_counts",
]

LANGS = ("zh", "en")


@dataclass
class TopicNode:
    slug: str
    title: dict[str, str]
    card_count: int  # cards in this topic and all its descendants
    own_card_count: int
    children: list[TopicNode] = field(default_factory=list)


def topic_tree_with_counts(*, published_only: bool = True) -> list[TopicNode]:
    """Return the topic forest, each node with its cards counted over its whole subtree.

    One query, whatever the size of the tree.
    """
    card_filter = Q(cards__status=Card.Status.PUBLISHED) if published_only else Q()
    topics = list(
        Topic.objects.annotate(own=Count("cards", filter=card_filter)).order_by("position", "slug")
    )
    nodes = {
        topic.id: TopicNode(
            slug=topic.slug,
            title={"zh": topic.title_zh, "en": topic.title_en},
            card_count=topic.own,
            own_card_count=topic.own,
        )
        for topic in topics
    }
    roots: list[TopicNode] = []
    for topic in topics:
        node = nodes[topic.id]
        if topic.parent_id is not None and topic.parent_id in nodes:
            nodes[topic.parent_id].children.append(node)
        else:
            roots.append(node)

    def total(node: TopicNode) -> int:
        node.card_count = node.own_card_count + sum(total(child) for child in node.children)
        return node.card_count

    for root in roots:
        total(root)
    return roots


def card_search(
    *,
    query: str = "",
    tag: str | None = None,
    topic: str | None = None,
    kind: str | None = None,
    difficulty: int | None = None,
    bank: str | None = None,
    published_only: bool = True,
) -> QuerySet[Card]:
    """Return cards matching every given filter; ``query`` searches both languages.

    ``topic`` includes the topic's descendants. The queryset prefetches what a list shows, so
    the number of queries does not grow with the number of cards.
    """
    cards = Card.objects.select_related("topic", "bank").prefetch_related("tags")
    if published_only:
        cards = cards.filter(status=Card.Status.PUBLISHED)
    for word in query.split():
        cards = cards.filter(
            Q(question_zh__icontains=word)
            | Q(question_en__icontains=word)
            | Q(answer_zh__icontains=word)
            | Q(answer_en__icontains=word)
            | Q(slug__icontains=word)
            | Q(tags__slug__iexact=word)
        )
    if tag:
        cards = cards.filter(tags__slug=tag)
    if topic:
        cards = cards.filter(Q(topic__slug=topic) | Q(topic__slug__startswith=f"{topic}/"))
    if kind:
        cards = cards.filter(kind=kind)
    if difficulty is not None:
        cards = cards.filter(difficulty=difficulty)
    if bank:
        cards = cards.filter(bank__slug=bank)
    return cards.distinct().order_by("topic__position", "slug")


@dataclass
class CardDetail:
    card: Card
    html: dict[str, dict[str, str]]  # field -> lang -> sanitized HTML
    key_points: list[dict[str, Any]]
    options: list[dict[str, Any]]
    citations: list[str]


def _html(obj: Any, prefix: str) -> dict[str, str]:
    return {lang: render_markdown(getattr(obj, f"{prefix}_{lang}")) for lang in LANGS}


def card_detail(*, card_uuid: uuid_lib.UUID | str, published_only: bool = True) -> CardDetail:
    """Return a card with every text rendered to safe HTML in both languages.

    Raise ``Card.DoesNotExist`` for an unknown (or, with ``published_only``, unpublished) card.
    """
    cards = Card.objects.select_related("topic", "bank").prefetch_related(
        "tags",
        Prefetch("key_points", queryset=KeyPoint.objects.order_by("position")),
        Prefetch("options", queryset=Option.objects.order_by("position")),
        "sections__source",
    )
    if published_only:
        cards = cards.filter(status=Card.Status.PUBLISHED)
    card = cards.get(uuid=card_uuid)
    html = {"question": _html(card, "question"), "answer": _html(card, "answer")}
    if card.erratum_en or card.erratum_zh:
        html["erratum"] = _html(card, "erratum")
    key_points = [
        {"html": _html(point, "text"), "accept": {"zh": point.accept_zh, "en": point.accept_en}}
        for point in card.key_points.all()
    ]
    options = [
        {
            "html": _html(option, "text"),
            "correct": option.correct,
            "feedback_html": _html(option, "feedback"),
        }
        for option in card.options.all()
    ]
    citations = sorted(section.citation for section in card.sections.all())
    return CardDetail(
        card=card, html=html, key_points=key_points, options=options, citations=citations
    )


def card_version_current(*, card: Card) -> CardVersion | None:
    """Return the version learners see now (the card's latest), or None before its first publish."""
    return CardVersion.objects.filter(card=card, version=card.version).first()


def card_version(*, card_id: int, version: int) -> CardVersion:
    """Return the version ``version`` of card ``card_id``; raise CardVersion.DoesNotExist."""
    return CardVersion.objects.get(card_id=card_id, version=version)
