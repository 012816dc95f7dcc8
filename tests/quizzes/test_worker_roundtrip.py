import uuid

import pytest
from celery.result import AsyncResult
from django.contrib.auth.models import User
from django.test import Client

from config.celery_app import app as celery_app
from quizzes.models import WorkerProbe
from quizzes.services import worker_probe_complete

pytestmark = pytest.mark.integration
RESULT_TIMEOUT = 60


@pytest.mark.django_db(transaction=True)
def test_probe_enqueued_by_web_is_completed_by_worker_process(
    client: Client, celery_worker: str
) -> None:
    staff = User.objects.create_user("ops", password="pw-ops-123", is_staff=True)
    client.force_login(staff)

    response = client.post("/api/v1/ops/worker-probes/")

    assert response.status_code == 202
    probe_id = response.json()["id"]
    result: dict[str, str] = AsyncResult(probe_id, app=celery_app).get(timeout=RESULT_TIMEOUT)
    assert result["worker"] == celery_worker
    probe = WorkerProbe.objects.get(id=probe_id)
    assert probe.completed_at is not None
    assert probe.worker == celery_worker
    detail = client.get(f"/api/v1/ops/worker-probes/{probe_id}/").json()
    assert detail["worker"] == celery_worker


@pytest.mark.django_db
def test_completing_a_probe_twice_keeps_the_first_completion() -> None:
    probe = WorkerProbe.objects.create()
    first = worker_probe_complete(probe_id=probe.id, worker="a@host")
    second = worker_probe_complete(probe_id=probe.id, worker="b@host")

    assert second.worker == "a@host"
    assert second.completed_at == first.completed_at


@pytest.mark.django_db
def test_probe_api_refuses_learners_with_the_error_shape(client: Client) -> None:
    User.objects.create_user("learner1", password="pw-learner-1")
    client.login(username="learner1", password="pw-learner-1")

    response = client.post("/api/v1/ops/worker-probes/")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not WorkerProbe.objects.exists()


@pytest.mark.django_db
def test_unknown_probe_is_404_with_the_error_shape(admin_client: Client) -> None:
    response = admin_client.get(f"/api/v1/ops/worker-probes/{uuid.uuid4()}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
