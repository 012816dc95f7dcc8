"""attempt_submit: the response's shape, the outbox, and one attempt per client UUID."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User

from knowledge.models import Bank
from quizzes.errors import StudyError
from quizzes.models import Attempt, IssuedItem, ReviewLog
from quizzes.services import StudyItem, attempt_grade, attempt_submit, study_next
from tests.quizzes import factories
from tests.quizzes.helpers import issued, study_item

pytestmark = pytest.mark.django_db


def next_item(user: User, now: datetime) -> StudyItem:
    return study_item(study_next(learner=user, now=now))


def submit(user: User, item: StudyItem, response: Any, now: datetime, **extra: Any) -> Attempt:
    values: dict[str, Any] = {
        "learner": user,
        "token": item.token,
        "response": response,
        "client_id": uuid.uuid4(),
        "reviewed_at": now,
        "duration_ms": 5000,
        "now": now,
    }
    values.update(extra)
    return attempt_submit(**values)


@pytest.mark.parametrize(
    ("make", "response"),
    [
        (factories.numeric, {"answer": 42}),
        (factories.numeric, {"answer": "42", "extra": 1}),
        (factories.numeric, "42"),
        (factories.mcq, {"choices": []}),
        (factories.mcq, {"choices": [0, 1]}),  # one correct option: exactly one choice
        (factories.mcq, {"choices": [5]}),
        (factories.mcq, {"choices": [True]}),
        (factories.concept, {}),
        (factories.concept, {"rating": 5}),
        (factories.concept, {"rating": "3"}),
        (factories.concept, {"text": 3}),
        (factories.concept, {"answer": "zero padding"}),
    ],
)
def test_a_response_of_the_wrong_shape_is_refused(
    learner: User,
    study_bank: Bank,
    now: datetime,
    make: Callable[[Bank], Any],
    response: Any,
) -> None:
    make(study_bank)
    item = next_item(learner, now)

    with pytest.raises(StudyError) as caught:
        submit(learner, item, response, now)

    assert caught.value.code == "response_invalid"
    assert not Attempt.objects.exists()
    assert not issued(item).answered


def test_the_attempt_is_stored_and_grading_sent_only_after_commit(
    learner: User,
    study_bank: Bank,
    now: datetime,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    factories.mcq(study_bank, multi=True)
    item = next_item(learner, now)

    with django_capture_on_commit_callbacks(execute=False) as sends:
        attempt = submit(learner, item, {"choices": [2, 0]}, now)

    assert len(sends) == 1  # the grading task, queued for after the commit
    stored = Attempt.objects.get(pk=attempt.pk)
    assert (stored.status, stored.graded_at, stored.response) == (
        Attempt.Status.PENDING,
        None,
        {"choices": [0, 2]},
    )
    assert stored.card_version.version == item.card_version
    assert IssuedItem.objects.get(pk=stored.issued_id).answered


def test_the_same_client_id_twice_returns_the_first_attempt(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    factories.mcq(study_bank, multi=True)
    item = next_item(learner, now)
    client_id = uuid.uuid4()

    first = submit(learner, item, {"choices": [0, 2]}, now, client_id=client_id)
    attempt_grade(attempt_id=first.pk, now=now)
    again = submit(learner, item, {"choices": [2, 0]}, now, client_id=client_id)

    assert again.pk == first.pk and again.status == Attempt.Status.GRADED
    assert Attempt.objects.count() == 1
    assert ReviewLog.objects.count() == 1


def test_the_same_client_id_with_another_answer_is_a_conflict(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    factories.concept(study_bank)
    item = next_item(learner, now)
    client_id = uuid.uuid4()
    submit(learner, item, {"rating": 3}, now, client_id=client_id)

    with pytest.raises(StudyError) as caught:
        submit(learner, item, {"rating": 4}, now, client_id=client_id)

    assert (caught.value.code, caught.value.status_code) == ("duplicate_conflict", 409)
    other = factories.learner("eve")
    with pytest.raises(StudyError) as caught:
        submit(other, item, {"rating": 3}, now, client_id=client_id)
    assert caught.value.code == "duplicate_conflict"
    assert Attempt.objects.count() == 1


def test_grading_twice_writes_one_review(learner: User, study_bank: Bank, now: datetime) -> None:
    factories.concept(study_bank)
    attempt = submit(learner, next_item(learner, now), {"rating": 2}, now)

    first = attempt_grade(attempt_id=attempt.pk, now=now)
    second = attempt_grade(attempt_id=attempt.pk, now=now)

    assert first is not None and second is not None
    assert second.result == first.result
    assert ReviewLog.objects.count() == 1
    assert attempt_grade(attempt_id=uuid.uuid4(), now=now) is None
