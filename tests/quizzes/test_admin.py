"""The engine's admin pages open for staff and offer no way to change learning data."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from knowledge.models import Bank, MisconceptionLink
from quizzes.models import (
    Attempt,
    BankSubscription,
    CardState,
    IssuedItem,
    Remediation,
    ReviewLog,
    StudySettings,
)
from quizzes.services import misconception_remediate, study_next, study_settings_update
from tests.quizzes import factories
from tests.quizzes.helpers import answer, study_item

pytestmark = pytest.mark.django_db


def test_every_engine_page_opens_read_only(
    client: Client, learner: User, study_bank: Bank, now: datetime
) -> None:
    study_settings_update(learner=learner, new_per_day=5)
    card = factories.concept(study_bank)
    answer(learner, study_item(study_next(learner=learner, now=now)), {"rating": 3}, at=now)
    MisconceptionLink.objects.create(template_id="t", misconception_id="m", card=card)
    misconception_remediate(learner=learner, misconception_id="m", template_id="t", now=now)
    client.force_login(User.objects.create_superuser("root", password="pw-root-123"))

    models = (Attempt, BankSubscription, CardState, IssuedItem, ReviewLog, StudySettings)
    for model in (*models, Remediation, MisconceptionLink):
        row = model.objects.get()
        opts = model._meta
        changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert changelist.status_code == 200, opts.model_name
        change = client.get(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])
        )
        assert change.status_code == 200, opts.model_name
        assert b'name="_save"' not in change.content  # viewing only
        add = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        assert add.status_code == 403
