"""Admin of the learning engine: read-only views for operators and instructors.

Every write goes through :mod:`quizzes.services`, so nothing here adds or changes learning
data; settings and subscriptions are the learner's own, changed in the app.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import (
    Attempt,
    BankSubscription,
    CardState,
    IssuedItem,
    PracticeItem,
    PracticeSession,
    Remediation,
    ReviewLog,
    ReviewUndo,
    StudySettings,
)


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StudySettings)
class StudySettingsAdmin(_ReadOnly):
    list_display = ["learner", "desired_retention", "new_per_day", "reviews_per_day", "time_zone"]
    list_select_related = ["learner"]
    search_fields = ["learner__username"]


@admin.register(BankSubscription)
class BankSubscriptionAdmin(_ReadOnly):
    list_display = ["learner", "bank", "created_at"]
    list_select_related = ["learner", "bank"]
    search_fields = ["learner__username", "bank__slug"]


@admin.register(CardState)
class CardStateAdmin(_ReadOnly):
    list_display = ["learner", "card", "state", "due", "reps", "lapses", "suspended", "leech"]
    list_filter = ["state", "suspended", "leech"]
    list_select_related = ["learner", "card"]
    search_fields = ["learner__username", "card__slug"]
    raw_id_fields = ["learner", "card"]


@admin.register(IssuedItem)
class IssuedItemAdmin(_ReadOnly):
    list_display = ["id", "learner", "card", "issued_at", "expires_at", "answered", "offline"]
    list_filter = ["answered", "offline"]
    list_select_related = ["learner", "card"]
    search_fields = ["learner__username", "card__slug"]
    raw_id_fields = ["learner", "card", "card_version"]


@admin.register(Attempt)
class AttemptAdmin(_ReadOnly):
    list_display = ["id", "learner", "status", "submitted_at", "graded_at", "outbox_resends"]
    list_filter = ["status"]
    list_select_related = ["learner"]
    search_fields = ["id", "learner__username"]
    raw_id_fields = ["learner", "issued", "card_version"]


@admin.register(ReviewLog)
class ReviewLogAdmin(_ReadOnly):
    list_display = ["learner", "card", "rating", "score", "misconception", "reviewed_at", "due"]
    list_filter = ["rating"]
    list_select_related = ["learner", "card"]
    search_fields = ["learner__username", "card__slug", "misconception"]
    raw_id_fields = ["attempt", "learner", "card", "card_version"]


@admin.register(ReviewUndo)
class ReviewUndoAdmin(_ReadOnly):
    list_display = ["review", "learner", "undone_at"]
    list_select_related = ["review", "learner"]
    search_fields = ["learner__username"]
    raw_id_fields = ["review", "learner"]


@admin.register(Remediation)
class RemediationAdmin(_ReadOnly):
    list_display = [
        "learner",
        "card",
        "template_id",
        "misconception_id",
        "created_at",
        "consumed_at",
    ]
    list_select_related = ["learner", "card"]
    search_fields = ["learner__username", "card__slug", "misconception_id"]
    raw_id_fields = ["learner", "card", "review"]


class PracticeItemInline(admin.TabularInline):  # type: ignore[type-arg]
    model = PracticeItem
    fields = ["position", "topic", "issued"]
    readonly_fields = ["position", "topic", "issued"]
    raw_id_fields = ["issued", "topic"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PracticeSession)
class PracticeSessionAdmin(_ReadOnly):
    list_display = ["id", "learner", "status", "size", "started_at", "deadline", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["learner"]
    search_fields = ["id", "learner__username"]
    raw_id_fields = ["learner"]
    inlines = [PracticeItemInline]
