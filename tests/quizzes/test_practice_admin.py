"""The practice sessions' admin page opens for staff and changes nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from knowledge.models import Bank
from quizzes.practice import practice_start
from tests.quizzes import factories

pytestmark = pytest.mark.django_db


def test_a_practice_session_page_opens_read_only(
    client: Client, learner: User, study_bank: Bank, now: datetime
) -> None:
    card = factories.concept(study_bank)
    view = practice_start(learner=learner, topic_slugs=["cnn"], size=1, now=now)
    client.force_login(User.objects.create_superuser("root", password="pw-root-123"))

    changelist = client.get(reverse("admin:quizzes_practicesession_changelist"))
    change = client.get(reverse("admin:quizzes_practicesession_change", args=[view.session_id]))

    assert changelist.status_code == 200 and view.session_id.encode() in changelist.content
    assert change.status_code == 200 and b'name="_save"' not in change.content
    assert str(card.topic).encode() in change.content  # the inline lists its items
    assert client.get(reverse("admin:quizzes_practicesession_add")).status_code == 403
