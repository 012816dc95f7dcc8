"""The transactional outbox: pending rows are re-sent by the sweep and finished exactly once."""

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import Q
from django.test import Client, override_settings
from django.utils import timezone

from config.celery_app import app as celery_app
from knowledge.models import Topic
from ops import outbox
from ops.models import WorkerProbe
from ops.outbox import outbox_kinds, outbox_register, outbox_sweep, outbox_task_id
from ops.services import worker_probe_request
from tests.conftest import IsolatedBroker, wait_until

RESULT_TIMEOUT = 60


def _probe(*, age: float, resends: int = 0, resent_age: float | None = None) -> WorkerProbe:
    now = timezone.now()
    return WorkerProbe.objects.create(
        requested_at=now - timedelta(seconds=age),
        outbox_resends=resends,
        outbox_resent_at=None if resent_age is None else now - timedelta(seconds=resent_age),
    )


@pytest.mark.django_db
@override_settings(OUTBOX_RESEND_AFTER=60, OUTBOX_MAX_RESENDS=3)
def test_sweep_resends_only_rows_pending_past_the_delay(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    stale = _probe(age=120)
    fresh = _probe(age=5)
    recently_resent = _probe(age=600, resends=1, resent_age=10)
    resent_long_ago = _probe(age=600, resends=1, resent_age=300)
    spent = _probe(age=600, resends=3, resent_age=300)
    done = _probe(age=600)
    done.completed_at = timezone.now()
    done.save()

    with django_capture_on_commit_callbacks(execute=False) as sends:
        report = outbox_sweep()

    assert (report["ops.workerprobe"], report["given_up"]) == (2, 1)
    assert len(sends) == 2  # one task per re-sent row, sent after the sweep's commit
    resent = set(
        WorkerProbe.objects.filter(outbox_resends__gt=0).values_list("id", "outbox_resends")
    )
    assert resent == {
        (stale.id, 1),
        (recently_resent.id, 1),
        (resent_long_ago.id, 2),
        (spent.id, 3),
    }
    assert fresh.id not in {row_id for row_id, _ in resent}


@pytest.mark.django_db
def test_a_row_is_resent_again_only_after_another_delay(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    _probe(age=120)
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=False):
        first = outbox_sweep(now=now, resend_after=60)
        again = outbox_sweep(now=now + timedelta(seconds=30), resend_after=60)
        later = outbox_sweep(now=now + timedelta(seconds=61), resend_after=60)

    assert (first["ops.workerprobe"], again["ops.workerprobe"], later["ops.workerprobe"]) == (
        1,
        0,
        1,
    )


def test_registering_a_model_without_the_outbox_fields_is_refused() -> None:
    with pytest.raises(TypeError, match="OutboxRow"):
        outbox_register(
            model=Topic,  # type: ignore[arg-type]
            task="knowledge.nothing",
            pending=Q(),
            created_field="created_at",
        )
    assert Topic not in [kind.model for kind in outbox_kinds()]  # type: ignore[comparison-overlap]


@pytest.mark.django_db
def test_the_request_saves_the_probe_even_when_the_send_fails(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        probe = worker_probe_request()
    assert len(callbacks) == 1
    assert WorkerProbe.objects.filter(id=probe.id, completed_at__isnull=True).exists()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_probe_saved_while_redis_is_down_is_completed_exactly_once_after_it_is_back(
    client: Client, isolated_broker: IsolatedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)
    staff = User.objects.create_user("ops", password="pw-ops-123", is_staff=True)
    client.force_login(staff)
    isolated_broker.redis.terminate()

    started = time.monotonic()
    response = client.post("/api/v1/ops/worker-probes/")
    first_seconds = time.monotonic() - started
    started = time.monotonic()
    second = client.post("/api/v1/ops/worker-probes/")
    second_seconds = time.monotonic() - started

    # Saved and answered although the task could not be sent: the row is the outbox entry.
    assert (response.status_code, second.status_code) == (202, 202), response.content
    assert first_seconds < 15  # the broker client's connection retries, once
    assert second_seconds < 1  # this process no longer waits on the dead broker
    probe = WorkerProbe.objects.get(id=response.json()["id"])
    assert probe.completed_at is None

    isolated_broker.redis.restart()  # same port: the worker and this process reconnect
    # What beat does every OUTBOX_SWEEP_SECONDS, sent now through the real broker to the worker.
    celery_app.send_task("ops.outbox_sweep", kwargs={"resend_after": 0}, ignore_result=True)

    probe = wait_until(
        lambda: WorkerProbe.objects.filter(id=probe.id, completed_at__isnull=False).first(),
        timeout=RESULT_TIMEOUT,
        what="the swept probe to be completed",
    )
    assert probe.worker == isolated_broker.worker
    assert probe.outbox_resends == 1
    other = wait_until(
        lambda: WorkerProbe.objects.filter(
            id=second.json()["id"], completed_at__isnull=False
        ).first(),
        timeout=RESULT_TIMEOUT,
        what="the second swept probe to be completed",
    )
    assert other.worker == isolated_broker.worker
    completed_at = probe.completed_at

    # A second delivery of the same task (the sweep raced a slow worker, or a redelivery after
    # a lost ack) runs through the real worker and changes nothing.
    result = celery_app.send_task(
        "ops.complete_worker_probe", args=(str(probe.id),), task_id=outbox_task_id(probe)
    )
    assert result.get(timeout=RESULT_TIMEOUT)["completed_at"] == completed_at.isoformat()  # type: ignore[union-attr]
    probe.refresh_from_db()
    assert probe.completed_at == completed_at
    assert probe.worker == isolated_broker.worker
    # The worker stores the result before it logs the task's success: wait for the log line.
    succeeded = f"ops.complete_worker_probe[{outbox_task_id(probe)}] succeeded"

    def logged_twice() -> str | None:
        text = isolated_broker.worker_log.read_text()
        return text if text.count(succeeded) >= 2 else None

    log = wait_until(logged_twice, timeout=RESULT_TIMEOUT, what="the second delivery's log line")
    assert log.count(succeeded) == 2, log
