"""The question bank: topics, sources, banks (decks), cards, their versions and edit history.

Every text a learner reads exists in Simplified Chinese (``*_zh``) and English (``*_en``), as
Markdown with LaTeX math. Every write goes through :mod:`knowledge.services`.

``fixture_hash`` (on banks, cards, topics, sources and sections) is the digest of the content last
loaded from ``fixtures/``: the loader applies a fixture change only to rows whose content still
has that digest, so an edit made in the admin or by an import survives the next load.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Topic(models.Model):
    """A node of the topic tree; ``slug`` is the whole path, e.g. ``cnn/conv-arithmetic``."""

    slug = models.CharField(max_length=200, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    title_zh = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    fixture_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["position", "slug"]
        # The shared taxonomy (topics, sources, sections, tags) is changed by curators only.
        permissions = [
            ("curate_taxonomy", "Can change and delete shared topics, sources, sections and tags")
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(slug=""), name="topic_slug_not_empty"),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(parent=F("id")), name="topic_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slug} ({self.title_en})"


class Source(models.Model):
    """A document cards cite: a seed note the bank was written from, or a reference beyond them.

    Seed documents name their file in ``../shared/seeds``; papers and reference implementations
    (what interviews ask beyond the seeds) name their authors, year and address instead.
    """

    class Kind(models.TextChoices):
        SEED = "seed", "Seed document"
        PAPER = "paper", "Paper"
        IMPLEMENTATION = "implementation", "Reference implementation"

    code = models.CharField(max_length=20, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SEED)
    file_name = models.CharField(max_length=200, blank=True)
    title_zh = models.CharField(max_length=300)
    title_en = models.CharField(max_length=300)
    authors = models.CharField(max_length=500, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    url = models.URLField(max_length=500, blank=True)
    fixture_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["code"]
        constraints = [
            # A seed names its file; a paper or implementation names its authors and year.
            models.CheckConstraint(
                condition=(Q(kind="seed") & ~Q(file_name=""))
                | (
                    Q(kind__in=["paper", "implementation"]) & ~Q(authors="") & Q(year__isnull=False)
                ),
                name="source_seed_has_file_reference_has_authors_year",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.title_en}"


class SourceSection(models.Model):
    """A citable section of a source document (``000:2.2``)."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="sections")
    section_id = models.CharField(max_length=50)
    title_zh = models.CharField(max_length=300)
    title_en = models.CharField(max_length=300)
    position = models.PositiveIntegerField(default=0)
    fixture_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["source__code", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "section_id"], name="unique_section_per_source"
            ),
        ]

    def __str__(self) -> str:
        return self.citation

    @property
    def citation(self) -> str:
        return f"{self.source.code}:{self.section_id}"


class Bank(models.Model):
    """A question bank (deck) owned by an instructor."""

    slug = models.SlugField(max_length=100, unique=True)
    title_zh = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200)
    description_zh = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="banks"
    )
    fixture_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.title_en


class Tag(models.Model):
    slug = models.SlugField(max_length=60, unique=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Card(models.Model):
    """One question. Numeric cards name a compute template and draw a fresh variant per review."""

    class Kind(models.TextChoices):
        CONCEPT = "concept", "Concept"
        MCQ = "mcq", "Multiple choice"
        NUMERIC = "numeric", "Numeric"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"  # out of rotation; its versions and history are kept

    uuid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=120, unique=True)
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="cards")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="cards")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # The number of the latest CardVersion (1 until the card is first published).
    version = models.PositiveIntegerField(default=1)
    difficulty = models.PositiveSmallIntegerField(default=2)
    question_zh = models.TextField()
    question_en = models.TextField()
    answer_zh = models.TextField()
    answer_en = models.TextField()
    erratum_zh = models.TextField(blank=True)
    erratum_en = models.TextField(blank=True)
    template_id = models.CharField(max_length=80, blank=True)
    template_version = models.PositiveIntegerField(null=True, blank=True)
    constraints = models.JSONField(default=dict, blank=True)
    checks = models.JSONField(default=list, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="cards")
    sections = models.ManyToManyField(SourceSection, blank=True, related_name="cards")
    fixture_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["topic__position", "slug"]
        indexes = [models.Index(fields=["status", "kind"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(difficulty__gte=1, difficulty__lte=5), name="card_difficulty_1_to_5"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="card_version_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=["concept", "mcq", "numeric"]), name="card_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published", "archived"]),
                name="card_status_valid",
            ),
            # A numeric card names its template; other kinds never do.
            models.CheckConstraint(
                condition=(Q(kind="numeric") & ~Q(template_id=""))
                | (~Q(kind="numeric") & Q(template_id="")),
                name="card_template_iff_numeric",
            ),
            # A numeric card is pinned to one template version: a new version of the template
            # changes nothing until an instructor moves the card to it.
            models.CheckConstraint(
                condition=(Q(kind="numeric") & Q(template_version__isnull=False))
                | (~Q(kind="numeric") & Q(template_version__isnull=True)),
                name="card_template_version_iff_numeric",
            ),
            models.CheckConstraint(
                condition=~Q(question_zh="") & ~Q(question_en=""), name="card_question_bilingual"
            ),
        ]

    def __str__(self) -> str:
        return self.slug


class KeyPoint(models.Model):
    """A point a typed answer to a concept card should make, with phrasings that count as it."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="key_points")
    position = models.PositiveIntegerField(default=0)
    text_zh = models.TextField()
    text_en = models.TextField()
    accept_zh = models.JSONField(default=list)
    accept_en = models.JSONField(default=list)

    class Meta:
        ordering = ["card", "position"]
        constraints = [
            models.UniqueConstraint(fields=["card", "position"], name="unique_key_point_position"),
        ]

    def __str__(self) -> str:
        return self.text_en


class Option(models.Model):
    """A choice of a multiple-choice card, with the feedback shown when it is picked."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveIntegerField(default=0)
    text_zh = models.TextField()
    text_en = models.TextField()
    correct = models.BooleanField(default=False)
    feedback_zh = models.TextField(blank=True)
    feedback_en = models.TextField(blank=True)

    class Meta:
        ordering = ["card", "position"]
        constraints = [
            models.UniqueConstraint(fields=["card", "position"], name="unique_option_position"),
        ]

    def __str__(self) -> str:
        return self.text_en


class CardVersion(models.Model):
    """What learners saw and were graded against at one version of a card; never changed.

    Written when a published card's learner-facing content (question, answer, erratum, options,
    key points, template id, version and constraints) changes, and only then. Attempts point at
    a version, so an answer can be re-graded years later against the same question.
    """

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    content = models.JSONField()
    content_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["card", "version"]
        constraints = [
            models.UniqueConstraint(fields=["card", "version"], name="unique_card_version"),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="card_version_number_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card_id} v{self.version}"


class MisconceptionLink(models.Model):
    """A card that teaches the idea behind one misconception of one compute template.

    Loaded by the bank loader from ``fixtures/misconception_links.yaml`` and nothing else (the
    file is the source of truth; a reload makes the table match it). ``position`` keeps the
    file's order, which is the order the learning engine brings the cards forward in.
    """

    template_id = models.CharField(max_length=100)
    misconception_id = models.CharField(max_length=100)
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="misconception_links")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["template_id", "misconception_id", "card"],
                name="unique_misconception_link",
            ),
        ]
        indexes = [
            models.Index(fields=["template_id", "misconception_id"], name="misconception_link_key")
        ]

    def __str__(self) -> str:
        return f"{self.template_id}.{self.misconception_id} -> {self.card_id}"


class CardRevision(models.Model):
    """A snapshot of a card after each change: its edit history."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Card.Status.choices)
    snapshot = models.JSONField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["card", "-created_at", "-id"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"{self.card.slug} v{self.version} ({self.created_at:%Y-%m-%d %H:%M})"


class TaxonomyRevision(models.Model):
    """One change of the shared taxonomy (a topic, source, section or tag): who, what, when."""

    class Kind(models.TextChoices):
        TOPIC = "topic", "Topic"
        SOURCE = "source", "Source"
        SECTION = "section", "Source section"
        TAG = "tag", "Tag"

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        CHANGED = "changed", "Changed"
        DELETED = "deleted", "Deleted"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=200)  # slug, code or citation at the time of the change
    action = models.CharField(max_length=10, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "key"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} {self.action}"
