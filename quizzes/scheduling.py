"""The FSRS-6 scheduling core: one learner's memory of one card, stepped by the `fsrs` library.

Pure code: no models, no settings, no clock. Every function takes the time it works at (`now`,
`reviewed_at`) as an argument, so a review graded late, replayed from the log or synced from an
offline device is scheduled exactly as if it had happened online at that moment.

The FSRS formulas are the library's (`fsrs.Scheduler.review_card`); this module adds what the
engine needs around them:

- `MemoryState`, an immutable snapshot with the review and lapse counts the library does not keep,
  convertible to a JSON-safe dict (stored in the review log as the state before and after) and to
  and from the library's `Card`;
- reproducible fuzz (see `fuzz_unit`): the library draws its fuzz from the process-wide `random`
  module, which neither replays nor tolerates threads. We switch the library's fuzz off and apply
  its own fuzz range (`fsrs.scheduler.FUZZ_RANGES`, the same arithmetic as
  `Scheduler._get_fuzzed_interval`) with a number derived (a BLAKE2b digest) from the card's
  identity and its review count. The same card at the same review count always gets the same
  fuzz, in any process and any thread, so replaying the log reproduces every due date; a test
  pins our fuzz to the library's for every draw;
- a review that the library leaves on the same day (learning steps) is not fuzzed, as in the
  library; a change of parameters or desired retention changes later states, as it should;
- the four buttons' next intervals before the learner rates (`preview_intervals`), replay of a
  review log (`replay`), undo of the last review (`review_undo`), the leech rule and
  retrievability.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from fsrs import Card, Rating, Scheduler, State
from fsrs.scheduler import DEFAULT_PARAMETERS as FSRS6_DEFAULT_PARAMETERS
from fsrs.scheduler import FUZZ_RANGES

__all__ = [
    "DEFAULT_DESIRED_RETENTION",
    "DEFAULT_LEARNING_STEPS",
    "DEFAULT_PARAMETERS",
    "DEFAULT_RELEARNING_STEPS",
    "LEECH_LAPSES",
    "MAXIMUM_INTERVAL_DAYS",
    "MemoryState",
    "Rating",
    "ReviewEvent",
    "State",
    "UndoConflictError",
    "fuzz_unit",
    "fuzzed_interval_days",
    "is_leech",
    "leech_reached",
    "preview_intervals",
    "replay",
    "retrievability",
    "review_undo",
    "schedule_review",
    "scheduler_for",
]

DEFAULT_PARAMETERS: tuple[float, ...] = tuple(FSRS6_DEFAULT_PARAMETERS)
DEFAULT_DESIRED_RETENTION = 0.9
# The library's defaults, named here so the engine and its tests agree on them.
DEFAULT_LEARNING_STEPS: tuple[timedelta, ...] = (timedelta(minutes=1), timedelta(minutes=10))
DEFAULT_RELEARNING_STEPS: tuple[timedelta, ...] = (timedelta(minutes=10),)
MAXIMUM_INTERVAL_DAYS = 36500
# Anki's default leech threshold: the 8th lapse flags the card.
LEECH_LAPSES = 8

_STATE_DICT_VERSION = 1


class UndoConflictError(ValueError):
    """The card's current state is not the one the review being undone produced."""


def _utc(moment: datetime, *, name: str) -> datetime:
    """Return `moment` in UTC (the library insists on `timezone.utc`); refuse naive datetimes."""
    if moment.tzinfo is UTC:  # the common case, checked first: this runs on every review
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _parse_datetime(value: str, *, name: str) -> datetime:
    return _utc(datetime.fromisoformat(value), name=name)


@dataclass(frozen=True, slots=True)
class MemoryState:
    """One learner's memory of one card: the FSRS card state plus review and lapse counts.

    `stability` and `difficulty` are None until the first review; `step` is the (re)learning
    step and None in the Review state. `due` and `last_review` are UTC. `reps` counts every
    review, `lapses` every Again given to a card in the Review state (as Anki counts them).
    """

    state: State
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    reps: int = 0
    lapses: int = 0

    @classmethod
    def new(cls, *, now: datetime) -> MemoryState:
        """Return the state of a card never reviewed, due at `now`."""
        return cls(
            state=State.Learning,
            step=0,
            stability=None,
            difficulty=None,
            due=_utc(now, name="now"),
            last_review=None,
        )

    @property
    def is_new(self) -> bool:
        return self.reps == 0 and self.last_review is None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict that `from_dict` turns back into an equal state.

        Floats are kept as floats: `json` writes them with `repr`, which round-trips every bit.
        """
        return {
            "v": _STATE_DICT_VERSION,
            "state": int(self.state),
            "step": self.step,
            "stability": self.stability,
            "difficulty": self.difficulty,
            "due": self.due.isoformat(),
            "last_review": None if self.last_review is None else self.last_review.isoformat(),
            "reps": self.reps,
            "lapses": self.lapses,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MemoryState:
        """Rebuild a state from `to_dict`'s output; raise ValueError on anything malformed."""
        try:
            version = data.get("v", _STATE_DICT_VERSION)
            if version != _STATE_DICT_VERSION:
                raise ValueError(f"unknown memory state version {version!r}")
            stability = data["stability"]
            difficulty = data["difficulty"]
            last_review = data["last_review"]
            return cls(
                state=State(int(data["state"])),
                step=None if data["step"] is None else int(data["step"]),
                stability=None if stability is None else float(stability),
                difficulty=None if difficulty is None else float(difficulty),
                due=_parse_datetime(data["due"], name="due"),
                last_review=(
                    None
                    if last_review is None
                    else _parse_datetime(last_review, name="last_review")
                ),
                reps=int(data.get("reps", 0)),
                lapses=int(data.get("lapses", 0)),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed memory state {dict(data)!r}: {exc}") from exc

    def to_card(self) -> Card:
        """Return the library's `Card` for this state (card_id 0: the library never reads it)."""
        # Every argument is given, so the library reads no clock and does not sleep.
        return Card(
            card_id=0,
            state=self.state,
            step=self.step,
            stability=self.stability,
            difficulty=self.difficulty,
            due=self.due,
            last_review=self.last_review,
        )

    @classmethod
    def from_card(cls, card: Card, *, reps: int = 0, lapses: int = 0) -> MemoryState:
        """Return the state of a library `Card`, with the counts the library does not keep."""
        return cls(
            state=card.state if type(card.state) is State else State(card.state),
            step=card.step,
            stability=card.stability,
            difficulty=card.difficulty,
            due=_utc(card.due, name="due"),
            last_review=(
                None if card.last_review is None else _utc(card.last_review, name="last_review")
            ),
            reps=reps,
            lapses=lapses,
        )


@dataclass(frozen=True, slots=True)
class ReviewEvent:
    """One entry of a card's review log, as `replay` needs it."""

    rating: Rating
    reviewed_at: datetime


@lru_cache(maxsize=512)
def _scheduler(
    parameters: tuple[float, ...],
    desired_retention: float,
    learning_steps: tuple[timedelta, ...],
    relearning_steps: tuple[timedelta, ...],
    maximum_interval: int,
) -> Scheduler:
    # Building a Scheduler validates all 21 parameters; one per configuration is enough, and the
    # library never mutates it while reviewing, so threads may share it.
    return Scheduler(
        parameters=parameters,
        desired_retention=desired_retention,
        learning_steps=learning_steps,
        relearning_steps=relearning_steps,
        maximum_interval=maximum_interval,
        enable_fuzzing=False,  # our own reproducible fuzz, see fuzz_unit
    )


def scheduler_for(
    *,
    parameters: Sequence[float],
    desired_retention: float,
    learning_steps: Sequence[timedelta],
    relearning_steps: Sequence[timedelta],
    maximum_interval: int,
) -> Scheduler:
    """Return the library's Scheduler for these settings, fuzz off (shared, never mutated)."""
    if not 0.0 < desired_retention < 1.0:
        raise ValueError(f"desired_retention must be in (0, 1), got {desired_retention!r}")
    # Tuples (the defaults, parameters read once per learner) go straight to the cache key.
    return _scheduler(
        parameters if type(parameters) is tuple else tuple(map(float, parameters)),
        float(desired_retention),
        learning_steps if type(learning_steps) is tuple else tuple(learning_steps),
        relearning_steps if type(relearning_steps) is tuple else tuple(relearning_steps),
        int(maximum_interval),
    )


def fuzz_unit(*, fuzz_key: str, reps: int) -> float:
    """Return a number in [0, 1) fixed by the card's identity and its review count.

    It stands in for the `random()` draw of the library's fuzz: the top 53 bits of a BLAKE2b
    digest of the key and count, as a float. A digest, not `hash()` (salted per process) nor a
    `random.Random` (shared state between threads, and tied to Python's seeding algorithm).
    """
    digest = hashlib.blake2b(f"{fuzz_key}\x1f{reps}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 11) / float(1 << 53)


def fuzzed_interval_days(*, interval_days: int, unit: float, maximum_interval: int) -> int:
    """Return the fuzzed interval for an unfuzzed one of `interval_days`, given the draw `unit`.

    The library's own rule (`Scheduler._get_fuzzed_interval`, FSRS's documented fuzz ranges): no
    fuzz under 2.5 days; otherwise a spread of 1 day plus 15% of the part of the interval between
    2.5 and 7 days, 10% of the part between 7 and 20, 5% beyond 20; the result never under 2 days
    nor over the maximum interval.
    """
    if interval_days < 2.5:
        return interval_days
    spread = 1.0
    for band in FUZZ_RANGES:
        spread += band["factor"] * max(min(float(interval_days), band["end"]) - band["start"], 0.0)
    high = min(round(interval_days + spread), maximum_interval)
    low = min(max(2, round(interval_days - spread)), high)
    return min(round(unit * (high - low + 1) + low), maximum_interval)


def _step(
    *,
    state: MemoryState,
    rating: Rating,
    now: datetime,
    scheduler: Scheduler,
    fuzz_key: str | None,
) -> MemoryState:
    card, _ = scheduler.review_card(state.to_card(), rating, review_datetime=now)
    # Fuzz only what the library fuzzes: intervals of a card that is (now) in the Review state.
    if fuzz_key is not None and card.state == State.Review:
        interval = card.due - now
        fuzzed = fuzzed_interval_days(
            interval_days=interval.days,
            unit=fuzz_unit(fuzz_key=fuzz_key, reps=state.reps),
            maximum_interval=scheduler.maximum_interval,
        )
        card.due = now + timedelta(days=fuzzed)
    lapsed = state.state == State.Review and rating == Rating.Again
    return MemoryState.from_card(card, reps=state.reps + 1, lapses=state.lapses + int(lapsed))


def schedule_review(
    *,
    state: MemoryState,
    rating: Rating | int,
    now: datetime,
    parameters: Sequence[float] = DEFAULT_PARAMETERS,
    desired_retention: float = DEFAULT_DESIRED_RETENTION,
    fuzz_key: str | None,
    learning_steps: Sequence[timedelta] = DEFAULT_LEARNING_STEPS,
    relearning_steps: Sequence[timedelta] = DEFAULT_RELEARNING_STEPS,
    maximum_interval: int = MAXIMUM_INTERVAL_DAYS,
) -> tuple[MemoryState, datetime]:
    """Apply one review rated `rating` at `now`; return the new state and its due date.

    `fuzz_key` names the card for the fuzz (e.g. "<learner id>:<card id>"); the review count is
    mixed in here, so the key stays the same for the card's whole life. None means no fuzz.
    `now` may be any aware datetime; it is stored in UTC.
    """
    scheduler = scheduler_for(
        parameters=parameters,
        desired_retention=desired_retention,
        learning_steps=learning_steps,
        relearning_steps=relearning_steps,
        maximum_interval=maximum_interval,
    )
    new_state = _step(
        state=state,
        rating=Rating(rating),
        now=_utc(now, name="now"),
        scheduler=scheduler,
        fuzz_key=fuzz_key,
    )
    return new_state, new_state.due


def preview_intervals(
    *,
    state: MemoryState,
    now: datetime,
    parameters: Sequence[float] = DEFAULT_PARAMETERS,
    desired_retention: float = DEFAULT_DESIRED_RETENTION,
    fuzz_key: str | None,
    learning_steps: Sequence[timedelta] = DEFAULT_LEARNING_STEPS,
    relearning_steps: Sequence[timedelta] = DEFAULT_RELEARNING_STEPS,
    maximum_interval: int = MAXIMUM_INTERVAL_DAYS,
) -> dict[Rating, tuple[datetime, timedelta]]:
    """Return, for each of the four buttons, the due date and interval that rating would give.

    With the same `fuzz_key` these are exactly what `schedule_review` will produce (the fuzz is
    a function of the card and its review count), so the buttons never promise one interval and
    deliver another.
    """
    at = _utc(now, name="now")
    scheduler = scheduler_for(
        parameters=parameters,
        desired_retention=desired_retention,
        learning_steps=learning_steps,
        relearning_steps=relearning_steps,
        maximum_interval=maximum_interval,
    )
    preview: dict[Rating, tuple[datetime, timedelta]] = {}
    for rating in Rating:
        after = _step(state=state, rating=rating, now=at, scheduler=scheduler, fuzz_key=fuzz_key)
        preview[rating] = (after.due, after.due - at)
    return preview


def replay(
    *,
    reviews: Sequence[ReviewEvent],
    parameters: Sequence[float] = DEFAULT_PARAMETERS,
    desired_retention: float = DEFAULT_DESIRED_RETENTION,
    fuzz_key: str | None,
    start: MemoryState | None = None,
    learning_steps: Sequence[timedelta] = DEFAULT_LEARNING_STEPS,
    relearning_steps: Sequence[timedelta] = DEFAULT_RELEARNING_STEPS,
    maximum_interval: int = MAXIMUM_INTERVAL_DAYS,
) -> list[MemoryState]:
    """Replay a card's review log in order; return the state after each review.

    `start` is the state before the first review (a new card by default). With the settings and
    `fuzz_key` used online, every returned state equals the stored one bit for bit. Reviews must
    be in `reviewed_at` order (offline batches are sorted by the caller, who knows the ties).
    """
    scheduler = scheduler_for(
        parameters=parameters,
        desired_retention=desired_retention,
        learning_steps=learning_steps,
        relearning_steps=relearning_steps,
        maximum_interval=maximum_interval,
    )
    states: list[MemoryState] = []
    if not reviews:
        return states
    state = start if start is not None else MemoryState.new(now=reviews[0].reviewed_at)
    previous: datetime | None = state.last_review
    for index, review in enumerate(reviews):
        at = _utc(review.reviewed_at, name=f"reviews[{index}].reviewed_at")
        if previous is not None and at < previous:
            raise ValueError(
                f"reviews[{index}] at {at.isoformat()} is earlier than the review before it "
                f"({previous.isoformat()}); sort the log by reviewed_at first"
            )
        state = _step(
            state=state,
            rating=Rating(review.rating),
            now=at,
            scheduler=scheduler,
            fuzz_key=fuzz_key,
        )
        states.append(state)
        previous = at
    return states


def review_undo(
    *,
    current: MemoryState,
    state_before: Mapping[str, Any],
    state_after: Mapping[str, Any],
) -> MemoryState:
    """Return the state to restore when undoing a review whose log stored these two states.

    Only the card's last review can be undone: if `current` is not the state that review
    produced (another review came after it), raise UndoConflictError and change nothing.
    """
    produced = MemoryState.from_dict(state_after)
    if produced != current:
        raise UndoConflictError(
            "the card has changed since this review (it is not the card's last review)"
        )
    return MemoryState.from_dict(state_before)


def is_leech(*, state: MemoryState, threshold: int = LEECH_LAPSES) -> bool:
    """Return whether the card has lapsed at least `threshold` times."""
    return state.lapses >= threshold


def leech_reached(
    *, before: MemoryState, after: MemoryState, threshold: int = LEECH_LAPSES
) -> bool:
    """Return whether this review is the one that makes the card a leech (flag or suspend now).

    As in Anki: the lapse that reaches `threshold`, and again every half threshold after it
    (8, 12, 16, ... for 8), so a card un-suspended by the learner is caught again if it keeps
    lapsing.
    """
    if after.lapses <= before.lapses or after.lapses < threshold:
        return False
    half = max(1, math.ceil(threshold / 2))
    return (after.lapses - threshold) % half == 0


def retrievability(
    *,
    state: MemoryState,
    now: datetime,
    parameters: Sequence[float] = DEFAULT_PARAMETERS,
) -> float:
    """Return the predicted probability of recalling the card at `now` (0 for a new card).

    The library's forgetting curve counts whole days since the last review.
    """
    scheduler = scheduler_for(
        parameters=parameters,
        desired_retention=DEFAULT_DESIRED_RETENTION,
        learning_steps=DEFAULT_LEARNING_STEPS,
        relearning_steps=DEFAULT_RELEARNING_STEPS,
        maximum_interval=MAXIMUM_INTERVAL_DAYS,
    )
    return float(scheduler.get_card_retrievability(state.to_card(), _utc(now, name="now")))
