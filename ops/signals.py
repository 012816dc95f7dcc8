"""Worker start-up: record a heartbeat right away, so /healthz need not wait for beat's first."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_ready

__all__ = ["connect"]

logger = logging.getLogger(__name__)


def _heartbeat_on_start(sender: Any = None, **kwargs: Any) -> None:
    from .tasks import record_heartbeat

    try:
        # Through the broker, like beat's: the row proves the whole round trip works.
        record_heartbeat.apply_async(retry=False)
    except Exception as exc:  # a broker hiccup at start-up only delays the first heartbeat
        logger.warning("could not send the start-up heartbeat: %s", exc)


def connect() -> None:
    """Connect the ops signal handlers (idempotent)."""
    worker_ready.connect(_heartbeat_on_start, dispatch_uid="ops-heartbeat-on-start", weak=False)
