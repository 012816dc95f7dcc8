"""Writes of the quizzes app. Views, API views and tasks call these; nothing else writes."""

import uuid

from django.db import transaction
from django.utils import timezone

from .models import WorkerProbe

__all__ = ["worker_probe_complete", "worker_probe_request"]


def worker_probe_request() -> WorkerProbe:
    """Record a probe and enqueue its completion once the row is committed.

    The Celery task id is the probe id, so the caller can wait on the task's result.
    """
    from .tasks import complete_worker_probe

    with transaction.atomic():
        probe = WorkerProbe.objects.create(source=WorkerProbe.Source.PROBE)
        probe_id = str(probe.id)
        transaction.on_commit(
            lambda: complete_worker_probe.apply_async(args=(probe_id,), task_id=probe_id)
        )
    return probe


def worker_probe_complete(*, probe_id: uuid.UUID | str, worker: str) -> WorkerProbe:
    """Mark a probe done by ``worker``. Running it twice keeps the first completion."""
    with transaction.atomic():
        probe = WorkerProbe.objects.select_for_update().get(id=probe_id)
        if probe.completed_at is None:
            probe.completed_at = timezone.now()
            probe.worker = worker
            probe.save(update_fields=["completed_at", "worker"])
    return probe


def worker_heartbeat_record(*, worker: str) -> WorkerProbe:
    """Record that a worker ran the periodic heartbeat scheduled by beat."""
    now = timezone.now()
    return WorkerProbe.objects.create(
        source=WorkerProbe.Source.BEAT, completed_at=now, worker=worker
    )
