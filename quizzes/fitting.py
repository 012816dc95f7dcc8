"""Periodic per-learner FSRS parameters: fit them to the learner's own reviews, adopt if better.

The ``quizzes.refit_parameters`` task runs :func:`parameters_refit_due` once a day. A learner
qualifies once they have :data:`MIN_REVIEWS_TO_REFIT` reviews (undone ones left out) and, if
they were fitted before, :data:`NEW_REVIEWS_TO_REFIT` more than at that fit. For each,
:func:`learner_parameters_refit`:

1. reads the learner's review log (card, rating, time; undone reviews left out);
2. holds out the last :data:`HELD_OUT_SHARE` of it by time, fits FSRS-6 parameters on the rest
   with fsrs-rs-python (:func:`quizzes.optimizer.parameters_fit`);
3. scores the learner's current parameters and the fitted ones on the held-out reviews (log loss
   and RMSE(bins)) and adopts the fitted ones into ``StudySettings.fsrs_parameters`` only when
   :func:`quizzes.optimizer.parameters_adopt` says they predict better on both, as Anki does;
4. records the decision as a :class:`~quizzes.models.ParameterFit` row, including "too few"
   when the log has too few reviews on distinct days to fit or judge, so the task does not try
   again before new reviews come in.

Study days follow the learner's time zone and day-start hour, like the scheduler's.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from . import services
from .models import ParameterFit, ReviewLog, StudySettings
from .optimizer import (
    MIN_REVIEWS_TO_FIT,
    MIN_REVIEWS_TO_JUDGE,
    CardReview,
    DayRule,
    NotEnoughReviewsError,
    parameters_adopt,
    parameters_evaluate,
    parameters_fit,
)
from .selectors import learner_parameters, study_settings_get

__all__ = [
    "HELD_OUT_SHARE",
    "MIN_REVIEWS_TO_REFIT",
    "NEW_REVIEWS_TO_REFIT",
    "RefitRun",
    "learner_parameters_refit",
    "learner_review_log",
    "learners_due_for_refit",
    "parameters_refit_due",
]

logger = logging.getLogger(__name__)

# A learner's first fit waits for this many reviews (Anki asks for a few hundred), and each later
# one for this many new reviews since the last fit, so a daily run does not refit needlessly.
MIN_REVIEWS_TO_REFIT = 400
NEW_REVIEWS_TO_REFIT = 200
# The last fifth of the log by time is held out to judge the fit (the 80/20 split).
HELD_OUT_SHARE = 0.2


def _not_undone() -> Q:
    return Q(undo__isnull=True)


def learner_review_log(*, learner: Any) -> list[CardReview]:
    """Return the learner's reviews, undone ones left out, oldest first (a read, one query)."""
    rows = (
        ReviewLog.objects.filter(_not_undone(), learner=learner)
        .order_by("reviewed_at", "id")
        .values_list("card_id", "rating", "reviewed_at")
    )
    return [
        CardReview(card_key=str(card_id), rating=rating, reviewed_at=at)
        for card_id, rating, at in rows
    ]


def learners_due_for_refit(
    *,
    min_reviews: int = MIN_REVIEWS_TO_REFIT,
    new_reviews: int = NEW_REVIEWS_TO_REFIT,
) -> list[tuple[int, int]]:
    """Return (learner id, review count) of every learner due for a fit, in one query.

    Due: at least ``min_reviews`` reviews (undone ones left out) and at least ``new_reviews``
    more than when last fitted (a learner never fitted counts as fitted at 0 reviews).
    """
    counts = (
        ReviewLog.objects.filter(_not_undone(), learner=OuterRef("pk"))
        .order_by()
        .values("learner")
        .annotate(n=Count("id"))
        .values("n")
    )
    last_fit = (
        ParameterFit.objects.filter(learner=OuterRef("pk"))
        .order_by("-fitted_at", "-id")
        .values("reviews")[:1]
    )
    learners = (
        get_user_model()
        .objects.annotate(
            review_count=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0)),
            fitted_at_count=Subquery(last_fit, output_field=IntegerField()),
        )
        .filter(review_count__gte=min_reviews)
        .filter(
            Q(fitted_at_count__isnull=True)
            | Q(review_count__gte=F("fitted_at_count") + new_reviews)
        )
        .order_by("pk")
        .values_list("pk", "review_count")
    )
    return list(learners)


def _day_rule(prefs: StudySettings) -> DayRule:
    return DayRule(tz=ZoneInfo(prefs.time_zone), day_start_hour=prefs.day_starts_at)


def learner_parameters_refit(
    *,
    learner: Any,
    now: datetime,
    minimum_fit_reviews: int = MIN_REVIEWS_TO_FIT,
    minimum_judge_reviews: int = MIN_REVIEWS_TO_JUDGE,
) -> ParameterFit:
    """Fit the learner's parameters on their review log, adopt them if they predict better.

    Returns the recorded :class:`ParameterFit` (outcome adopted, kept or too_few). The minimums
    are those of :mod:`quizzes.optimizer`: scored reviews (on a later study day than the card's
    previous one) in the fitting part and in the held-out part. Does not check whether the
    learner is due; :func:`parameters_refit_due` does. Raises whatever the optimizer raises on
    a failure other than too few reviews (the periodic run logs it and goes on).
    """
    started = time.perf_counter()
    prefs = study_settings_get(learner=learner)
    current = learner_parameters(prefs=prefs)
    day_rule = _day_rule(prefs)
    log = learner_review_log(learner=learner)
    fit = ParameterFit(learner=learner, fitted_at=now, reviews=len(log))
    fit.outcome = ParameterFit.Outcome.TOO_FEW
    if log:
        cut = log[min(len(log) - 1, int(len(log) * (1 - HELD_OUT_SHARE)))].reviewed_at
        fit.held_out_from = cut
        try:
            fitted = parameters_fit(
                reviews=[review for review in log if review.reviewed_at < cut],
                day_rule=day_rule,
                minimum_reviews=minimum_fit_reviews,
            )
            before = parameters_evaluate(
                parameters=current, reviews=log, day_rule=day_rule, scored_from=cut
            )
            after = parameters_evaluate(
                parameters=fitted, reviews=log, day_rule=day_rule, scored_from=cut
            )
        except NotEnoughReviewsError as exc:
            logger.info("parameter fit of learner %s skipped: %s", learner.pk, exc)
        else:
            fit.parameters = list(fitted)
            fit.held_out_count = before.count
            fit.current_log_loss, fit.current_rmse_bins = before.log_loss, before.rmse_bins
            fit.fitted_log_loss, fit.fitted_rmse_bins = after.log_loss, after.rmse_bins
            better = parameters_adopt(
                current=current,
                candidate=fitted,
                reviews=log,
                held_out_from=cut,
                day_rule=day_rule,
                minimum_reviews=minimum_judge_reviews,
            )
            if before.count < minimum_judge_reviews:
                fit.outcome = ParameterFit.Outcome.TOO_FEW
            elif better:
                fit.outcome = ParameterFit.Outcome.ADOPTED
            else:
                fit.outcome = ParameterFit.Outcome.KEPT
    with transaction.atomic():
        if fit.outcome == ParameterFit.Outcome.ADOPTED:
            locked = StudySettings.objects.select_for_update().filter(learner=learner).first()
            still = learner_parameters(prefs=locked) if locked is not None else None
            if locked is not None and still != current:
                # The parameters changed while we fitted (another run, an import): judge again
                # next time rather than overwrite what we did not compare against.
                fit.outcome = ParameterFit.Outcome.KEPT
            else:
                services.study_settings_update(learner=learner, fsrs_parameters=fit.parameters)
        fit.seconds = time.perf_counter() - started
        fit.save()
    logger.info(
        "parameter fit of learner %s on %d reviews: %s (log loss %s -> %s, RMSE(bins) %s -> %s)",
        learner.pk,
        fit.reviews,
        fit.outcome,
        fit.current_log_loss,
        fit.fitted_log_loss,
        fit.current_rmse_bins,
        fit.fitted_rmse_bins,
    )
    return fit


@dataclass(frozen=True)
class RefitRun:
    """What one periodic run did: learners fitted per outcome, and those whose fit failed."""

    outcomes: dict[str, int]
    failed: list[int]

    def as_dict(self) -> dict[str, Any]:
        return {"outcomes": self.outcomes, "failed": self.failed}


def parameters_refit_due(*, now: datetime) -> RefitRun:
    """Fit every learner due for a fit (:func:`learners_due_for_refit`), one at a time.

    A learner whose fit raises is logged with the traceback and counted as failed; the others
    go on. Nothing is recorded for a failed learner, so the next run tries again.
    """
    outcomes: dict[str, int] = {}
    failed: list[int] = []
    users = get_user_model().objects
    for learner_id, _count in learners_due_for_refit():
        try:
            fit = learner_parameters_refit(learner=users.get(pk=learner_id), now=now)
        except Exception:  # isolated per learner: logged, counted, the run goes on
            logger.exception("parameter fit of learner %s failed", learner_id)
            failed.append(learner_id)
        else:
            outcomes[fit.outcome] = outcomes.get(fit.outcome, 0) + 1
    return RefitRun(outcomes=outcomes, failed=failed)
