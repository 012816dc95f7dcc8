"""Offline sync end to end, with a real Redis and a real Celery worker process grading.

A learner's offline reviews of several cards, uploaded out of order in two overlapping batches,
must leave exactly the card states and review count the same reviews leave when made online in
order; reviews of one card from two devices are both kept, merged by time. Nothing of ours is
mocked. Run on SQLite by default and on PostgreSQL with DATABASE_URL.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from quizzes.models import Attempt, CardState, IssuedItem, ReviewLog
from quizzes.scheduling import Rating, ReviewEvent, replay
from quizzes.selectors import card_state_memory
from quizzes.services import (
    StudyItem,
    attempt_submit,
    attempt_wait,
    attempts_sync,
    study_prefetch,
)
from tests.quizzes import factories

pytestmark = pytest.mark.django_db(transaction=True)

RESULT_TIMEOUT = 60.0
STATE_FIELDS = (
    "state",
    "step",
    "stability",
    "difficulty",
    "due",
    "last_review",
    "reps",
    "lapses",
    "suspended",
    "buried_until",
    "leech",
)
# (card index, rating, minutes after the prefetch): three cards, lapses and relearning included.
PLAN = [
    (0, 3, 5),
    (1, 3, 8),
    (0, 3, 30),
    (2, 1, 41),
    (2, 3, 55),
    (1, 4, 24 * 60),
    (0, 1, 2 * 24 * 60),
    (2, 3, 2 * 24 * 60 + 30),
    (0, 3, 2 * 24 * 60 + 45),
    (1, 2, 3 * 24 * 60 + 10),
]


def graded(user: User, attempt_id: Any) -> Attempt:
    result = attempt_wait(attempt_id=attempt_id, learner=user, timeout=RESULT_TIMEOUT)
    assert result.status == Attempt.Status.GRADED, (result.status, result.result)
    return result


def items_by_card(user: User, at: datetime, slugs: list[str]) -> dict[str, list[StudyItem]]:
    """Offline items for every planned review: one item answers one review of its card."""
    found: dict[str, list[StudyItem]] = {slug: [] for slug in slugs}
    per_card = max(sum(1 for c, _r, _m in PLAN if c == i) for i in range(len(slugs)))
    for _ in range(per_card):
        for item in study_prefetch(learner=user, now=at, limit=len(slugs)):
            found[item.card_slug].append(item)
    return found


def planned_entries(user: User, start: datetime, slugs: list[str]) -> list[dict[str, Any]]:
    """The plan's reviews as upload entries, in time order, each with its own item."""
    items = items_by_card(user, start, slugs)
    entries = []
    for card, rating, minutes in PLAN:
        item = items[slugs[card]].pop(0)
        entries.append(
            {
                "token": item.token,
                "response": {"rating": rating},
                "client_id": str(uuid.uuid4()),
                "reviewed_at": start + timedelta(minutes=minutes),
                "duration_ms": 15_000,
            }
        )
    return entries


def card_states(user: User) -> dict[int, dict[str, Any]]:
    return {
        row["card_id"]: row
        for row in CardState.objects.filter(learner=user).values("card_id", *STATE_FIELDS)
    }


def forget(user: User) -> None:
    """Remove every trace of the learner's study (not of the cards) for a second run."""
    ReviewLog.objects.filter(learner=user).delete()
    Attempt.objects.filter(learner=user).delete()
    IssuedItem.objects.filter(learner=user).delete()
    CardState.objects.filter(learner=user).delete()


def test_offline_reviews_uploaded_out_of_order_twice_equal_the_same_reviews_online(
    celery_worker: str,
) -> None:
    learner = factories.learner("ada")
    bank = factories.bank("offline")
    factories.subscribe(learner, bank)
    cards = [factories.concept(bank, difficulty=d) for d in (1, 2, 3)]
    slugs = [card.slug for card in cards]
    start = timezone.now() - timedelta(days=4)

    # Online, in order: each answer submitted and graded before the next.
    for values in planned_entries(learner, start, slugs):
        attempt = attempt_submit(learner=learner, now=timezone.now(), **values)
        graded(learner, attempt.pk)
    online = card_states(learner)
    online_reviews = ReviewLog.objects.filter(learner=learner).count()
    forget(learner)

    # Offline: the same reviews, uploaded shuffled in two batches that overlap by two entries.
    entries = planned_entries(learner, start, slugs)
    shuffled = entries[:]
    random.Random(7).shuffle(shuffled)
    first, second = shuffled[:6], shuffled[4:]
    first_results = attempts_sync(learner=learner, items=first, now=timezone.now())
    assert [r.status for r in first_results] == ["accepted"] * 6
    for entry in first:
        graded(learner, entry["client_id"])
    second_results = attempts_sync(learner=learner, items=second, now=timezone.now())
    assert [r.status for r in second_results] == ["duplicate"] * 2 + ["accepted"] * 4
    for entry in second:
        graded(learner, entry["client_id"])

    assert card_states(learner) == online  # every field of every card, exactly
    assert ReviewLog.objects.filter(learner=learner).count() == online_reviews == len(PLAN)
    assert Attempt.objects.filter(learner=learner).count() == len(PLAN)
    late = [
        a for a in Attempt.objects.filter(learner=learner) if (a.result or {}).get("out_of_order")
    ]
    assert late, "the shuffled uploads must have sent some reviews after later ones"


def test_two_devices_reviewing_one_card_offline_are_merged_by_time(celery_worker: str) -> None:
    learner = factories.learner("ada")
    bank = factories.bank("devices")
    factories.subscribe(learner, bank)
    card = factories.concept(bank)
    start = timezone.now() - timedelta(days=2)
    laptop = study_prefetch(learner=learner, now=start, limit=1)[0]
    phone = study_prefetch(learner=learner, now=start, limit=1)[0]
    laptop_at, phone_at = start + timedelta(minutes=10), start + timedelta(hours=20)

    def upload(item: StudyItem, rating: int, at: datetime) -> str:
        client_id = str(uuid.uuid4())
        entry = {
            "token": item.token,
            "response": {"rating": rating},
            "client_id": client_id,
            "reviewed_at": at,
            "duration_ms": 15_000,
        }
        [result] = attempts_sync(learner=learner, items=[entry], now=timezone.now())
        assert result.status == "accepted", result
        graded(learner, client_id)
        return client_id

    upload(phone, 3, phone_at)  # the later review arrives first
    upload(laptop, 1, laptop_at)

    log = list(ReviewLog.objects.filter(learner=learner).order_by("reviewed_at"))
    assert [(r.rating, r.reviewed_at) for r in log] == [(1, laptop_at), (3, phone_at)]
    expected = replay(
        reviews=[ReviewEvent(Rating.Again, laptop_at), ReviewEvent(Rating.Good, phone_at)],
        fuzz_key=f"{learner.pk}:{card.pk}",
    )
    state = CardState.objects.get(learner=learner, card=card)
    assert card_state_memory(state, now=phone_at) == expected[-1]
    assert log[-1].state_after == expected[-1].to_dict()
