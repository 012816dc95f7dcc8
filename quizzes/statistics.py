"""Statistics of the learning engine: reads only, as frozen dataclasses.

For a learner (:func:`learner_statistics`): due today, reviews per study day, true retention,
a 30-day forecast of due reviews, per-topic mastery, the streak and the most frequent
misconceptions. For an instructor (:func:`bank_statistics`): per card of a bank they own, the
facility (mean score), discrimination, average time, the most common misconceptions and wrong
numeric answers.

Each selector runs a fixed number of aggregate queries (``values``/``annotate``), whatever the
number of cards, learners or reviews; per-row arithmetic the databases do not share (the FSRS
forgetting curve, Pearson's correlation) is done in Python over the aggregated rows. Days are
the learner's study days (time zone and day-start hour, as :func:`quizzes.selectors.study_day`):
the database gives each timestamp's local date and whether it falls before the day-start hour,
which is exact across daylight-saving changes. Undone reviews (:class:`ReviewUndo`) never count.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Avg, Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import ExtractHour, TruncDate

from compute.templates import UnknownTemplate, get_template
from knowledge.models import Bank, Card

from .errors import StudyError
from .models import CardState, ReviewLog, StudySettings
from .scheduling import Rating, State, retrievability
from .selectors import (
    card_state_memory,
    learner_parameters,
    study_day,
    study_settings_get,
    subscribed_bank_ids,
)

__all__ = [
    "BankStatistics",
    "CardStatistics",
    "DayCount",
    "LearnerStatistics",
    "MisconceptionCount",
    "Retention",
    "TopicMastery",
    "WrongAnswer",
    "bank_statistics",
    "learner_due_forecast",
    "learner_misconceptions",
    "learner_retention",
    "learner_reviews_per_day",
    "learner_statistics",
    "learner_streak",
    "learner_topic_mastery",
    "pearson",
]

HISTORY_DAYS = 30
FORECAST_DAYS = 30
TOP_MISCONCEPTIONS = 5
TOP_PER_CARD = 3


@dataclass(frozen=True)
class DayCount:
    day: date  # the study day (the local date on which it starts)
    count: int


@dataclass(frozen=True)
class Retention:
    """The share of review-phase reviews in the last ``days`` days not rated Again."""

    days: int
    reviews: int
    recalled: int
    rate: float | None  # None: no review-phase review in the window


@dataclass(frozen=True)
class TopicMastery:
    """How well the learner holds a topic's cards (those of the banks they study)."""

    slug: str
    title: dict[str, str]
    cards: int
    seen: int  # cards the learner has reviewed (that have a memory state)
    seen_share: float
    retrievability: float | None  # mean predicted recall now over the seen cards


@dataclass(frozen=True)
class MisconceptionCount:
    template_id: str
    misconception: str
    label: dict[str, str]  # the template's feedback for it, zh and en (empty if unknown)
    count: int


@dataclass(frozen=True)
class LearnerStatistics:
    today: date
    due_today: int
    reviews_per_day: tuple[DayCount, ...]  # the last 30 study days, oldest first
    retention_7: Retention
    retention_30: Retention
    forecast: tuple[DayCount, ...]  # due reviews on each of the next 30 study days, today first
    mastery: tuple[TopicMastery, ...]
    streak: int
    misconceptions: tuple[MisconceptionCount, ...]


@dataclass(frozen=True)
class WrongAnswer:
    answer: str
    count: int


@dataclass(frozen=True)
class CardStatistics:
    card_id: int
    slug: str
    kind: str
    status: str
    reviews: int
    learners: int
    facility: float | None  # mean score over the card's reviews
    discrimination: float | None  # Pearson r over learners: card mean vs the learner's bank mean
    average_ms: float | None
    misconceptions: tuple[MisconceptionCount, ...]
    wrong_answers: tuple[WrongAnswer, ...]  # numeric cards: answers graded wrong (Again)


@dataclass(frozen=True)
class BankStatistics:
    bank_slug: str
    reviews: int
    learners: int
    cards: tuple[CardStatistics, ...]


# --- Study days ------------------------------------------------------------------------------


def _zone(prefs: StudySettings) -> ZoneInfo:
    return ZoneInfo(str(prefs.time_zone))


def _today(prefs: StudySettings, now: datetime) -> date:
    return study_day(prefs=prefs, now=now).start.astimezone(_zone(prefs)).date()


def _day_start(prefs: StudySettings, day: date) -> datetime:
    """Return when the study day ``day`` begins (as an aware datetime)."""
    return datetime.combine(day, time(hour=prefs.day_starts_at), tzinfo=_zone(prefs))


def _per_study_day(
    rows: QuerySet[Any, Any], *, field: str, prefs: StudySettings
) -> dict[date, int]:
    """Count ``rows`` per study day of ``field``: one grouped query, two rows a date at most.

    A timestamp before the day-start hour (local wall-clock time) belongs to the previous day.
    """
    zone = _zone(prefs)
    grouped = (
        rows.annotate(local_hour=ExtractHour(field, tzinfo=zone))
        .annotate(
            local_date=TruncDate(field, tzinfo=zone),
            early=Case(
                When(local_hour__lt=prefs.day_starts_at, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
        .values("local_date", "early")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[date, int] = defaultdict(int)
    for row in grouped:
        counts[row["local_date"] - timedelta(days=row["early"])] += row["n"]
    return counts


def _reviews(learner: Any) -> QuerySet[ReviewLog]:
    return ReviewLog.objects.filter(learner=learner, undo__isnull=True)


def _template_label(template_id: str, misconception: str) -> dict[str, str]:
    """Return the template's feedback naming ``misconception`` (no database query)."""
    try:
        template = get_template(template_id)
    except (UnknownTemplate, KeyError, ValueError):
        return {}
    for known in template.misconceptions:
        if known.id == misconception:
            return {"zh": known.feedback.zh, "en": known.feedback.en}
    return {}


# --- Learners --------------------------------------------------------------------------------


def learner_reviews_per_day(
    *, learner: Any, now: datetime, prefs: StudySettings | None = None, days: int = HISTORY_DAYS
) -> tuple[DayCount, ...]:
    """Return the learner's review count on each of the last ``days`` study days, oldest first."""
    prefs = prefs or study_settings_get(learner=learner)
    today = _today(prefs, now)
    first = today - timedelta(days=days - 1)
    counts = _per_study_day(
        _reviews(learner).filter(reviewed_at__gte=_day_start(prefs, first), reviewed_at__lte=now),
        field="reviewed_at",
        prefs=prefs,
    )
    return tuple(
        DayCount(day=first + timedelta(days=i), count=counts.get(first + timedelta(days=i), 0))
        for i in range(days)
    )


def learner_retention(*, learner: Any, now: datetime) -> tuple[Retention, Retention]:
    """Return the true retention over the last 7 and 30 days (7 x 24 and 30 x 24 hours).

    True retention, as Anki reports it: of the reviews of cards in the review phase (not new,
    not in learning or relearning steps), the share not rated Again.
    """
    week, month = now - timedelta(days=7), now - timedelta(days=30)
    recalled = ~Q(rating=int(Rating.Again))
    in_week = Q(reviewed_at__gte=week)
    counts = (
        _reviews(learner)
        .filter(phase_before=int(State.Review), reviewed_at__gte=month, reviewed_at__lte=now)
        .aggregate(
            week=Count("id", filter=in_week),
            week_ok=Count("id", filter=in_week & recalled),
            month=Count("id"),
            month_ok=Count("id", filter=recalled),
        )
    )

    def retention(days: int, reviews: int, ok: int) -> Retention:
        return Retention(
            days=days, reviews=reviews, recalled=ok, rate=ok / reviews if reviews else None
        )

    return (
        retention(7, counts["week"] or 0, counts["week_ok"] or 0),
        retention(30, counts["month"] or 0, counts["month_ok"] or 0),
    )


def _studied_states(learner: Any, bank_ids: Sequence[int]) -> QuerySet[CardState]:
    return CardState.objects.filter(
        learner=learner, card__bank_id__in=list(bank_ids), card__status=Card.Status.PUBLISHED
    )


def learner_due_forecast(
    *,
    learner: Any,
    now: datetime,
    prefs: StudySettings | None = None,
    bank_ids: Sequence[int] | None = None,
    days: int = FORECAST_DAYS,
) -> tuple[DayCount, ...]:
    """Return how many unsuspended cards fall due on each of the next ``days`` study days.

    Today's count includes every overdue card: it is what "due today" means. Only published
    cards of the learner's subscribed banks count (what "next item" would show).
    """
    prefs = prefs or study_settings_get(learner=learner)
    if bank_ids is None:
        bank_ids = subscribed_bank_ids(learner=learner)
    today = _today(prefs, now)
    end = _day_start(prefs, today + timedelta(days=days))
    counts = _per_study_day(
        _studied_states(learner, bank_ids).filter(suspended=False, due__lt=end),
        field="due",
        prefs=prefs,
    )
    overdue = sum(n for day, n in counts.items() if day < today)
    return tuple(
        DayCount(
            day=today + timedelta(days=i),
            count=counts.get(today + timedelta(days=i), 0) + (overdue if i == 0 else 0),
        )
        for i in range(days)
    )


def learner_topic_mastery(
    *,
    learner: Any,
    now: datetime,
    prefs: StudySettings | None = None,
    bank_ids: Sequence[int] | None = None,
) -> tuple[TopicMastery, ...]:
    """Return, per topic of the subscribed banks' published cards, how well the learner holds it.

    ``seen_share`` is the share of the topic's cards the learner has reviewed; ``retrievability``
    the mean FSRS probability of recall at ``now`` over those cards (the learner's parameters).
    Topics come in slug order (the tree's order: a parent before its children).
    """
    prefs = prefs or study_settings_get(learner=learner)
    if bank_ids is None:
        bank_ids = subscribed_bank_ids(learner=learner)
    topics = (
        Card.objects.filter(bank_id__in=list(bank_ids), status=Card.Status.PUBLISHED)
        .values("topic_id", "topic__slug", "topic__title_zh", "topic__title_en")
        .annotate(cards=Count("id"))
        .order_by("topic__slug")
    )
    parameters = learner_parameters(prefs=prefs)
    recall: dict[int, list[float]] = defaultdict(list)
    states = (
        _studied_states(learner, bank_ids)
        .annotate(topic=F("card__topic_id"))
        .only(*_MEMORY_FIELDS)
        .order_by()
    )
    for state in states:
        memory = card_state_memory(state, now=now)
        recall[state.topic].append(retrievability(state=memory, now=now, parameters=parameters))
    mastery = []
    for row in topics:
        values = recall.get(row["topic_id"], [])
        mastery.append(
            TopicMastery(
                slug=row["topic__slug"],
                title={"zh": row["topic__title_zh"], "en": row["topic__title_en"]},
                cards=row["cards"],
                seen=len(values),
                seen_share=len(values) / row["cards"],
                retrievability=sum(values) / len(values) if values else None,
            )
        )
    return tuple(mastery)


_MEMORY_FIELDS = (
    "state",
    "step",
    "stability",
    "difficulty",
    "due",
    "last_review",
    "reps",
    "lapses",
)


def learner_streak(*, learner: Any, now: datetime, prefs: StudySettings | None = None) -> int:
    """Return the number of consecutive study days, up to today, on which the learner reviewed.

    A day not yet studied today does not break the streak: it then counts up to yesterday.
    """
    prefs = prefs or study_settings_get(learner=learner)
    today = _today(prefs, now)
    studied = set(
        _per_study_day(
            _reviews(learner).filter(reviewed_at__lte=now), field="reviewed_at", prefs=prefs
        )
    )
    day = today if today in studied else today - timedelta(days=1)
    streak = 0
    while day in studied:
        streak += 1
        day -= timedelta(days=1)
    return streak


def _misconception_rows(reviews: QuerySet[ReviewLog], *group: str) -> QuerySet[Any, Any]:
    """Count the reviews per misconception (of a template), grouped also by ``group``."""
    rows: QuerySet[Any, Any] = (
        reviews.exclude(misconception="")
        .values(*group, "card__template_id", "misconception")
        .annotate(n=Count("id"))
    )
    return rows


def _misconception(row: dict[str, Any]) -> MisconceptionCount:
    return MisconceptionCount(
        template_id=row["card__template_id"],
        misconception=row["misconception"],
        label=_template_label(row["card__template_id"], row["misconception"]),
        count=row["n"],
    )


def learner_misconceptions(
    *, learner: Any, limit: int = TOP_MISCONCEPTIONS
) -> tuple[MisconceptionCount, ...]:
    """Return the learner's most frequent misconceptions (by template), most frequent first."""
    rows = _misconception_rows(_reviews(learner)).order_by(
        "-n", "card__template_id", "misconception"
    )[:limit]
    return tuple(_misconception(row) for row in rows)


def learner_statistics(*, learner: Any, now: datetime) -> LearnerStatistics:
    """Return the learner's statistics at ``now`` (a fixed number of queries)."""
    prefs = study_settings_get(learner=learner)
    bank_ids = subscribed_bank_ids(learner=learner)
    forecast = learner_due_forecast(learner=learner, now=now, prefs=prefs, bank_ids=bank_ids)
    week, month = learner_retention(learner=learner, now=now)
    return LearnerStatistics(
        today=_today(prefs, now),
        due_today=forecast[0].count,
        reviews_per_day=learner_reviews_per_day(learner=learner, now=now, prefs=prefs),
        retention_7=week,
        retention_30=month,
        forecast=forecast,
        mastery=learner_topic_mastery(learner=learner, now=now, prefs=prefs, bank_ids=bank_ids),
        streak=learner_streak(learner=learner, now=now, prefs=prefs),
        misconceptions=learner_misconceptions(learner=learner),
    )


# --- Instructors -----------------------------------------------------------------------------


def pearson(pairs: Iterable[tuple[float, float]]) -> float | None:
    """Return Pearson's r of the pairs; None for fewer than two or a constant variable."""
    points = list(pairs)
    if len(points) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    syy = sum((y - mean_y) ** 2 for _, y in points)
    # Scores are in [0, 1]: a spread this small is a constant up to rounding.
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def bank_statistics(*, instructor: Any, bank_id: int) -> BankStatistics:
    """Return per-card statistics of a bank the instructor owns, over its learners' reviews.

    Per card: the facility (mean score), the discrimination (Pearson's r, over the learners who
    reviewed it, between their mean score on the card and their mean score over the whole
    bank; None when undefined), the average time, the most common misconceptions and, for
    numeric cards, the most common answers graded wrong. Seven queries, whatever the size.
    Raise StudyError ``not_found`` (404) for a bank that does not exist or is not theirs.
    """
    bank = Bank.objects.filter(pk=bank_id, owner=instructor).only("id", "slug").first()
    if bank is None:
        raise StudyError("No such bank of yours.", code="not_found", status_code=404)
    cards = list(
        Card.objects.filter(bank=bank).values("id", "slug", "kind", "status").order_by("slug")
    )
    reviews = ReviewLog.objects.filter(card__bank=bank, undo__isnull=True)
    per_card = {
        row["card_id"]: row
        for row in reviews.values("card_id")
        .annotate(
            n=Count("id"),
            learners=Count("learner_id", distinct=True),
            facility=Avg("score"),
            average_ms=Avg("elapsed_ms"),
        )
        .order_by()
    }
    overall = {
        row["learner_id"]: row["mean"]
        for row in reviews.values("learner_id").annotate(mean=Avg("score")).order_by()
    }
    pairs: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for pair in reviews.values("card_id", "learner_id").annotate(mean=Avg("score")).order_by():
        pairs[pair["card_id"]].append((pair["mean"], overall[pair["learner_id"]]))
    misconceptions: dict[int, list[MisconceptionCount]] = defaultdict(list)
    for row in _misconception_rows(reviews, "card_id").order_by("card_id", "-n", "misconception"):
        if len(misconceptions[row["card_id"]]) < TOP_PER_CARD:
            misconceptions[row["card_id"]].append(_misconception(row))
    wrong: dict[int, list[WrongAnswer]] = defaultdict(list)
    for given in (
        reviews.filter(card__kind=Card.Kind.NUMERIC, rating=int(Rating.Again))
        .annotate(answer=KT("response__answer"))
        .values("card_id", "answer")
        .annotate(n=Count("id"))
        .order_by("card_id", "-n", "answer")
    ):
        if len(wrong[given["card_id"]]) < TOP_PER_CARD:
            wrong[given["card_id"]].append(
                WrongAnswer(answer=str(given["answer"]), count=given["n"])
            )
    results = []
    for card in cards:
        stats = per_card.get(card["id"])
        results.append(
            CardStatistics(
                card_id=card["id"],
                slug=card["slug"],
                kind=card["kind"],
                status=card["status"],
                reviews=stats["n"] if stats else 0,
                learners=stats["learners"] if stats else 0,
                facility=stats["facility"] if stats else None,
                discrimination=pearson(pairs.get(card["id"], [])),
                average_ms=stats["average_ms"] if stats else None,
                misconceptions=tuple(misconceptions.get(card["id"], [])),
                wrong_answers=tuple(wrong.get(card["id"], [])),
            )
        )
    return BankStatistics(
        bank_slug=bank.slug,
        reviews=sum(row["n"] for row in per_card.values()),
        learners=len(overall),
        cards=tuple(results),
    )
