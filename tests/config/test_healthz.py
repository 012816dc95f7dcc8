import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.integration


@pytest.mark.django_db(transaction=True)
def test_healthz_is_200_when_database_broker_and_worker_answer(
    client: Client, celery_worker: str
) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert celery_worker in body["checks"]["worker"]["workers"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_healthz_is_503_naming_the_broker_when_redis_is_down(
    client: Client, redis_url: str
) -> None:
    # Nothing listens on port 1: the broker is unreachable.
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert "broker" in body["failing"]
    assert body["checks"]["broker"]["ok"] is False
    assert "Connection" in body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_healthz_rejects_other_methods(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
