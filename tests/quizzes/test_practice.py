"""Practice sessions: choosing the cards, answering through attempt_submit, the deadline, the score."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from knowledge.models import Bank, Card, Topic
from quizzes.errors import StudyError
from quizzes.models import Attempt, CardState, PracticeSession, ReviewLog
from quizzes.practice import (
    PracticeQuestion,
    PracticeResult,
    PracticeView,
    practice_finish,
    practice_items,
    practice_next,
    practice_start,
)
from quizzes.scheduling import MemoryState
from quizzes.selectors import card_state_memory
from quizzes.services import StudyItem, attempt_grade, attempt_submit
from tests.quizzes import factories
from tests.quizzes.helpers import answer, issued, numeric_answer

pytestmark = pytest.mark.django_db


def topic(slug: str) -> Topic:
    parent = Topic.objects.filter(slug=slug.rpartition("/")[0]).first()
    return Topic.objects.get_or_create(
        slug=slug, defaults={"parent": parent, "title_zh": slug, "title_en": slug}
    )[0]


@pytest.fixture
def topics(db: None) -> dict[str, Topic]:
    return {slug: topic(slug) for slug in ("cnn", "cnn/conv", "detection", "optim")}


def question_of(view: PracticeView, card: Card) -> PracticeQuestion:
    return next(q for q in view.questions if q.card_slug == card.slug)


def item_of(view: PracticeView, card: Card) -> StudyItem:
    item = question_of(view, card).item
    assert item is not None
    return item


def submit(user: User, item: StudyItem, response: dict[str, Any], *, at: datetime) -> Attempt:
    return attempt_submit(
        learner=user,
        token=item.token,
        response=response,
        client_id=uuid.uuid4(),
        reviewed_at=at,
        duration_ms=20_000,
        now=at,
    )


def refused(code: str, **kwargs: Any) -> None:
    with pytest.raises(StudyError) as caught:
        practice_start(**kwargs)
    assert caught.value.code == code, caught.value.message


def test_a_full_session_scores_each_topic_and_feeds_the_scheduler(
    learner: User, study_bank: Bank, topics: dict[str, Topic], now: datetime
) -> None:
    numeric = factories.numeric(study_bank, topic=topics["cnn/conv"])
    mcq = factories.mcq(study_bank, topic=topics["cnn"])
    skipped = factories.concept(study_bank, topic=topics["cnn"])
    concept = factories.concept(study_bank, topic=topics["detection"])
    factories.concept(study_bank, topic=topics["optim"])  # a topic not chosen

    view = practice_start(
        learner=learner, topic_slugs=["cnn", "detection"], size=10, time_limit_seconds=900, now=now
    )

    # Only four cards lie in the chosen topics (cnn/conv counts for cnn): four questions.
    assert view.size == 4 and len(view.questions) == 4
    assert {q.card_slug for q in view.questions} == {
        numeric.slug,
        mcq.slug,
        skipped.slug,
        concept.slug,
    }
    assert question_of(view, numeric).topic_slug == "cnn"
    assert all(q.status == "open" and q.item is not None for q in view.questions)
    assert view.deadline == now + timedelta(seconds=900)
    # Each numeric item is a variant drawn for this session, stored with its key.
    assert issued(item_of(view, numeric)).variant_key is not None

    at = now + timedelta(minutes=5)
    right = answer(
        learner, item_of(view, numeric), {"answer": numeric_answer(item_of(view, numeric))}, at=at
    )
    wrong = answer(learner, item_of(view, mcq), {"choices": [1]}, at=at)
    good = answer(learner, item_of(view, concept), {"rating": 3}, at=at)
    assert [a.status for a in (right, wrong, good)] == [Attempt.Status.GRADED] * 3
    assert right.result is not None and right.result["score"] == 1.0
    assert wrong.result is not None and wrong.result["score"] == 0.0

    # The graded answers are reviews like any other: logged, and the card states follow them.
    reviews = ReviewLog.objects.filter(learner=learner)
    assert {r.card_id for r in reviews} == {numeric.pk, mcq.pk, concept.pk}
    for review in reviews:
        state = CardState.objects.get(learner=learner, card_id=review.card_id)
        assert card_state_memory(state, now=at) == MemoryState.from_dict(review.state_after)
    assert not CardState.objects.filter(card=skipped).exists()

    # The next question is the one left unanswered.
    left = practice_next(learner=learner, session_id=view.session_id, now=at)
    assert isinstance(left, StudyItem) and left.card_slug == skipped.slug

    done = now + timedelta(minutes=10)
    result = practice_finish(learner=learner, session_id=view.session_id, now=done)

    by_topic = {t.slug: t for t in result.topics}
    # cnn: numeric 1.0, mcq 0.0, concept unanswered 0 -> 1/3; detection: Good self-rating 2/3.
    assert (by_topic["cnn"].items, by_topic["cnn"].answered) == (3, 2)
    assert by_topic["cnn"].score == pytest.approx(1 / 3)
    assert (by_topic["detection"].items, by_topic["detection"].answered) == (1, 1)
    assert by_topic["detection"].score == pytest.approx(2 / 3)
    assert (result.items, result.answered, result.pending) == (4, 3, 0)
    assert result.score == pytest.approx((1 + 0 + 2 / 3) / 4)
    assert result.time_used_seconds == 600 and result.time_limit_seconds == 900
    assert result.complete and not result.timed_out and result.status == "finished"

    # Idempotent: the same result again, the session unchanged.
    again = practice_finish(
        learner=learner, session_id=view.session_id, now=done + timedelta(hours=1)
    )
    assert again == result
    session = PracticeSession.objects.get(pk=view.session_id)
    assert session.finished_at == done and session.result == result.to_dict()
    # A finished session's open question cannot be answered any more.
    with pytest.raises(StudyError) as caught:
        submit(learner, item_of(view, skipped), {"rating": 4}, at=done + timedelta(minutes=1))
    assert caught.value.code == "practice_finished"
    listed = practice_items(learner=learner, session_id=view.session_id, now=done)
    statuses = {q.card_slug: (q.status, q.score) for q in listed.questions}
    assert statuses[skipped.slug] == ("unanswered", None)
    assert statuses[mcq.slug] == ("graded", 0.0)


def test_an_answer_after_the_deadline_is_refused_and_the_session_times_out(
    learner: User, study_bank: Bank, topics: dict[str, Topic], now: datetime
) -> None:
    first = factories.concept(study_bank, topic=topics["cnn"])
    late = factories.concept(study_bank, topic=topics["cnn"])
    view = practice_start(
        learner=learner, topic_slugs=["cnn"], size=2, time_limit_seconds=60, now=now
    )

    answer(learner, item_of(view, first), {"rating": 4}, at=now + timedelta(seconds=59))
    with pytest.raises(StudyError) as caught:
        submit(learner, item_of(view, late), {"rating": 4}, at=now + timedelta(seconds=61))
    assert caught.value.code == "practice_time_up" and caught.value.status_code == 409
    assert not ReviewLog.objects.filter(card=late).exists()

    # Asking for the next question after the deadline finishes the session at its deadline.
    result = practice_next(
        learner=learner, session_id=view.session_id, now=now + timedelta(hours=2)
    )
    assert isinstance(result, PracticeResult)
    assert result.timed_out and result.status == "timed_out"
    assert result.time_used_seconds == 60
    assert (result.items, result.answered) == (2, 1)
    assert result.score == pytest.approx(0.5)


def test_the_result_waits_for_an_answer_still_being_graded(
    learner: User, study_bank: Bank, topics: dict[str, Topic], now: datetime
) -> None:
    card = factories.concept(study_bank, topic=topics["cnn"])
    view = practice_start(learner=learner, topic_slugs=["cnn"], size=1, now=now)
    attempt = submit(learner, item_of(view, card), {"rating": 1}, at=now)

    early = practice_finish(learner=learner, session_id=view.session_id, now=now)
    assert (early.complete, early.pending, early.answered) == (False, 1, 0)
    assert PracticeSession.objects.get(pk=view.session_id).result is None

    attempt_grade(attempt_id=attempt.pk, now=now)
    final = practice_finish(
        learner=learner, session_id=view.session_id, now=now + timedelta(hours=1)
    )
    assert (final.complete, final.pending, final.answered, final.score) == (True, 0, 1, 0.0)
    # Finished at the first call; the score is stored once complete.
    assert final.time_used_seconds == 0
    assert PracticeSession.objects.get(pk=view.session_id).result == final.to_dict()


def test_due_then_weak_cards_come_first(
    learner: User, study_bank: Bank, topics: dict[str, Topic], now: datetime
) -> None:
    def studied(card: Card, *, due: datetime, lapses: int = 0, suspended: bool = False) -> None:
        CardState.objects.create(
            learner=learner,
            card=card,
            state=2,
            stability=10.0,
            difficulty=4.0,
            due=due,
            last_review=now - timedelta(days=3),
            reps=3,
            lapses=lapses,
            suspended=suspended,
        )

    cards = [factories.concept(study_bank, topic=topics["cnn"]) for _ in range(7)]
    studied(cards[0], due=now - timedelta(days=1))
    studied(cards[1], due=now - timedelta(hours=1))
    studied(cards[2], due=now + timedelta(days=5), lapses=2)  # weak
    studied(cards[3], due=now + timedelta(days=5))  # known well, not due
    studied(cards[4], due=now - timedelta(days=9), suspended=True)  # never in practice

    view = practice_start(learner=learner, topic_slugs=["cnn"], size=3, now=now)
    assert {q.card_slug for q in view.questions} == {c.slug for c in cards[:3]}

    everything = practice_start(learner=learner, topic_slugs=["cnn"], size=100, now=now)
    assert cards[4].slug not in {q.card_slug for q in everything.questions}
    assert everything.size == 6


def test_the_kinds_are_mixed(
    learner: User, study_bank: Bank, topics: dict[str, Topic], now: datetime
) -> None:
    for _ in range(4):
        factories.numeric(study_bank, topic=topics["cnn"])
        factories.mcq(study_bank, topic=topics["cnn"])

    view = practice_start(learner=learner, topic_slugs=["cnn"], size=4, now=now)

    kinds = [q.kind for q in view.questions]
    assert sorted(kinds) == ["mcq", "mcq", "numeric", "numeric"]
    assert all(a != b for a, b in itertools.pairwise(kinds))


def test_an_item_counts_for_the_most_specific_chosen_topic(
    learner: User, study_bank: Bank, topics: dict[str, Topic], now: datetime
) -> None:
    conv = factories.concept(study_bank, topic=topics["cnn/conv"])
    cnn = factories.concept(study_bank, topic=topics["cnn"])

    view = practice_start(learner=learner, topic_slugs=["cnn", "cnn/conv"], size=5, now=now)

    assert question_of(view, conv).topic_slug == "cnn/conv"
    assert question_of(view, cnn).topic_slug == "cnn"


def test_another_learners_session_is_not_found(
    learner: User, study_bank: Bank, topics: dict[str, Topic], now: datetime
) -> None:
    factories.concept(study_bank, topic=topics["cnn"])
    view = practice_start(learner=learner, topic_slugs=["cnn"], size=1, now=now)
    other = factories.learner("eve")

    for session_id in (view.session_id, str(uuid.uuid4()), "not-a-uuid"):
        for call in (practice_finish, practice_items, practice_next):
            with pytest.raises(StudyError) as caught:
                call(learner=other, session_id=session_id, now=now)
            assert (caught.value.code, caught.value.status_code) == ("not_found", 404)
    # Eve cannot answer Ada's question either (the token is bound to Ada).
    item = view.questions[0].item
    assert item is not None
    with pytest.raises(StudyError) as caught:
        submit(other, item, {"rating": 3}, at=now)
    assert caught.value.code == "token_wrong_learner"
    assert PracticeSession.objects.get(pk=view.session_id).status == "active"


def test_bad_input_is_refused_with_a_clear_code(
    learner: User, study_bank: Bank, topics: dict[str, Topic], now: datetime
) -> None:
    factories.concept(study_bank, topic=topics["cnn"])
    ok: dict[str, Any] = {"learner": learner, "topic_slugs": ["cnn"], "size": 5, "now": now}

    for size in (0, 101, -1, True, "5", 2.5):
        refused("practice_size_invalid", **{**ok, "size": size})
    for limit in (0, 29, 12 * 3600 + 1, "60", True):
        refused("practice_time_limit_invalid", **{**ok, "time_limit_seconds": limit})
    for slugs in ([], "cnn", ["nope"], ["cnn", "nope"], [3], None):
        refused("practice_topics_invalid", **{**ok, "topic_slugs": slugs})
    refused("practice_no_cards", **{**ok, "topic_slugs": ["optim"]})
    refused("not_subscribed", **{**ok, "learner": factories.learner("bob")})
    # A bank the learner has not subscribed to does not count.
    other_bank = factories.bank("other")
    factories.concept(other_bank, topic=topics["detection"])
    refused("practice_no_cards", **{**ok, "topic_slugs": ["detection"]})
    assert not PracticeSession.objects.exists()
