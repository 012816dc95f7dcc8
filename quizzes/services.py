"""Writes of the learning engine: what "next item", "submit" and the grading task do.

The REST API and the web UI call these functions and nothing else, so each rule lives once:

* :func:`study_next` picks the learner's next card (the most overdue due card, then new cards
  within the daily limit, siblings of today's cards held back), draws a fresh variant for a
  numeric card, records what it handed out as an :class:`IssuedItem` and returns it with an
  opaque signed token and the four buttons' intervals;
* :func:`attempt_submit` checks the token and the response, stores the attempt in the caller's
  transaction and enqueues its grading through the transactional outbox; the client's UUID makes
  a retried upload return the first attempt;
* :func:`attempt_grade` (the ``quizzes.grade_attempt`` task) grades the attempt, writes the
  review and the card's new state, exactly once however often the task is delivered;
* :func:`attempt_wait` returns the graded attempt within a timeout.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from compute.templates import ParseError, UnknownTemplate, VariantKey, generate, grade
from knowledge.models import Bank, Card, CardVersion
from ops.outbox import outbox_claim, outbox_enqueue

from . import grading
from .errors import StudyError
from .models import (
    Attempt,
    BankSubscription,
    CardState,
    IssuedItem,
    ReviewLog,
    ReviewUndo,
    StudySettings,
)
from .scheduling import (
    LEECH_LAPSES,
    MemoryState,
    Rating,
    UndoConflictError,
    leech_reached,
    preview_intervals,
    review_undo,
    schedule_review,
)
from .selectors import (
    card_sibling_keys,
    card_state_memory,
    card_states_due,
    cards_new_for_learner,
    learner_parameters,
    next_due_at,
    pending_attempt_card_ids,
    reviews_today,
    siblings_shown_today,
    study_day,
    study_settings_get,
    subscribed_bank_ids,
)

__all__ = [
    "ISSUE_TTL",
    "Scheduled",
    "StudyDone",
    "StudyItem",
    "attempt_grade",
    "attempt_submit",
    "attempt_wait",
    "bank_subscribe",
    "bank_unsubscribe",
    "card_state_bury",
    "card_state_schedule",
    "card_state_suspend",
    "card_state_undo",
    "issued_item_token",
    "item_issue",
    "misconception_remediate",
    "study_next",
    "study_settings_update",
]

logger = logging.getLogger(__name__)

# How long a handed-out item may be answered: long enough for a learner who leaves the tab open
# over lunch, short enough that a leaked token is soon worthless.
ISSUE_TTL = timedelta(hours=12)
TOKEN_SALT = "quizzes.issued-item"
# How many due (and new) candidates are read per "next item": enough to skip the siblings of
# today's cards without a second round trip, few enough to stay cheap with 100,000 states.
CANDIDATES = 50
# Clock skew tolerated between a client's reviewed_at and the server.
CLOCK_SKEW = timedelta(minutes=5)
MAX_DURATION_MS = 24 * 3600 * 1000
MAX_NUMERIC_ANSWER = 500
MAX_CONCEPT_TEXT = 5000
SEED_LIMIT = 2**63
RATING_NAMES = {
    Rating.Again: "again",
    Rating.Hard: "hard",
    Rating.Good: "good",
    Rating.Easy: "easy",
}


# --- Settings and subscriptions --------------------------------------------------------------


def study_settings_update(*, learner: Any, **changes: Any) -> StudySettings:
    """Change the learner's study settings; raise StudyError(settings_invalid) on a bad value."""
    prefs = study_settings_get(learner=learner)
    allowed = {
        "desired_retention",
        "new_per_day",
        "reviews_per_day",
        "time_zone",
        "day_starts_at",
        "language",
        "leech_action",
        "fsrs_parameters",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise StudyError(f"unknown settings: {sorted(unknown)}", code="settings_invalid")
    for name, value in changes.items():
        setattr(prefs, name, value)
    problems = []
    if not 0.70 <= float(prefs.desired_retention) <= 0.99:
        problems.append("desired retention must be between 0.70 and 0.99")
    if not 0 <= int(prefs.day_starts_at) <= 23:
        problems.append("the study day must start at an hour from 0 to 23")
    if prefs.language not in StudySettings.Language.values:
        problems.append("language must be zh or en")
    if prefs.leech_action not in StudySettings.LeechAction.values:
        problems.append("leech action must be suspend or tag")
    if int(prefs.new_per_day) < 0 or int(prefs.reviews_per_day) < 0:
        problems.append("daily limits cannot be negative")
    try:
        ZoneInfo(str(prefs.time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"unknown time zone {prefs.time_zone!r}")
    if problems:
        raise StudyError("; ".join(problems), code="settings_invalid")
    prefs.save()
    return prefs


def bank_subscribe(*, learner: Any, bank: Bank) -> BankSubscription:
    """Subscribe the learner to a bank (again: nothing changes)."""
    subscription, _ = BankSubscription.objects.get_or_create(learner=learner, bank=bank)
    return subscription


def bank_unsubscribe(*, learner: Any, bank: Bank) -> None:
    """Stop studying a bank; the learner's card states and reviews are kept."""
    BankSubscription.objects.filter(learner=learner, bank=bank).delete()


def card_state_suspend(*, learner: Any, card: Card, suspended: bool = True) -> int:
    """Suspend (or un-suspend) a card the learner has studied; return the rows changed."""
    return CardState.objects.filter(learner=learner, card=card).update(suspended=suspended)


def card_state_bury(*, learner: Any, card: Card, now: datetime) -> int:
    """Hold a studied card back until the learner's next study day; return the rows changed."""
    day = study_day(prefs=study_settings_get(learner=learner), now=now)
    return CardState.objects.filter(learner=learner, card=card).update(buried_until=day.end)


# --- Next item -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyItem:
    """A card to study now. Nothing here reveals the answer or the variant's seed."""

    token: str
    expires_at: datetime
    card_uuid: str
    card_slug: str
    kind: str
    card_version: int
    is_new: bool
    question: dict[str, str]
    prompt: dict[str, str] | None  # the numeric variant's question
    options: list[dict[str, Any]]  # MCQ: position and text only
    multi_select: bool
    answer_format: dict[str, Any] | None  # numeric: kind, arity, whether % is accepted
    intervals: dict[str, dict[str, Any]]  # rating name -> {"due", "seconds"}
    language: str
    done: bool = False


@dataclass(frozen=True)
class StudyDone:
    """Nothing to study now: every due card is done and today's new cards are used up."""

    reason: str  # "done_for_today" or "no_subscriptions"
    next_due: datetime | None
    new_today: int
    reviews_today: int
    done: bool = True
    message: dict[str, str] = field(
        default_factory=lambda: {
            "zh": "今天的学习已完成。",
            "en": "You are done for today.",
        }
    )


def issued_item_token(item: IssuedItem) -> str:
    """Return the opaque token naming ``item``: signed, bound to its learner and card version."""
    payload = {"i": item.pk.hex, "l": item.learner_id, "v": item.card_version_id}
    return signing.dumps(payload, salt=TOKEN_SALT, compress=False)


def _token_payload(token: str, *, check_age: bool) -> dict[str, Any]:
    if not isinstance(token, str) or not token or len(token) > 1000:
        raise StudyError("The item token is missing or malformed.", code="token_invalid")
    try:
        if check_age:
            payload = signing.loads(token, salt=TOKEN_SALT, max_age=ISSUE_TTL)
        else:
            payload = signing.loads(token, salt=TOKEN_SALT)
    except signing.SignatureExpired:
        raise StudyError(
            "This item has expired; ask for the next item again.", code="token_expired"
        ) from None
    except signing.BadSignature:
        raise StudyError(
            "The item token is invalid (it was changed or is not ours).", code="token_invalid"
        ) from None
    if not isinstance(payload, dict) or not {"i", "l", "v"} <= set(payload):
        raise StudyError("The item token is malformed.", code="token_invalid")
    return payload


def _preview(
    *, memory: MemoryState, prefs: StudySettings, now: datetime, fuzz_key: str
) -> dict[str, dict[str, Any]]:
    preview = preview_intervals(
        state=memory,
        now=now,
        parameters=learner_parameters(prefs=prefs),
        desired_retention=prefs.desired_retention,
        fuzz_key=fuzz_key,
    )
    return {
        RATING_NAMES[rating]: {"due": due.isoformat(), "seconds": int(delta.total_seconds())}
        for rating, (due, delta) in preview.items()
    }


def _fuzz_key(learner_id: Any, card_id: Any) -> str:
    # The same for the card's whole life: the review count is mixed in by the scheduler.
    return f"{learner_id}:{card_id}"


def item_issue(
    *, learner: Any, card: Card, state: CardState | None, prefs: StudySettings, now: datetime
) -> tuple[IssuedItem, StudyItem] | None:
    """Record the item for ``card`` (a fresh variant if numeric); None if it cannot be shown."""
    version = CardVersion.objects.filter(card=card, version=card.version).first()
    if version is None:
        logger.warning("study: card %s has no version %s to show", card.slug, card.version)
        return None
    content = version.content
    key_data: dict[str, Any] | None = None
    prompt: dict[str, str] | None = None
    answer_format: dict[str, Any] | None = None
    if card.kind == Card.Kind.NUMERIC:
        template = content.get("template") or {}
        try:
            key = VariantKey.of(
                template["id"],
                int(template["version"]),
                secrets.randbelow(SEED_LIMIT),
                template.get("constraints") or None,
            )
            variant = generate(key)
            prompt = {"zh": variant.prompt.zh, "en": variant.prompt.en}
        except (KeyError, TypeError, ValueError, UnknownTemplate) as exc:
            # A card whose template cannot draw is skipped, not shown broken.
            logger.error("study: card %s cannot draw a variant: %s", card.slug, exc)
            return None
        key_data = json.loads(key.to_json())
        answer_format = {"kind": variant.kind.value, "arity": variant.arity, "ratio": variant.ratio}
    options = [
        {"position": i, "text": option.get("text", {})}
        for i, option in enumerate(content.get("options", []))
    ]
    item = IssuedItem.objects.create(
        learner=learner,
        card=card,
        card_version=version,
        variant_key=key_data,
        issued_at=now,
        expires_at=now + ISSUE_TTL,
    )
    memory = card_state_memory(state, now=now)
    return item, StudyItem(
        token=issued_item_token(item),
        expires_at=item.expires_at,
        card_uuid=str(card.uuid),
        card_slug=card.slug,
        kind=card.kind,
        card_version=version.version,
        is_new=state is None,
        question=dict(content.get("question") or {}),
        prompt=prompt,
        options=options if card.kind == Card.Kind.MCQ else [],
        multi_select=len(grading.mcq_correct_positions(content)) > 1,
        answer_format=answer_format,
        intervals=_preview(
            memory=memory, prefs=prefs, now=now, fuzz_key=_fuzz_key(learner.pk, card.pk)
        ),
        language=prefs.language,
    )


def study_next(*, learner: Any, now: datetime) -> StudyItem | StudyDone:
    """Return the learner's next card to study at ``now``, or why there is none.

    Order: due cards (most overdue first; review-phase cards only while today's review limit
    lasts, cards in learning steps always), then new cards while today's new-card limit lasts.
    "Today" is the learner's study day (time zone and day-start hour). A card whose sibling
    (same template, same source section, or the same sibling key) was reviewed today is held
    back while any other card is available. Suspended and buried cards, and cards whose last
    answer is still being graded, never come.
    """
    prefs = study_settings_get(learner=learner)
    bank_ids = subscribed_bank_ids(learner=learner)
    day = study_day(prefs=prefs, now=now)
    done_today = reviews_today(learner=learner, day=day)
    if not bank_ids:
        return StudyDone(
            reason="no_subscriptions",
            next_due=None,
            new_today=done_today["new"],
            reviews_today=done_today["review"],
        )
    grading_now = pending_attempt_card_ids(learner=learner)
    due = card_states_due(
        learner=learner,
        bank_ids=bank_ids,
        now=now,
        include_review_phase=done_today["review"] < prefs.reviews_per_day,
        exclude_card_ids=grading_now,
        limit=CANDIDATES,
    )
    new: list[Card] = []
    if done_today["new"] < prefs.new_per_day:
        new = cards_new_for_learner(
            learner=learner, bank_ids=bank_ids, exclude_card_ids=grading_now, limit=CANDIDATES
        )
    shown = siblings_shown_today(learner=learner, day=day)

    def buried(card: Card) -> bool:
        return any(shown.get(key, set()) - {card.pk} for key in card_sibling_keys(card))

    candidates: list[tuple[Card, CardState | None]] = [(s.card, s) for s in due]
    candidates += [(card, None) for card in new]
    free = [pair for pair in candidates if not buried(pair[0])]
    held = [pair for pair in candidates if buried(pair[0])]
    for card, state in free + held:
        issued = item_issue(learner=learner, card=card, state=state, prefs=prefs, now=now)
        if issued is not None:
            return issued[1]
    return StudyDone(
        reason="done_for_today",
        next_due=next_due_at(learner=learner, bank_ids=bank_ids),
        new_today=done_today["new"],
        reviews_today=done_today["review"],
    )


# --- Submitting ------------------------------------------------------------------------------


def _invalid(message: str) -> StudyError:
    return StudyError(message, code="response_invalid")


def _check_response(*, kind: str, content: dict[str, Any], response: Any) -> dict[str, Any]:
    """Return the response if its shape fits the card kind; raise StudyError otherwise."""
    if not isinstance(response, dict):
        raise _invalid("The response must be an object.")
    if kind == Card.Kind.NUMERIC:
        if set(response) != {"answer"}:
            raise _invalid('A numeric answer is {"answer": "<text>"}.')
        answer = response["answer"]
        if not isinstance(answer, str) or len(answer) > MAX_NUMERIC_ANSWER:
            raise _invalid(f"The answer must be text of at most {MAX_NUMERIC_ANSWER} characters.")
        return {"answer": answer}
    if kind == Card.Kind.MCQ:
        if set(response) != {"choices"}:
            raise _invalid('A multiple-choice answer is {"choices": [<option positions>]}.')
        choices = response["choices"]
        count = len(content.get("options", []))
        if (
            not isinstance(choices, list)
            or not choices
            or any(isinstance(c, bool) or not isinstance(c, int) for c in choices)
        ):
            raise _invalid("Choose at least one option, by its position.")
        if len(set(choices)) != len(choices) or not all(0 <= c < count for c in choices):
            raise _invalid(f"Each option position must be distinct and from 0 to {count - 1}.")
        if len(grading.mcq_correct_positions(content)) <= 1 and len(choices) != 1:
            raise _invalid("This question has one answer: choose exactly one option.")
        return {"choices": sorted(choices)}
    # concept: self-rated, or a typed answer (optionally with the rating the learner chose)
    if not response or not set(response) <= {"rating", "text"}:
        raise _invalid('A concept answer is {"rating": 1-4} and/or {"text": "<your answer>"}.')
    checked: dict[str, Any] = {}
    if "rating" in response:
        rating = response["rating"]
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 4:
            raise _invalid("The rating must be 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy).")
        checked["rating"] = rating
    if "text" in response:
        text = response["text"]
        if not isinstance(text, str) or len(text) > MAX_CONCEPT_TEXT:
            raise _invalid(f"The answer must be text of at most {MAX_CONCEPT_TEXT} characters.")
        if "rating" not in checked and not content.get("key_points"):
            raise _invalid("This card has no key points to grade text against: rate yourself.")
        checked["text"] = text
    return checked


def _normalized(response: Any) -> str:
    """Return the response as comparable text (MCQ choices in any order are the same answer)."""
    if isinstance(response, dict) and isinstance(response.get("choices"), list):
        with contextlib.suppress(TypeError):
            response = {**response, "choices": sorted(response["choices"])}
    return json.dumps(response, sort_keys=True, default=str)


def _same_submission(
    attempt: Attempt,
    *,
    learner: Any,
    issued_id: str | None,
    response: Any,
    reviewed_at: datetime,
    duration_ms: int,
) -> Attempt:
    """Return the stored attempt if this is the same submission again, else raise a conflict."""
    same = (
        attempt.learner_id == learner.pk
        and (issued_id is None or attempt.issued_id.hex == issued_id)
        and _normalized(attempt.response) == _normalized(response)
        and attempt.reviewed_at == reviewed_at
        and attempt.duration_ms == duration_ms
    )
    if not same:
        raise StudyError(
            "This client id was already used for a different answer.",
            code="duplicate_conflict",
            status_code=409,
        )
    return attempt


def attempt_submit(
    *,
    learner: Any,
    token: str,
    response: Any,
    client_id: uuid.UUID | str,
    reviewed_at: datetime,
    duration_ms: int,
    now: datetime | None = None,
) -> Attempt:
    """Store the learner's answer to the item ``token`` names and enqueue its grading.

    ``client_id`` is the UUID the client generated for this answer: submitting it again with
    the same payload returns the first attempt, with another payload raises
    StudyError(duplicate_conflict); either way at most one review is ever recorded. The attempt
    is written in the caller's transaction (or its own) and the grading task is sent only after
    the commit. Raise StudyError for a bad token (``token_*``), an item already answered, a
    response of the wrong shape, an impossible ``reviewed_at``, or a practice item whose session
    is over (``practice_finished``, ``practice_time_up``).
    """
    now = now or timezone.now()
    try:
        attempt_id = client_id if isinstance(client_id, uuid.UUID) else uuid.UUID(str(client_id))
    except ValueError:
        raise StudyError("The client id must be a UUID.", code="response_invalid") from None
    if isinstance(duration_ms, bool) or not isinstance(duration_ms, int):
        raise _invalid("duration_ms must be an integer.")
    if not 0 <= duration_ms <= MAX_DURATION_MS:
        raise _invalid("duration_ms must be from 0 to 24 hours.")
    if not isinstance(reviewed_at, datetime) or timezone.is_naive(reviewed_at):
        raise StudyError("reviewed_at must be a timezone-aware time.", code="reviewed_at_invalid")

    existing = Attempt.objects.filter(pk=attempt_id).first()
    if existing is not None:
        # A retry: compare before the token's age, so a late retry still gets its attempt.
        payload = _token_payload(token, check_age=False)
        return _same_submission(
            existing,
            learner=learner,
            issued_id=payload["i"],
            response=response,
            reviewed_at=reviewed_at,
            duration_ms=duration_ms,
        )

    payload = _token_payload(token, check_age=True)
    if payload["l"] != learner.pk:
        raise StudyError(
            "This item was handed out to another learner.",
            code="token_wrong_learner",
            status_code=403,
        )
    item = IssuedItem.objects.select_related("card", "card_version").filter(pk=payload["i"]).first()
    if item is None:
        raise StudyError("The item this token names does not exist.", code="token_invalid")
    if item.learner_id != learner.pk:
        raise StudyError(
            "This item was handed out to another learner.",
            code="token_wrong_learner",
            status_code=403,
        )
    from .practice import practice_item_check  # practice.py builds on this module

    practice_item_check(item=item, now=now)
    if item.card_version_id != payload["v"] or item.card.version != item.card_version.version:
        raise StudyError(
            "The card was changed since this item was shown; ask for the next item again.",
            code="token_wrong_card_version",
            status_code=409,
        )
    if now >= item.expires_at:
        raise StudyError(
            "This item has expired; ask for the next item again.", code="token_expired"
        )
    if reviewed_at < item.issued_at - CLOCK_SKEW or reviewed_at > now + CLOCK_SKEW:
        raise StudyError(
            "reviewed_at must lie between when the item was shown and now.",
            code="reviewed_at_invalid",
        )
    checked = _check_response(
        kind=item.card.kind, content=item.card_version.content, response=response
    )

    with transaction.atomic():
        # The conditional update is the lock: of two submissions for one item, one wins.
        claimed = IssuedItem.objects.filter(pk=item.pk, answered=False).update(answered=True)
        if not claimed:
            again = Attempt.objects.filter(pk=attempt_id).first()
            if again is not None:
                return _same_submission(
                    again,
                    learner=learner,
                    issued_id=item.pk.hex,
                    response=checked,
                    reviewed_at=reviewed_at,
                    duration_ms=duration_ms,
                )
            raise StudyError(
                "This item was already answered; ask for the next item.",
                code="already_answered",
                status_code=409,
            )
        try:
            with transaction.atomic():
                attempt = Attempt.objects.create(
                    id=attempt_id,
                    learner=learner,
                    issued=item,
                    card_version=item.card_version,
                    response=checked,
                    reviewed_at=reviewed_at,
                    duration_ms=duration_ms,
                    submitted_at=now,
                )
        except IntegrityError:
            # The same client id arrived for another item at the same moment.
            raise StudyError(
                "This client id was already used for a different answer.",
                code="duplicate_conflict",
                status_code=409,
            ) from None
        outbox_enqueue(instance=attempt)
    return attempt


# --- Grading ---------------------------------------------------------------------------------


def misconception_remediate(
    *, learner: Any, misconception_id: str, template_id: str, now: datetime
) -> None:
    """Bring the concept cards that teach ``misconception_id`` forward (due now, once).

    A hook, deliberately empty: the links from misconceptions to concept cards are not in the
    knowledge app yet. The misconception is already logged on the review for statistics.
    """
    return None


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


class _OutOfOrder(Exception):
    """A review older than the card's last one (offline sync will order these first)."""


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
    a leech (suspended too if the learner chose so) on the lapse that makes it one.
    """
    stored = CardState.objects.select_for_update().filter(learner=learner, card=card).first()
    before = card_state_memory(stored, now=reviewed_at)
    if before.last_review is not None and reviewed_at < before.last_review:
        raise _OutOfOrder
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
    error (no review; the item may be answered again). Return the attempt (None if unknown).
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
        try:
            scheduled = card_state_schedule(
                learner=learner,
                card=card,
                rating=outcome.rating,
                reviewed_at=reviewed_at,
                prefs=prefs,
            )
        except _OutOfOrder:
            return _finish(
                attempt,
                status=Attempt.Status.FAILED,
                result={
                    "error": "reviewed_at is earlier than the card's last review",
                    "code": "out_of_order",
                },
                now=now,
            )
        before, after, state = scheduled.before, scheduled.after, scheduled.state
        due = after.due
        ReviewLog.objects.create(
            attempt=attempt,
            learner=learner,
            card=card,
            card_version=attempt.card_version,
            variant_key=attempt.issued.variant_key,
            response=attempt.response,
            score=min(max(outcome.score, 0.0), 1.0),
            misconception=outcome.misconception,
            rating=int(outcome.rating),
            phase_before=0 if before.is_new else int(before.state),
            elapsed_ms=attempt.duration_ms,
            reviewed_at=reviewed_at,
            client_id=attempt.pk,
            state_before=before.to_dict(),
            state_after=after.to_dict(),
            due=due,
        )
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
                "rating": int(outcome.rating),
                "rating_name": RATING_NAMES[outcome.rating],
                "due": due.isoformat(),
                "interval_seconds": int((due - reviewed_at).total_seconds()),
                "leech": state.leech,
                "suspended": state.suspended,
            },
            now=now,
        )


# --- Waiting for the result ------------------------------------------------------------------


def attempt_wait(*, attempt_id: uuid.UUID | str, learner: Any, timeout: float) -> Attempt:
    """Return the learner's attempt once graded, or as it stands after ``timeout`` seconds.

    Polls the row (a few milliseconds apart at first, then every 50 ms): the grading task stores
    its result there, which works whether the worker answers now or after a redelivery.
    """
    try:
        pk = attempt_id if isinstance(attempt_id, uuid.UUID) else uuid.UUID(str(attempt_id))
    except ValueError:
        raise StudyError("No such attempt.", code="not_found", status_code=404) from None
    deadline = time.monotonic() + max(0.0, float(timeout))
    pause = 0.005
    while True:
        attempt = Attempt.objects.filter(pk=pk, learner=learner).first()
        if attempt is None:
            raise StudyError("No such attempt.", code="not_found", status_code=404)
        if attempt.status != Attempt.Status.PENDING:
            return attempt
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return attempt
        time.sleep(min(pause, remaining))  # poll interval, not a wait for the work itself
        pause = min(pause * 2, 0.05)
