"""attempt_grade: each kind's grade, the rating it maps to, the review and the card's new state."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from compute.templates import VariantKey, generate
from knowledge.models import Bank
from quizzes.errors import StudyError
from quizzes.models import Attempt, CardState, ReviewLog
from quizzes.scheduling import MemoryState, Rating, ReviewEvent, replay
from quizzes.selectors import card_state_memory
from quizzes.services import attempt_submit, attempt_wait, study_next, study_settings_update
from quizzes.services import grading as grading_services
from tests.quizzes import factories
from tests.quizzes.helpers import answer, issued, numeric_answer, study_item

pytestmark = pytest.mark.django_db


def first_item(user: User, now: datetime) -> Any:
    return study_item(study_next(learner=user, now=now))


def review_of(attempt: Attempt) -> ReviewLog:
    return ReviewLog.objects.get(attempt=attempt)


@pytest.mark.parametrize(
    ("duration_ms", "rating"),
    [(1_000, Rating.Easy), (30_000, Rating.Easy), (45_000, Rating.Good), (200_000, Rating.Hard)],
)
def test_a_right_numeric_answer_is_rated_by_time(
    learner: User, study_bank: Bank, now: datetime, duration_ms: int, rating: Rating
) -> None:
    # Difficulty 2: expected 60 s; Easy up to 30 s, Hard beyond 120 s.
    factories.numeric(study_bank, difficulty=2)
    item = first_item(learner, now)

    attempt = answer(
        learner, item, {"answer": numeric_answer(item)}, at=now, duration_ms=duration_ms
    )

    assert attempt.status == Attempt.Status.GRADED
    assert attempt.result is not None
    assert (attempt.result["correct"], attempt.result["rating"]) == (True, int(rating))
    assert attempt.result["solution"]["en"] and attempt.result["solution"]["zh"]
    assert review_of(attempt).rating == int(rating)


def test_a_wrong_numeric_answer_is_again_and_logs_its_misconception(
    learner: User, study_bank: Bank, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    factories.numeric(study_bank)
    item = first_item(learner, now)
    variant = generate(VariantKey.from_json(json.dumps(issued(item).variant_key)))
    slip = next(m for m in variant.misconceptions if m.id == "forgot_plus_one")
    hooked: list[dict[str, Any]] = []
    monkeypatch.setattr(grading_services, "misconception_remediate", lambda **kw: hooked.append(kw))

    attempt = answer(learner, item, {"answer": slip.text}, at=now, duration_ms=1_000)

    review = review_of(attempt)
    assert (review.rating, review.misconception, review.score) == (1, "forgot_plus_one", 0.0)
    assert attempt.result is not None and attempt.result["expected"] == variant.answer_text
    assert hooked == [
        {
            "learner": learner,
            "misconception_id": "forgot_plus_one",
            "template_id": "conv.output_size",
            "now": now,
        }
    ]


def test_an_unreadable_numeric_answer_is_a_format_error_not_a_review(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    factories.numeric(study_bank)
    item = first_item(learner, now)

    attempt = answer(learner, item, {"answer": "about fifty"}, at=now)

    assert attempt.status == Attempt.Status.FORMAT_ERROR
    assert attempt.result is not None and attempt.result["format_error"]["en"]
    assert not ReviewLog.objects.exists() and not CardState.objects.exists()
    assert not issued(item).answered


def test_the_review_records_the_states_and_the_card_state_follows(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    card = factories.numeric(study_bank)
    item = first_item(learner, now)
    promised = item.intervals["good"]

    attempt = answer(learner, item, {"answer": numeric_answer(item)}, at=now, duration_ms=45_000)

    review = review_of(attempt)
    assert review.variant_key == issued(item).variant_key
    assert (review.card_id, review.card_version.version, review.phase_before) == (card.pk, 1, 0)
    assert review.client_id == attempt.pk and review.elapsed_ms == 45_000
    assert MemoryState.from_dict(review.state_before) == MemoryState.new(now=now)
    state = CardState.objects.get(learner=learner, card=card)
    assert card_state_memory(state, now=now) == MemoryState.from_dict(review.state_after)
    # The Good button promised exactly what the review produced.
    assert review.due.isoformat() == promised["due"] == state.due.isoformat()


def test_replaying_the_review_log_reproduces_every_state(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    card = factories.concept(study_bank)
    at = now
    for rating in (3, 3, 1, 3, 4, 2, 3):
        item = first_item(learner, at)
        assert item.card_slug == card.slug
        answer(learner, item, {"rating": rating}, at=at)
        at = CardState.objects.get(learner=learner, card=card).due + timedelta(hours=1)

    reviews = list(ReviewLog.objects.filter(card=card).order_by("reviewed_at"))
    states = replay(
        reviews=[ReviewEvent(rating=Rating(r.rating), reviewed_at=r.reviewed_at) for r in reviews],
        fuzz_key=f"{learner.pk}:{card.pk}",
    )
    assert [s.to_dict() for s in states] == [r.state_after for r in reviews]
    assert states[-1].lapses == 1 and states[-1].reps == 7


def test_mcq_single_answer_gives_feedback_on_every_option(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    factories.mcq(study_bank)
    attempt = answer(learner, first_item(learner, now), {"choices": [1]}, at=now)

    assert attempt.result is not None
    assert (attempt.result["score"], attempt.result["rating"]) == (0.0, 1)
    options = attempt.result["options"]
    assert [(o["chosen"], o["correct"], o["feedback"]["en"]) for o in options] == [
        (False, True, "Yes"),
        (True, False, "No"),
    ]


@pytest.mark.parametrize(
    ("choices", "score", "rating"),
    [
        ([0, 2], 1.0, Rating.Easy),  # both right ones, quickly
        ([0], 0.5, Rating.Hard),  # one of two
        ([0, 1, 2], 0.5, Rating.Hard),  # both, but a wrong one too
        ([0, 1], 0.0, Rating.Again),
        ([1], 0.0, Rating.Again),
    ],
)
def test_mcq_multi_select_earns_partial_credit(
    learner: User,
    study_bank: Bank,
    now: datetime,
    choices: list[int],
    score: float,
    rating: Rating,
) -> None:
    factories.mcq(study_bank, multi=True)
    attempt = answer(
        learner, first_item(learner, now), {"choices": choices}, at=now, duration_ms=2_000
    )

    assert attempt.result is not None
    assert (attempt.result["score"], attempt.result["rating"]) == (score, int(rating))
    assert review_of(attempt).score == score


@pytest.mark.parametrize(
    ("text", "covered", "suggested"),
    [
        ("Zero padding keeps the SAME  size.", 2, Rating.Good),
        ("ＺＥＲＯ values around the border", 1, Rating.Hard),  # full-width, upper case
        ("边缘补零,尺寸不变", 2, Rating.Good),
        ("no idea", 0, Rating.Again),
    ],
)
def test_a_typed_concept_answer_is_graded_against_the_key_points(
    learner: User,
    study_bank: Bank,
    now: datetime,
    text: str,
    covered: int,
    suggested: Rating,
) -> None:
    factories.concept(study_bank, difficulty=1)  # expected 40 s; 30 s is Good
    attempt = answer(learner, first_item(learner, now), {"text": text}, at=now, duration_ms=30_000)

    result = attempt.result
    assert result is not None
    assert len(result["covered"]) == covered and len(result["missing"]) == 2 - covered
    assert result["suggested_rating"] == int(suggested) == result["rating"]
    assert result["self_rated"] is False
    if covered < 2:
        assert {"zh": "保持尺寸", "en": "keeps the spatial size"} in result["missing"]


def test_a_concept_learner_may_override_the_suggested_rating(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    factories.concept(study_bank)
    attempt = answer(learner, first_item(learner, now), {"text": "no idea", "rating": 3}, at=now)

    assert attempt.result is not None
    assert (attempt.result["suggested_rating"], attempt.result["rating"]) == (1, 3)
    assert review_of(attempt).rating == 3


@pytest.mark.parametrize(("action", "suspended"), [("suspend", True), ("tag", False)])
def test_the_eighth_lapse_makes_a_leech(
    learner: User, study_bank: Bank, now: datetime, action: str, suspended: bool
) -> None:
    study_settings_update(learner=learner, leech_action=action)
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

    attempt = answer(learner, first_item(learner, now), {"rating": 1}, at=now)

    state = CardState.objects.get(learner=learner, card=card)
    assert (state.lapses, state.leech, state.suspended) == (8, True, suspended)
    assert attempt.result is not None and attempt.result["leech"] is True


def test_a_review_log_row_is_never_changed(learner: User, study_bank: Bank, now: datetime) -> None:
    factories.concept(study_bank)
    review = review_of(answer(learner, first_item(learner, now), {"rating": 3}, at=now))
    review.score = 0.5
    with pytest.raises(ValueError, match="append-only"):
        review.save()


def test_attempt_wait_returns_the_result_or_the_pending_attempt_in_time(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    factories.concept(study_bank)
    item = first_item(learner, now)
    attempt = attempt_submit(
        learner=learner,
        token=item.token,
        response={"rating": 3},
        client_id=uuid.uuid4(),
        reviewed_at=now,
        duration_ms=1000,
        now=now,
    )

    started = time.monotonic()
    pending = attempt_wait(attempt_id=attempt.pk, learner=learner, timeout=0.2)
    assert pending.status == Attempt.Status.PENDING
    assert 0.2 <= time.monotonic() - started < 2

    grading_services.attempt_grade(attempt_id=attempt.pk, now=now)
    assert attempt_wait(attempt_id=attempt.pk, learner=learner, timeout=5).status == "graded"
    with pytest.raises(StudyError) as caught:
        attempt_wait(attempt_id=attempt.pk, learner=factories.learner("eve"), timeout=0)
    assert caught.value.code == "not_found"


def test_settings_are_validated(learner: User) -> None:
    for bad in (
        {"desired_retention": 0.5},
        {"time_zone": "Mars/Olympus"},
        {"day_starts_at": 24},
        {"language": "fr"},
        {"leech_action": "delete"},
        {"colour": "blue"},
    ):
        with pytest.raises(StudyError) as caught:
            study_settings_update(learner=learner, **bad)
        assert caught.value.code == "settings_invalid"
    assert study_settings_update(learner=learner, desired_retention=0.85).desired_retention == 0.85
