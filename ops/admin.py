from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import WorkerProbe


@admin.register(WorkerProbe)
class WorkerProbeAdmin(admin.ModelAdmin[WorkerProbe]):
    """Read-only view of broker round trips and beat heartbeats, for operators."""

    list_display = ["id", "source", "requested_at", "completed_at", "worker", "outbox_resends"]
    list_filter = ["source"]
    readonly_fields = [
        "id",
        "source",
        "requested_at",
        "completed_at",
        "worker",
        "outbox_resends",
        "outbox_resent_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
