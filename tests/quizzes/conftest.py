from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User

from knowledge.models import Bank
from tests.quizzes import factories


@pytest.fixture
def now() -> datetime:
    """A fixed moment: 10:00 UTC on a Wednesday, the same study day in UTC with a 4 a.m. start."""
    return datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def learner(db: None) -> User:
    return factories.learner("ada")


@pytest.fixture
def study_bank(learner: User) -> Bank:
    """A bank the learner is subscribed to (empty until a test adds cards)."""
    bank = factories.bank("study")
    factories.subscribe(learner, bank)
    return bank
