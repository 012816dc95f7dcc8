"""Reads of the ops app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from .models import WorkerProbe

__all__ = ["WorkerLiveness", "worker_liveness"]


@dataclass(frozen=True)
class WorkerLiveness:
    """The most recent worker completions within the freshness window."""

    last_seen: datetime | None
    workers: list[str]

    @property
    def alive(self) -> bool:
        return self.last_seen is not None


def worker_liveness(*, max_age: float, now: datetime | None = None) -> WorkerLiveness:
    """Return when a worker last completed a heartbeat or probe within ``max_age`` seconds.

    One indexed query on ``completed_at``; no message goes through the broker.
    """
    now = now or timezone.now()
    recent = list(
        WorkerProbe.objects.filter(completed_at__gte=now - timedelta(seconds=max_age))
        .order_by("-completed_at")
        .values_list("worker", "completed_at")[:50]
    )
    if not recent:
        return WorkerLiveness(last_seen=None, workers=[])
    return WorkerLiveness(
        last_seen=recent[0][1], workers=sorted({worker for worker, _ in recent if worker})
    )
