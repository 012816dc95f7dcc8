"""Attempts are on the transactional outbox: a pending attempt is sent again by the sweep."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from knowledge.models import Bank
from ops.outbox import outbox_kinds, outbox_sweep, outbox_task_id
from quizzes.models import Attempt
from quizzes.services import attempt_grade, attempt_submit, study_next
from tests.quizzes import factories
from tests.quizzes.helpers import study_item

pytestmark = pytest.mark.django_db


def test_attempts_are_registered_with_the_outbox() -> None:
    kinds = {kind.label: kind.task for kind in outbox_kinds()}
    assert kinds["quizzes.attempt"] == "quizzes.grade_attempt"


def test_the_sweep_resends_pending_attempts_only(
    learner: User,
    study_bank: Bank,
    now: datetime,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    factories.concept(study_bank)
    factories.concept(study_bank)
    attempts = []
    for _ in range(2):
        item = study_item(study_next(learner=learner, now=now))
        attempts.append(
            attempt_submit(
                learner=learner,
                token=item.token,
                response={"rating": 3},
                client_id=uuid.uuid4(),
                reviewed_at=now,
                duration_ms=1000,
                now=now,
            )
        )
    attempt_grade(attempt_id=attempts[0].pk, now=now)

    with django_capture_on_commit_callbacks(execute=False) as sends:
        report = outbox_sweep(now=now + timedelta(minutes=5), resend_after=60)

    assert report["quizzes.attempt"] == 1 and len(sends) == 1
    pending = Attempt.objects.get(pk=attempts[1].pk)
    assert pending.outbox_resends == 1
    assert outbox_task_id(pending) == f"quizzes.attempt:{pending.pk}"
