import uuid

from django.db import models


class WorkerProbe(models.Model):
    """A round trip through the broker: written by the web process, completed by a worker."""

    class Source(models.TextChoices):
        PROBE = "probe", "Requested probe"
        BEAT = "beat", "Periodic heartbeat"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.PROBE)
    requested_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
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
