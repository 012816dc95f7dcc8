"""study_next: which card comes next, what the learner is shown, and when the day is done."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from knowledge.models import Bank, Card
from quizzes.models import CardState
from quizzes.services import (
    StudyDone,
    StudyItem,
    attempt_submit,
    card_state_bury,
    study_next,
    study_settings_update,
)
from tests.quizzes import factories
from tests.quizzes.helpers import answer, issued, numeric_answer, study_item

pytestmark = pytest.mark.django_db

EASY = {"rating": 4}  # a self-rated concept card: Easy sends it days ahead, out of today


def reviewed_state(user: User, card: Card, *, due: datetime, **fields: object) -> CardState:
    """A card in the Review phase, last seen ten days before it fell due."""
    values: dict[str, object] = {
        "state": 2,
        "step": None,
        "stability": 10.0,
        "difficulty": 5.0,
        "due": due,
        "last_review": due - timedelta(days=10),
        "reps": 3,
    }
    values.update(fields)
    return CardState.objects.create(learner=user, card=card, **values)


def test_a_learner_without_banks_is_told_so(learner: User, now: datetime) -> None:
    result = study_next(learner=learner, now=now)
    assert isinstance(result, StudyDone)
    assert result.reason == "no_subscriptions"


def test_an_empty_bank_is_done_for_today(learner: User, study_bank: Bank, now: datetime) -> None:
    result = study_next(learner=learner, now=now)
    assert isinstance(result, StudyDone)
    assert (result.reason, result.next_due) == ("done_for_today", None)


def test_a_new_card_comes_with_the_four_buttons_intervals(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    card = factories.concept(study_bank)

    item = study_item(study_next(learner=learner, now=now))

    assert (item.card_slug, item.kind, item.is_new, item.card_version) == (
        card.slug,
        "concept",
        True,
        1,
    )
    assert item.question == {"zh": card.question_zh, "en": card.question_en}
    assert set(item.intervals) == {"again", "hard", "good", "easy"}
    # A new card's Again is the first learning step (1 min); Easy graduates it for days.
    assert item.intervals["again"]["seconds"] == 60
    assert item.intervals["easy"]["seconds"] >= 86400
    seconds = [item.intervals[name]["seconds"] for name in ("again", "hard", "good", "easy")]
    assert seconds == sorted(seconds)


def test_a_numeric_card_draws_a_fresh_variant_and_hides_seed_and_answer(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    factories.numeric(study_bank)

    first = study_item(study_next(learner=learner, now=now))
    second = study_item(study_next(learner=learner, now=now))

    assert first.prompt is not None and "Conv2d" in first.prompt["en"] and first.prompt["zh"]
    assert first.answer_format == {"kind": "integer", "arity": None, "ratio": False}
    keys: list[dict[str, Any]] = [issued(item).variant_key or {} for item in (first, second)]
    assert all(0 <= key["seed"] < 2**63 for key in keys)
    assert keys[0]["seed"] != keys[1]["seed"]  # a fresh variant every time
    shown = json.dumps(dataclasses.asdict(first), default=str)
    assert str(keys[0]["seed"]) not in shown
    assert '"seed"' not in shown and '"answer"' not in shown


def test_an_mcq_shows_its_options_without_saying_which_are_right(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    factories.mcq(study_bank, multi=True)

    item = study_item(study_next(learner=learner, now=now))

    assert item.multi_select
    assert [option["position"] for option in item.options] == [0, 1, 2]
    assert all(set(option) == {"position", "text"} for option in item.options)


def test_the_most_overdue_card_comes_first_and_before_new_cards(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    factories.concept(study_bank)  # new
    a_day = factories.concept(study_bank)
    three_days = factories.concept(study_bank)
    reviewed_state(learner, a_day, due=now - timedelta(days=1))
    reviewed_state(learner, three_days, due=now - timedelta(days=3))

    item = study_item(study_next(learner=learner, now=now))

    assert item.card_slug == three_days.slug
    assert not item.is_new


def test_suspended_buried_and_future_cards_never_come(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    suspended = factories.concept(study_bank)
    buried = factories.concept(study_bank)
    later = factories.concept(study_bank)
    reviewed_state(learner, suspended, due=now - timedelta(days=2), suspended=True)
    reviewed_state(learner, buried, due=now - timedelta(days=2))
    reviewed_state(learner, later, due=now + timedelta(hours=1))
    assert card_state_bury(learner=learner, card=buried, now=now) == 1

    result = study_next(learner=learner, now=now)

    assert isinstance(result, StudyDone)
    assert result.next_due is not None
    # The earliest unsuspended due date: the buried card's (it comes back tomorrow).
    assert result.next_due == now - timedelta(days=2)
    tomorrow = study_item(study_next(learner=learner, now=now + timedelta(days=1)))
    assert tomorrow.card_slug == buried.slug


def test_the_daily_new_limit_counts_in_the_learners_study_day(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    study_settings_update(learner=learner, new_per_day=2)
    cards = [factories.concept(study_bank) for _ in range(3)]

    for _ in range(2):
        item = study_item(study_next(learner=learner, now=now))
        answer(learner, item, EASY, at=now)

    assert isinstance(study_next(learner=learner, now=now + timedelta(hours=17)), StudyDone)
    # 04:00 UTC the next morning starts a new study day (the default day start is 4 a.m.).
    next_day = now.replace(hour=4) + timedelta(days=1)
    assert isinstance(study_next(learner=learner, now=next_day - timedelta(seconds=1)), StudyDone)
    item = study_item(study_next(learner=learner, now=next_day))
    assert item.card_slug == cards[2].slug and item.is_new


def test_the_study_day_follows_the_learners_time_zone(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    study_settings_update(learner=learner, new_per_day=1, time_zone="Asia/Shanghai")
    factories.concept(study_bank)
    factories.concept(study_bank)
    # 19:00 UTC is 03:00 in Shanghai: still the study day that began at 04:00 local.
    late = now.replace(hour=19)
    answer(learner, study_item(study_next(learner=learner, now=late)), EASY, at=late)

    assert isinstance(study_next(learner=learner, now=late + timedelta(minutes=59)), StudyDone)
    # 20:00 UTC is 04:00 in Shanghai: a new study day, a new card.
    assert study_item(study_next(learner=learner, now=late + timedelta(hours=1))).is_new


def test_a_sibling_of_a_card_seen_today_waits_while_other_cards_are_due(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    first = factories.numeric(study_bank)
    sibling = factories.numeric(study_bank)  # same template as first
    other = factories.concept(study_bank, difficulty=3)  # would come after the sibling
    same_section = factories.concept(study_bank, section="shared", difficulty=4)
    section_sibling = factories.concept(study_bank, section="shared", difficulty=5)

    item = study_item(study_next(learner=learner, now=now))
    assert item.card_slug == first.slug
    unreadable = answer(learner, item, {"answer": "garbage 1"}, at=now)
    assert unreadable.status == "format_error"  # not a review: the card is still new
    assert study_item(study_next(learner=learner, now=now)).card_slug == first.slug
    item = study_item(study_next(learner=learner, now=now))
    answer(learner, item, {"answer": numeric_answer(item)}, at=now, duration_ms=1000)

    seen = []
    for _ in range(3):
        item = study_item(study_next(learner=learner, now=now))
        seen.append(item.card_slug)
        answer(learner, item, EASY if item.kind == "concept" else {"answer": "0"}, at=now)
    # The template sibling waits behind both concept cards although it is easier; once only
    # siblings are left they come anyway, in their usual order.
    assert seen[0] == other.slug
    assert seen[1] == same_section.slug
    assert seen[2] == sibling.slug
    last = study_next(learner=learner, now=now)
    assert isinstance(last, StudyItem) and last.card_slug == section_sibling.slug


def test_a_card_being_graded_is_not_handed_out_again(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    first = factories.concept(study_bank)
    second = factories.concept(study_bank)
    item = study_item(study_next(learner=learner, now=now))
    assert item.card_slug == first.slug
    attempt_submit(
        learner=learner,
        token=item.token,
        response=EASY,
        client_id="6f1c2b1e-8d0a-4a53-9d43-0d2c7f3f5a10",
        reviewed_at=now,
        duration_ms=1000,
        now=now,
    )

    assert study_item(study_next(learner=learner, now=now)).card_slug == second.slug


def test_the_daily_review_limit_holds_back_review_cards_only(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    study_settings_update(learner=learner, reviews_per_day=1)
    one, two = factories.concept(study_bank), factories.concept(study_bank)
    reviewed_state(learner, one, due=now - timedelta(days=2))
    reviewed_state(learner, two, due=now - timedelta(days=1))
    new = factories.concept(study_bank)

    answer(learner, study_item(study_next(learner=learner, now=now)), EASY, at=now)

    # The second review card waits for tomorrow; the new-card limit is separate.
    assert study_item(study_next(learner=learner, now=now)).card_slug == new.slug
