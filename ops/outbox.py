"""The transactional outbox: work saved in a request is never lost when the broker is not.

The pattern, for any model whose rows a Celery task finishes:

1. The model inherits ``ops.models.OutboxRow`` and is registered once, in its app's
   ``AppConfig.ready()``::

       outbox_register(model=Attempt, task="quizzes.grade_attempt",
                       pending=Q(graded_at__isnull=True), created_field="submitted_at")

2. The service that writes the row calls ``outbox_enqueue(instance=row)`` inside its transaction.
   The task is sent only after the commit (``transaction.on_commit``); if the broker is down, the
   send fails quietly (one log line) and the row simply stays pending. The first failed send
   blocks for a few seconds (the broker client's connection retries); for the next
   ``BROKER_PAUSE_SECONDS`` this process does not try again, so requests stay fast.
3. The task takes the row id and applies its effect inside ``transaction.atomic()`` on the row
   returned by ``outbox_claim(model=..., pk=...)``: the row locked and still pending, or None when
   it was already done (a second delivery, or the sweep's re-send, then changes nothing).
4. ``outbox_sweep`` (the periodic task ``ops.outbox_sweep`` in ``CELERY_BEAT_SCHEDULE``) sends the
   task again for every registered row still pending ``OUTBOX_RESEND_AFTER`` seconds after it was
   created or last re-sent, at most ``OUTBOX_MAX_RESENDS`` times.

The task id of a row's task is ``outbox_task_id(instance)``, the same for every send, so a caller
can wait on the result of whichever send ran.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.celery_app import app as celery_app

from .models import OutboxRow

__all__ = [
    "OutboxKind",
    "outbox_claim",
    "outbox_enqueue",
    "outbox_kinds",
    "outbox_register",
    "outbox_sweep",
    "outbox_task_id",
]

logger = logging.getLogger(__name__)

RowT = TypeVar("RowT", bound=OutboxRow)
SWEEP_BATCH = 500


@dataclass(frozen=True)
class OutboxKind:
    """How to find a model's pending rows and which task finishes one."""

    model: type[OutboxRow]
    task: str
    pending: Q
    created_field: str

    @property
    def label(self) -> str:
        return self.model._meta.label_lower


_registry: dict[type[OutboxRow], OutboxKind] = {}


def outbox_register(
    *, model: type[OutboxRow], task: str, pending: Q, created_field: str
) -> OutboxKind:
    """Register ``model`` with the outbox: ``task`` (by name) finishes a row whose id it is sent.

    ``pending`` selects the rows not yet finished and ``created_field`` names the timestamp the
    re-send delay counts from. Registering the same model again replaces its entry.
    """
    if not issubclass(model, OutboxRow):
        raise TypeError(f"{model.__name__} must inherit ops.models.OutboxRow to use the outbox")
    model._meta.get_field(created_field)  # fail at start-up, not in the sweep, on a typo
    kind = OutboxKind(model=model, task=task, pending=pending, created_field=created_field)
    _registry[model] = kind
    return kind


def outbox_kinds() -> list[OutboxKind]:
    """Return the registered kinds, in registration order."""
    return list(_registry.values())


def _kind(model: type[models.Model]) -> OutboxKind:
    try:
        return _registry[model]  # type: ignore[index]
    except KeyError:
        raise LookupError(f"{model.__name__} is not registered with the outbox") from None


def outbox_task_id(instance: OutboxRow) -> str:
    """Return the Celery task id every send of this row's task uses."""
    return f"{_kind(type(instance)).label}:{instance.pk}"


# After a failed send, this process skips sending for BROKER_PAUSE_SECONDS: a send to a dead
# broker blocks for seconds (connection retries), and every request would pay that while the
# broker is down. Rows saved meanwhile are simply left pending for the sweep.
BROKER_PAUSE_SECONDS = 5.0
_broker_down_until = 0.0


def _send(kind: OutboxKind, pk: Any) -> bool:
    """Send the task for one row; on any broker failure log one line and leave it to the sweep."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        logger.warning(
            "outbox: broker down a moment ago; %s %s is left to the sweep", kind.label, pk
        )
        return False
    try:
        celery_app.send_task(
            kind.task,
            args=(str(pk),),
            task_id=f"{kind.label}:{pk}",
            # Fail fast: the request must not hang on a dead broker, and the sweep retries.
            retry=False,
            # The row is the result. Without this, the Redis result backend subscribes for the
            # result at send time and, with the broker down, retries for 20 s in the request.
            ignore_result=True,
        )
    except Exception as exc:  # the broker's errors are kombu's, redis's or OSError
        _broker_down_until = time.monotonic() + BROKER_PAUSE_SECONDS
        logger.warning(
            "outbox: could not send %s for %s %s (%s: %s); the sweep will retry",
            kind.task,
            kind.label,
            pk,
            type(exc).__name__,
            exc,
        )
        return False
    return True


def outbox_enqueue(*, instance: OutboxRow) -> None:
    """Send the row's task once the current transaction commits (now, outside a transaction)."""
    kind = _kind(type(instance))
    pk = instance.pk
    transaction.on_commit(lambda: _send(kind, pk))


def outbox_claim(*, model: type[RowT], pk: Any) -> RowT | None:
    """Return the row locked for update if it is still pending, else None (already done or gone).

    Call it inside ``transaction.atomic()`` and apply the task's effect to the returned row in the
    same transaction: a second delivery of the task then finds nothing to do.
    """
    kind = _kind(model)
    return model._default_manager.select_for_update().filter(kind.pending, pk=pk).first()


def outbox_sweep(
    *, now: datetime | None = None, resend_after: float | None = None
) -> dict[str, int]:
    """Send again the task of every registered row still pending after ``resend_after`` seconds.

    A row's delay counts from its last re-send, or from its creation. Rows re-sent
    ``OUTBOX_MAX_RESENDS`` times are left alone and counted as ``given_up``. Return, per kind,
    how many rows were sent, plus the total given up.
    """
    now = now or timezone.now()
    delay = settings.OUTBOX_RESEND_AFTER if resend_after is None else resend_after
    cutoff = now - timedelta(seconds=delay)
    max_resends: int = settings.OUTBOX_MAX_RESENDS
    report: dict[str, int] = {"given_up": 0}
    for kind in outbox_kinds():
        manager = kind.model._default_manager
        pending = manager.filter(kind.pending).annotate(
            _outbox_since=Coalesce("outbox_resent_at", kind.created_field)
        )
        with transaction.atomic():
            # skip_locked: a row a task is finishing right now, or another sweep is re-sending,
            # is not sent again by this one.
            due = list(
                pending.filter(_outbox_since__lte=cutoff, outbox_resends__lt=max_resends)
                .select_for_update(skip_locked=True)
                .order_by(kind.created_field)
                .values_list("pk", flat=True)[:SWEEP_BATCH]
            )
            manager.filter(pk__in=due).update(
                outbox_resent_at=now, outbox_resends=F("outbox_resends") + 1
            )
            for pk in due:
                transaction.on_commit(lambda pk=pk, kind=kind: _send(kind, pk))  # type: ignore[misc]
        given_up = pending.filter(outbox_resends__gte=max_resends).count()
        if due:
            logger.info("outbox: re-sent %d pending %s row(s)", len(due), kind.label)
        if given_up:
            logger.error(
                "outbox: %d %s row(s) still pending after %d re-sends; look at the worker",
                given_up,
                kind.label,
                max_resends,
            )
        report[kind.label] = len(due)
        report["given_up"] += given_up
    return report
