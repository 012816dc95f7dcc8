"""/healthz: cheap, honest about each part, and discreet with strangers."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from config import health
from config.celery_app import app as celery_app
from ops.models import WorkerProbe
from ops.services import worker_heartbeat_record
from tests.conftest import wait_until

STRANGER = {"REMOTE_ADDR": "203.0.113.7"}


@pytest.fixture(autouse=True)
def _fresh_checks(settings: Any) -> None:
    """Check on every request: these tests change the state between two requests."""
    settings.HEALTHZ_CACHE_SECONDS = 0


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_healthz_is_200_once_the_real_worker_recorded_a_heartbeat(
    client: Client, celery_worker: str
) -> None:
    WorkerProbe.objects.all().delete()
    assert client.get("/healthz").status_code == 503  # no heartbeat yet: the worker is unknown

    celery_app.send_task("ops.record_heartbeat", ignore_result=True)
    wait_until(
        lambda: WorkerProbe.objects.filter(worker=celery_worker).exists(),
        timeout=60,
        what="the worker to record the heartbeat",
    )
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["checks"]["worker"]["workers"] == [celery_worker]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
@override_settings(HEALTHZ_HEARTBEAT_MAX_AGE=90)
def test_a_stale_heartbeat_makes_healthz_503_naming_the_worker(
    client: Client, redis_url: str
) -> None:
    WorkerProbe.objects.all().delete()  # the session worker's start-up heartbeat, if committed
    worker_heartbeat_record(worker="w@host", now=timezone.now() - timedelta(seconds=600))

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["worker"]
    assert "no worker heartbeat in the last 90 s" in body["checks"]["worker"]["error"]
    worker_heartbeat_record(worker="w@host")
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_head_answers_with_the_status_code_and_no_body(client: Client, redis_url: str) -> None:
    WorkerProbe.objects.all().delete()
    assert client.head("/healthz").status_code == 503
    worker_heartbeat_record(worker="w@host")

    response = client.head("/healthz")

    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.django_db
def test_head_response_itself_carries_no_body(rf: RequestFactory, redis_url: str) -> None:
    # The test client strips HEAD bodies on its own; the view must not send one to gunicorn.
    worker_heartbeat_record(worker="w@host")

    response = health.healthz(rf.head("/healthz"))

    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.django_db
def test_strangers_see_only_the_status(client: Client, redis_url: str) -> None:
    worker_heartbeat_record(worker="w@host")

    ok = client.get("/healthz", **STRANGER)  # type: ignore[arg-type]
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        failing = client.get("/healthz", **STRANGER)  # type: ignore[arg-type]

    assert (ok.status_code, ok.json()) == (200, {"status": "ok"})
    assert (failing.status_code, failing.json()) == (503, {"status": "fail"})


@pytest.mark.django_db
def test_staff_and_loopback_see_the_details(client: Client, redis_url: str) -> None:
    worker_heartbeat_record(worker="w@host")
    staff = User.objects.create_user("op", password="pw-op-12345", is_staff=True)

    loopback = client.get("/healthz", REMOTE_ADDR="::1").json()
    client.force_login(staff)
    staff_remote = client.get("/healthz", **STRANGER).json()  # type: ignore[arg-type]

    for body in (loopback, staff_remote):
        assert body["checks"]["worker"]["workers"] == ["w@host"]
        assert body["checks"]["database"]["vendor"]


@pytest.mark.django_db
@override_settings(HEALTHZ_DETAILS_FOR_LOOPBACK=False)
def test_loopback_details_can_be_turned_off_for_a_local_proxy(
    client: Client, redis_url: str
) -> None:
    worker_heartbeat_record(worker="w@host")

    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_naming_the_broker_when_redis_is_down(
    client: Client, redis_url: str
) -> None:
    worker_heartbeat_record(worker="w@host")
    # Nothing listens on port 1: the broker is unreachable.
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["failing"] == ["broker"]
    assert "Connection" in body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_healthz_rejects_other_methods(client: Client) -> None:
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_each_process_reuses_its_result_for_the_cache_period(
    client: Client, redis_url: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.HEALTHZ_CACHE_SECONDS = 60
    monkeypatch.setattr(health, "_cached", None)  # forget the earlier tests' results
    worker_heartbeat_record(worker="w@host")
    assert client.get("/healthz").status_code == 200

    WorkerProbe.objects.all().delete()  # the worker "dies"; the cached answer stands for now
    cached = client.get("/healthz")
    settings.HEALTHZ_CACHE_SECONDS = 0
    fresh = client.get("/healthz")

    assert cached.status_code == 200
    assert fresh.status_code == 503
