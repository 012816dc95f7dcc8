"""Per-learner parameters: the metrics, fitting with fsrs-rs-python, and the adoption rule."""

from __future__ import annotations

import csv
import math
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fsrs import Card, Rating
from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS
from fsrs_rs_python import FSRS

from quizzes.optimizer import (
    CardReview,
    DayRule,
    NotEnoughReviewsError,
    Prediction,
    fsrs_items,
    log_loss,
    parameters_adopt,
    parameters_evaluate,
    parameters_fit,
    predictions,
    rmse_bin_key,
    rmse_bins,
)
from quizzes.scheduling import DEFAULT_PARAMETERS, scheduler_for

SAMPLE = Path(__file__).resolve().parent / "data" / "revlog-sample.csv"
UTC_DAYS = DayRule(tz=UTC, day_start_hour=0)
START = datetime(2025, 1, 6, tzinfo=UTC)

# A learner whose memory clearly does not follow the defaults: initial stabilities eight times
# longer and a steeper forgetting curve.
WRONG = list(DEFAULT_PARAMETERS)
WRONG[0:4] = [w * 8 for w in DEFAULT_PARAMETERS[0:4]]
WRONG[20] = 0.6


def _sample() -> list[CardReview]:
    with SAMPLE.open(newline="") as handle:
        return [
            CardReview(
                card_key=row["card_id"],
                rating=int(row["review_rating"]),
                reviewed_at=datetime.fromisoformat(row["review_time"]),
            )
            for row in csv.DictReader(handle)
        ]


def _simulate(
    *, truth: list[float] | tuple[float, ...], cards: int, days: int, seed: int
) -> list[CardReview]:
    """Return the review log of a simulated learner whose recall follows `truth` exactly.

    Cards are scheduled by FSRS with the true parameters (retention 0.85) and reviewed on the due
    day at a random hour; recall is drawn with the true retrievability of that moment.
    """
    rng = random.Random(seed)
    scheduler = scheduler_for(
        parameters=truth,
        desired_retention=0.85,
        learning_steps=(),
        relearning_steps=(),
        maximum_interval=days,
    )
    log: list[CardReview] = []
    for number in range(cards):
        key = f"card-{number}"
        day = rng.randrange(0, days // 3)
        card = Card(card_id=0, due=START)
        while day < days:
            at_day = START + timedelta(days=day)
            if card.last_review is None:
                rating = rng.choice([Rating.Again, Rating.Good, Rating.Good, Rating.Easy])
            else:
                recall = scheduler.get_card_retrievability(card, at_day)
                rating = Rating.Good if rng.random() < recall else Rating.Again
            log.append(
                CardReview(
                    card_key=key,
                    rating=int(rating),
                    reviewed_at=at_day + timedelta(hours=rng.randrange(6, 22)),
                )
            )
            card, _ = scheduler.review_card(card, rating, review_datetime=at_day)
            day += max(1, (card.due - at_day).days)
    log.sort(key=lambda review: review.reviewed_at)
    return log


# --- the metrics ---------------------------------------------------------------------------------


def test_log_loss_by_hand() -> None:
    items = [
        Prediction(probability=0.9, recalled=True, elapsed_days=1, long_term_reviews=2, lapses=0),
        Prediction(probability=0.6, recalled=False, elapsed_days=1, long_term_reviews=2, lapses=0),
    ]
    assert log_loss(items) == pytest.approx(-(math.log(0.9) + math.log(0.4)) / 2, rel=1e-12)
    # A certain prediction that is wrong costs a lot but stays finite.
    sure = Prediction(
        probability=1.0, recalled=False, elapsed_days=1, long_term_reviews=2, lapses=0
    )
    assert 30 < log_loss([sure]) < 40


def test_rmse_bins_by_hand() -> None:
    # Two in one bucket (interval 1 day, 2 reviews, no lapse): mean prediction 0.8, outcome 0.5;
    # one in another (interval 30 days): 0.7 against 1.
    a = Prediction(probability=0.9, recalled=True, elapsed_days=1, long_term_reviews=2, lapses=0)
    b = Prediction(probability=0.7, recalled=False, elapsed_days=1, long_term_reviews=2, lapses=0)
    c = Prediction(probability=0.7, recalled=True, elapsed_days=30, long_term_reviews=2, lapses=0)
    expected = math.sqrt((2 * (0.8 - 0.5) ** 2 + 1 * (0.7 - 1.0) ** 2) / 3)
    assert rmse_bins([a, b, c]) == pytest.approx(expected, rel=1e-12)
    # Within one bucket errors cancel: that is what makes it RMSE of *bins*.
    assert rmse_bins([a, b]) == pytest.approx(0.3, rel=1e-12)
    with pytest.raises(NotEnoughReviewsError):
        rmse_bins([])


def test_log_loss_equals_fsrs_rs_on_a_real_learner() -> None:
    reviews = _sample()
    ours = predictions(reviews=reviews, parameters=DEFAULT_PARAMETERS, day_rule=UTC_DAYS)
    items = fsrs_items(reviews=reviews, day_rule=UTC_DAYS)
    assert len(ours) == len(items) > 150
    model = FSRS(list(DEFAULT_PARAMETERS))
    # One item per call: fsrs-rs-python 0.9.3's evaluate pads a batch's histories, and its
    # result then depends on how the items are grouped.
    theirs = sum(model.evaluate([item]).log_loss for item in items) / len(items)
    assert log_loss(ours) == pytest.approx(theirs, abs=2e-6)


def test_each_prediction_equals_fsrs_rs_one_item_at_a_time() -> None:
    reviews = _sample()
    ours = predictions(reviews=reviews, parameters=DEFAULT_PARAMETERS, day_rule=UTC_DAYS)
    items = fsrs_items(reviews=reviews, day_rule=UTC_DAYS)
    model = FSRS(list(DEFAULT_PARAMETERS))
    for prediction, item in zip(ours, items, strict=True):
        # For a single review RMSE(bins) is |p - y|, which gives fsrs-rs's p back.
        gap = model.evaluate([item]).rmse_bins
        theirs = 1.0 - gap if prediction.recalled else gap
        assert prediction.probability == pytest.approx(theirs, abs=2e-6)


@pytest.mark.parametrize(
    ("elapsed_days", "long_term_reviews", "lapses", "bucket"),
    [
        # interval buckets change at powers of 3.62 days, review counts at powers of 1.89,
        # lapse counts at powers of 1.73 (fsrs-rs's r_matrix_index)
        (1, 2, 0, (248, 4, 0)),
        (3, 3, 1, (248, 4, 2)),
        (4, 4, 2, (898, 7, 3)),
        (13, 6, 3, (898, 7, 5)),
        (14, 7, 4, (3250, 13, 5)),
        (47, 12, 5, (3250, 13, 5)),
        (48, 13, 9, (11765, 25, 15)),
    ],
)
def test_rmse_bucket_edges(
    elapsed_days: int, long_term_reviews: int, lapses: int, bucket: tuple[int, int, int]
) -> None:
    item = Prediction(
        probability=0.5,
        recalled=True,
        elapsed_days=elapsed_days,
        long_term_reviews=long_term_reviews,
        lapses=lapses,
    )
    assert rmse_bin_key(item) == bucket


def test_same_study_day_reviews_build_state_but_are_not_scored() -> None:
    at = datetime(2025, 3, 3, 23, 0, tzinfo=UTC)
    reviews = [
        CardReview(card_key="a", rating=1, reviewed_at=at),
        CardReview(card_key="a", rating=3, reviewed_at=at + timedelta(minutes=10)),
        # 02:00 the next calendar day is still the same study day when the day starts at 04:00
        CardReview(card_key="a", rating=3, reviewed_at=at + timedelta(hours=3)),
        CardReview(card_key="a", rating=3, reviewed_at=at + timedelta(days=2)),
    ]
    four_am = predictions(reviews=reviews, parameters=DEFAULT_PARAMETERS, day_rule=DayRule())
    midnight = predictions(reviews=reviews, parameters=DEFAULT_PARAMETERS, day_rule=UTC_DAYS)
    assert [p.elapsed_days for p in four_am] == [2]
    assert [p.elapsed_days for p in midnight] == [1, 1]
    local = DayRule(tz=timezone(timedelta(hours=-7)), day_start_hour=4)
    assert local.study_day(datetime(2025, 3, 4, 10, 59, tzinfo=UTC)).isoformat() == "2025-03-03"
    assert local.study_day(datetime(2025, 3, 4, 11, 0, tzinfo=UTC)).isoformat() == "2025-03-04"


# --- fitting and adoption ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated() -> list[CardReview]:
    return _simulate(truth=DEFAULT_PARAMETERS, cards=300, days=240, seed=11)


def _held_out_from(reviews: list[CardReview]) -> datetime:
    return reviews[int(len(reviews) * 0.8)].reviewed_at


def test_the_true_parameters_are_adopted_over_clearly_wrong_ones(
    simulated: list[CardReview],
) -> None:
    cut = _held_out_from(simulated)
    assert parameters_adopt(
        current=WRONG,
        candidate=DEFAULT_PARAMETERS,
        reviews=simulated,
        held_out_from=cut,
        day_rule=UTC_DAYS,
    )


def test_clearly_wrong_parameters_are_not_adopted(simulated: list[CardReview]) -> None:
    cut = _held_out_from(simulated)
    assert not parameters_adopt(
        current=DEFAULT_PARAMETERS,
        candidate=WRONG,
        reviews=simulated,
        held_out_from=cut,
        day_rule=UTC_DAYS,
    )
    # Equal is not better: the current parameters stay.
    assert not parameters_adopt(
        current=DEFAULT_PARAMETERS,
        candidate=DEFAULT_PARAMETERS,
        reviews=simulated,
        held_out_from=cut,
        day_rule=UTC_DAYS,
    )


def test_too_few_held_out_reviews_keep_the_current_parameters(
    simulated: list[CardReview],
) -> None:
    late = simulated[-30].reviewed_at
    assert not parameters_adopt(
        current=WRONG,
        candidate=DEFAULT_PARAMETERS,
        reviews=simulated,
        held_out_from=late,
        day_rule=UTC_DAYS,
    )


def test_fitted_parameters_recover_the_learner_and_are_adopted(
    simulated: list[CardReview],
) -> None:
    cut = _held_out_from(simulated)
    training = [review for review in simulated if review.reviewed_at < cut]
    fitted = parameters_fit(reviews=training, day_rule=UTC_DAYS)
    assert len(fitted) == 21
    assert all(
        low <= w <= high
        for w, low, high in zip(
            fitted, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True
        )
    )
    assert parameters_adopt(
        current=WRONG, candidate=fitted, reviews=simulated, held_out_from=cut, day_rule=UTC_DAYS
    )
    truth = parameters_evaluate(
        parameters=DEFAULT_PARAMETERS, reviews=simulated, day_rule=UTC_DAYS, scored_from=cut
    )
    found = parameters_evaluate(
        parameters=fitted, reviews=simulated, day_rule=UTC_DAYS, scored_from=cut
    )
    # Fitted on 80% of the log, they predict the rest about as well as the truth does.
    assert found.log_loss < truth.log_loss + 0.01


def test_fitting_needs_enough_reviews() -> None:
    reviews = _sample()
    with pytest.raises(NotEnoughReviewsError, match="at least 400"):
        parameters_fit(reviews=reviews, day_rule=UTC_DAYS)
    fitted = parameters_fit(reviews=reviews, day_rule=UTC_DAYS, minimum_reviews=100)
    assert len(fitted) == 21 and fitted != DEFAULT_PARAMETERS


def test_bad_ratings_and_naive_times_are_refused() -> None:
    bad = [CardReview(card_key="a", rating=5, reviewed_at=START)]
    with pytest.raises(ValueError, match="rating must be 1-4"):
        predictions(reviews=bad, parameters=DEFAULT_PARAMETERS, day_rule=UTC_DAYS)
    naive = [CardReview(card_key="a", rating=3, reviewed_at=datetime(2025, 1, 1))]
    with pytest.raises(ValueError, match="timezone-aware"):
        predictions(reviews=naive, parameters=DEFAULT_PARAMETERS, day_rule=UTC_DAYS)


def test_study_days_follow_daylight_saving_time() -> None:
    pacific = DayRule(tz=ZoneInfo("America/Los_Angeles"), day_start_hour=4)
    # 4 a.m. Pacific is 12:00 UTC in winter (PST) and 11:00 UTC in summer (PDT).
    assert pacific.study_day(datetime(2025, 1, 15, 11, 59, tzinfo=UTC)).isoformat() == "2025-01-14"
    assert pacific.study_day(datetime(2025, 1, 15, 12, 0, tzinfo=UTC)).isoformat() == "2025-01-15"
    assert pacific.study_day(datetime(2025, 7, 15, 10, 59, tzinfo=UTC)).isoformat() == "2025-07-14"
    assert pacific.study_day(datetime(2025, 7, 15, 11, 0, tzinfo=UTC)).isoformat() == "2025-07-15"
