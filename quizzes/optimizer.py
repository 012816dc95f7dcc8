"""Per-learner FSRS parameters: fit them, measure how well parameters predict, decide adoption.

Pure code, like `quizzes.scheduling`: review histories come in as plain values, nothing is read
from the database or the clock.

- Fitting uses the optimizer of fsrs-rs-python (the Rust FSRS, no torch), fed one item per review
  made on a later study day than the card's previous one, with the whole history before it.
- Predictions for scoring come from the scheduler the service runs (`fsrs.Scheduler`, via
  `quizzes.scheduling`), replayed at study-day resolution: every review is placed at the start of
  its study day in the learner's time zone, so "days since the last review" counts day
  boundaries, as the optimizer does and as Anki does. Reviews on the same study day as the card's
  previous review are not scored (they test short-term memory, not the forgetting curve); they
  still update the state.
- The metrics are the FSRS benchmark's: log loss, and RMSE(bins), which groups reviews by the
  interval since the previous review, the number of earlier reviews and the number of lapses
  (each on a logarithmic scale), compares mean prediction with mean outcome in each group and
  weights the squared gaps by group size.
- `parameters_adopt` takes fitted parameters only when they predict held-out reviews better than
  the current ones on both metrics.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from fsrs import Card, Rating
from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS
from fsrs_rs_python import FSRS, FSRSItem, FSRSReview

from quizzes.scheduling import (
    DEFAULT_DESIRED_RETENTION,
    DEFAULT_LEARNING_STEPS,
    DEFAULT_PARAMETERS,
    DEFAULT_RELEARNING_STEPS,
    MAXIMUM_INTERVAL_DAYS,
    scheduler_for,
)

__all__ = [
    "MIN_REVIEWS_TO_FIT",
    "MIN_REVIEWS_TO_JUDGE",
    "CardReview",
    "DayRule",
    "Evaluation",
    "NotEnoughReviewsError",
    "Prediction",
    "fsrs_items",
    "log_loss",
    "parameters_adopt",
    "parameters_evaluate",
    "parameters_fit",
    "predictions",
    "rmse_bin_key",
    "rmse_bins",
]

# Below these counts the optimizer (or the comparison) is mostly noise: fsrs-rs itself refuses to
# train on fewer than a handful of items, and Anki asks for a few hundred reviews.
MIN_REVIEWS_TO_FIT = 400
MIN_REVIEWS_TO_JUDGE = 100
# Keep log loss finite when a prediction is exactly 0 or 1 (torch's BCELoss clamps the log the
# same way, at -100).
_EPS = 1e-15


class NotEnoughReviewsError(ValueError):
    """Too few reviews on distinct days to fit or compare parameters."""


@dataclass(frozen=True, slots=True)
class CardReview:
    """One review of a learner's review log: which card, the rating, when."""

    card_key: str
    rating: int
    reviewed_at: datetime


@dataclass(frozen=True, slots=True)
class DayRule:
    """Where a learner's study day starts: `day_start_hour` o'clock in `tz` (Anki's default 4)."""

    tz: tzinfo = UTC
    day_start_hour: int = 4

    def study_day(self, moment: datetime) -> date:
        """Return the study day `moment` falls on."""
        if moment.tzinfo is None:
            raise ValueError(f"reviewed_at must be timezone-aware, got {moment.isoformat()}")
        return (moment.astimezone(self.tz) - timedelta(hours=self.day_start_hour)).date()


@dataclass(frozen=True, slots=True)
class Prediction:
    """A scored review: predicted recall probability, outcome and the RMSE(bins) features."""

    probability: float
    recalled: bool
    elapsed_days: int
    long_term_reviews: (
        int  # reviews of the card on a later day than the one before, this one included
    )
    lapses: int  # earlier reviews rated Again on a later day than the one before them


@dataclass(frozen=True, slots=True)
class Evaluation:
    log_loss: float
    rmse_bins: float
    count: int


def _by_card(reviews: Iterable[CardReview]) -> dict[str, list[CardReview]]:
    cards: dict[str, list[CardReview]] = defaultdict(list)
    for review in reviews:
        if review.rating not in (1, 2, 3, 4):
            raise ValueError(f"rating must be 1-4, got {review.rating!r} for {review.card_key}")
        cards[review.card_key].append(review)
    for history in cards.values():
        history.sort(key=lambda review: review.reviewed_at)
    return cards


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def predictions(
    *,
    reviews: Iterable[CardReview],
    parameters: Sequence[float],
    day_rule: DayRule,
    scored_from: datetime | None = None,
) -> list[Prediction]:
    """Return the prediction for every scored review, in review-time order.

    A review is scored when it falls on a later study day than the card's previous review and,
    if `scored_from` is given, at or after `scored_from`. Earlier reviews (the whole history)
    still build the card's memory state.
    """
    scheduler = scheduler_for(
        parameters=parameters,
        # Only stability and difficulty are read, and the steps and retention do not touch them.
        desired_retention=DEFAULT_DESIRED_RETENTION,
        learning_steps=DEFAULT_LEARNING_STEPS,
        relearning_steps=DEFAULT_RELEARNING_STEPS,
        maximum_interval=MAXIMUM_INTERVAL_DAYS,
    )
    scored: list[tuple[datetime, Prediction]] = []
    for history in _by_card(reviews).values():
        card = Card(card_id=0, due=_day_start(day_rule.study_day(history[0].reviewed_at)))
        previous_day: date | None = None
        long_term = 0
        lapses = 0
        for review in history:
            day = day_rule.study_day(review.reviewed_at)
            at = _day_start(day)
            if previous_day is not None and day > previous_day:
                long_term += 1
                if scored_from is None or review.reviewed_at >= scored_from:
                    prediction = Prediction(
                        probability=float(scheduler.get_card_retrievability(card, at)),
                        recalled=review.rating > 1,
                        elapsed_days=(day - previous_day).days,
                        long_term_reviews=long_term + 1,
                        lapses=lapses,
                    )
                    scored.append((review.reviewed_at, prediction))
                if review.rating == 1:
                    lapses += 1
            card, _ = scheduler.review_card(card, Rating(review.rating), review_datetime=at)
            previous_day = day
    scored.sort(key=lambda pair: pair[0])
    return [prediction for _, prediction in scored]


def log_loss(items: Sequence[Prediction]) -> float:
    """Return the mean binary cross-entropy of the predictions against the outcomes."""
    if not items:
        raise NotEnoughReviewsError("no scored reviews")
    total = 0.0
    for item in items:
        p = min(max(item.probability, _EPS), 1.0 - _EPS)
        total -= math.log(p) if item.recalled else math.log1p(-p)
    return total / len(items)


def rmse_bin_key(item: Prediction) -> tuple[int, int, int]:
    """Return the RMSE(bins) bucket of a scored review: (interval, review count, lapse count)."""
    # Logarithmic buckets, as the FSRS benchmark and fsrs-rs draw them: the interval on a base
    # of 3.62, the review count on 1.89, the lapse count on 1.73 (no lapse is its own bucket).
    interval = round(2.48 * 3.62 ** math.floor(math.log(item.elapsed_days, 3.62)) * 100)
    reviews = round(1.99 * 1.89 ** math.floor(math.log(item.long_term_reviews, 1.89)))
    if item.lapses == 0:
        return interval, reviews, 0
    lapses = round(1.65 * 1.73 ** math.floor(math.log(item.lapses, 1.73)))
    return interval, reviews, lapses


def rmse_bins(items: Sequence[Prediction]) -> float:
    """Return RMSE(bins): root of the size-weighted mean squared gap between mean prediction and
    mean outcome over the (interval, review count, lapse count) buckets."""
    if not items:
        raise NotEnoughReviewsError("no scored reviews")
    sums: dict[tuple[int, int, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for item in items:
        bucket = sums[rmse_bin_key(item)]
        bucket[0] += item.probability
        bucket[1] += 1.0 if item.recalled else 0.0
        bucket[2] += 1.0
    squared = sum((p / n - y / n) ** 2 * n for p, y, n in sums.values())
    return math.sqrt(squared / len(items))


def parameters_evaluate(
    *,
    parameters: Sequence[float],
    reviews: Iterable[CardReview],
    day_rule: DayRule,
    scored_from: datetime | None = None,
) -> Evaluation:
    """Return log loss and RMSE(bins) of `parameters` on the scored reviews."""
    items = predictions(
        reviews=reviews, parameters=parameters, day_rule=day_rule, scored_from=scored_from
    )
    return Evaluation(log_loss=log_loss(items), rmse_bins=rmse_bins(items), count=len(items))


def fsrs_items(*, reviews: Iterable[CardReview], day_rule: DayRule) -> list[FSRSItem]:
    """Return fsrs-rs-python training items: one per review on a later study day than the card's
    previous review, carrying the card's whole history up to it (day deltas, first = 0)."""
    timed: list[tuple[datetime, FSRSItem]] = []
    for history in _by_card(reviews).values():
        steps: list[FSRSReview] = []
        previous_day: date | None = None
        for review in history:
            day = day_rule.study_day(review.reviewed_at)
            delta = 0 if previous_day is None else (day - previous_day).days
            steps.append(FSRSReview(review.rating, delta))
            if delta > 0:
                timed.append((review.reviewed_at, FSRSItem(list(steps))))
            previous_day = day
    timed.sort(key=lambda pair: pair[0])
    return [item for _, item in timed]


def parameters_fit(
    *,
    reviews: Iterable[CardReview],
    day_rule: DayRule,
    minimum_reviews: int = MIN_REVIEWS_TO_FIT,
) -> tuple[float, ...]:
    """Fit FSRS-6 parameters to a learner's review log with fsrs-rs-python's optimizer.

    Raise NotEnoughReviewsError below `minimum_reviews` reviews on a later day than the card's
    previous one. The result is clipped into the `fsrs` library's bounds: fsrs-rs works in
    32-bit floats, so a parameter at a bound can land a hair outside it.
    """
    items = fsrs_items(reviews=reviews, day_rule=day_rule)
    if len(items) < minimum_reviews:
        raise NotEnoughReviewsError(
            f"{len(items)} reviews on a later day than the card's previous review; "
            f"fitting needs at least {minimum_reviews}"
        )
    fitted = FSRS([]).compute_parameters(items)
    if len(fitted) != len(DEFAULT_PARAMETERS):
        raise RuntimeError(f"the optimizer returned {len(fitted)} parameters, expected 21")
    return tuple(
        min(max(float(w), low), high)
        for w, low, high in zip(
            fitted, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True
        )
    )


def parameters_adopt(
    *,
    current: Sequence[float],
    candidate: Sequence[float],
    reviews: Iterable[CardReview],
    held_out_from: datetime,
    day_rule: DayRule,
    minimum_reviews: int = MIN_REVIEWS_TO_JUDGE,
) -> bool:
    """Return whether to adopt `candidate`: it must beat `current` on the held-out reviews.

    `reviews` is the learner's whole log (the history builds each card's state); the reviews at
    or after `held_out_from` are the held-out ones (the candidate was fitted on those before).
    Adopt only when the candidate has both a lower log loss and a lower RMSE(bins), and only
    when at least `minimum_reviews` held-out reviews are scored; otherwise keep the current.
    """
    log = list(reviews)
    ours = predictions(
        reviews=log, parameters=current, day_rule=day_rule, scored_from=held_out_from
    )
    if len(ours) < minimum_reviews:
        return False
    theirs = predictions(
        reviews=log, parameters=candidate, day_rule=day_rule, scored_from=held_out_from
    )
    return log_loss(theirs) < log_loss(ours) and rmse_bins(theirs) < rmse_bins(ours)
