"""The study day: from the learner's day-start hour to the next, in the learner's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quizzes.models import StudySettings
from quizzes.selectors import study_day


def test_the_day_starts_at_the_chosen_hour_in_the_learners_zone() -> None:
    prefs = StudySettings(time_zone="Asia/Shanghai", day_starts_at=4)  # UTC+8

    # 19:59 UTC is 03:59 in Shanghai: still the day that began at 04:00 local the day before.
    before = study_day(prefs=prefs, now=datetime(2026, 3, 4, 19, 59, tzinfo=UTC))
    after = study_day(prefs=prefs, now=datetime(2026, 3, 4, 20, 0, tzinfo=UTC))

    assert before.start == datetime(2026, 3, 3, 20, 0, tzinfo=UTC)
    assert before.end == after.start == datetime(2026, 3, 4, 20, 0, tzinfo=UTC)
    assert after.end - after.start == timedelta(hours=24)


def test_a_day_across_the_spring_change_has_23_hours() -> None:
    # New York moves its clocks forward at 2 a.m. on 8 March 2026.
    prefs = StudySettings(time_zone="America/New_York", day_starts_at=4)

    day = study_day(prefs=prefs, now=datetime(2026, 3, 8, 6, 0, tzinfo=UTC))  # 01:00 EST

    assert day.start == datetime(2026, 3, 7, 9, 0, tzinfo=UTC)  # 04:00 EST
    assert day.end == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)  # 04:00 EDT
    assert day.end - day.start == timedelta(hours=23)


def test_midnight_start_in_utc() -> None:
    prefs = StudySettings(time_zone="UTC", day_starts_at=0)
    day = study_day(prefs=prefs, now=datetime(2026, 3, 4, 0, 0, tzinfo=UTC))
    assert (day.start, day.end) == (
        datetime(2026, 3, 4, tzinfo=UTC),
        datetime(2026, 3, 5, tzinfo=UTC),
    )
