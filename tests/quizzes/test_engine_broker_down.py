"""With the broker down, answers are accepted and stored, and graded once it is back."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from config.celery_app import app as celery_app
from ops import outbox
from quizzes.models import Attempt, ReviewLog
from quizzes.services import attempt_submit, attempt_wait, study_next
from tests.conftest import IsolatedBroker
from tests.quizzes import factories
from tests.quizzes.helpers import study_item

pytestmark = pytest.mark.django_db(transaction=True)

RESULT_TIMEOUT = 60.0


def test_answers_submitted_while_redis_is_down_are_graded_once_it_is_back(
    isolated_broker: IsolatedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)
    learner = factories.learner("ada")
    bank = factories.bank("offline-broker")
    factories.subscribe(learner, bank)
    factories.concept(bank)
    factories.mcq(bank)
    isolated_broker.redis.terminate()

    attempts = []
    responses = {"concept": {"rating": 3}, "mcq": {"choices": [0]}}
    for _ in range(2):
        item = study_item(study_next(learner=learner, now=timezone.now()))
        attempts.append(
            attempt_submit(
                learner=learner,
                token=item.token,
                response=responses[item.kind],
                client_id=uuid.uuid4(),
                reviewed_at=timezone.now(),
                duration_ms=10_000,
            )
        )

    # Accepted and stored, though no task could be sent.
    assert Attempt.objects.filter(status=Attempt.Status.PENDING).count() == 2
    pending = attempt_wait(attempt_id=attempts[0].pk, learner=learner, timeout=0.5)
    assert pending.status == Attempt.Status.PENDING

    isolated_broker.redis.restart()  # same port: the worker and this process reconnect
    # What beat does every OUTBOX_SWEEP_SECONDS, sent through the real broker to the worker.
    celery_app.send_task("ops.outbox_sweep", kwargs={"resend_after": 0}, ignore_result=True)

    for attempt in attempts:
        done = attempt_wait(attempt_id=attempt.pk, learner=learner, timeout=RESULT_TIMEOUT)
        assert done.status == Attempt.Status.GRADED
        assert done.outbox_resends == 1
    assert ReviewLog.objects.count() == 2
