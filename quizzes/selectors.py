"""Reads of the learning engine, shared by the services, the REST API and the web UI."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from knowledge.models import Card, CardVersion

from .models import Attempt, BankSubscription, CardState, Remediation, ReviewLog, StudySettings
from .scheduling import DEFAULT_PARAMETERS, MemoryState, State

__all__ = [
    "StudyDay",
    "card_sibling_keys",
    "card_state_memory",
    "card_states_due",
    "cards_new_for_learner",
    "learner_parameters",
    "pending_attempt_card_ids",
    "remediations_pending",
    "reviews_today",
    "siblings_shown_today",
    "study_day",
    "study_settings_get",
    "subscribed_bank_ids",
]


def study_settings_get(*, learner: Any) -> StudySettings:
    """Return the learner's settings; the defaults (unsaved) if they never changed any."""
    found = StudySettings.objects.filter(learner=learner).first()
    return found if found is not None else StudySettings(learner=learner)


def learner_parameters(*, prefs: StudySettings) -> tuple[float, ...]:
    """Return the FSRS parameters to schedule with: the learner's fitted ones, else defaults."""
    if prefs.fsrs_parameters:
        return tuple(float(p) for p in prefs.fsrs_parameters)
    return DEFAULT_PARAMETERS


@dataclass(frozen=True)
class StudyDay:
    """The learner's current study day as a half-open UTC interval [start, end)."""

    start: datetime
    end: datetime


def study_day(*, prefs: StudySettings, now: datetime) -> StudyDay:
    """Return the study day containing ``now`` in the learner's time zone and day-start hour.

    A study day runs from ``day_starts_at`` o'clock local time to the same hour the next local
    day (23 or 25 hours across a daylight-saving change), as Anki's "next day starts at".
    """
    zone = ZoneInfo(prefs.time_zone)
    local = now.astimezone(zone)
    start_date = local.date()
    if local.hour < prefs.day_starts_at:
        start_date -= timedelta(days=1)
    start = datetime.combine(start_date, time(hour=prefs.day_starts_at), tzinfo=zone)
    end = datetime.combine(
        start_date + timedelta(days=1), time(hour=prefs.day_starts_at), tzinfo=zone
    )
    return StudyDay(start=start.astimezone(ZoneInfo("UTC")), end=end.astimezone(ZoneInfo("UTC")))


def subscribed_bank_ids(*, learner: Any) -> list[int]:
    """Return the ids of the banks the learner studies."""
    return list(BankSubscription.objects.filter(learner=learner).values_list("bank_id", flat=True))


def reviews_today(*, learner: Any, day: StudyDay) -> dict[str, int]:
    """Return how many new cards and how many review-phase cards the learner reviewed today."""
    counts = ReviewLog.objects.filter(
        learner=learner, reviewed_at__gte=day.start, reviewed_at__lt=day.end, undo__isnull=True
    ).aggregate(
        new=Count("id", filter=Q(phase_before=0)),
        review=Count("id", filter=Q(phase_before=int(State.Review))),
    )
    return {"new": counts["new"] or 0, "review": counts["review"] or 0}


def pending_attempt_card_ids(*, learner: Any) -> set[int]:
    """Return the cards the learner has answered but whose grading is still under way."""
    return set(
        Attempt.objects.filter(learner=learner, status=Attempt.Status.PENDING).values_list(
            "issued__card_id", flat=True
        )
    )


def card_sibling_keys(card: Card) -> set[str]:
    """Return the keys that make two cards siblings: template, source section, sibling key.

    ``card.sections`` should be prefetched. A card has an explicit sibling key only if the bank
    model has one (``Card.sibling_key``); cards without keys have no siblings.
    """
    keys: set[str] = set()
    if card.template_id:
        keys.add(f"template:{card.template_id}")
    for section in card.sections.all():
        keys.add(f"section:{section.pk}")
    explicit = getattr(card, "sibling_key", "")
    if explicit:
        keys.add(f"key:{explicit}")
    return keys


def siblings_shown_today(*, learner: Any, day: StudyDay) -> dict[str, set[int]]:
    """Return, per sibling key, the cards carrying it that the learner reviewed today."""
    reviewed = ReviewLog.objects.filter(
        learner=learner, reviewed_at__gte=day.start, reviewed_at__lt=day.end, undo__isnull=True
    ).values_list("card_id", flat=True)
    shown: dict[str, set[int]] = defaultdict(set)
    cards = Card.objects.filter(id__in=set(reviewed)).prefetch_related("sections").order_by()
    for card in cards:
        for key in card_sibling_keys(card):
            shown[key].add(card.pk)
    return shown


def _published_in(bank_ids: Iterable[int]) -> Q:
    return Q(card__bank_id__in=list(bank_ids), card__status=Card.Status.PUBLISHED)


def card_states_due(
    *,
    learner: Any,
    bank_ids: Iterable[int],
    now: datetime,
    include_review_phase: bool,
    exclude_card_ids: Iterable[int] = (),
    limit: int,
) -> list[CardState]:
    """Return up to ``limit`` due, unsuspended, unburied card states, most overdue first.

    With ``include_review_phase`` False only cards in (re)learning steps qualify (the daily
    review limit is spent). Each state comes with its card and the card's sections.
    """
    states: QuerySet[CardState] = CardState.objects.filter(
        _published_in(bank_ids), learner=learner, suspended=False, due__lte=now
    ).filter(Q(buried_until__isnull=True) | Q(buried_until__lte=now))
    if not include_review_phase:
        states = states.exclude(state=int(State.Review))
    exclude = list(exclude_card_ids)
    if exclude:
        states = states.exclude(card_id__in=exclude)
    return list(
        states.select_related("card")
        .prefetch_related("card__sections")
        .order_by("due", "id")[:limit]
    )


def cards_new_for_learner(
    *, learner: Any, bank_ids: Iterable[int], exclude_card_ids: Iterable[int] = (), limit: int
) -> list[Card]:
    """Return up to ``limit`` published cards of the banks that the learner has never reviewed.

    Only cards with a version to show qualify; easier cards come first, then by id (the order
    in which they were added).
    """
    cards = (
        Card.objects.filter(bank_id__in=list(bank_ids), status=Card.Status.PUBLISHED)
        .filter(~Exists(CardState.objects.filter(learner=learner, card=OuterRef("pk"))))
        .filter(
            Exists(CardVersion.objects.filter(card=OuterRef("pk"), version=OuterRef("version")))
        )
    )
    exclude = list(exclude_card_ids)
    if exclude:
        cards = cards.exclude(id__in=exclude)
    return list(cards.prefetch_related("sections").order_by("difficulty", "id")[:limit])


def remediations_pending(
    *, learner: Any, bank_ids: Iterable[int], exclude_card_ids: Iterable[int] = (), limit: int
) -> list[tuple[Card, CardState | None]]:
    """Return up to ``limit`` cards brought forward for the learner, oldest remediation first.

    Only pending remediations of published cards in ``bank_ids`` that have a version to show
    and that the learner has not suspended qualify; each card comes with its state (None: new).
    One query when there are none, two otherwise.
    """
    pending = (
        Remediation.objects.filter(
            learner=learner,
            consumed_at__isnull=True,
            card__bank_id__in=list(bank_ids),
            card__status=Card.Status.PUBLISHED,
        )
        .exclude(card_id__in=list(exclude_card_ids))
        .filter(
            Exists(
                CardVersion.objects.filter(card=OuterRef("card"), version=OuterRef("card__version"))
            )
        )
        .filter(
            ~Exists(
                CardState.objects.filter(learner=learner, card=OuterRef("card"), suspended=True)
            )
        )
        .select_related("card")
        .prefetch_related("card__sections")
        .order_by("created_at", "id")[:limit]
    )
    rows = list(pending)
    if not rows:
        return []
    states = {
        state.card_id: state
        for state in CardState.objects.filter(
            learner=learner, card_id__in=[row.card_id for row in rows]
        )
    }
    return [(row.card, states.get(row.card_id)) for row in rows]


def card_state_memory(state: CardState | None, *, now: datetime) -> MemoryState:
    """Return the ``MemoryState`` of a stored card state (a new card's when there is none)."""
    if state is None:
        return MemoryState.new(now=now)
    return MemoryState(
        state=State(state.state),
        step=state.step,
        stability=state.stability,
        difficulty=state.difficulty,
        due=state.due,
        last_review=state.last_review,
        reps=state.reps,
        lapses=state.lapses,
    )


def next_due_at(*, learner: Any, bank_ids: Iterable[int]) -> datetime | None:
    """Return when the learner's next unsuspended card falls due (None: no card studied yet)."""
    first = (
        CardState.objects.filter(_published_in(bank_ids), learner=learner, suspended=False)
        .order_by("due")
        .values_list("due", flat=True)
        .first()
    )
    return first
