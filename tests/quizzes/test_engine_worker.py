"""End to end with a real Redis and a real Celery worker process: study, submit, grade, schedule.

The worker is a separate ``celery worker`` process on the same test database (tests/conftest.py);
nothing of ours is mocked. Run on SQLite by default and on PostgreSQL with DATABASE_URL.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from quizzes.errors import StudyError
from quizzes.models import Attempt, CardState, ReviewLog
from quizzes.services import StudyItem, attempt_submit, attempt_wait, study_next
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
    numeric = factories.numeric(bank, difficulty=1)
    mcq = factories.mcq(bank, multi=True, difficulty=2)
    concept = factories.concept(bank, difficulty=3)

    def response_to(item: StudyItem) -> dict[str, Any]:
        if item.kind == "numeric":
            return {"answer": numeric_answer(item)}
        if item.kind == "mcq":
            return {"choices": [0]}  # one of the two right options
        return {"text": "zero padding"}  # one of the two key points

    seen: dict[str, Attempt] = {}
    waits: list[float] = []
    for _ in range(3):
        item = study_item(study_next(learner=learner, now=timezone.now()))
        started = time.monotonic()
        attempt = submit(learner, item, response_to(item))
        seen[item.kind] = graded(learner, attempt)
        waits.append(time.monotonic() - started)

    assert set(seen) == {"numeric", "mcq", "concept"}
    results = {kind: attempt.result or {} for kind, attempt in seen.items()}
    # 20 s against an expected 40 s (difficulty 1): right and fast, Easy.
    assert (results["numeric"]["correct"], results["numeric"]["rating"]) == (True, 4)
    assert (results["mcq"]["score"], results["mcq"]["rating"]) == (0.5, 2)
    assert (results["concept"]["score"], results["concept"]["rating"]) == (0.5, 2)
    for card in (numeric, mcq, concept):
        review = ReviewLog.objects.get(learner=learner, card=card)
        state = CardState.objects.get(learner=learner, card=card)
        assert (state.reps, state.due, state.last_review) == (1, review.due, review.reviewed_at)
    assert all(attempt.outbox_resends == 0 for attempt in seen.values())
    assert max(waits) < 10, waits  # a result within a moment (typically tens of ms)
    done = study_next(learner=learner, now=timezone.now())
    assert done.done  # all three are in their learning steps, minutes away


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
