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
* :func:`attempt_wait` returns the graded attempt within a timeout;
* :func:`study_prefetch` and :func:`attempts_sync` are the offline pair: items handed out to be
  answered without a network, and their answers uploaded later in a batch, in any order;
  grading applies a card's reviews in ``reviewed_at`` order whatever order they arrive in
  (:func:`review_log_resequence`);
* :func:`misconception_remediate` brings the cards linked to a learner's misconception forward.
"""

from __future__ import annotations

from .attempts import SyncResult, attempt_submit, attempt_wait, attempts_sync
from .common import (
    ISSUE_TTL,
    MAX_PREFETCH,
    MAX_SYNC_BATCH,
    OFFLINE_ISSUE_TTL,
    OFFLINE_UPLOAD_GRACE,
    TOKEN_SALT,
)
from .grading import (
    Resequenced,
    Scheduled,
    attempt_grade,
    card_state_schedule,
    card_state_undo,
    misconception_remediate,
    review_log_resequence,
)
from .study import (
    StudyDone,
    StudyItem,
    bank_subscribe,
    bank_unsubscribe,
    card_state_bury,
    card_state_suspend,
    issued_item_token,
    item_issue,
    study_next,
    study_prefetch,
    study_settings_update,
)

__all__ = [
    "ISSUE_TTL",
    "MAX_PREFETCH",
    "MAX_SYNC_BATCH",
    "OFFLINE_ISSUE_TTL",
    "OFFLINE_UPLOAD_GRACE",
    "TOKEN_SALT",
    "Resequenced",
    "Scheduled",
    "StudyDone",
    "StudyItem",
    "SyncResult",
    "attempt_grade",
    "attempt_submit",
    "attempt_wait",
    "attempts_sync",
    "bank_subscribe",
    "bank_unsubscribe",
    "card_state_bury",
    "card_state_schedule",
    "card_state_suspend",
    "card_state_undo",
    "issued_item_token",
    "item_issue",
    "misconception_remediate",
    "review_log_resequence",
    "study_next",
    "study_prefetch",
    "study_settings_update",
]
