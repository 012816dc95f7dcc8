"""Grading and scheduling: the task's work, reviews in time order, undo and remediation."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from compute.templates import ParseError, UnknownTemplate, VariantKey, grade
from knowledge.models import Card, MisconceptionLink
from ops.outbox import outbox_claim

from .. import grading
from ..errors import StudyError
from ..models import (
    Attempt,
    CardState,
    IssuedItem,
    Remediation,
    ReviewLog,
    ReviewUndo,
    StudySettings,
)
from ..scheduling import (
    LEECH_LAPSES,
    MemoryState,
    Rating,
    ReviewEvent,
    UndoConflictError,
    leech_reached,
    replay,
    review_undo,
    schedule_review,
)
from ..selectors import (
    card_state_memory,
    learner_parameters,
    study_settings_get,
    subscribed_bank_ids,
)
from .common import (
    RATING_NAMES,
    _fuzz_key,
)

__all__ = [
    "Resequenced",
    "Scheduled",
    "attempt_grade",
    "card_state_schedule",
    "card_state_undo",
    "misconception_remediate",
    "review_log_resequence",
]

logger = logging.getLogger(__name__)


# --- Grading ---------------------------------------------------------------------------------


def misconception_remediate(
    *, learner: Any, misconception_id: str, template_id: str, now: datetime
) -> list[Remediation]:
    """Bring the cards that teach ``misconception_id`` of ``template_id`` forward, once.

    The cards are those the bank's misconception links name (``knowledge.MisconceptionLink``)
    that are published, in a bank the learner studies and not suspended by the learner. Each
    gets a pending :class:`Remediation` (created at ``now``), which :func:`study_next` serves
    before anything else and the card's next review consumes; the card's memory state is not
    touched, so the log still replays exactly. A card with a remediation still pending is not
    pushed again, nor one the learner has reviewed after ``now`` (an offline mistake uploaded
    after the card's later review). Return the remediations created (none for an unlinked misconception). The
    misconception itself is logged on the review by the caller.
    """
    links = MisconceptionLink.objects.filter(
        template_id=template_id,
        misconception_id=misconception_id,
        card__status=Card.Status.PUBLISHED,
        card__bank_id__in=subscribed_bank_ids(learner=learner),
    ).order_by("position", "id")
    card_ids = list(dict.fromkeys(links.values_list("card_id", flat=True)))
    if not card_ids:
        return []
    skip = (
        set(
            CardState.objects.filter(
                learner=learner, card_id__in=card_ids, suspended=True
            ).values_list("card_id", flat=True)
        )
        | set(
            Remediation.objects.filter(
                learner=learner, card_id__in=card_ids, consumed_at__isnull=True
            ).values_list("card_id", flat=True)
        )
        | set(
            ReviewLog.objects.filter(
                learner=learner, card_id__in=card_ids, reviewed_at__gt=now, undo__isnull=True
            ).values_list("card_id", flat=True)
        )
    )
    created: list[Remediation] = []
    for card_id in card_ids:
        if card_id in skip:
            continue
        try:
            with transaction.atomic():  # another grading may have pushed it a moment ago
                created.append(
                    Remediation.objects.create(
                        learner=learner,
                        card_id=card_id,
                        template_id=template_id,
                        misconception_id=misconception_id,
                        created_at=now,
                    )
                )
        except IntegrityError:
            continue
    return created


@dataclass(frozen=True)
class _Outcome:
    score: float
    rating: Rating | None  # None: a format error, not a review
    misconception: str
    result: dict[str, Any]


def _grade_numeric(attempt: Attempt, lang: str) -> _Outcome:
    key = VariantKey.from_json(json.dumps(attempt.issued.variant_key))
    result = grade(key, attempt.response["answer"], lang="zh" if lang == "zh" else "en")
    data = result.to_dict()
    if result.format_error is not None:
        return _Outcome(score=0.0, rating=None, misconception="", result=data)
    if result.correct:
        rating = grading.rating_for_correct(
            duration_ms=attempt.duration_ms,
            expected=grading.expected_ms(difficulty=attempt.issued.card.difficulty),
        )
    else:
        rating = Rating.Again
    return _Outcome(
        score=float(result.score),
        rating=rating,
        misconception=result.misconception or "",
        result=data,
    )


def _grade_mcq(attempt: Attempt) -> _Outcome:
    marked = grading.mcq_grade(
        content=attempt.card_version.content, choices=attempt.response["choices"]
    )
    rating = grading.rating_from_score(
        score=marked.score,
        duration_ms=attempt.duration_ms,
        expected=grading.expected_ms(difficulty=attempt.issued.card.difficulty),
    )
    return _Outcome(score=marked.score, rating=rating, misconception="", result=marked.to_dict())


def _grade_concept(attempt: Attempt) -> _Outcome:
    response = attempt.response
    chosen = response.get("rating")
    if "text" not in response:
        rating = Rating(chosen)
        score = (int(rating) - 1) / 3  # a self-rating as a score: Again 0 ... Easy 1
        return _Outcome(score=score, rating=rating, misconception="", result={"self_rated": True})
    marked = grading.concept_grade(
        content=attempt.card_version.content,
        text=response["text"],
        duration_ms=attempt.duration_ms,
        expected=grading.expected_ms(difficulty=attempt.issued.card.difficulty),
    )
    rating = Rating(chosen) if chosen is not None else marked.suggested_rating
    return _Outcome(
        score=marked.score,
        rating=rating,
        misconception="",
        result={**marked.to_dict(), "self_rated": chosen is not None},
    )


@dataclass(frozen=True)
class Scheduled:
    before: MemoryState
    after: MemoryState
    state: CardState
    leech_now: bool


def card_state_schedule(
    *, learner: Any, card: Card, rating: Rating, reviewed_at: datetime, prefs: StudySettings
) -> Scheduled:
    """Apply one review rated ``rating`` at ``reviewed_at`` to the learner's state of ``card``.

    Call inside a transaction: the state row is locked, stepped with ``schedule_review`` (the
    learner's parameters and retention, fuzz keyed by learner and card), saved, and flagged as
    a leech (suspended too if the learner chose so) on the lapse that makes it one. Raise
    ValueError for a review older than the card's last one: those are inserted in order by
    :func:`attempt_grade` and :func:`review_log_resequence`.
    """
    stored = CardState.objects.select_for_update().filter(learner=learner, card=card).first()
    before = card_state_memory(stored, now=reviewed_at)
    if before.last_review is not None and reviewed_at < before.last_review:
        raise ValueError("the review is older than the card's last one: resequence instead")
    after, _ = schedule_review(
        state=before,
        rating=rating,
        now=reviewed_at,
        parameters=learner_parameters(prefs=prefs),
        desired_retention=prefs.desired_retention,
        fuzz_key=_fuzz_key(learner.pk, card.pk),
    )
    leech_now = leech_reached(before=before, after=after, threshold=LEECH_LAPSES)
    state = stored or CardState(learner=learner, card=card)
    _memory_store(state, after)
    if leech_now:
        state.leech = True
        if prefs.leech_action == StudySettings.LeechAction.SUSPEND:
            state.suspended = True
    state.save()
    return Scheduled(before=before, after=after, state=state, leech_now=leech_now)


@dataclass(frozen=True)
class Resequenced:
    state: CardState | None  # None: no review of the card is left (it is new)
    rewritten: int  # reviews whose derived columns were rewritten
    leech_now: bool


DERIVED_COLUMNS = ("state_before", "state_after", "due", "phase_before")


def _replay_card(
    *, learner: Any, card: Card, prefs: StudySettings, reviews: list[tuple[Rating, datetime]]
) -> list[tuple[MemoryState, MemoryState]]:
    """Return (state before, state after) of each review, replayed in the given order."""
    if not reviews:
        return []
    afters = replay(
        reviews=[ReviewEvent(rating=rating, reviewed_at=at) for rating, at in reviews],
        parameters=learner_parameters(prefs=prefs),
        desired_retention=prefs.desired_retention,
        fuzz_key=_fuzz_key(learner.pk, card.pk),
    )
    befores = [MemoryState.new(now=reviews[0][1]), *afters[:-1]]
    return list(zip(befores, afters, strict=True))


def review_log_resequence(
    *,
    learner: Any,
    card: Card,
    prefs: StudySettings | None = None,
    since: datetime | None = None,
) -> Resequenced:
    """Recompute the learner's state of ``card`` from the review log, in review-time order.

    The learner's reviews of the card that were not undone are replayed in (``reviewed_at``,
    id) order with the learner's current parameters and retention (``scheduling.replay``).
    The log's facts (rating, response, score, misconception, times, client id, card version,
    variant) are never touched; its derived columns (``state_before``, ``state_after``,
    ``due``, ``phase_before``) are what the review did in that order, so each review whose
    stored values differ is rewritten by a queryset update of those columns only (the model's
    ``save`` refuses any change). The card's state row then holds the last review's
    ``state_after``, so :func:`card_state_undo` still undoes exactly the last review. A review
    at or after ``since`` that is the lapse making the card a leech flags it (and suspends it,
    if the learner chose so), as it would have online. Call inside a transaction: the state
    row is locked. Undone reviews keep their columns: they are out of the card's history.
    """
    prefs = prefs or study_settings_get(learner=learner)
    stored = CardState.objects.select_for_update().filter(learner=learner, card=card).first()
    reviews = list(
        ReviewLog.objects.filter(learner=learner, card=card, undo__isnull=True)
        .order_by("reviewed_at", "id")
        .only("id", "rating", "reviewed_at", *DERIVED_COLUMNS)
    )
    steps = _replay_card(
        learner=learner,
        card=card,
        prefs=prefs,
        reviews=[(Rating(review.rating), review.reviewed_at) for review in reviews],
    )
    rewritten = 0
    leech_now = False
    for review, (before, after) in zip(reviews, steps, strict=True):
        derived = {
            "state_before": before.to_dict(),
            "state_after": after.to_dict(),
            "due": after.due,
            "phase_before": 0 if before.is_new else int(before.state),
        }
        if any(getattr(review, name) != value for name, value in derived.items()):
            ReviewLog.objects.filter(pk=review.pk).update(**derived)
            rewritten += 1
        if since is not None and review.reviewed_at >= since:
            leech_now = leech_now or leech_reached(
                before=before, after=after, threshold=LEECH_LAPSES
            )
    if not steps:
        if stored is not None:
            stored.delete()
        return Resequenced(state=None, rewritten=rewritten, leech_now=False)
    state = stored or CardState(learner=learner, card=card)
    _memory_store(state, steps[-1][1])
    if leech_now:
        state.leech = True
        if prefs.leech_action == StudySettings.LeechAction.SUSPEND:
            state.suspended = True
    state.save()
    return Resequenced(state=state, rewritten=rewritten, leech_now=leech_now)


def _memory_store(state: CardState, memory: MemoryState) -> None:
    state.state = int(memory.state)
    state.step = memory.step
    state.stability = memory.stability
    state.difficulty = memory.difficulty
    state.due = memory.due
    state.last_review = memory.last_review
    state.reps = memory.reps
    state.lapses = memory.lapses


def card_state_undo(*, learner: Any, card: Card, now: datetime) -> CardState | None:
    """Undo the learner's last review of ``card``: restore the state before it, exactly.

    The review stays in the append-only log, marked undone by a :class:`ReviewUndo`; undone
    reviews no longer count for the daily limits. A leech flag (and suspension) that review
    set is lifted. Return the restored state, or None when the card is new again. Raise
    StudyError ``nothing_to_undo`` or ``undo_conflict`` (the state changed since).
    """
    with transaction.atomic():
        stored = CardState.objects.select_for_update().filter(learner=learner, card=card).first()
        last = (
            ReviewLog.objects.filter(learner=learner, card=card, undo__isnull=True)
            .order_by("-reviewed_at", "-id")
            .first()
        )
        if stored is None or last is None:
            raise StudyError("There is no review of this card to undo.", code="nothing_to_undo")
        current = card_state_memory(stored, now=now)
        try:
            restored = review_undo(
                current=current, state_before=last.state_before, state_after=last.state_after
            )
        except UndoConflictError:
            raise StudyError(
                "Only the card's last review can be undone.", code="undo_conflict", status_code=409
            ) from None
        ReviewUndo.objects.create(review=last, learner=learner, undone_at=now)
        if restored.is_new:
            stored.delete()  # a card never reviewed has no state row: it is new again
            return None
        if leech_reached(before=restored, after=current, threshold=LEECH_LAPSES):
            stored.leech = False
            stored.suspended = False
        _memory_store(stored, restored)
        stored.save()
        return stored


def _review_write(
    attempt: Attempt, outcome: _Outcome, before: MemoryState, after: MemoryState
) -> ReviewLog:
    """Append the attempt's review to the log: its facts, and what it did to the card."""
    assert outcome.rating is not None  # a format error writes no review
    return ReviewLog.objects.create(
        attempt=attempt,
        learner=attempt.learner,
        card=attempt.issued.card,
        card_version=attempt.card_version,
        variant_key=attempt.issued.variant_key,
        response=attempt.response,
        score=min(max(outcome.score, 0.0), 1.0),
        misconception=outcome.misconception,
        rating=int(outcome.rating),
        phase_before=0 if before.is_new else int(before.state),
        elapsed_ms=attempt.duration_ms,
        reviewed_at=attempt.reviewed_at,
        client_id=attempt.pk,
        state_before=before.to_dict(),
        state_after=after.to_dict(),
        due=after.due,
    )


def _finish(attempt: Attempt, *, status: str, result: dict[str, Any], now: datetime) -> Attempt:
    attempt.status = status
    attempt.result = result
    attempt.graded_at = now
    attempt.save(update_fields=["status", "result", "graded_at"])
    return attempt


def attempt_grade(*, attempt_id: uuid.UUID | str, now: datetime) -> Attempt | None:
    """Grade a pending attempt, write its review and the card's new state; once only.

    Runs in one transaction on the attempt claimed from the outbox: a second delivery finds it
    no longer pending and returns it unchanged. An unreadable numeric answer becomes a format
    error (no review; the item may be answered again). A review older than the card's latest
    (uploaded late from offline, or from another device) is inserted in ``reviewed_at`` order
    and the card's history replayed (:func:`review_log_resequence`); the attempt's result then
    says ``out_of_order``. The review consumes the card's pending remediation; a wrong numeric
    answer with a misconception brings its linked cards forward. Return the attempt (None if
    unknown). The result of an attempt graded earlier is what the learner was told then; the
    log and the card state are what a later out-of-order review makes of them.
    """
    with transaction.atomic():
        attempt = outbox_claim(model=Attempt, pk=attempt_id)
        if attempt is None:
            return Attempt.objects.filter(pk=attempt_id).first()
        attempt = Attempt.objects.select_related(
            "issued", "issued__card", "card_version", "learner"
        ).get(pk=attempt.pk)
        learner = attempt.learner
        card = attempt.issued.card
        prefs = study_settings_get(learner=learner)
        kind = card.kind
        try:
            if kind == Card.Kind.NUMERIC:
                outcome = _grade_numeric(attempt, prefs.language)
            elif kind == Card.Kind.MCQ:
                outcome = _grade_mcq(attempt)
            else:
                outcome = _grade_concept(attempt)
        except (ValueError, UnknownTemplate, ParseError, KeyError) as exc:
            # The stored item cannot be graded (its template is gone, its key is broken):
            # retrying would fail the same way, so the attempt is closed as failed.
            logger.error("grading attempt %s failed: %s", attempt.pk, exc)
            return _finish(
                attempt,
                status=Attempt.Status.FAILED,
                result={"error": f"{type(exc).__name__}: {exc}"},
                now=now,
            )
        if outcome.rating is None:
            IssuedItem.objects.filter(pk=attempt.issued_id).update(answered=False)
            return _finish(
                attempt,
                status=Attempt.Status.FORMAT_ERROR,
                result={"kind": kind, **outcome.result},
                now=now,
            )

        reviewed_at = attempt.reviewed_at
        rating = outcome.rating
        stored = CardState.objects.select_for_update().filter(learner=learner, card=card).first()
        in_order = stored is None or stored.last_review is None or reviewed_at >= stored.last_review
        extra: dict[str, Any] = {}
        if in_order:
            scheduled = card_state_schedule(
                learner=learner, card=card, rating=rating, reviewed_at=reviewed_at, prefs=prefs
            )
            review = _review_write(attempt, outcome, scheduled.before, scheduled.after)
            state: CardState | None = scheduled.state
        else:
            # An older review arrived late (offline, or from another device): place it in
            # time order and replay the card's history from it.
            earlier = ReviewLog.objects.filter(
                learner=learner, card=card, undo__isnull=True, reviewed_at__lte=reviewed_at
            ).order_by("reviewed_at", "id")
            steps = _replay_card(
                learner=learner,
                card=card,
                prefs=prefs,
                reviews=[(Rating(r), at) for r, at in earlier.values_list("rating", "reviewed_at")]
                + [(rating, reviewed_at)],
            )
            review = _review_write(attempt, outcome, *steps[-1])
            redone = review_log_resequence(
                learner=learner, card=card, prefs=prefs, since=reviewed_at
            )
            state = redone.state
            extra = {"out_of_order": True, "reviews_rewritten": redone.rewritten}
        due = review.due
        Remediation.objects.filter(
            learner=learner, card=card, consumed_at__isnull=True, created_at__lte=reviewed_at
        ).update(consumed_at=now, review=review)
        if outcome.misconception:
            misconception_remediate(
                learner=learner,
                misconception_id=outcome.misconception,
                template_id=card.template_id,
                now=reviewed_at,
            )
        return _finish(
            attempt,
            status=Attempt.Status.GRADED,
            result={
                "kind": kind,
                **outcome.result,
                "score": outcome.score,
                "rating": int(rating),
                "rating_name": RATING_NAMES[rating],
                "due": due.isoformat(),
                "interval_seconds": int((due - reviewed_at).total_seconds()),
                "leech": bool(state and state.leech),
                "suspended": bool(state and state.suspended),
                **extra,
            },
            now=now,
        )
