from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Registering here (not at import time) keeps the registry identical in the web, worker
        # and beat processes, which all run ready(). Signals connect the worker's start-up
        # heartbeat.
        from . import signals
        from .models import WorkerProbe
        from .outbox import outbox_register

        outbox_register(
            model=WorkerProbe,
            task="ops.complete_worker_probe",
            pending=WorkerProbe.pending_condition(),
            created_field="requested_at",
        )
        signals.connect()
