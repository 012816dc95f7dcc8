"""What the learning engine's services share: time limits, bounds, names and the fuzz key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ..scheduling import Rating

__all__ = [
    "CANDIDATES",
    "CLOCK_SKEW",
    "ISSUE_TTL",
    "MAX_CONCEPT_TEXT",
    "MAX_DURATION_MS",
    "MAX_NUMERIC_ANSWER",
    "MAX_PREFETCH",
    "MAX_SYNC_BATCH",
    "OFFLINE_ISSUE_TTL",
    "OFFLINE_UPLOAD_GRACE",
    "RATING_NAMES",
    "SEED_LIMIT",
    "TOKEN_MAX_AGE",
    "TOKEN_SALT",
]

# How long a handed-out item may be answered: long enough for a learner who leaves the tab open
# over lunch, short enough that a leaked token is soon worthless.
ISSUE_TTL = timedelta(hours=12)
# Offline items (study_prefetch): a learner may answer them for a week without a network, and
# upload an answer given in that week for a week more (reviewed_at before the item's expiry).
# The token's signature is checked against the longest of these; the item row holds the rest.
OFFLINE_ISSUE_TTL = timedelta(days=7)
OFFLINE_UPLOAD_GRACE = timedelta(days=7)
TOKEN_MAX_AGE = OFFLINE_ISSUE_TTL + OFFLINE_UPLOAD_GRACE
MAX_PREFETCH = 200
MAX_SYNC_BATCH = 500
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


def _fuzz_key(learner_id: Any, card_id: Any) -> str:
    # The same for the card's whole life: the review count is mixed in by the scheduler.
    return f"{learner_id}:{card_id}"
