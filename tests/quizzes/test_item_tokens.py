"""The item token: opaque, bound to its learner and card version, expiring, answered once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User

from knowledge.models import Bank, Card
from quizzes.errors import StudyError
from quizzes.models import Attempt
from quizzes.services import ISSUE_TTL, StudyItem, attempt_submit, study_next
from tests.quizzes import factories
from tests.quizzes.helpers import answer, study_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(learner: User, study_bank: Bank, now: datetime) -> StudyItem:
    factories.concept(study_bank)
    return study_item(study_next(learner=learner, now=now))


def submit(user: User, token: str, at: datetime, **extra: object) -> Attempt:
    values: dict[str, object] = {
        "learner": user,
        "token": token,
        "response": {"rating": 3},
        "client_id": uuid.uuid4(),
        "reviewed_at": at,
        "duration_ms": 5000,
        "now": at,
    }
    values.update(extra)
    return attempt_submit(**values)  # type: ignore[arg-type]


def refused(code: str, user: User, token: str, at: datetime, **extra: object) -> StudyError:
    with pytest.raises(StudyError) as caught:
        submit(user, token, at, **extra)
    assert caught.value.code == code, caught.value.message
    assert caught.value.message
    assert not Attempt.objects.filter(learner=user).exists() or code == "already_answered"
    return caught.value


def test_the_token_holds_nothing_readable(item: StudyItem) -> None:
    # A signed reference: the item id and two numbers, no card text, seed or answer.
    assert "padding" not in item.token.lower() and "seed" not in item.token


def test_a_token_for_another_learner_is_refused(item: StudyItem, now: datetime) -> None:
    other = factories.learner("eve")
    error = refused("token_wrong_learner", other, item.token, now)
    assert error.status_code == 403


def test_a_tampered_token_is_refused(item: StudyItem, now: datetime, learner: User) -> None:
    body, _, signature = item.token.rpartition(":")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    refused("token_invalid", learner, f"{body}:{flipped}", now)
    refused("token_invalid", learner, "not-a-token", now)
    refused("token_invalid", learner, "", now)


def test_an_expired_token_is_refused(item: StudyItem, now: datetime, learner: User) -> None:
    later = now + ISSUE_TTL + timedelta(seconds=1)
    refused("token_expired", learner, item.token, later, reviewed_at=later)


def test_a_token_for_an_older_card_version_is_refused(
    item: StudyItem, now: datetime, learner: User
) -> None:
    card = Card.objects.get(slug=item.card_slug)
    card.question_en = "What does zero padding do?"
    card.save()
    factories.publish(card)  # version 2: the item showed version 1

    error = refused("token_wrong_card_version", learner, item.token, now)
    assert error.status_code == 409


def test_an_answered_token_is_refused_and_a_format_error_frees_it(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    factories.numeric(study_bank)
    item = study_item(study_next(learner=learner, now=now))

    first = answer(learner, item, {"answer": "forty-two"}, at=now)
    assert first.status == Attempt.Status.FORMAT_ERROR
    second = answer(learner, item, {"answer": "7"}, at=now)  # a readable (wrong) answer
    assert second.status == Attempt.Status.GRADED

    error = refused("already_answered", learner, item.token, now, response={"answer": "8"})
    assert error.status_code == 409
    assert Attempt.objects.filter(learner=learner).count() == 2


def test_reviewed_at_must_lie_between_showing_and_now(
    item: StudyItem, now: datetime, learner: User
) -> None:
    refused("reviewed_at_invalid", learner, item.token, now, reviewed_at=now - timedelta(hours=1))
    refused("reviewed_at_invalid", learner, item.token, now, reviewed_at=now + timedelta(hours=1))
    refused("reviewed_at_invalid", learner, item.token, now, reviewed_at=now.replace(tzinfo=None))
