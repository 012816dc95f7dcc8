"""End to end with a real Redis and a real Celery worker process: study, submit, grade, schedule.

The worker is a separate ``celery worker`` process on the same test database (tests/conftest.py);
nothing of ours is mocked. Run on SQLite by default and on PostgreSQL with DATABASE_URL.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from quizzes.errors import StudyError
from quizzes.models import Attempt, CardState, ReviewLog
from quizzes.scheduling import Rating
from quizzes.services import StudyItem, attempt_submit, attempt_wait, study_next
from quizzes.services.common import RATING_NAMES
from tests.quizzes import factories
from tests.quizzes.helpers import numeric_answer, study_item

pytestmark = pytest.mark.django_db(transaction=True)

RESULT_TIMEOUT = 60.0


def submit(user: User, item: StudyItem, response: dict[str, Any], **extra: Any) -> Attempt:
    values: dict[str, Any] = {
        "learner": user,
        "token": item.token,
        "response": response,
        "client_id": uuid.uuid4(),
        "reviewed_at": timezone.now(),
        "duration_ms": 20_000,
    }
    values.update(extra)
    return attempt_submit(**values)


def graded(user: User, attempt: Attempt) -> Attempt:
    result = attempt_wait(attempt_id=attempt.pk, learner=user, timeout=RESULT_TIMEOUT)
    assert result.status != Attempt.Status.PENDING, "the worker did not grade in time"
    return result


def test_a_learner_studies_every_kind_of_card_through_the_worker(celery_worker: str) -> None:
    learner = factories.learner("ada")
    bank = factories.bank("e2e")
    factories.subscribe(learner, bank)
    # New cards come easiest first; each has a template or section of its own (no siblings).
    numeric = factories.numeric(bank, difficulty=1)
    mcq = factories.mcq(bank, multi=True, difficulty=2)
    typed = factories.concept(bank, difficulty=3)
    rated = factories.concept(bank, difficulty=4)
    wrong = factories.numeric(bank, "pool.output_size", difficulty=5)
    cards = {card.slug: card for card in (numeric, mcq, typed, rated, wrong)}

    def response_to(item: StudyItem) -> dict[str, Any]:
        if item.card_slug == numeric.slug:
            return {"answer": numeric_answer(item)}  # the drawn variant's answer
        if item.card_slug == wrong.slug:
            return {"answer": "987654"}  # readable, and no pooled size is that large
        if item.card_slug == mcq.slug:
            return {"choices": [0]}  # one of the two right options
        if item.card_slug == typed.slug:
            return {"text": "zero padding"}  # one of the two key points
        return {"rating": 3}  # self-rated Good

    seen: dict[str, Attempt] = {}
    shown: dict[str, StudyItem] = {}
    waits: list[float] = []
    for _ in range(len(cards)):
        at = timezone.now()
        item = study_item(study_next(learner=learner, now=at))
        started = time.monotonic()
        attempt = submit(learner, item, response_to(item), reviewed_at=at)
        seen[item.card_slug] = graded(learner, attempt)
        shown[item.card_slug] = item
        waits.append(time.monotonic() - started)

    assert set(seen) == set(cards)
    assert {item.kind for item in shown.values()} == {"numeric", "mcq", "concept"}
    results = {slug: attempt.result or {} for slug, attempt in seen.items()}
    # 20 s against an expected 40 s (difficulty 1): right and fast, Easy.
    assert (results[numeric.slug]["correct"], results[numeric.slug]["rating"]) == (True, 4)
    assert (results[wrong.slug]["correct"], results[wrong.slug]["rating"]) == (False, 1)
    assert (results[mcq.slug]["score"], results[mcq.slug]["rating"]) == (0.5, 2)
    assert (results[typed.slug]["score"], results[typed.slug]["rating"]) == (0.5, 2)
    assert results[typed.slug]["self_rated"] is False
    assert (results[rated.slug]["self_rated"], results[rated.slug]["rating"]) == (True, 3)
    for slug, card in cards.items():
        review = ReviewLog.objects.get(learner=learner, card=card)
        state = CardState.objects.get(learner=learner, card=card)
        assert (state.reps, state.due, state.last_review) == (1, review.due, review.reviewed_at)
        # The due date is the one the rating's button showed before the learner answered.
        shown_due = shown[slug].intervals[RATING_NAMES[Rating(review.rating)]]["due"]
        assert state.due.isoformat() == shown_due
    easy = CardState.objects.get(learner=learner, card=numeric)
    assert easy.last_review is not None and easy.state == 2
    assert easy.due - easy.last_review >= timedelta(days=1)
    again = CardState.objects.get(learner=learner, card=wrong)
    assert again.last_review is not None and again.state == 1
    assert again.due - again.last_review <= timedelta(minutes=10)
    assert all(attempt.outbox_resends == 0 for attempt in seen.values())
    assert max(waits) < 10, waits  # a result within a moment (typically tens of ms)
    done = study_next(learner=learner, now=timezone.now())
    assert done.done  # four are in their learning steps, minutes away; one is days away

    # Two days on, every card is due; the most overdue comes first and its review follows on.
    later = timezone.now() + timedelta(days=2)
    first_due = CardState.objects.filter(learner=learner).order_by("due", "id").first()
    assert first_due is not None
    item = study_item(study_next(learner=learner, now=later))
    assert item.card_slug == first_due.card.slug and not item.is_new
    again_attempt = graded(
        learner, submit(learner, item, response_to(item), reviewed_at=later, now=later)
    )
    state = CardState.objects.get(pk=first_due.pk)
    rating = Rating((again_attempt.result or {})["rating"])
    assert (state.reps, state.last_review) == (2, later)
    assert state.due.isoformat() == item.intervals[RATING_NAMES[rating]]["due"]
    assert state.due > first_due.due


def test_the_same_client_uuid_twice_records_one_review(celery_worker: str) -> None:
    learner = factories.learner("ada")
    bank = factories.bank("twice")
    factories.subscribe(learner, bank)
    factories.concept(bank)
    item = study_item(study_next(learner=learner, now=timezone.now()))
    client_id, at = uuid.uuid4(), timezone.now()

    first = submit(learner, item, {"rating": 3}, client_id=client_id, reviewed_at=at)
    graded(learner, first)
    again = submit(learner, item, {"rating": 3}, client_id=client_id, reviewed_at=at)

    assert again.pk == first.pk and again.status == Attempt.Status.GRADED
    assert Attempt.objects.count() == 1 and ReviewLog.objects.count() == 1


def _race(work: Any) -> tuple[list[Any], list[BaseException]]:
    """Run ``work`` in two threads released at the same instant; return results and errors."""
    barrier = threading.Barrier(2)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(work())
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


def test_the_same_client_uuid_from_two_threads_records_one_review(celery_worker: str) -> None:
    learner = factories.learner("ada")
    bank = factories.bank("race")
    factories.subscribe(learner, bank)
    factories.numeric(bank)
    item = study_item(study_next(learner=learner, now=timezone.now()))
    response = {"answer": numeric_answer(item)}
    client_id, at = uuid.uuid4(), timezone.now()

    results, errors = _race(
        lambda: submit(learner, item, response, client_id=client_id, reviewed_at=at).pk
    )

    assert errors == [] and results == [client_id, client_id]
    graded(learner, Attempt.objects.get(pk=client_id))
    assert Attempt.objects.count() == 1 and ReviewLog.objects.count() == 1
    assert CardState.objects.get(learner=learner).reps == 1


def test_two_answers_to_one_item_from_two_threads_record_one_review(celery_worker: str) -> None:
    learner = factories.learner("ada")
    bank = factories.bank("race-two")
    factories.subscribe(learner, bank)
    factories.concept(bank)
    item = study_item(study_next(learner=learner, now=timezone.now()))
    at: datetime = timezone.now()

    results, errors = _race(lambda: submit(learner, item, {"rating": 3}, reviewed_at=at).pk)

    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], StudyError) and errors[0].code == "already_answered"
    graded(learner, Attempt.objects.get(pk=results[0]))
    assert ReviewLog.objects.count() == 1
