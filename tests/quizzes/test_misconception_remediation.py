"""A wrong numeric answer whose misconception is linked to cards brings those cards forward, once."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User

from compute.templates import VariantKey, generate
from knowledge.models import Bank, Card, MisconceptionLink
from quizzes.models import Remediation, ReviewLog
from quizzes.services import (
    StudyItem,
    attempt_grade,
    attempts_sync,
    card_state_suspend,
    misconception_remediate,
    study_next,
    study_prefetch,
    study_settings_update,
)
from tests.quizzes import factories
from tests.quizzes.helpers import answer, issued, study_item

pytestmark = pytest.mark.django_db

TEMPLATE = "conv.output_size"


def link(card: Card, misconception: str, position: int = 0) -> MisconceptionLink:
    return MisconceptionLink.objects.create(
        template_id=TEMPLATE, misconception_id=misconception, card=card, position=position
    )


def slip(item: StudyItem, misconception: str = "forgot_plus_one") -> str:
    """Return the wrong answer a learner holding ``misconception`` gives to a numeric item."""
    variant = generate(VariantKey.from_json(json.dumps(issued(item).variant_key)))
    return next(m.text for m in variant.misconceptions if m.id == misconception)


def test_a_wrong_answer_with_a_linked_misconception_makes_the_concept_card_next(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    factories.numeric(study_bank, difficulty=1)
    teaching = factories.concept(study_bank, difficulty=5)  # new, and last in the new-card order
    link(teaching, "forgot_plus_one")
    study_settings_update(learner=learner, new_per_day=1)  # the numeric card uses the day's one

    item = study_item(study_next(learner=learner, now=now))
    assert item.kind == "numeric"
    graded = answer(learner, item, {"answer": slip(item)}, at=now, duration_ms=5_000)
    assert graded.result is not None and graded.result["misconception"] == "forgot_plus_one"

    later = now + timedelta(seconds=30)
    following = study_item(study_next(learner=learner, now=later))
    assert following.card_slug == teaching.slug  # past the new-card limit: remediation comes first
    pending = Remediation.objects.get()
    assert (pending.card, pending.misconception_id, pending.consumed_at) == (
        teaching,
        "forgot_plus_one",
        None,
    )

    review = answer(learner, following, {"rating": 3}, at=later)
    pending.refresh_from_db()
    assert pending.consumed_at is not None and pending.review is not None
    assert pending.review.attempt_id == review.pk
    # Consumed: the concept card now follows its own schedule (minutes away in learning).
    assert not Remediation.objects.filter(consumed_at__isnull=True).exists()


def test_the_same_mistake_twice_does_not_push_the_card_twice(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    teaching = factories.concept(study_bank)
    link(teaching, "forgot_plus_one")

    first = misconception_remediate(
        learner=learner, misconception_id="forgot_plus_one", template_id=TEMPLATE, now=now
    )
    again = misconception_remediate(
        learner=learner,
        misconception_id="forgot_plus_one",
        template_id=TEMPLATE,
        now=now + timedelta(minutes=1),
    )

    assert [r.card for r in first] == [teaching] and again == []
    assert Remediation.objects.filter(learner=learner, card=teaching).count() == 1


def test_a_repeated_wrong_answer_keeps_one_pending_remediation(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    factories.numeric(study_bank, difficulty=1)
    factories.numeric(study_bank, difficulty=2)
    teaching = factories.concept(study_bank, difficulty=5)
    link(teaching, "forgot_plus_one")
    items = [i for i in study_prefetch(learner=learner, now=now, limit=3) if i.kind == "numeric"]
    assert len(items) == 2

    for offset, item in enumerate(items):
        at = now + timedelta(minutes=offset)
        answer(learner, item, {"answer": slip(item)}, at=at, duration_ms=5_000)

    assert Remediation.objects.get().card == teaching  # one row, still pending
    nxt = study_item(study_next(learner=learner, now=now + timedelta(minutes=2)))
    assert nxt.card_slug == teaching.slug


def test_an_unlinked_misconception_does_nothing(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    teaching = factories.concept(study_bank)
    link(teaching, "padding_once")

    made = misconception_remediate(
        learner=learner, misconception_id="forgot_plus_one", template_id=TEMPLATE, now=now
    )

    assert made == [] and not Remediation.objects.exists()


def test_suspended_unpublished_and_unsubscribed_cards_are_not_pushed(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    suspended = factories.concept(study_bank)
    answer(learner, study_item(study_next(learner=learner, now=now)), {"rating": 3}, at=now)
    card_state_suspend(learner=learner, card=suspended)
    draft = factories.concept(study_bank, status=Card.Status.DRAFT)
    elsewhere = factories.concept(factories.bank("other"))
    for position, card in enumerate((suspended, draft, elsewhere)):
        link(card, "forgot_plus_one", position)

    made = misconception_remediate(
        learner=learner, misconception_id="forgot_plus_one", template_id=TEMPLATE, now=now
    )

    assert made == []


def test_an_offline_mistake_uploaded_after_the_cards_later_review_pushes_nothing(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    factories.numeric(study_bank, difficulty=1)
    teaching = factories.concept(study_bank, difficulty=5)
    link(teaching, "forgot_plus_one")
    numeric_item, concept_item = study_prefetch(learner=learner, now=now, limit=2)
    upload = now + timedelta(days=1)
    mistake_at, reread_at = now + timedelta(minutes=5), now + timedelta(minutes=10)
    concept_entry = {
        "token": concept_item.token,
        "response": {"rating": 3},
        "client_id": str(uuid.uuid4()),
        "reviewed_at": reread_at,
        "duration_ms": 20_000,
    }
    numeric_entry = {
        "token": numeric_item.token,
        "response": {"answer": slip(numeric_item)},
        "client_id": str(uuid.uuid4()),
        "reviewed_at": mistake_at,
        "duration_ms": 5_000,
    }

    for entry in (concept_entry, numeric_entry):  # the concept review reaches the server first
        attempts_sync(learner=learner, items=[entry], now=upload)
        attempt_grade(attempt_id=str(entry["client_id"]), now=upload)

    review = ReviewLog.objects.get(card__kind="numeric")
    assert review.misconception == "forgot_plus_one"
    assert not Remediation.objects.exists()
