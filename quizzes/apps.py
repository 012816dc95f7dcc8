from django.apps import AppConfig


class QuizzesConfig(AppConfig):
    name = "quizzes"
    verbose_name = "Quizzes"

    def ready(self) -> None:
        # Registered here, not at import time, so the web, worker and beat processes (which all
        # run ready()) share one outbox registry.
        from ops.outbox import outbox_register

        from .models import Attempt

        outbox_register(
            model=Attempt,
            task="quizzes.grade_attempt",
            pending=Attempt.pending_condition(),
            created_field="submitted_at",
        )
