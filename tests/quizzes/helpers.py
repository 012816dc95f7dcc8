"""Steps the engine tests share: answer an item through the services, peek at the server side."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core import signing

from compute.templates import VariantKey, generate
from quizzes.models import Attempt, IssuedItem
from quizzes.services import TOKEN_SALT, StudyDone, StudyItem, attempt_grade, attempt_submit


def issued(item: StudyItem) -> IssuedItem:
    """Return the server's record of a handed-out item (what the client never sees)."""
    payload = signing.loads(item.token, salt=TOKEN_SALT)
    return IssuedItem.objects.get(pk=payload["i"])


def numeric_answer(item: StudyItem) -> str:
    """Return the right answer to a numeric item, as the server knows it."""
    key = VariantKey.from_json(json.dumps(issued(item).variant_key))
    return generate(key).answer_text


def study_item(result: StudyItem | StudyDone) -> StudyItem:
    assert isinstance(result, StudyItem), result
    return result


def answer(
    learner: User,
    item: StudyItem,
    response: dict[str, Any],
    *,
    at: datetime,
    duration_ms: int = 45_000,
    client_id: uuid.UUID | None = None,
) -> Attempt:
    """Submit ``response`` at ``at`` and grade it in this process (no worker)."""
    attempt = attempt_submit(
        learner=learner,
        token=item.token,
        response=response,
        client_id=client_id or uuid.uuid4(),
        reviewed_at=at,
        duration_ms=duration_ms,
        now=at,
    )
    graded = attempt_grade(attempt_id=attempt.pk, now=at)
    assert graded is not None
    return graded
