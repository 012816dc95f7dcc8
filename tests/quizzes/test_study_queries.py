"""study_next reads a bounded number of rows: its query count does not grow with the deck."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from knowledge.models import Bank
from quizzes.models import CardState
from quizzes.services import study_next
from tests.quizzes import factories
from tests.quizzes.helpers import study_item

pytestmark = pytest.mark.django_db


def queries_for_next(user: User, now: datetime) -> int:
    with CaptureQueriesContext(connection) as captured:
        study_item(study_next(learner=user, now=now))
    return len(captured.captured_queries)


def add_due_cards(user: User, bank: Bank, count: int, now: datetime) -> None:
    for index in range(count):
        card = factories.concept(bank)
        CardState.objects.create(
            learner=user,
            card=card,
            state=2,
            stability=5.0,
            difficulty=5.0,
            due=now - timedelta(hours=index + 1),
            last_review=now - timedelta(days=6),
            reps=2,
        )


def test_the_query_count_does_not_grow_with_due_or_new_cards(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    add_due_cards(learner, study_bank, 3, now)
    factories.concept(study_bank)
    few = queries_for_next(learner, now)

    add_due_cards(learner, study_bank, 40, now)
    for _ in range(20):
        factories.concept(study_bank)
    many = queries_for_next(learner, now)

    assert many == few
    assert few <= 12, few


def new_card_lookups(user: User, now: datetime) -> tuple[str, int]:
    """Return the slug "next item" serves and how many new-card lookups it ran."""
    with CaptureQueriesContext(connection) as captured:
        slug = study_item(study_next(learner=user, now=now)).card_slug
    lookups = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('SELECT "knowledge_card"') and "NOT EXISTS" in q["sql"]
    ]
    return slug, len(lookups)


def test_new_cards_are_looked_up_only_when_no_due_card_comes_first(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    factories.concept(study_bank)  # a new card, which waits behind the due one
    add_due_cards(learner, study_bank, 1, now)
    due_slug = CardState.objects.get(learner=learner).card.slug

    assert new_card_lookups(learner, now) == (due_slug, 0)

    CardState.objects.filter(learner=learner).update(due=now + timedelta(days=3))
    slug, lookups = new_card_lookups(learner, now)

    assert (slug != due_slug, lookups) == (True, 1)


def test_a_due_card_that_cannot_be_shown_falls_back_to_the_new_cards(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    new = factories.concept(study_bank)
    add_due_cards(learner, study_bank, 1, now)
    # The due card's current version has no stored content to show (a broken row).
    broken = CardState.objects.get(learner=learner).card
    type(broken).objects.filter(pk=broken.pk).update(version=99)

    slug, lookups = new_card_lookups(learner, now)

    assert (slug, lookups) == (new.slug, 1)
