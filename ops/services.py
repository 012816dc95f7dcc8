"""Writes of the ops app. API views, tasks and signals call these; nothing else writes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import WorkerProbe
from .outbox import outbox_claim, outbox_enqueue

__all__ = [
    "worker_heartbeat_record",
    "worker_probe_complete",
    "worker_probe_request",
    "worker_probes_prune",
]


def worker_probe_request() -> WorkerProbe:
    """Record a pending probe and send it to a worker once the row is committed.

    The row is the outbox entry: if the broker is down, the sweep sends it again later.
    """
    with transaction.atomic():
        probe = WorkerProbe.objects.create(source=WorkerProbe.Source.PROBE)
        outbox_enqueue(instance=probe)
    return probe


def worker_probe_complete(*, probe_id: uuid.UUID | str, worker: str) -> WorkerProbe | None:
    """Mark a pending probe done by ``worker``; a probe already done keeps its first completion.

    Return the probe, or None when no probe has that id.
    """
    with transaction.atomic():
        probe = outbox_claim(model=WorkerProbe, pk=probe_id)
        if probe is not None:
            probe.completed_at = timezone.now()
            probe.worker = worker
            probe.save(update_fields=["completed_at", "worker"])
            return probe
    return WorkerProbe.objects.filter(id=probe_id).first()


def worker_heartbeat_record(*, worker: str, now: datetime | None = None) -> WorkerProbe:
    """Record that ``worker`` ran the periodic heartbeat, requested and completed at ``now``."""
    now = now or timezone.now()
    return WorkerProbe.objects.create(
        source=WorkerProbe.Source.BEAT, requested_at=now, completed_at=now, worker=worker
    )


def worker_probes_prune(*, now: datetime | None = None) -> int:
    """Delete finished probes older than ``OPS_PROBE_RETENTION_DAYS``; return how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.OPS_PROBE_RETENTION_DAYS)
    deleted, _ = WorkerProbe.objects.filter(completed_at__lt=cutoff).delete()
    return deleted
