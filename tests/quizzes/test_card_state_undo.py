"""card_state_undo: the last review is undone exactly; the log keeps it, marked undone."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User

from knowledge.models import Bank
from quizzes.errors import StudyError
from quizzes.models import CardState, ReviewLog, ReviewUndo
from quizzes.scheduling import MemoryState
from quizzes.selectors import card_state_memory, reviews_today, study_day, study_settings_get
from quizzes.services import card_state_undo, study_next
from tests.quizzes import factories
from tests.quizzes.helpers import answer, study_item

pytestmark = pytest.mark.django_db


def test_undoing_every_review_walks_the_card_back_to_new(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    card = factories.concept(study_bank)
    answer(learner, study_item(study_next(learner=learner, now=now)), {"rating": 3}, at=now)
    later = now + timedelta(minutes=15)
    answer(learner, study_item(study_next(learner=learner, now=later)), {"rating": 3}, at=later)
    first, second = ReviewLog.objects.order_by("reviewed_at")

    restored = card_state_undo(learner=learner, card=card, now=later)

    assert restored is not None
    assert card_state_memory(restored, now=later) == MemoryState.from_dict(first.state_after)
    assert ReviewUndo.objects.get().review == second

    assert card_state_undo(learner=learner, card=card, now=later) is None
    assert not CardState.objects.exists()
    assert ReviewLog.objects.count() == 2  # the log keeps both reviews
    day = study_day(prefs=study_settings_get(learner=learner), now=later)
    assert reviews_today(learner=learner, day=day) == {"new": 0, "review": 0}
    again = study_item(study_next(learner=learner, now=later))
    assert again.card_slug == card.slug and again.is_new

    with pytest.raises(StudyError) as caught:
        card_state_undo(learner=learner, card=card, now=later)
    assert caught.value.code == "nothing_to_undo"


def test_undoing_the_lapse_that_made_a_leech_lifts_the_flag(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    card = factories.concept(study_bank)
    CardState.objects.create(
        learner=learner,
        card=card,
        state=2,
        stability=3.0,
        difficulty=8.0,
        due=now - timedelta(days=1),
        last_review=now - timedelta(days=4),
        reps=20,
        lapses=7,
    )
    answer(learner, study_item(study_next(learner=learner, now=now)), {"rating": 1}, at=now)
    assert CardState.objects.get().suspended

    restored = card_state_undo(learner=learner, card=card, now=now)

    assert restored is not None
    assert (restored.lapses, restored.leech, restored.suspended) == (7, False, False)
    assert restored.due == now - timedelta(days=1)


def test_a_state_changed_since_the_review_is_not_undone(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    card = factories.concept(study_bank)
    answer(learner, study_item(study_next(learner=learner, now=now)), {"rating": 3}, at=now)
    CardState.objects.update(due=now + timedelta(days=30))

    with pytest.raises(StudyError) as caught:
        card_state_undo(learner=learner, card=card, now=now)

    assert (caught.value.code, caught.value.status_code) == ("undo_conflict", 409)
    assert not ReviewUndo.objects.exists()
