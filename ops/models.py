import uuid

from django.db import models
from django.utils import timezone


class OutboxRow(models.Model):
    """Bookkeeping of the transactional outbox (see ``ops.outbox``) for a row that a task finishes.

    A model that stores work for a task inherits these two fields and registers itself with
    ``ops.outbox.outbox_register``; the sweep then re-sends its rows still pending after a while.
    """

    outbox_resends = models.PositiveIntegerField(
        default=0, help_text="How many times the sweep sent this row's task again."
    )
    outbox_resent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the sweep last sent this row's task again."
    )

    class Meta:
        abstract = True


class WorkerProbe(OutboxRow):
    """A round trip through the broker: written by the web process or beat, completed by a worker."""

    class Source(models.TextChoices):
        PROBE = "probe", "Requested probe"
        BEAT = "beat", "Periodic heartbeat"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.PROBE)
    # A default rather than auto_now_add: a heartbeat is requested and completed at the same
    # instant, and auto_now_add would stamp requested_at at the INSERT, after completed_at was
    # taken, which broke the check constraint below on every heartbeat.
    requested_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    worker = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(completed_at__isnull=True)
                | models.Q(completed_at__gte=models.F("requested_at")),
                name="worker_probe_completed_after_requested",
            ),
        ]

    def __str__(self) -> str:
        state = "done" if self.completed_at else "pending"
        return f"{self.source} probe {self.id} ({state})"

    @staticmethod
    def pending_condition() -> models.Q:
        """Return the filter of probes still waiting for a worker."""
        return models.Q(completed_at__isnull=True)
