"""The FSRS scheduling core: time injection, reproducible fuzz, replay, undo, preview, leeches."""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import fsrs.card
import fsrs.scheduler
import pytest
from fsrs import Scheduler
from hypothesis import given
from hypothesis import strategies as st

import quizzes.scheduling as scheduling
from quizzes.scheduling import (
    DEFAULT_PARAMETERS,
    LEECH_LAPSES,
    MemoryState,
    Rating,
    ReviewEvent,
    State,
    UndoConflictError,
    fuzz_unit,
    fuzzed_interval_days,
    is_leech,
    leech_reached,
    preview_intervals,
    replay,
    retrievability,
    review_undo,
    schedule_review,
)

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC)
KEY = "learner-7:card-42"


def _log(
    ratings: list[int], *, start: datetime = T0, follow_due: bool = True
) -> Iterator[tuple[MemoryState, ReviewEvent, MemoryState]]:
    """Yield (before, event, after) for an online study of `ratings`, reviewing at each due date
    (plus a few hours, so reviews are late by varying amounts)."""
    state = MemoryState.new(now=start)
    now = start
    for index, rating in enumerate(ratings):
        after, due = schedule_review(state=state, rating=rating, now=now, fuzz_key=KEY)
        yield state, ReviewEvent(rating=Rating(rating), reviewed_at=now), after
        state = after
        now = due + timedelta(hours=(index * 7) % 30) if follow_due else now + timedelta(hours=5)


RATINGS = [3, 3, 1, 3, 2, 3, 4, 1, 1, 3, 3, 3, 4, 2, 3, 1, 3, 3, 3, 3, 4, 3, 1, 3, 3]


# --- memory state -------------------------------------------------------------------------------


def test_memory_state_survives_json_bit_for_bit() -> None:
    for _, _, after in _log(RATINGS):
        text = json.dumps(after.to_dict())
        back = MemoryState.from_dict(json.loads(text))
        assert back == after
        assert back.to_dict() == after.to_dict()
        assert back.stability is not None and after.stability is not None
        assert back.stability.hex() == after.stability.hex()


def test_memory_state_round_trips_through_the_library_card() -> None:
    *_, (_, _, state) = _log(RATINGS[:6])
    card = state.to_card()
    assert MemoryState.from_card(card, reps=state.reps, lapses=state.lapses) == state


def test_malformed_stored_state_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="malformed memory state"):
        MemoryState.from_dict({"state": 2})
    with pytest.raises(ValueError, match="version"):
        MemoryState.from_dict({**MemoryState.new(now=T0).to_dict(), "v": 99})


def test_naive_datetimes_and_bad_retention_are_refused() -> None:
    state = MemoryState.new(now=T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule_review(state=state, rating=3, now=datetime(2026, 3, 1), fuzz_key=KEY)
    with pytest.raises(ValueError, match="desired_retention"):
        schedule_review(state=state, rating=3, now=T0, fuzz_key=KEY, desired_retention=1.2)


def test_other_time_zones_are_stored_in_utc() -> None:
    local = T0.astimezone(timezone(timedelta(hours=8)))
    a, _ = schedule_review(state=MemoryState.new(now=T0), rating=3, now=local, fuzz_key=KEY)
    b, _ = schedule_review(state=MemoryState.new(now=T0), rating=3, now=T0, fuzz_key=KEY)
    assert a == b
    assert a.last_review is not None and a.last_review.tzinfo is dt.UTC


# --- time is passed in ----------------------------------------------------------------------------


class _ForbiddenClock(dt.datetime):
    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> _ForbiddenClock:
        raise AssertionError("scheduling code read the clock (datetime.now)")

    @classmethod
    def utcnow(cls) -> _ForbiddenClock:
        raise AssertionError("scheduling code read the clock (datetime.utcnow)")

    @classmethod
    def today(cls) -> _ForbiddenClock:
        raise AssertionError("scheduling code read the clock (datetime.today)")


@contextmanager
def _no_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def forbidden(*args: object) -> float:
        raise AssertionError("scheduling code read the clock (time module)")

    with monkeypatch.context() as patch:
        for module in (fsrs.scheduler, fsrs.card, scheduling):
            patch.setattr(module, "datetime", _ForbiddenClock)
        for name in ("time", "time_ns", "monotonic", "sleep"):
            patch.setattr(time, name, forbidden)
        yield


def test_scheduling_reads_no_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    with _no_clock(monkeypatch):
        log = list(_log(RATINGS))
        state = log[-1][2]
        preview = preview_intervals(state=state, now=state.due, fuzz_key=KEY)
        states = replay(reviews=[event for _, event, _ in log], fuzz_key=KEY)
        r = retrievability(state=state, now=state.due + timedelta(days=3))
        new = MemoryState.new(now=T0)
    # The forbidden clock really is the one the library would read.
    with _no_clock(monkeypatch), pytest.raises(AssertionError, match="read the clock"):
        fsrs.Card()
    assert states == [after for _, _, after in log]
    assert len(preview) == 4 and 0.0 < r < 1.0 and new.due == T0


def test_the_same_review_at_another_time_gives_another_schedule() -> None:
    state = MemoryState.new(now=T0)
    first, _ = schedule_review(state=state, rating=3, now=T0, fuzz_key=KEY)
    later = T0 + timedelta(days=3)
    second, due = schedule_review(state=first, rating=3, now=later, fuzz_key=KEY)
    third, due_late = schedule_review(
        state=first, rating=3, now=later + timedelta(days=5), fuzz_key=KEY
    )
    assert second.last_review == later
    assert third.stability is not None and second.stability is not None
    assert third.stability > second.stability  # a later successful recall means more stability
    assert due_late > due


# --- reproducible fuzz ------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", [0.0, 0.1, 0.25, 0.49999, 0.5, 0.73, 0.999999])
def test_our_fuzz_is_the_library_fuzz_for_the_same_draw(
    monkeypatch: pytest.MonkeyPatch, unit: float
) -> None:
    scheduler = Scheduler(maximum_interval=365)
    monkeypatch.setattr(fsrs.scheduler, "random", lambda: unit)
    for days in range(1, 500):
        library = scheduler._get_fuzzed_interval(interval=timedelta(days=days)).days
        ours = fuzzed_interval_days(interval_days=days, unit=unit, maximum_interval=365)
        assert ours == library, days


def test_fuzz_depends_on_card_and_review_count_only() -> None:
    assert fuzz_unit(fuzz_key=KEY, reps=3) == fuzz_unit(fuzz_key=KEY, reps=3)
    draws = {fuzz_unit(fuzz_key=KEY, reps=n) for n in range(50)}
    draws |= {fuzz_unit(fuzz_key=f"learner-7:card-{n}", reps=3) for n in range(100, 150)}
    assert len(draws) == 100
    assert all(0.0 <= u < 1.0 for u in draws)


def test_fuzz_spreads_due_dates_like_the_library() -> None:
    # A mature card reviewed on time: the unfuzzed interval is the same for every card, the
    # fuzzed ones spread over the library's range.
    state = MemoryState(
        state=State.Review,
        step=None,
        stability=40.0,
        difficulty=5.0,
        due=T0,
        last_review=T0 - timedelta(days=40),
        reps=6,
    )
    intervals = {
        schedule_review(state=state, rating=3, now=T0, fuzz_key=f"c{n}")[1] - T0 for n in range(200)
    }
    unfuzzed = schedule_review(state=state, rating=3, now=T0, fuzz_key=None)[1] - T0
    days = sorted(i.days for i in intervals)
    assert len(days) > 5
    assert days[0] < unfuzzed.days < days[-1]
    low = fuzzed_interval_days(interval_days=unfuzzed.days, unit=0.0, maximum_interval=36500)
    high = fuzzed_interval_days(interval_days=unfuzzed.days, unit=0.999999, maximum_interval=36500)
    assert low <= days[0] and days[-1] <= high


def test_fuzz_ignores_and_leaves_the_global_random_state() -> None:
    random.seed(1)
    first = [after.to_dict() for _, _, after in _log(RATINGS)]
    state_after_first = random.getstate()
    random.seed(987654)
    second = [after.to_dict() for _, _, after in _log(RATINGS)]
    random.seed(1)
    assert first == second
    assert random.getstate() == state_after_first  # nothing drew from the global generator


_CHILD = """
import json, random, sys
from datetime import datetime, timedelta, timezone
from quizzes.scheduling import MemoryState, schedule_review
random.seed(int(sys.argv[1]))
now = datetime(2026, 3, 1, 8, 30, tzinfo=timezone.utc)
state, out = MemoryState.new(now=now), []
for rating in [3, 3, 3, 1, 3, 3, 4, 3, 3]:
    state, due = schedule_review(state=state, rating=rating, now=now, fuzz_key="learner-7:card-42")
    out.append(state.to_dict())
    now = due + timedelta(hours=2)
print(json.dumps(out))
"""


def test_fuzz_is_the_same_in_other_processes() -> None:
    outputs = []
    for seed, hash_seed in ((1, "0"), (2, "12345")):
        result = subprocess.run(
            [sys.executable, "-c", _CHILD, str(seed)],
            cwd=ROOT,
            env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        outputs.append(json.loads(result.stdout))
    assert outputs[0] == outputs[1]
    assert len({entry["due"] for entry in outputs[0]}) == len(outputs[0])


def test_concurrent_threads_get_the_same_schedules() -> None:
    expected = [after for _, _, after in _log(RATINGS)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: [a for _, _, a in _log(RATINGS)], range(32)))
    assert all(result == expected for result in results)


# --- replay and undo ------------------------------------------------------------------------------------


@pytest.mark.parametrize("follow_due", [True, False])
def test_replaying_the_log_reproduces_every_state_exactly(follow_due: bool) -> None:
    log = list(_log(RATINGS * 2, follow_due=follow_due))
    stored = [json.dumps(after.to_dict()) for _, _, after in log]
    replayed = replay(reviews=[event for _, event, _ in log], fuzz_key=KEY)
    assert [json.dumps(state.to_dict()) for state in replayed] == stored
    assert any(after.state == State.Review and after.reps > 3 for _, _, after in log)


def test_replay_from_a_stored_state_continues_the_log() -> None:
    log = list(_log(RATINGS))
    middle = 10
    start = MemoryState.from_dict(json.loads(json.dumps(log[middle][0].to_dict())))
    tail = replay(reviews=[event for _, event, _ in log[middle:]], fuzz_key=KEY, start=start)
    assert tail == [after for _, _, after in log[middle:]]


def test_replay_refuses_an_unsorted_log() -> None:
    events = [event for _, event, _ in _log(RATINGS[:4])]
    with pytest.raises(ValueError, match="sort the log"):
        replay(reviews=[events[0], events[2], events[1]], fuzz_key=KEY)


def test_replay_with_other_parameters_differs() -> None:
    events = [event for _, event, _ in _log(RATINGS)]
    other = list(DEFAULT_PARAMETERS)
    other[2] = 5.0  # initial stability after Good
    assert replay(reviews=events, fuzz_key=KEY, parameters=other) != replay(
        reviews=events, fuzz_key=KEY
    )


def test_undo_restores_the_state_before_exactly() -> None:
    log = list(_log(RATINGS[:12]))
    before, event, after = log[-1]
    stored_before, stored_after = (json.loads(json.dumps(s.to_dict())) for s in (before, after))
    restored = review_undo(current=after, state_before=stored_before, state_after=stored_after)
    assert restored == before
    assert restored.to_dict() == before.to_dict()
    # Redoing the same review after the undo gives the very same state (fuzz included).
    redone, _ = schedule_review(
        state=restored, rating=event.rating, now=event.reviewed_at, fuzz_key=KEY
    )
    assert redone == after


def test_undo_of_a_review_that_is_not_the_last_is_refused() -> None:
    log = list(_log(RATINGS[:12]))
    before, _, after = log[-2]
    current = log[-1][2]
    with pytest.raises(UndoConflictError, match="not the card's last review"):
        review_undo(current=current, state_before=before.to_dict(), state_after=after.to_dict())


# --- preview --------------------------------------------------------------------------------------------


def test_preview_is_what_each_rating_will_give() -> None:
    for before, event, _ in _log(RATINGS):
        preview = preview_intervals(state=before, now=event.reviewed_at, fuzz_key=KEY)
        for rating in Rating:
            _, due = schedule_review(
                state=before, rating=rating, now=event.reviewed_at, fuzz_key=KEY
            )
            assert preview[rating] == (due, due - event.reviewed_at)


@given(
    ratings=st.lists(st.integers(min_value=1, max_value=4), min_size=0, max_size=15),
    delays=st.lists(st.integers(min_value=0, max_value=200 * 24 * 60), min_size=15, max_size=15),
    retention=st.floats(min_value=0.7, max_value=0.99),
    key=st.text(min_size=1, max_size=8),
)
def test_preview_intervals_are_monotone(
    ratings: list[int], delays: list[int], retention: float, key: str
) -> None:
    state, now = MemoryState.new(now=T0), T0
    for rating, delay in zip(ratings, delays, strict=False):
        state, _ = schedule_review(
            state=state, rating=rating, now=now, fuzz_key=key, desired_retention=retention
        )
        now += timedelta(minutes=delay)
    preview = preview_intervals(state=state, now=now, fuzz_key=key, desired_retention=retention)
    intervals = [preview[rating][1] for rating in Rating]
    assert intervals == sorted(intervals), intervals
    assert intervals[0] > timedelta(0)


# --- leeches and retrievability ---------------------------------------------------------------------


def _lapsing_card() -> Iterator[tuple[MemoryState, MemoryState]]:
    """Yield (before, after) for a card that keeps being forgotten once it reaches Review."""
    state, now = MemoryState.new(now=T0), T0
    while True:
        rating = Rating.Again if state.state == State.Review else Rating.Good
        after, due = schedule_review(state=state, rating=rating, now=now, fuzz_key=KEY)
        yield state, after
        state, now = after, due


def test_lapses_count_agains_on_review_cards_only() -> None:
    seen = []
    for before, after in _lapsing_card():
        lapsed = before.state == State.Review
        assert after.lapses == before.lapses + int(lapsed)
        seen.append(after)
        if after.lapses == 3:
            break
    assert sum(1 for s in seen if s.state == State.Relearning) == 3


def test_leech_is_flagged_at_the_eighth_lapse_then_every_fourth() -> None:
    flagged_at = []
    for before, after in _lapsing_card():
        if leech_reached(before=before, after=after):
            flagged_at.append(after.lapses)
        assert is_leech(state=after) == (after.lapses >= LEECH_LAPSES)
        if after.lapses == 17:
            break
    assert flagged_at == [8, 12, 16]


def test_retrievability_falls_with_time_and_is_zero_for_new_cards() -> None:
    *_, (_, _, state) = _log(RATINGS[:8])
    assert state.last_review is not None
    values = [
        retrievability(state=state, now=state.last_review + timedelta(days=d))
        for d in (0, 1, 5, 30, 300)
    ]
    assert values[0] == 1.0
    assert values == sorted(values, reverse=True) and values[-1] < 0.5
    assert retrievability(state=MemoryState.new(now=T0), now=T0) == 0.0


@given(
    ratings=st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=30),
    delays=st.lists(st.integers(min_value=0, max_value=400 * 24 * 60), min_size=30, max_size=30),
    retention=st.floats(min_value=0.7, max_value=0.99),
)
def test_any_online_history_replays_exactly(
    ratings: list[int], delays: list[int], retention: float
) -> None:
    state, now, events, online = MemoryState.new(now=T0), T0, [], []
    for rating, delay in zip(ratings, delays, strict=False):
        state, _ = schedule_review(
            state=state, rating=rating, now=now, fuzz_key=KEY, desired_retention=retention
        )
        events.append(ReviewEvent(rating=Rating(rating), reviewed_at=now))
        online.append(json.dumps(state.to_dict()))
        now += timedelta(minutes=delay)
    replayed = replay(reviews=events, fuzz_key=KEY, desired_retention=retention)
    assert [json.dumps(s.to_dict()) for s in replayed] == online
