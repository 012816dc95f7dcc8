"""The SM-2 baseline of bench/engine.py (d): SuperMemo 2 read as a recall predictor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bench.engine import sm2_predictions
from quizzes.optimizer import CardReview, DayRule

START = datetime(2025, 2, 3, 9, 0, tzinfo=UTC)


def _card(days_and_ratings: list[tuple[float, int]]) -> list[CardReview]:
    return [
        CardReview(card_key="c", rating=rating, reviewed_at=START + timedelta(days=day))
        for day, rating in days_and_ratings
    ]


def test_sm2_intervals_grow_1_6_then_by_the_ease() -> None:
    # Good, Good, Good, Good: intervals 1, 6, 6 x 2.5 = 15 days; R = 0.9 ** (elapsed / interval).
    reviews = _card([(0, 3), (1, 3), (7, 3), (20, 3)])
    scored = sm2_predictions(reviews, day_rule=DayRule(tz=UTC, day_start_hour=0), scored_from=START)
    assert [p.probability for p in scored] == pytest.approx([0.9, 0.9, 0.9 ** (13 / 15)])
    assert [p.elapsed_days for p in scored] == [1, 6, 13]


def test_sm2_restarts_after_a_lapse_and_ignores_same_day_repeats() -> None:
    reviews = _card([(0, 3), (1, 3), (7, 1), (7.01, 3), (8, 3), (10, 3)])
    scored = sm2_predictions(reviews, day_rule=DayRule(tz=UTC, day_start_hour=0), scored_from=START)
    # The lapse on day 7 restarts the repetitions (its same-day repeat is ignored): the success on
    # day 8 is the first again, so its interval is 1 day and day 10 comes 2 intervals later.
    assert [p.elapsed_days for p in scored] == [1, 6, 1, 2]
    assert scored[2].probability == pytest.approx(0.9)
    assert scored[3].probability == pytest.approx(0.9**2)
    assert [p.lapses for p in scored] == [0, 0, 1, 1]
    assert [p.recalled for p in scored] == [True, False, True, True]
