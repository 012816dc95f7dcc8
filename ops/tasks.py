"""Celery tasks of the ops app: thin transports that take ids and call one service."""

from typing import Any

from celery import Task, shared_task

from . import outbox, services


@shared_task(bind=True, name="ops.complete_worker_probe", max_retries=3)
def complete_worker_probe(self: Task[Any, Any], probe_id: str) -> dict[str, str] | None:
    probe = services.worker_probe_complete(probe_id=probe_id, worker=self.request.hostname or "")
    if probe is None or probe.completed_at is None:
        return None
    return {
        "probe": str(probe.id),
        "worker": probe.worker,
        "completed_at": probe.completed_at.isoformat(),
    }


@shared_task(bind=True, name="ops.record_heartbeat", ignore_result=True)
def record_heartbeat(self: Task[Any, Any]) -> None:
    services.worker_heartbeat_record(worker=self.request.hostname or "")
    services.worker_probes_prune()


@shared_task(name="ops.outbox_sweep", ignore_result=True)
def outbox_sweep(resend_after: float | None = None) -> dict[str, int]:
    return outbox.outbox_sweep(resend_after=resend_after)
