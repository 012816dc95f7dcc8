"""Statistics: values computed by hand from small review logs, and query counts that do not grow."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User

from knowledge.models import Bank, Card, Topic
from quizzes.errors import StudyError
from quizzes.models import Attempt, CardState, IssuedItem, ReviewLog, ReviewUndo
from quizzes.scheduling import MemoryState
from quizzes.services import study_settings_update
from quizzes.statistics import (
    bank_statistics,
    learner_due_forecast,
    learner_misconceptions,
    learner_retention,
    learner_reviews_per_day,
    learner_statistics,
    learner_streak,
    learner_topic_mastery,
    pearson,
)
from tests.quizzes import factories

pytestmark = pytest.mark.django_db


def review(
    user: User,
    card: Card,
    *,
    at: datetime,
    score: float = 1.0,
    rating: int = 3,
    phase: int = 2,
    misconception: str = "",
    answer: str = "1",
    elapsed_ms: int = 10_000,
    undone: bool = False,
) -> ReviewLog:
    """Write one graded review (and the item and attempt it belongs to) straight to the log."""
    version = card.versions.get(version=card.version)
    item = IssuedItem.objects.create(
        learner=user,
        card=card,
        card_version=version,
        issued_at=at - timedelta(minutes=1),
        expires_at=at + timedelta(hours=1),
        answered=True,
    )
    response: dict[str, Any] = {"answer": answer} if card.kind == "numeric" else {"rating": rating}
    attempt = Attempt.objects.create(
        id=uuid.uuid4(),
        learner=user,
        issued=item,
        card_version=version,
        response=response,
        reviewed_at=at,
        duration_ms=elapsed_ms,
        submitted_at=at,
        status=Attempt.Status.GRADED,
        graded_at=at,
        result={},
    )
    state = MemoryState.new(now=at).to_dict()
    logged = ReviewLog.objects.create(
        attempt=attempt,
        learner=user,
        card=card,
        card_version=version,
        response=response,
        score=score,
        misconception=misconception,
        rating=rating,
        phase_before=phase,
        elapsed_ms=elapsed_ms,
        reviewed_at=at,
        client_id=attempt.pk,
        state_before=state,
        state_after=state,
        due=at + timedelta(days=1),
    )
    if undone:
        ReviewUndo.objects.create(review=logged, learner=user, undone_at=at)
    return logged


def memory(
    user: User,
    card: Card,
    *,
    due: datetime,
    last_review: datetime | None = None,
    stability: float = 10.0,
    suspended: bool = False,
) -> CardState:
    return CardState.objects.create(
        learner=user,
        card=card,
        state=2,
        stability=stability,
        difficulty=5.0,
        due=due,
        last_review=last_review or due - timedelta(days=10),
        reps=3,
        suspended=suspended,
    )


# --- Learners --------------------------------------------------------------------------------


def test_true_retention_counts_review_phase_reviews_not_rated_again(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    card = factories.concept(study_bank)

    def ago(days: int) -> datetime:
        return now - timedelta(days=days)

    review(learner, card, at=ago(2), rating=3)
    review(learner, card, at=ago(2), rating=1)
    review(learner, card, at=ago(3), rating=4)
    review(learner, card, at=ago(10), rating=1)
    review(learner, card, at=ago(10), rating=2)
    review(learner, card, at=ago(20), rating=3)
    review(learner, card, at=ago(40), rating=1)  # outside both windows
    review(learner, card, at=ago(1), rating=1, phase=0)  # a new card: not a retention review
    review(learner, card, at=ago(1), rating=1, phase=3)  # relearning: neither
    review(learner, card, at=ago(1), rating=1, undone=True)  # undone: never counts

    week, month = learner_retention(learner=learner, now=now)

    # 7 days: Good, Again (2 days ago), Easy (3 days ago) -> 2 of 3.
    assert (week.reviews, week.recalled) == (3, 2)
    assert week.rate == pytest.approx(2 / 3)
    # 30 days: those three, Again and Hard (10 days ago), Good (20 days ago) -> 4 of 6.
    assert (month.reviews, month.recalled) == (6, 4)
    assert month.rate == pytest.approx(4 / 6)
    nobody = factories.learner("new")
    assert learner_retention(learner=nobody, now=now)[0].rate is None


def test_reviews_per_day_and_streak_follow_the_learners_study_day(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    # Shanghai is UTC+8; the day starts at 4 a.m. local. ``now`` is 18:00 local on 4 March.
    study_settings_update(learner=learner, time_zone="Asia/Shanghai", day_starts_at=4)
    card = factories.concept(study_bank)
    local = ZoneInfo("Asia/Shanghai")

    def at(day: int, hour: int, month: int = 3) -> datetime:
        return datetime(2026, month, day, hour, tzinfo=local)

    review(learner, card, at=at(4, 5))  # 4 March
    review(learner, card, at=at(4, 3))  # before 4 a.m.: still 3 March
    review(learner, card, at=at(3, 12))  # 3 March
    review(learner, card, at=at(2, 23))  # 2 March
    review(learner, card, at=at(1, 10), undone=True)  # undone: 1 March has no review
    review(learner, card, at=at(28, 10, month=2))  # 28 February

    days = learner_reviews_per_day(learner=learner, now=now)

    assert len(days) == 30 and days[0].day == date(2026, 2, 3) and days[-1].day == date(2026, 3, 4)
    by_day = {d.day: d.count for d in days}
    assert by_day[date(2026, 3, 4)] == 1
    assert by_day[date(2026, 3, 3)] == 2
    assert by_day[date(2026, 3, 2)] == 1
    assert by_day[date(2026, 3, 1)] == 0
    assert by_day[date(2026, 2, 28)] == 1
    assert sum(by_day.values()) == 5

    # 4, 3 and 2 March; 1 March breaks it.
    assert learner_streak(learner=learner, now=now) == 3
    # Next day, nothing studied yet: the streak still counts up to yesterday.
    assert learner_streak(learner=learner, now=now + timedelta(days=1)) == 3
    assert learner_streak(learner=learner, now=now + timedelta(days=2)) == 0


def test_a_study_day_is_exact_across_a_daylight_saving_change(
    learner: User, study_bank: Bank
) -> None:
    # New York springs forward at 2 a.m. on 8 March 2026; the day starts at 4 a.m. local.
    study_settings_update(learner=learner, time_zone="America/New_York", day_starts_at=4)
    card = factories.concept(study_bank)
    review(learner, card, at=datetime(2026, 3, 8, 8, 30, tzinfo=UTC))  # 4:30 EDT: 8 March
    review(learner, card, at=datetime(2026, 3, 8, 7, 30, tzinfo=UTC))  # 3:30 EDT: 7 March

    days = learner_reviews_per_day(
        learner=learner, now=datetime(2026, 3, 8, 20, tzinfo=UTC), days=2
    )

    assert [(d.day, d.count) for d in days] == [(date(2026, 3, 7), 1), (date(2026, 3, 8), 1)]


def test_the_forecast_counts_due_cards_per_study_day_overdue_today(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    # UTC, day starting at 4 a.m.: today is 4 March 04:00 to 5 March 04:00.
    cards = [factories.concept(study_bank) for _ in range(7)]
    memory(learner, cards[0], due=now - timedelta(days=2))  # overdue: today
    memory(learner, cards[1], due=datetime(2026, 3, 4, 20, tzinfo=UTC))  # today
    memory(learner, cards[2], due=datetime(2026, 3, 5, 3, tzinfo=UTC))  # before 4 a.m.: today
    memory(learner, cards[3], due=datetime(2026, 3, 5, 5, tzinfo=UTC))  # tomorrow
    memory(learner, cards[4], due=datetime(2026, 3, 5, 23, tzinfo=UTC))  # tomorrow
    memory(learner, cards[5], due=datetime(2026, 4, 2, 10, tzinfo=UTC))  # the 30th day
    memory(learner, cards[6], due=datetime(2026, 4, 3, 10, tzinfo=UTC))  # beyond the forecast
    suspended = factories.concept(study_bank)
    memory(learner, suspended, due=now, suspended=True)
    elsewhere = factories.concept(factories.bank("not-subscribed"))
    memory(learner, elsewhere, due=now)

    forecast = learner_due_forecast(learner=learner, now=now)

    assert len(forecast) == 30 and forecast[0].day == date(2026, 3, 4)
    assert [d.count for d in forecast[:2]] == [3, 2]
    assert forecast[29].day == date(2026, 4, 2) and forecast[29].count == 1
    assert sum(d.count for d in forecast) == 6
    assert learner_statistics(learner=learner, now=now).due_today == 3


def test_topic_mastery_is_mean_retrievability_and_share_seen(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    detection = Topic.objects.create(slug="detection", title_zh="检测", title_en="Detection")
    fresh, older, unseen = (factories.concept(study_bank) for _ in range(3))  # topic cnn
    factories.concept(study_bank, topic=detection)
    # Reviewed now: recall 1. Reviewed 10 days ago with a stability of 10 days: FSRS defines
    # stability as the interval at which recall falls to 90%, so 0.9.
    memory(learner, fresh, due=now + timedelta(days=5), last_review=now, stability=3.0)
    memory(learner, older, due=now, last_review=now - timedelta(days=10), stability=10.0)

    mastery = {m.slug: m for m in learner_topic_mastery(learner=learner, now=now)}

    assert (mastery["cnn"].cards, mastery["cnn"].seen) == (3, 2)
    assert mastery["cnn"].seen_share == pytest.approx(2 / 3)
    assert mastery["cnn"].retrievability == pytest.approx((1.0 + 0.9) / 2)
    assert (mastery["detection"].cards, mastery["detection"].seen) == (1, 0)
    assert mastery["detection"].retrievability is None
    assert unseen.pk not in set(CardState.objects.values_list("card_id", flat=True))


def test_the_learners_most_frequent_misconceptions(
    learner: User, study_bank: Bank, now: datetime
) -> None:
    card = factories.numeric(study_bank)
    for _ in range(2):
        review(learner, card, at=now, score=0.0, rating=1, misconception="forgot_plus_one")
    review(learner, card, at=now, score=0.0, rating=1, misconception="kernel_not_subtracted")
    review(learner, card, at=now, score=0.0, rating=1, misconception="kernel_not_subtracted")
    review(learner, card, at=now, rating=1, misconception="kernel_not_subtracted", undone=True)
    review(learner, card, at=now, score=0.0, rating=1, misconception="stride_ignored")

    found = learner_misconceptions(learner=learner, limit=2)

    assert [(m.misconception, m.count) for m in found] == [
        ("forgot_plus_one", 2),
        ("kernel_not_subtracted", 2),
    ]
    assert found[0].template_id == "conv.output_size"
    assert found[0].label["en"] and found[0].label["zh"]


def fill_learner(user: User, bank: Bank, cards: int, now: datetime) -> None:
    for index in range(cards):
        card = factories.numeric(bank) if index % 2 else factories.concept(bank)
        memory(user, card, due=now + timedelta(days=index % 40), last_review=now)
        review(user, card, at=now - timedelta(days=index % 35), rating=1 + index % 4)
        if index % 2:
            review(user, card, at=now, score=0.0, rating=1, misconception="forgot_plus_one")


def test_the_learners_statistics_take_the_same_queries_for_2_or_30_cards(
    study_bank: Bank, now: datetime, django_assert_num_queries: Any
) -> None:
    few, many = factories.learner("few"), factories.learner("many")
    factories.subscribe(few, study_bank)
    factories.subscribe(many, study_bank)
    fill_learner(few, study_bank, 2, now)
    fill_learner(many, study_bank, 30, now)

    with django_assert_num_queries(9):
        small = learner_statistics(learner=few, now=now)
    with django_assert_num_queries(9):
        large = learner_statistics(learner=many, now=now)

    assert sum(d.count for d in small.reviews_per_day) == 3
    assert sum(d.count for d in large.reviews_per_day) == 30 + 15
    assert large.misconceptions[0].count == 15


# --- Instructors -----------------------------------------------------------------------------


def test_pearson_by_hand() -> None:
    assert pearson([(1.0, 0.5), (1.0, 1.0), (0.0, 0.5)]) == pytest.approx(0.5)
    assert pearson([(0.0, 0.0), (1.0, 1.0)]) == pytest.approx(1.0)
    assert pearson([(0.0, 1.0), (1.0, 0.0), (0.5, 0.5)]) == pytest.approx(-1.0)
    assert pearson([(1.0, 0.2), (1.0, 0.8)]) is None  # the card's score does not vary
    assert pearson([(0.3, 0.7)]) is None
    assert pearson([]) is None


def test_bank_statistics_by_hand(study_bank: Bank, now: datetime) -> None:
    owner = study_bank.owner
    numeric = factories.numeric(study_bank, slug="a-numeric")
    mcq = factories.mcq(study_bank, slug="b-mcq")
    factories.concept(study_bank, slug="c-unreviewed")
    lone = factories.concept(study_bank, slug="d-lone")
    ann, ben, cat = (factories.learner(name) for name in ("ann", "ben", "cat"))
    # Scores: ann numeric 1, mcq 0 (bank mean 0.5); ben 1 and 1 (mean 1);
    # cat numeric 0 (misconception, answer 55), mcq 1 (mean 0.5).
    review(ann, numeric, at=now, score=1.0, elapsed_ms=10_000)
    review(ann, mcq, at=now, score=0.0, rating=1, elapsed_ms=4_000)
    review(ben, numeric, at=now, score=1.0, elapsed_ms=20_000)
    review(ben, mcq, at=now, score=1.0, elapsed_ms=6_000)
    review(
        cat,
        numeric,
        at=now,
        score=0.0,
        rating=1,
        misconception="forgot_plus_one",
        answer="55",
        elapsed_ms=30_000,
    )
    review(cat, mcq, at=now, score=1.0, elapsed_ms=8_000)
    # Left out: an undone review, and a review of another bank's card.
    review(
        cat,
        numeric,
        at=now,
        score=0.0,
        rating=1,
        misconception="forgot_plus_one",
        answer="55",
        elapsed_ms=90_000,
        undone=True,
    )
    review(ann, factories.concept(factories.bank("other")), at=now, score=0.0, rating=1)
    review(ann, lone, at=now, score=1.0)  # one learner: no discrimination
    # With ann's lone review her bank mean is (1 + 0 + 1) / 3 = 2/3.

    stats = bank_statistics(instructor=owner, bank_id=study_bank.pk)

    cards = {c.slug: c for c in stats.cards}
    assert list(cards) == ["a-numeric", "b-mcq", "c-unreviewed", "d-lone"]
    a, b = cards["a-numeric"], cards["b-mcq"]
    assert (a.reviews, a.learners, b.reviews) == (3, 3, 3)
    assert a.facility == pytest.approx(2 / 3) and b.facility == pytest.approx(2 / 3)
    assert a.average_ms == pytest.approx(20_000) and b.average_ms == pytest.approx(6_000)
    # numeric: (1, 2/3), (1, 1), (0, 1/2). Means 2/3 and 13/18; deviations (1/3, 1/3, -2/3)
    # and (-1/18, 5/18, -4/18): sxy = 12/54, sxx = 2/3, syy = 42/324 -> r = 0.7559.
    assert a.discrimination == pytest.approx((12 / 54) / ((2 / 3) * (42 / 324)) ** 0.5)
    assert a.discrimination == pytest.approx(0.7559, abs=1e-4)
    # mcq: (0, 2/3), (1, 1), (1, 1/2): deviations (-2/3, 1/3, 1/3), the same y's:
    # sxy = 2/54 + 5/54 - 4/54 = 3/54 -> r = 0.1890.
    assert b.discrimination == pytest.approx((3 / 54) / ((2 / 3) * (42 / 324)) ** 0.5)
    assert b.discrimination == pytest.approx(0.1890, abs=1e-4)
    assert [(m.misconception, m.count) for m in a.misconceptions] == [("forgot_plus_one", 1)]
    assert [(w.answer, w.count) for w in a.wrong_answers] == [("55", 1)]
    assert b.wrong_answers == () and b.misconceptions == ()
    unreviewed = cards["c-unreviewed"]
    assert (unreviewed.reviews, unreviewed.facility, unreviewed.discrimination) == (0, None, None)
    assert cards["d-lone"].discrimination is None and cards["d-lone"].facility == 1.0
    assert (stats.reviews, stats.learners) == (7, 3)


def test_only_the_owner_sees_a_banks_statistics(study_bank: Bank, learner: User) -> None:
    for bank_id in (study_bank.pk, 10_000):
        with pytest.raises(StudyError) as caught:
            bank_statistics(instructor=learner, bank_id=bank_id)
        assert (caught.value.code, caught.value.status_code) == ("not_found", 404)


def fill_bank(bank: Bank, cards: int, learners: int, now: datetime) -> None:
    people = [factories.learner(f"{bank.slug}-{i}") for i in range(learners)]
    for index in range(cards):
        card = factories.numeric(bank) if index % 2 else factories.mcq(bank)
        for number, person in enumerate(people):
            wrong = (index + number) % 3 == 0
            review(
                person,
                card,
                at=now,
                score=0.0 if wrong else 1.0,
                rating=1 if wrong else 3,
                misconception="forgot_plus_one" if wrong and card.kind == "numeric" else "",
                answer=str(index),
            )


def test_bank_statistics_take_the_same_queries_for_2_or_30_cards(
    now: datetime, django_assert_num_queries: Any
) -> None:
    small_bank, large_bank = factories.bank("small"), factories.bank("large")
    fill_bank(small_bank, 2, 2, now)
    fill_bank(large_bank, 30, 5, now)
    owner = small_bank.owner

    with django_assert_num_queries(7):
        small = bank_statistics(instructor=owner, bank_id=small_bank.pk)
    with django_assert_num_queries(7):
        large = bank_statistics(instructor=owner, bank_id=large_bank.pk)

    assert (len(small.cards), small.reviews) == (2, 4)
    assert (len(large.cards), large.reviews, large.learners) == (30, 150, 5)
    assert all(c.learners == 5 and c.reviews == 5 for c in large.cards)
