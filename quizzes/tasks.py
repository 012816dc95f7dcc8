"""Celery tasks of the quizzes app: thin transports that take ids and call one service."""

from typing import Any

from celery import Task, shared_task

from . import services


@shared_task(bind=True, name="quizzes.complete_worker_probe", max_retries=3)
def complete_worker_probe(self: Task[Any, Any], probe_id: str) -> dict[str, str]:
    probe = services.worker_probe_complete(probe_id=probe_id, worker=self.request.hostname or "")
    assert probe.completed_at is not None
    return {
        "probe": str(probe.id),
        "worker": probe.worker,
        "completed_at": probe.completed_at.isoformat(),
    }


@shared_task(bind=True, name="quizzes.record_heartbeat", ignore_result=True)
def record_heartbeat(self: Task[Any, Any]) -> None:
    services.worker_heartbeat_record(worker=self.request.hostname or "")
