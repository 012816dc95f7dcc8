"""Answers: one write path for single submissions and offline batches, and waiting on results."""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from knowledge.models import Card
from ops.outbox import outbox_enqueue

from .. import grading
from ..errors import StudyError
from ..models import (
    Attempt,
    IssuedItem,
)
from .common import (
    CLOCK_SKEW,
    MAX_CONCEPT_TEXT,
    MAX_DURATION_MS,
    MAX_NUMERIC_ANSWER,
    MAX_SYNC_BATCH,
    OFFLINE_UPLOAD_GRACE,
)
from .study import _token_payload

__all__ = [
    "SyncResult",
    "attempt_submit",
    "attempt_wait",
    "attempts_sync",
]

logger = logging.getLogger(__name__)


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
    attempt, _created = _attempt_store(
        learner=learner,
        token=token,
        response=response,
        client_id=client_id,
        reviewed_at=reviewed_at,
        duration_ms=duration_ms,
        now=now or timezone.now(),
    )
    return attempt


def _attempt_store(
    *,
    learner: Any,
    token: str,
    response: Any,
    client_id: uuid.UUID | str,
    reviewed_at: datetime,
    duration_ms: int,
    now: datetime,
) -> tuple[Attempt, bool]:
    """The one write path of answers (attempt_submit, attempts_sync): return (attempt, created).

    ``reviewed_at`` must lie between the item's issue (less the clock skew) and ``now`` (plus
    it), however long ago that was, and before the item expired; an item is accepted until it
    expires, an offline item's answer until ``OFFLINE_UPLOAD_GRACE`` after that.
    """
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
        same = _same_submission(
            existing,
            learner=learner,
            issued_id=payload["i"],
            response=response,
            reviewed_at=reviewed_at,
            duration_ms=duration_ms,
        )
        return same, False

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
    from ..practice import practice_item_check  # practice.py builds on this package

    practice_item_check(item=item, now=now)
    if item.card_version_id != payload["v"] or item.card.version != item.card_version.version:
        raise StudyError(
            "The card was changed since this item was shown; ask for the next item again.",
            code="token_wrong_card_version",
            status_code=409,
        )
    upload_until = item.expires_at + (OFFLINE_UPLOAD_GRACE if item.offline else timedelta(0))
    if now >= upload_until or reviewed_at >= item.expires_at + CLOCK_SKEW:
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
                same = _same_submission(
                    again,
                    learner=learner,
                    issued_id=item.pk.hex,
                    response=checked,
                    reviewed_at=reviewed_at,
                    duration_ms=duration_ms,
                )
                return same, False
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
    return attempt, True


@dataclass(frozen=True)
class SyncResult:
    """What became of one answer of an offline batch."""

    client_id: str
    status: str  # "accepted", "duplicate" (already stored: not counted again) or "error"
    code: str = ""  # the StudyError code of an error
    message: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "client_id": self.client_id,
            "status": self.status,
            "code": self.code,
            "message": self.message,
        }


SYNC_FIELDS = {"token", "response", "client_id", "reviewed_at", "duration_ms"}


def _sync_fields(raw: Any) -> dict[str, Any]:
    """Return one batch entry's fields (``reviewed_at`` parsed); raise StudyError if malformed."""
    if not isinstance(raw, dict) or set(raw) != SYNC_FIELDS:
        raise StudyError(
            f"Each answer is an object with exactly: {', '.join(sorted(SYNC_FIELDS))}.",
            code="response_invalid",
        )
    fields = dict(raw)
    at = fields["reviewed_at"]
    if isinstance(at, str):
        try:
            parsed = parse_datetime(at)
        except ValueError:
            parsed = None
        if parsed is None:
            raise StudyError("reviewed_at is not an ISO 8601 time.", code="reviewed_at_invalid")
        fields["reviewed_at"] = parsed
    return fields


def attempts_sync(*, learner: Any, items: Any, now: datetime) -> list[SyncResult]:
    """Store a batch of answers made offline; return one result per entry, in the batch's order.

    Each entry is ``{token, response, client_id, reviewed_at, duration_ms}`` (``reviewed_at``
    an aware datetime or ISO 8601 text) and goes through the same checks and write path as
    :func:`attempt_submit`, in a savepoint of its own: a bad entry is reported as an error with
    its StudyError code and the others are still stored. Entries may come in any order and may
    repeat an earlier, partial upload: a client id already stored with the same answer is a
    ``duplicate``, recorded once. Entries are stored (and their grading enqueued) in
    ``reviewed_at`` order, and grading applies each card's reviews in that order whatever
    order they are graded in (:func:`review_log_resequence`). Raise StudyError(batch_invalid)
    when ``items`` is not a list of at most ``MAX_SYNC_BATCH`` entries.
    """
    if not isinstance(items, list) or len(items) > MAX_SYNC_BATCH:
        raise StudyError(
            f"The batch must be a list of at most {MAX_SYNC_BATCH} answers.", code="batch_invalid"
        )
    results: list[SyncResult | None] = [None] * len(items)
    parsed: list[tuple[int, dict[str, Any]]] = []
    for index, raw in enumerate(items):
        try:
            parsed.append((index, _sync_fields(raw)))
        except StudyError as exc:
            client_id = raw.get("client_id") if isinstance(raw, dict) else None
            results[index] = SyncResult(
                client_id=str(client_id or ""), status="error", code=exc.code, message=str(exc)
            )

    def order(entry: tuple[int, dict[str, Any]]) -> tuple[int, float, int]:
        at = entry[1]["reviewed_at"]
        if isinstance(at, datetime) and timezone.is_aware(at):
            return (0, at.timestamp(), entry[0])
        return (1, 0.0, entry[0])  # rejected by the write path below

    for index, fields in sorted(parsed, key=order):
        try:
            with transaction.atomic():
                _attempt, created = _attempt_store(learner=learner, now=now, **fields)
        except StudyError as exc:
            results[index] = SyncResult(
                client_id=str(fields["client_id"]), status="error", code=exc.code, message=str(exc)
            )
        else:
            results[index] = SyncResult(
                client_id=str(fields["client_id"]),
                status="accepted" if created else "duplicate",
            )
    return [result for result in results if result is not None]


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
