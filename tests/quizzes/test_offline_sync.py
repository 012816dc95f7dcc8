"""Offline study: items prefetched for a week, answers uploaded in batches, applied in time order."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from knowledge.models import Bank, Card
from quizzes.errors import StudyError
from quizzes.models import Attempt, CardState, ReviewLog
from quizzes.scheduling import MemoryState, Rating, ReviewEvent, replay
from quizzes.selectors import card_state_memory
from quizzes.services import (
    OFFLINE_ISSUE_TTL,
    StudyItem,
    attempt_grade,
    attempts_sync,
    card_state_undo,
    review_log_resequence,
    study_next,
    study_prefetch,
    study_settings_update,
)
from tests.quizzes import factories
from tests.quizzes.helpers import answer, issued, study_item

pytestmark = pytest.mark.django_db

FACTS = (
    "id",
    "attempt_id",
    "card_id",
    "card_version_id",
    "variant_key",
    "response",
    "score",
    "misconception",
    "rating",
    "elapsed_ms",
    "reviewed_at",
    "client_id",
    "created_at",
)
DERIVED = ("state_before", "state_after", "due", "phase_before")


def entry(
    item: StudyItem, rating: int, at: datetime | str, client_id: uuid.UUID | None = None
) -> dict[str, Any]:
    return {
        "token": item.token,
        "response": {"rating": rating},
        "client_id": str(client_id or uuid.uuid4()),
        "reviewed_at": at,
        "duration_ms": 20_000,
    }


def grade_all(at: datetime, order: list[str] | None = None) -> None:
    """Grade the pending attempts in this process, in ``order`` (client ids) if given."""
    ids = order or [
        str(pk) for pk in Attempt.objects.filter(status="pending").values_list("pk", flat=True)
    ]
    for pk in ids:
        attempt_grade(attempt_id=pk, now=at)


def prefetched_one(learner: User, now: datetime, times: int) -> list[StudyItem]:
    """``times`` offline items for the learner's one (new) card: one prefetch each."""
    items = [study_prefetch(learner=learner, now=now, limit=1)[0] for _ in range(times)]
    assert len({item.card_slug for item in items}) == 1
    return items


def expected_states(
    learner: User, card: Card, reviews: list[tuple[int, datetime]]
) -> list[MemoryState]:
    """What the reviews do to a new card in time order (default parameters, 0.9 retention)."""
    return replay(
        reviews=[
            ReviewEvent(rating=Rating(r), reviewed_at=at)
            for r, at in sorted(reviews, key=lambda x: x[1])
        ],
        fuzz_key=f"{learner.pk}:{card.pk}",
    )


def test_prefetch_hands_out_due_cards_then_new_ones_for_a_week(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    due = factories.concept(study_bank, difficulty=5)
    CardState.objects.create(
        learner=learner,
        card=due,
        state=2,
        stability=5.0,
        difficulty=5.0,
        due=now - timedelta(hours=3),
        last_review=now - timedelta(days=6),
        reps=2,
    )
    easy = factories.concept(study_bank, difficulty=1)
    harder = factories.mcq(study_bank, difficulty=2)

    items = study_prefetch(learner=learner, now=now, limit=10)

    assert [item.card_slug for item in items] == [due.slug, easy.slug, harder.slug]
    assert [item.is_new for item in items] == [False, True, True]
    assert all(item.expires_at == now + OFFLINE_ISSUE_TTL for item in items)
    assert all(issued(item).offline for item in items)


def test_prefetch_keeps_to_the_limit_and_to_the_days_new_cards(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    for difficulty in (1, 2, 3, 4):
        factories.concept(study_bank, difficulty=difficulty)
    study_settings_update(learner=learner, new_per_day=2)

    assert len(study_prefetch(learner=learner, now=now, limit=1)) == 1
    assert len(study_prefetch(learner=learner, now=now, limit=10)) == 2


@pytest.mark.parametrize("limit", [0, 201, "5", True, None])
def test_prefetch_refuses_a_bad_limit(learner: User, now: datetime, limit: Any) -> None:
    with pytest.raises(StudyError) as caught:
        study_prefetch(learner=learner, now=now, limit=limit)
    assert caught.value.code == "limit_invalid"


def test_each_entry_gets_its_result_and_a_bad_one_fails_alone(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    for difficulty in (1, 2, 3):
        factories.concept(study_bank, difficulty=difficulty)
    first, second, third = study_prefetch(learner=learner, now=now, limit=3)
    upload = now + timedelta(days=3)  # long after the reviews: accepted
    entries = [
        entry(first, 3, now + timedelta(hours=1)),
        entry(second, 3, now - timedelta(hours=1)),  # before the item was handed out
        {"token": third.token},
        entry(third, 4, (now + timedelta(hours=2)).isoformat()),
        entry(first, 2, now + timedelta(hours=3)),  # the item was answered already
    ]

    results = attempts_sync(learner=learner, items=entries, now=upload)

    assert [(r.status, r.code) for r in results] == [
        ("accepted", ""),
        ("error", "reviewed_at_invalid"),
        ("error", "response_invalid"),
        ("accepted", ""),
        ("error", "already_answered"),
    ]
    assert [r.client_id for r in results][:2] == [entries[0]["client_id"], entries[1]["client_id"]]
    assert all(r.message for r in results if r.status == "error")
    assert Attempt.objects.filter(learner=learner).count() == 2


def test_a_repeated_upload_is_a_duplicate_and_counts_once(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    for difficulty in (1, 2, 3):
        factories.concept(study_bank, difficulty=difficulty)
    a, b, c = study_prefetch(learner=learner, now=now, limit=3)
    ea, eb, ec = (
        entry(item, 3, now + timedelta(minutes=i + 1)) for i, item in enumerate((a, b, c))
    )
    upload = now + timedelta(days=1)
    attempts_sync(learner=learner, items=[ea, eb], now=upload)
    grade_all(upload)

    results = attempts_sync(learner=learner, items=[ec, eb], now=upload + timedelta(minutes=5))
    grade_all(upload + timedelta(minutes=5))
    changed = {**eb, "response": {"rating": 1}}
    conflict = attempts_sync(learner=learner, items=[changed], now=upload + timedelta(minutes=6))

    assert [r.status for r in results] == ["accepted", "duplicate"]
    assert [(r.status, r.code) for r in conflict] == [("error", "duplicate_conflict")]
    assert ReviewLog.objects.filter(learner=learner).count() == 3
    assert sorted(CardState.objects.filter(learner=learner).values_list("reps", flat=True)) == [
        1,
        1,
        1,
    ]


def test_an_offline_answer_counts_if_given_before_the_item_expired(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    factories.concept(study_bank)
    early, late, very_late = prefetched_one(learner, now, 3)
    given = now + timedelta(days=6)

    results = attempts_sync(
        learner=learner,
        items=[
            entry(early, 3, given),  # uploaded three days after the item expired: still counts
            entry(late, 3, now + OFFLINE_ISSUE_TTL + timedelta(minutes=10)),  # given too late
        ],
        now=now + timedelta(days=10),
    )
    too_late = attempts_sync(
        learner=learner, items=[entry(very_late, 3, given)], now=now + timedelta(days=15)
    )

    assert [(r.status, r.code) for r in results] == [("accepted", ""), ("error", "token_expired")]
    assert [(r.status, r.code) for r in too_late] == [("error", "token_expired")]


def test_a_batch_must_be_a_list_of_bounded_length(learner: User, now: datetime) -> None:
    bad_batches: list[Any] = [{"token": "x"}, [{}] * 501]
    for bad in bad_batches:
        with pytest.raises(StudyError) as caught:
            attempts_sync(learner=learner, items=bad, now=now)
        assert caught.value.code == "batch_invalid"


def test_reviews_graded_out_of_order_end_as_if_made_in_order(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    card = factories.concept(study_bank)
    items = prefetched_one(learner, now, 4)
    reviews = [
        (3, now + timedelta(minutes=5)),
        (3, now + timedelta(minutes=20)),
        (1, now + timedelta(days=2)),
        (3, now + timedelta(days=2, minutes=15)),
    ]
    entries = [entry(item, r, at) for item, (r, at) in zip(items, reviews, strict=True)]
    upload = now + timedelta(days=3)
    attempts_sync(learner=learner, items=entries[::-1], now=upload)

    # Graded newest first: every review after the first graded one arrives "late".
    grade_all(upload, order=[e["client_id"] for e in entries[::-1]])

    states = expected_states(learner, card, reviews)
    stored = CardState.objects.get(learner=learner, card=card)
    assert card_state_memory(stored, now=upload) == states[-1]
    log = list(ReviewLog.objects.filter(learner=learner).order_by("reviewed_at"))
    assert [MemoryState.from_dict(r.state_after) for r in log] == states
    assert [MemoryState.from_dict(r.state_before) for r in log[1:]] == states[:-1]
    assert [r.due for r in log] == [s.due for s in states]
    assert [r.phase_before for r in log] == [0] + [int(s.state) for s in states[:-1]]
    late = Attempt.objects.get(pk=entries[0]["client_id"])
    assert late.result is not None and late.result["out_of_order"] is True


def test_a_resequence_rewrites_the_derived_columns_and_never_the_facts(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    card = factories.concept(study_bank)
    first, second, third = prefetched_one(learner, now, 3)
    entries = [
        entry(first, 3, now + timedelta(minutes=5)),
        entry(second, 1, now + timedelta(minutes=30)),
        entry(third, 3, now + timedelta(hours=6)),
    ]
    upload = now + timedelta(days=1)
    attempts_sync(learner=learner, items=entries[1:], now=upload)
    grade_all(upload)
    facts = {r["id"]: r for r in ReviewLog.objects.values(*FACTS)}
    derived = {r["id"]: r for r in ReviewLog.objects.values("id", *DERIVED)}

    attempts_sync(learner=learner, items=entries[:1], now=upload)
    grade_all(upload)

    after = {r["id"]: r for r in ReviewLog.objects.values(*FACTS)}
    assert {pk: after[pk] for pk in facts} == facts  # the facts of earlier rows are untouched
    rewritten = {
        r["id"]: r for r in ReviewLog.objects.filter(pk__in=derived).values("id", *DERIVED)
    }
    assert all(rewritten[pk] != derived[pk] for pk in derived)  # both later reviews re-derived
    assert review_log_resequence(learner=learner, card=card).rewritten == 0  # already in order


def test_undo_after_a_late_review_undoes_the_latest_one(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    card = factories.concept(study_bank)
    first, second = prefetched_one(learner, now, 2)
    late = entry(first, 3, now + timedelta(minutes=5))
    latest = entry(second, 3, now + timedelta(minutes=25))
    upload = now + timedelta(hours=2)
    attempts_sync(learner=learner, items=[latest], now=upload)
    grade_all(upload)
    attempts_sync(learner=learner, items=[late], now=upload)
    grade_all(upload)

    restored = card_state_undo(learner=learner, card=card, now=upload)

    assert restored is not None
    only_first = expected_states(learner, card, [(3, now + timedelta(minutes=5))])
    assert card_state_memory(restored, now=upload) == only_first[-1]
    assert ReviewLog.objects.get(undo__isnull=False).client_id == uuid.UUID(latest["client_id"])


def test_two_devices_reviewing_one_card_are_merged_by_time(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    card = factories.concept(study_bank)
    laptop = study_prefetch(learner=learner, now=now, limit=1)[0]  # goes offline
    phone = study_item(study_next(learner=learner, now=now))  # stays online
    online_at = now + timedelta(hours=1)
    answer(learner, phone, {"rating": 3}, at=online_at)

    offline_at = now + timedelta(minutes=10)  # earlier than the phone's review
    results = attempts_sync(
        learner=learner, items=[entry(laptop, 2, offline_at)], now=now + timedelta(hours=5)
    )
    grade_all(now + timedelta(hours=5))

    assert [r.status for r in results] == ["accepted"]
    log = list(ReviewLog.objects.filter(learner=learner).order_by("reviewed_at"))
    assert [(r.rating, r.reviewed_at) for r in log] == [(2, offline_at), (3, online_at)]
    states = expected_states(learner, card, [(2, offline_at), (3, online_at)])
    assert card_state_memory(CardState.objects.get(card=card), now=now) == states[-1]
    assert CardState.objects.get(card=card).reps == 2
