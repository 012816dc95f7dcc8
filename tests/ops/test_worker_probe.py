import uuid

import pytest
from django.contrib.auth.models import User
from django.test import Client

from ops.models import WorkerProbe
from ops.services import worker_probe_complete
from tests.conftest import wait_until

RESULT_TIMEOUT = 60


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_probe_enqueued_by_web_is_completed_by_worker_process(
    client: Client, celery_worker: str
) -> None:
    staff = User.objects.create_user("ops", password="pw-ops-123", is_staff=True)
    client.force_login(staff)

    response = client.post("/api/v1/ops/worker-probes/")

    assert response.status_code == 202
    probe_id = response.json()["id"]
    assert response.json()["completed_at"] is None
    probe = wait_until(
        lambda: WorkerProbe.objects.filter(id=probe_id, completed_at__isnull=False).first(),
        timeout=RESULT_TIMEOUT,
        what="the worker to complete the probe",
    )
    assert probe.worker == celery_worker
    assert probe.outbox_resends == 0  # sent once after commit; the sweep had nothing to do
    detail = client.get(f"/api/v1/ops/worker-probes/{probe_id}/").json()
    assert detail["worker"] == celery_worker
    assert detail["task_id"] == f"ops.workerprobe:{probe_id}"


@pytest.mark.django_db
def test_completing_a_probe_twice_keeps_the_first_completion() -> None:
    probe = WorkerProbe.objects.create()
    first = worker_probe_complete(probe_id=probe.id, worker="a@host")
    second = worker_probe_complete(probe_id=probe.id, worker="b@host")

    assert first is not None and second is not None
    assert second.worker == "a@host"
    assert second.completed_at == first.completed_at


@pytest.mark.django_db
def test_completing_an_unknown_probe_changes_nothing() -> None:
    assert worker_probe_complete(probe_id=uuid.uuid4(), worker="a@host") is None
    assert not WorkerProbe.objects.exists()


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


@pytest.mark.django_db
def test_operators_read_probes_in_the_admin_and_instructors_do_not(
    admin_client: Client, client: Client
) -> None:
    probe = WorkerProbe.objects.create()
    # Staff (an instructor, say) without the ops app's permissions.
    client.force_login(User.objects.create_user("teacher", password="pw-teach-123", is_staff=True))

    listing = admin_client.get("/admin/ops/workerprobe/")
    detail = admin_client.get(f"/admin/ops/workerprobe/{probe.id}/change/")
    refused = client.get("/admin/ops/workerprobe/")

    assert listing.status_code == 200 and str(probe.id) in listing.content.decode()
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content  # read-only: nothing to save
    assert refused.status_code == 403
    assert admin_client.get("/admin/ops/workerprobe/add/").status_code == 403
