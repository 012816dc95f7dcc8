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
