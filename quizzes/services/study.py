"""Study settings, subscriptions and "next item": what the learner is handed to study."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core import signing

from compute.templates import UnknownTemplate, VariantKey, generate
from knowledge.models import Bank, Card, CardVersion

from .. import grading
from ..errors import StudyError
from ..models import (
    BankSubscription,
    CardState,
    IssuedItem,
    StudySettings,
)
from ..scheduling import (
    MemoryState,
    State,
    preview_intervals,
)
from ..selectors import (
    card_sibling_keys,
    card_state_memory,
    card_states_due,
    cards_new_for_learner,
    learner_parameters,
    next_due_at,
    pending_attempt_card_ids,
    remediations_pending,
    reviews_today,
    siblings_shown_today,
    study_day,
    study_settings_get,
    subscribed_bank_ids,
)
from .common import (
    CANDIDATES,
    ISSUE_TTL,
    MAX_PREFETCH,
    OFFLINE_ISSUE_TTL,
    RATING_NAMES,
    SEED_LIMIT,
    TOKEN_MAX_AGE,
    TOKEN_SALT,
    _fuzz_key,
)

__all__ = [
    "StudyDone",
    "StudyItem",
    "bank_subscribe",
    "bank_unsubscribe",
    "card_state_bury",
    "card_state_suspend",
    "issued_item_token",
    "item_issue",
    "study_next",
    "study_prefetch",
    "study_settings_update",
]

logger = logging.getLogger(__name__)


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
            payload = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
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


def item_issue(
    *,
    learner: Any,
    card: Card,
    state: CardState | None,
    prefs: StudySettings,
    now: datetime,
    offline: bool = False,
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
        expires_at=now + (OFFLINE_ISSUE_TTL if offline else ISSUE_TTL),
        offline=offline,
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


@dataclass(frozen=True)
class _Candidates:
    """What "next item" would hand out, in order, and the day's counts it was chosen under."""

    pairs: list[tuple[Card, CardState | None]]
    remedial: int  # how many of ``pairs`` (at the front) are pending remediations
    bank_ids: list[int]
    done_today: dict[str, int]


def _study_candidates(
    *, learner: Any, prefs: StudySettings, now: datetime, limit: int
) -> _Candidates:
    """Return the learner's cards to study at ``now`` in the order "next item" serves them."""
    bank_ids = subscribed_bank_ids(learner=learner)
    day = study_day(prefs=prefs, now=now)
    done_today = reviews_today(learner=learner, day=day)
    if not bank_ids:
        return _Candidates(pairs=[], remedial=0, bank_ids=[], done_today=done_today)
    grading_now = pending_attempt_card_ids(learner=learner)
    remedial = remediations_pending(
        learner=learner, bank_ids=bank_ids, exclude_card_ids=grading_now, limit=limit
    )
    skip = grading_now | {card.pk for card, _state in remedial}
    due = card_states_due(
        learner=learner,
        bank_ids=bank_ids,
        now=now,
        include_review_phase=done_today["review"] < prefs.reviews_per_day,
        exclude_card_ids=skip,
        limit=limit,
    )
    new: list[Card] = []
    if done_today["new"] < prefs.new_per_day:
        new = cards_new_for_learner(
            learner=learner, bank_ids=bank_ids, exclude_card_ids=skip, limit=limit
        )
    shown = siblings_shown_today(learner=learner, day=day)

    def buried(card: Card) -> bool:
        return any(shown.get(key, set()) - {card.pk} for key in card_sibling_keys(card))

    candidates: list[tuple[Card, CardState | None]] = [(s.card, s) for s in due]
    candidates += [(card, None) for card in new]
    free = [pair for pair in candidates if not buried(pair[0])]
    held = [pair for pair in candidates if buried(pair[0])]
    return _Candidates(
        pairs=list(remedial) + free + held,
        remedial=len(remedial),
        bank_ids=bank_ids,
        done_today=done_today,
    )


def study_next(*, learner: Any, now: datetime) -> StudyItem | StudyDone:
    """Return the learner's next card to study at ``now``, or why there is none.

    Order: cards brought forward by a misconception (:func:`misconception_remediate`), oldest
    first and whatever the daily limits (the learner's own mistake asked for them; their review
    still counts towards the day's new or review count); then due cards (most overdue first;
    review-phase cards only while today's review limit lasts, cards in learning steps always),
    then new cards while today's new-card limit lasts. "Today" is the learner's study day (time
    zone and day-start hour). A card whose sibling (same template, same source section, or the
    same sibling key) was reviewed today is held back while any other card is available.
    Suspended and buried cards, and cards whose last answer is still being graded, never come.
    """
    prefs = study_settings_get(learner=learner)
    found = _study_candidates(learner=learner, prefs=prefs, now=now, limit=CANDIDATES)
    if not found.bank_ids:
        return StudyDone(
            reason="no_subscriptions",
            next_due=None,
            new_today=found.done_today["new"],
            reviews_today=found.done_today["review"],
        )
    for card, state in found.pairs:
        issued = item_issue(learner=learner, card=card, state=state, prefs=prefs, now=now)
        if issued is not None:
            return issued[1]
    return StudyDone(
        reason="done_for_today",
        next_due=next_due_at(learner=learner, bank_ids=found.bank_ids),
        new_today=found.done_today["new"],
        reviews_today=found.done_today["review"],
    )


def study_prefetch(*, learner: Any, now: datetime, limit: int) -> list[StudyItem]:
    """Hand out up to ``limit`` items to answer offline; return them in study order.

    The cards are those :func:`study_next` would serve at ``now``, in its order (remediations,
    due cards, new cards), one item per card, within what is left of today's review and
    new-card limits. Each item may be answered for ``OFFLINE_ISSUE_TTL`` (7 days) and its answer
    uploaded with :func:`attempts_sync` for ``OFFLINE_UPLOAD_GRACE`` more. An item is answered
    once: a card the learner wants to review twice offline (a lapse, then its relearning step)
    needs a second item, from a second prefetch; items never answered simply expire. Each
    device prefetches its own items, so two devices may review the same card; both reviews are
    kept and applied in ``reviewed_at`` order. Raise StudyError(limit_invalid) for a ``limit``
    outside 1..MAX_PREFETCH.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PREFETCH:
        raise StudyError(
            f"limit must be an integer from 1 to {MAX_PREFETCH}.", code="limit_invalid"
        )
    prefs = study_settings_get(learner=learner)
    found = _study_candidates(learner=learner, prefs=prefs, now=now, limit=limit)
    review_room = max(0, prefs.reviews_per_day - found.done_today["review"])
    new_room = max(0, prefs.new_per_day - found.done_today["new"])
    items: list[StudyItem] = []
    for index, (card, state) in enumerate(found.pairs):
        if len(items) >= limit:
            break
        if index >= found.remedial:  # remediations come whatever the limits
            if state is None:
                if new_room <= 0:
                    continue
                new_room -= 1
            elif state.state == int(State.Review):
                if review_room <= 0:
                    continue
                review_room -= 1
        issued = item_issue(
            learner=learner, card=card, state=state, prefs=prefs, now=now, offline=True
        )
        if issued is not None:
            items.append(issued[1])
    return items
