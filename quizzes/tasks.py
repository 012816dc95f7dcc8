"""Celery tasks of the learning engine: thin transports that take ids and call one service."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone

from . import fitting, services


@shared_task(name="quizzes.grade_attempt", ignore_result=True)
def grade_attempt(attempt_id: str) -> str | None:
    # Delivered at least once (late ack, sweep re-sends); the service applies it at most once.
    attempt = services.attempt_grade(attempt_id=attempt_id, now=timezone.now())
    return None if attempt is None else attempt.status


@shared_task(name="quizzes.refit_parameters", ignore_result=False)
def refit_parameters() -> dict[str, Any]:
    # Idempotent: a learner just fitted is not due again until new reviews come in.
    return fitting.parameters_refit_due(now=timezone.now()).as_dict()
