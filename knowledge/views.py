"""Pages of the question bank for learners (HTML)."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Card
from .selectors import topic_tree_with_counts


def home(request: HttpRequest) -> HttpResponse:
    """The landing page: what the bank holds, topic by topic, and where to go next."""
    by_kind = dict(
        Card.objects.filter(status=Card.Status.PUBLISHED)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    kinds = [(label, by_kind.get(value, 0)) for value, label in Card.Kind.choices]
    return render(
        request,
        "knowledge/home.html",
        {
            "topics": topic_tree_with_counts(),
            "kinds": kinds,
            "total": sum(by_kind.values()),
        },
    )
