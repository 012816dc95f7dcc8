"""Models of the learning engine: study settings, subscriptions, card states, issued items,
attempts, the review log, remediations and practice sessions.

Every write goes through :mod:`quizzes.services`; reads through :mod:`quizzes.selectors`. The
FSRS arithmetic lives in :mod:`quizzes.scheduling` (pure code); a card state row holds the
fields of ``scheduling.MemoryState`` plus the learner's flags.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from ops.models import OutboxRow

__all__ = [
    "Attempt",
    "BankSubscription",
    "CardState",
    "IssuedItem",
    "PracticeItem",
    "PracticeSession",
    "Remediation",
    "ReviewLog",
    "ReviewUndo",
    "StudySettings",
]

# The FSRS phases as stored: the library's State values, plus 0 for a card never reviewed (the
# library calls that Learning step 0; the review log needs to tell a new card from one in steps).
PHASE_CHOICES = [(0, "New"), (1, "Learning"), (2, "Review"), (3, "Relearning")]
RATING_CHOICES = [(1, "Again"), (2, "Hard"), (3, "Good"), (4, "Easy")]


class StudySettings(models.Model):
    """One learner's study settings (created with the defaults on first use)."""

    class Language(models.TextChoices):
        ZH = "zh", "简体中文"
        EN = "en", "English"

    class LeechAction(models.TextChoices):
        SUSPEND = "suspend", "Suspend the card"
        TAG = "tag", "Only flag the card"

    learner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_settings"
    )
    desired_retention = models.FloatField(default=0.9)
    new_per_day = models.PositiveIntegerField(default=20)
    reviews_per_day = models.PositiveIntegerField(default=200)
    time_zone = models.CharField(max_length=64, default="UTC")
    # The local hour at which a new study day begins (Anki's default is 4 a.m.).
    day_starts_at = models.PositiveSmallIntegerField(default=4)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ZH)
    leech_action = models.CharField(
        max_length=10, choices=LeechAction.choices, default=LeechAction.SUSPEND
    )
    # FSRS-6 parameters fitted to this learner's reviews; None means the library defaults.
    fsrs_parameters = models.JSONField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "study settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(desired_retention__gte=0.70, desired_retention__lte=0.99),
                name="study_settings_retention_0_70_to_0_99",
            ),
            models.CheckConstraint(
                condition=Q(day_starts_at__lte=23), name="study_settings_day_start_hour"
            ),
            models.CheckConstraint(
                condition=Q(language__in=["zh", "en"]), name="study_settings_language_valid"
            ),
            models.CheckConstraint(
                condition=Q(leech_action__in=["suspend", "tag"]),
                name="study_settings_leech_action_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"study settings of {self.learner_id}"


class BankSubscription(models.Model):
    """A learner studies the published cards of a bank."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bank_subscriptions"
    )
    bank = models.ForeignKey(
        "knowledge.Bank", on_delete=models.CASCADE, related_name="subscriptions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["learner", "bank"], name="unique_bank_subscription"),
        ]

    def __str__(self) -> str:
        return f"{self.learner_id} -> bank {self.bank_id}"


class CardState(models.Model):
    """One learner's memory of one card (``scheduling.MemoryState``) and the learner's flags.

    Written at the card's first review; a card without a row is new to the learner.
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="card_states"
    )
    card = models.ForeignKey("knowledge.Card", on_delete=models.PROTECT, related_name="states")
    state = models.PositiveSmallIntegerField(choices=PHASE_CHOICES[1:])
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    stability = models.FloatField(null=True, blank=True)
    difficulty = models.FloatField(null=True, blank=True)
    due = models.DateTimeField()
    last_review = models.DateTimeField(null=True, blank=True)
    reps = models.PositiveIntegerField(default=0)
    lapses = models.PositiveIntegerField(default=0)
    suspended = models.BooleanField(default=False)
    buried_until = models.DateTimeField(null=True, blank=True)
    leech = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["learner", "card"], name="unique_card_state"),
            models.CheckConstraint(
                condition=Q(state__in=[1, 2, 3]), name="card_state_fsrs_state_valid"
            ),
        ]
        indexes = [
            # "The due cards of a learner, most overdue first": only unsuspended rows qualify.
            models.Index(
                fields=["learner", "due"],
                condition=Q(suspended=False),
                name="card_state_learner_due",
            ),
        ]

    def __str__(self) -> str:
        return f"card {self.card_id} of {self.learner_id}, due {self.due:%Y-%m-%d %H:%M}"


class IssuedItem(models.Model):
    """A card handed out by "next item": what the learner's opaque token refers to.

    It pins the card version shown and, for a numeric card, the variant key (seed included),
    which never leaves the server. ``answered`` turns True when an attempt is accepted for it,
    back to False if that attempt was unreadable (a format error may be corrected). An
    ``offline`` item was prefetched to be answered without a network: it lives longer and its
    answer may be uploaded after it expired, if it was given before (``quizzes.services``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="issued_items"
    )
    card = models.ForeignKey("knowledge.Card", on_delete=models.PROTECT, related_name="+")
    card_version = models.ForeignKey(
        "knowledge.CardVersion", on_delete=models.PROTECT, related_name="+"
    )
    # compute.templates.VariantKey as canonical JSON data; None for concept and MCQ cards.
    variant_key = models.JSONField(null=True, blank=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    answered = models.BooleanField(default=False)
    offline = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("issued_at")), name="issued_item_expires_after_issue"
            ),
        ]
        indexes = [models.Index(fields=["learner", "issued_at"])]

    def __str__(self) -> str:
        return f"issued {self.card_id} to {self.learner_id} at {self.issued_at:%Y-%m-%d %H:%M}"


class Attempt(OutboxRow):
    """A learner's answer to an issued item, graded by the ``quizzes.grade_attempt`` task.

    The primary key is the UUID the client generated, so a retried upload finds its first copy.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        GRADED = "graded", "Graded"
        FORMAT_ERROR = "format_error", "Unreadable answer"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, editable=False)
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attempts"
    )
    issued = models.ForeignKey(IssuedItem, on_delete=models.PROTECT, related_name="attempts")
    card_version = models.ForeignKey(
        "knowledge.CardVersion", on_delete=models.PROTECT, related_name="+"
    )
    response = models.JSONField()
    reviewed_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    submitted_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    result = models.JSONField(null=True, blank=True)
    graded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "graded", "format_error", "failed"]),
                name="attempt_status_valid",
            ),
            # Pending exactly while not graded: the outbox finds pending rows by graded_at.
            models.CheckConstraint(
                condition=(Q(status="pending") & Q(graded_at__isnull=True))
                | (~Q(status="pending") & Q(graded_at__isnull=False)),
                name="attempt_pending_iff_not_graded",
            ),
        ]
        indexes = [
            models.Index(fields=["learner", "status"]),
            models.Index(
                fields=["submitted_at"],
                condition=Q(graded_at__isnull=True),
                name="attempt_pending_by_submitted",
            ),
        ]

    def __str__(self) -> str:
        return f"attempt {self.id} ({self.status})"

    @staticmethod
    def pending_condition() -> Q:
        """Return the filter of attempts the grading task has not finished."""
        return Q(graded_at__isnull=True)


class ReviewLog(models.Model):
    """One review, append-only: what was asked, answered and scored, and what it did to the card.

    ``state_before`` and ``state_after`` are ``MemoryState.to_dict()``; replaying the log with
    ``scheduling.replay`` reproduces every ``state_after``. One row per attempt, at most.
    """

    attempt = models.OneToOneField(Attempt, on_delete=models.PROTECT, related_name="review")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews"
    )
    card = models.ForeignKey("knowledge.Card", on_delete=models.PROTECT, related_name="reviews")
    card_version = models.ForeignKey(
        "knowledge.CardVersion", on_delete=models.PROTECT, related_name="+"
    )
    variant_key = models.JSONField(null=True, blank=True)
    response = models.JSONField()
    score = models.FloatField()
    misconception = models.CharField(max_length=100, blank=True)
    rating = models.PositiveSmallIntegerField(choices=RATING_CHOICES)
    # The card's phase before this review (0 = new): the daily new and review limits count it.
    phase_before = models.PositiveSmallIntegerField(choices=PHASE_CHOICES)
    elapsed_ms = models.PositiveIntegerField()
    reviewed_at = models.DateTimeField()
    client_id = models.UUIDField(unique=True)
    state_before = models.JSONField()
    state_after = models.JSONField()
    due = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=4), name="review_rating_1_to_4"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0.0, score__lte=1.0), name="review_score_0_to_1"
            ),
            models.CheckConstraint(
                condition=Q(phase_before__lte=3), name="review_phase_before_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["learner", "reviewed_at"]),
            models.Index(fields=["card", "reviewed_at"]),
        ]

    def __str__(self) -> str:
        return f"review of {self.card_id} by {self.learner_id} at {self.reviewed_at:%Y-%m-%d %H:%M}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValueError("the review log is append-only: a review is never changed")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class ReviewUndo(models.Model):
    """The learner undid a review: the card went back to the review's ``state_before``.

    A row of its own, so the review log stays append-only; undone reviews are left out of the
    daily counts and of replays.
    """

    review = models.OneToOneField(ReviewLog, on_delete=models.PROTECT, related_name="undo")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_undos"
    )
    undone_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"undo of review {self.review_id}"


class Remediation(models.Model):
    """A card brought forward because the learner made a mistake its idea explains.

    Written by ``misconception_remediate`` after a wrong numeric answer whose misconception is
    linked to the card (``knowledge.MisconceptionLink``); pending until the learner's next
    review of the card consumes it. At most one pending row per learner and card, so repeating
    the mistake does not push the card again while it waits.
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="remediations"
    )
    card = models.ForeignKey("knowledge.Card", on_delete=models.CASCADE, related_name="+")
    template_id = models.CharField(max_length=100)
    misconception_id = models.CharField(max_length=100)
    created_at = models.DateTimeField()
    consumed_at = models.DateTimeField(null=True, blank=True)
    review = models.ForeignKey(
        ReviewLog, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "card"],
                condition=Q(consumed_at__isnull=True),
                name="remediation_one_pending_per_card",
            ),
            models.CheckConstraint(
                condition=Q(consumed_at__isnull=True) | Q(review__isnull=False),
                name="remediation_consumed_by_a_review",
            ),
        ]
        indexes = [
            models.Index(
                fields=["learner", "created_at"],
                condition=Q(consumed_at__isnull=True),
                name="remediation_pending_by_learner",
            ),
        ]

    def __str__(self) -> str:
        return f"remediation of {self.card_id} for {self.learner_id} ({self.misconception_id})"


class PracticeSession(models.Model):
    """A mock interview: N cards over chosen topics, optionally timed, scored per topic at the end.

    Its items are ordinary issued items (answered through ``attempt_submit``, graded and
    scheduled like any review); :class:`PracticeItem` ties them to the session. ``result`` is
    written once every answer of a finished session is graded, and never changes after.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        FINISHED = "finished", "Finished"
        TIMED_OUT = "timed_out", "Time ran out"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_sessions"
    )
    # The topics the learner chose; each includes its subtopics.
    topics = models.ManyToManyField("knowledge.Topic", related_name="+")
    # The number of items issued: the size asked for, or fewer if the topics hold fewer cards.
    size = models.PositiveSmallIntegerField()
    time_limit_seconds = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    result = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(size__gte=1, size__lte=100), name="practice_size_1_to_100"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "finished", "timed_out"]),
                name="practice_status_valid",
            ),
            models.CheckConstraint(
                condition=(Q(time_limit_seconds__isnull=True) & Q(deadline__isnull=True))
                | (Q(time_limit_seconds__gt=0) & Q(deadline__gt=F("started_at"))),
                name="practice_deadline_iff_time_limit",
            ),
            models.CheckConstraint(
                condition=(Q(status="active") & Q(finished_at__isnull=True))
                | (~Q(status="active") & Q(finished_at__gte=F("started_at"))),
                name="practice_finished_iff_not_active",
            ),
            models.CheckConstraint(
                condition=Q(result__isnull=True) | ~Q(status="active"),
                name="practice_result_only_when_finished",
            ),
        ]
        indexes = [
            # "The learner's sessions, latest first".
            models.Index(fields=["learner", "-started_at"], name="practice_learner_started"),
        ]

    def __str__(self) -> str:
        return f"practice {self.id} of {self.learner_id} ({self.status})"


class PracticeItem(models.Model):
    """One question of a practice session: the issued item, its place and the topic it scores for.

    ``shown`` is what the learner was shown (the study item without its token), so a session can
    be resumed without drawing a new variant.
    """

    session = models.ForeignKey(PracticeSession, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    issued = models.OneToOneField(IssuedItem, on_delete=models.PROTECT, related_name="practice")
    # The chosen topic this card counts for (the most specific one containing the card's topic).
    topic = models.ForeignKey("knowledge.Topic", on_delete=models.PROTECT, related_name="+")
    shown = models.JSONField()

    class Meta:
        constraints = [
            # Also the index of "the session's items in order".
            models.UniqueConstraint(
                fields=["session", "position"], name="unique_practice_item_position"
            ),
        ]

    def __str__(self) -> str:
        return f"item {self.position} of practice {self.session_id}"
