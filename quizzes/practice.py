"""Practice sessions: a mock interview of N cards over chosen topics, scored per topic at the end.

A session is a set of ordinary issued items handed out at once (a fresh variant for each numeric
card, through :func:`quizzes.services.item_issue`, the same function "next item" uses). They are
answered through :func:`quizzes.services.attempt_submit` and graded by the grading task like any
review, so they feed the scheduler; :func:`practice_item_check` is the hook by which
``attempt_submit`` refuses an answer after the session's deadline or once it is finished.

* :func:`practice_start` picks the cards (due first, then weak, then the rest, kinds mixed) and
  issues them all;
* :func:`practice_items` lists the session's questions; :func:`practice_next` returns the first
  unanswered one, or the result once none is left or time is up;
* :func:`practice_finish` closes the session and scores it per topic; it is idempotent.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, FilteredRelation, Max, OuterRef, Q

from knowledge.models import Card, CardVersion, Topic

from .errors import StudyError
from .models import Attempt, CardState, IssuedItem, PracticeItem, PracticeSession
from .scheduling import State
from .selectors import pending_attempt_card_ids, study_settings_get, subscribed_bank_ids
from .services import StudyItem, issued_item_token, item_issue

__all__ = [
    "MAX_PRACTICE_SIZE",
    "MAX_TIME_LIMIT",
    "MIN_TIME_LIMIT",
    "PracticeQuestion",
    "PracticeResult",
    "PracticeView",
    "TopicScore",
    "practice_finish",
    "practice_item_check",
    "practice_items",
    "practice_next",
    "practice_start",
]

MAX_PRACTICE_SIZE = 100
MAX_TOPICS = 50
# Shorter than half a minute is no interview; longer than the life of an issued item
# (services.ISSUE_TTL) would leave the last questions unanswerable.
MIN_TIME_LIMIT = timedelta(seconds=30)
MAX_TIME_LIMIT = timedelta(hours=12)
# Cards read beyond N, to replace a card whose content cannot be shown.
SPARE_CARDS = 10
# An FSRS difficulty (1-10) from which a card counts as weak for the learner.
WEAK_DIFFICULTY = 7.0


@dataclass(frozen=True)
class TopicScore:
    """One chosen topic's score: the mean over its items, an unanswered item counting 0."""

    slug: str
    title: dict[str, str]
    items: int
    answered: int
    score: float | None  # None: the topic had no items


@dataclass(frozen=True)
class PracticeResult:
    """A finished session's score. ``complete`` is False while some answer is being graded."""

    session_id: str
    status: str
    topics: tuple[TopicScore, ...]
    items: int
    answered: int
    pending: int
    score: float
    time_used_seconds: float
    time_limit_seconds: int | None
    timed_out: bool
    complete: bool
    done: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON data (what the session stores)."""
        data = dataclasses.asdict(self)
        data["topics"] = list(data["topics"])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PracticeResult:
        topics = tuple(TopicScore(**topic) for topic in data["topics"])
        return cls(**{**data, "topics": topics})


@dataclass(frozen=True)
class PracticeQuestion:
    """A question of a session as it stands; ``item`` (with its token) only while answerable."""

    position: int
    topic_slug: str
    card_slug: str
    kind: str
    status: str  # "open", "pending" (being graded), "graded", "failed" or "unanswered"
    score: float | None
    item: StudyItem | None


@dataclass(frozen=True)
class PracticeView:
    session_id: str
    status: str
    started_at: datetime
    deadline: datetime | None
    size: int
    topic_slugs: tuple[str, ...]
    questions: tuple[PracticeQuestion, ...]


# --- Starting --------------------------------------------------------------------------------


def _topics_chosen(topic_slugs: Any) -> list[Topic]:
    if isinstance(topic_slugs, str) or not isinstance(topic_slugs, Sequence):
        raise StudyError(
            "Choose the topics as a list of topic slugs.", code="practice_topics_invalid"
        )
    slugs = list(dict.fromkeys(topic_slugs))
    if not slugs or len(slugs) > MAX_TOPICS or not all(isinstance(s, str) and s for s in slugs):
        raise StudyError(
            f"Choose from 1 to {MAX_TOPICS} topics by their slugs.", code="practice_topics_invalid"
        )
    topics = list(Topic.objects.filter(slug__in=slugs).order_by())
    unknown = sorted(set(slugs) - {topic.slug for topic in topics})
    if unknown:
        raise StudyError(f"Unknown topics: {', '.join(unknown)}.", code="practice_topics_invalid")
    order = {slug: i for i, slug in enumerate(slugs)}
    return sorted(topics, key=lambda topic: order[topic.slug])


def _within(slug: str, topic: Topic) -> bool:
    return slug == topic.slug or slug.startswith(topic.slug + "/")


def _counting_topic(slug: str, topics: Iterable[Topic]) -> Topic:
    """Return the most specific chosen topic that contains the topic ``slug``."""
    return max((t for t in topics if _within(slug, t)), key=lambda t: len(t.slug))


def _mixed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Interleave the kinds (round robin, in order of first appearance), keeping each kind's order."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row)
    queues = list(by_kind.values())
    mixed: list[dict[str, Any]] = []
    for index in range(max((len(q) for q in queues), default=0)):
        mixed += [queue[index] for queue in queues if index < len(queue)]
    return mixed


def _candidates(
    *, learner: Any, bank_ids: list[int], topics: list[Topic], now: datetime
) -> list[dict[str, Any]]:
    """Return the cards a session may ask, best first: due, then weak, then the rest.

    Within each group the kinds are interleaved; the due come most overdue first, the weak most
    lapsed first, the rest in an order drawn from the learner and ``now`` (reproducible).
    """
    scope = Q()
    for topic in topics:
        scope |= Q(topic__slug=topic.slug) | Q(topic__slug__startswith=topic.slug + "/")
    query = (
        Card.objects.filter(scope, bank_id__in=bank_ids, status=Card.Status.PUBLISHED)
        .filter(
            Exists(CardVersion.objects.filter(card=OuterRef("pk"), version=OuterRef("version")))
        )
        .exclude(id__in=pending_attempt_card_ids(learner=learner))
        .annotate(mine=FilteredRelation("states", condition=Q(states__learner=learner)))
        .filter(Q(mine__suspended=False) | Q(mine__id__isnull=True))
        .values(
            "id",
            "kind",
            "topic__slug",
            "mine__id",
            "mine__due",
            "mine__state",
            "mine__lapses",
            "mine__difficulty",
        )
        .order_by("id")
    )
    rows: list[dict[str, Any]] = [dict(row) for row in query]
    rng = random.Random(f"practice:{learner.pk}:{now.isoformat()}")
    due: list[dict[str, Any]] = []
    weak: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    for row in rows:
        if row["mine__id"] is None:
            rest.append(row)
        elif row["mine__due"] <= now:
            due.append(row)
        elif (
            row["mine__state"] != int(State.Review)
            or row["mine__lapses"] > 0
            or (row["mine__difficulty"] or 0.0) >= WEAK_DIFFICULTY
        ):
            weak.append(row)
        else:
            rest.append(row)
    due.sort(key=lambda r: (r["mine__due"], r["id"]))
    weak.sort(key=lambda r: (-r["mine__lapses"], -(r["mine__difficulty"] or 0.0), r["id"]))
    rng.shuffle(rest)
    return _mixed(due) + _mixed(weak) + _mixed(rest)


def _check_start(size: Any, time_limit_seconds: Any) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PRACTICE_SIZE:
        raise StudyError(
            f"A practice session has from 1 to {MAX_PRACTICE_SIZE} questions.",
            code="practice_size_invalid",
        )
    if time_limit_seconds is not None and (
        isinstance(time_limit_seconds, bool)
        or not isinstance(time_limit_seconds, int)
        or not MIN_TIME_LIMIT.total_seconds()
        <= time_limit_seconds
        <= MAX_TIME_LIMIT.total_seconds()
    ):
        raise StudyError(
            f"The time limit is from {int(MIN_TIME_LIMIT.total_seconds())} seconds to "
            f"{int(MAX_TIME_LIMIT.total_seconds() // 3600)} hours, or none.",
            code="practice_time_limit_invalid",
        )


def practice_start(
    *,
    learner: Any,
    topic_slugs: Sequence[str],
    size: int,
    time_limit_seconds: int | None = None,
    now: datetime,
) -> PracticeView:
    """Start a practice session of ``size`` cards over ``topic_slugs`` and issue all its items.

    The cards are published cards of the learner's subscribed banks whose topic is a chosen one
    or below it; suspended cards and cards whose last answer is being graded are left out. The
    learner's due cards come first, then weak ones (in learning steps, lapsed or hard), then the
    others, the kinds interleaved. Fewer than ``size`` items are issued when the topics hold
    fewer cards. Raise StudyError ``practice_size_invalid`` (not 1-100),
    ``practice_time_limit_invalid``, ``practice_topics_invalid`` (empty, malformed or unknown
    slugs), ``not_subscribed`` or ``practice_no_cards``.
    """
    _check_start(size, time_limit_seconds)
    topics = _topics_chosen(topic_slugs)
    bank_ids = subscribed_bank_ids(learner=learner)
    if not bank_ids:
        raise StudyError("Subscribe to a bank before practising.", code="not_subscribed")
    ranked = _candidates(learner=learner, bank_ids=bank_ids, topics=topics, now=now)
    wanted = [row["id"] for row in ranked[: size + SPARE_CARDS]]
    cards = Card.objects.in_bulk(wanted)
    states = {s.card_id: s for s in CardState.objects.filter(learner=learner, card_id__in=wanted)}
    prefs = study_settings_get(learner=learner)
    with transaction.atomic():
        issued: list[tuple[dict[str, Any], IssuedItem, StudyItem]] = []
        for row in ranked[: size + SPARE_CARDS]:
            made = item_issue(
                learner=learner,
                card=cards[row["id"]],
                state=states.get(row["id"]),
                prefs=prefs,
                now=now,
            )
            if made is not None:
                issued.append((row, *made))
            if len(issued) == size:
                break
        if not issued:
            raise StudyError(
                "None of your subscribed banks has a published card in these topics.",
                code="practice_no_cards",
            )
        limit = None if time_limit_seconds is None else timedelta(seconds=time_limit_seconds)
        session = PracticeSession.objects.create(
            learner=learner,
            size=len(issued),
            time_limit_seconds=time_limit_seconds,
            started_at=now,
            deadline=None if limit is None else now + limit,
        )
        session.topics.set(topics)
        # Present the chosen cards with the kinds interleaved, whatever group they came from.
        by_id = {row["id"]: (item, study) for row, item, study in issued}
        order = _mixed([row for row, _, _ in issued])
        links = PracticeItem.objects.bulk_create(
            PracticeItem(
                session=session,
                position=position,
                issued=by_id[row["id"]][0],
                topic=_counting_topic(row["topic__slug"], topics),
                shown=_shown(by_id[row["id"]][1]),
            )
            for position, row in enumerate(order)
        )
    studies = [by_id[row["id"]][1] for row in order]
    return PracticeView(
        session_id=str(session.pk),
        status=session.status,
        started_at=session.started_at,
        deadline=session.deadline,
        size=session.size,
        topic_slugs=tuple(topic.slug for topic in topics),
        questions=tuple(
            PracticeQuestion(
                position=link.position,
                topic_slug=link.topic.slug,
                card_slug=study.card_slug,
                kind=study.kind,
                status="open",
                score=None,
                item=study,
            )
            for link, study in zip(links, studies, strict=True)
        ),
    )


def _shown(study: StudyItem) -> dict[str, Any]:
    data = dataclasses.asdict(study)
    del data["token"], data["expires_at"]  # the token is signed afresh when shown again
    return data


def _study_item(link: PracticeItem) -> StudyItem:
    return StudyItem(
        **link.shown, token=issued_item_token(link.issued), expires_at=link.issued.expires_at
    )


# --- The answer hook -------------------------------------------------------------------------


def practice_item_check(*, item: IssuedItem, now: datetime) -> None:
    """Refuse an answer to a practice item once its session is over (called by attempt_submit).

    Raise StudyError ``practice_finished`` when the session was finished, ``practice_time_up``
    when ``now`` is past its deadline. Items outside practice sessions pass.
    """
    link = PracticeItem.objects.select_related("session").filter(issued_id=item.pk).first()
    if link is None:
        return
    session = link.session
    if session.status != PracticeSession.Status.ACTIVE:
        raise StudyError(
            "This practice session is over: its questions can no longer be answered.",
            code="practice_finished",
            status_code=409,
        )
    if session.deadline is not None and now > session.deadline:
        raise StudyError(
            "Time is up for this practice session: the answer came after its deadline.",
            code="practice_time_up",
            status_code=409,
        )


# --- Reading and finishing -------------------------------------------------------------------


def _session(*, learner: Any, session_id: Any, lock: bool = False) -> PracticeSession:
    try:
        pk = session_id if isinstance(session_id, uuid.UUID) else uuid.UUID(str(session_id))
    except ValueError:
        raise StudyError("No such practice session.", code="not_found", status_code=404) from None
    sessions = PracticeSession.objects.filter(pk=pk, learner=learner)
    if lock:
        sessions = sessions.select_for_update()
    session = sessions.first()
    if session is None:
        raise StudyError("No such practice session.", code="not_found", status_code=404)
    return session


def _item_rows(session: PracticeSession) -> list[dict[str, Any]]:
    """Return each item's position, topic, card, answered flag, graded score and pending count."""
    graded = Q(
        issued__attempts__status=Attempt.Status.GRADED,
        issued__attempts__review__undo__isnull=True,
    )
    query = (
        PracticeItem.objects.filter(session=session)
        .values(
            "position",
            "topic__slug",
            "issued__card__slug",
            "issued__card__kind",
            "issued__answered",
        )
        .annotate(
            score=Max("issued__attempts__review__score", filter=graded),
            pending=Count(
                "issued__attempts", filter=Q(issued__attempts__status=Attempt.Status.PENDING)
            ),
            failed=Count(
                "issued__attempts", filter=Q(issued__attempts__status=Attempt.Status.FAILED)
            ),
        )
        .order_by("position")
    )
    return [dict(row) for row in query]


def _is_open(session: PracticeSession, now: datetime) -> bool:
    return session.status == PracticeSession.Status.ACTIVE and (
        session.deadline is None or now <= session.deadline
    )


def practice_items(*, learner: Any, session_id: Any, now: datetime) -> PracticeView:
    """Return the learner's session with each question's state; a token for each open one.

    Raise StudyError ``not_found`` (404) for a session that is not the learner's.
    """
    session = _session(learner=learner, session_id=session_id)
    rows = _item_rows(session)
    answerable = _is_open(session, now)
    links = {}
    if answerable:
        links = {
            link.position: link
            for link in PracticeItem.objects.filter(session=session, issued__answered=False)
            .select_related("issued")
            .order_by()
        }
    questions = []
    for row in rows:
        if row["score"] is not None:
            status = "graded"
        elif row["pending"]:
            status = "pending"
        elif row["failed"] and row["issued__answered"]:
            status = "failed"
        elif answerable and not row["issued__answered"]:
            status = "open"
        else:
            status = "unanswered"
        link = links.get(row["position"]) if status == "open" else None
        questions.append(
            PracticeQuestion(
                position=row["position"],
                topic_slug=row["topic__slug"],
                card_slug=row["issued__card__slug"],
                kind=row["issued__card__kind"],
                status=status,
                score=row["score"],
                item=None if link is None else _study_item(link),
            )
        )
    return PracticeView(
        session_id=str(session.pk),
        status=session.status,
        started_at=session.started_at,
        deadline=session.deadline,
        size=session.size,
        topic_slugs=tuple(session.topics.order_by("slug").values_list("slug", flat=True)),
        questions=tuple(questions),
    )


def practice_next(*, learner: Any, session_id: Any, now: datetime) -> StudyItem | PracticeResult:
    """Return the session's first unanswered question (a ``StudyItem``), or its result.

    Once every question is answered, or time is up, the session is finished
    (:func:`practice_finish`) and its :class:`PracticeResult` returned. Raise StudyError
    ``not_found`` (404) for a session that is not the learner's.
    """
    session = _session(learner=learner, session_id=session_id)
    if _is_open(session, now):
        link = (
            PracticeItem.objects.filter(session=session, issued__answered=False)
            .select_related("issued")
            .order_by("position")
            .first()
        )
        if link is not None:
            return _study_item(link)
    return practice_finish(learner=learner, session_id=session.pk, now=now)


def _score(session: PracticeSession) -> PracticeResult:
    rows = _item_rows(session)
    topics = list(session.topics.order_by("slug"))
    per_topic: dict[str, list[dict[str, Any]]] = {topic.slug: [] for topic in topics}
    for row in rows:
        per_topic.setdefault(row["topic__slug"], []).append(row)
    titles = {topic.slug: {"zh": topic.title_zh, "en": topic.title_en} for topic in topics}
    scores = []
    for slug, items in per_topic.items():
        answered = [row["score"] for row in items if row["score"] is not None]
        scores.append(
            TopicScore(
                slug=slug,
                title=titles.get(slug, {"zh": slug, "en": slug}),
                items=len(items),
                answered=len(answered),
                score=sum(answered) / len(items) if items else None,
            )
        )
    answered_scores = [row["score"] for row in rows if row["score"] is not None]
    pending = sum(1 for row in rows if row["pending"])
    assert session.finished_at is not None
    return PracticeResult(
        session_id=str(session.pk),
        status=session.status,
        topics=tuple(scores),
        items=len(rows),
        answered=len(answered_scores),
        pending=pending,
        score=sum(answered_scores) / len(rows) if rows else 0.0,
        time_used_seconds=(session.finished_at - session.started_at).total_seconds(),
        time_limit_seconds=session.time_limit_seconds,
        timed_out=session.status == PracticeSession.Status.TIMED_OUT,
        complete=pending == 0,
    )


def practice_finish(*, learner: Any, session_id: Any, now: datetime) -> PracticeResult:
    """Finish the learner's session (if still active) and return its score per topic.

    A session whose deadline has passed is finished at its deadline, as timed out. A topic's
    score is the mean over its items of the graded score, an unanswered item counting 0; the
    totals likewise. The result is stored once no answer is still being graded (until then it
    comes back with ``complete`` False); calling again returns the same result. Raise
    StudyError ``not_found`` (404) for a session that is not the learner's.
    """
    with transaction.atomic():
        session = _session(learner=learner, session_id=session_id, lock=True)
        if session.result is not None:
            return PracticeResult.from_dict(session.result)
        if session.status == PracticeSession.Status.ACTIVE:
            if session.deadline is not None and now > session.deadline:
                session.status = PracticeSession.Status.TIMED_OUT
                session.finished_at = session.deadline
            else:
                session.status = PracticeSession.Status.FINISHED
                session.finished_at = max(now, session.started_at)
        result = _score(session)
        if result.complete:
            session.result = result.to_dict()
        session.save(update_fields=["status", "finished_at", "result"])
        return result
