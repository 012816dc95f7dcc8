"""How long each field of the fixtures may be, and how big a YAML document may get.

Column sizes come from the models' ``_meta`` when Django is set up, so a slug that fits the
validator fits the column on SQLite (which does not enforce ``max_length``) and on PostgreSQL
(which raises DataError) alike. Without Django (``python -m knowledge.fixture_schema`` before the
project is installed) the sizes below are used; a test keeps them equal to the models'.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "FieldLimits", "YamlLimits", "field_limits"]


@dataclass(frozen=True)
class FieldLimits:
    """The longest value each field may hold, and the most entries a list may have."""

    card_slug: int = 120
    bank_slug: int = 100
    topic_slug: int = 200
    tag_slug: int = 60
    template_id: int = 80
    source_code: int = 20
    section_id: int = 50
    source_file: int = 200
    authors: int = 500
    url: int = 500
    title: int = 200
    section_title: int = 300
    # A PositiveIntegerField: PostgreSQL's range, the narrower of the two databases'.
    template_version: int = 2_147_483_647
    # Questions, answers and explanations are TextFields. Longer texts are mistakes, and every
    # character is rendered on each view of the card; options and key points are short texts.
    text: int = 10_000
    short_text: int = 2_000
    phrase: int = 500
    tags: int = 30
    sources: int = 30
    key_points: int = 30
    phrasings: int = 50
    checks: int = 30
    constraint_names: int = 30
    constraint_values: int = 64


@dataclass(frozen=True)
class YamlLimits:
    """Bounds a YAML document must stay within before any Python object is built from it.

    ``max_nodes`` counts every scalar, sequence and mapping, with each alias counted as the
    whole subtree it repeats (so an alias bomb is as big as its expansion).
    """

    max_depth: int = 24
    max_nodes: int = 250_000


DEFAULT_LIMITS = FieldLimits()


def _max_length(model: type, name: str) -> int:
    length = model._meta.get_field(name).max_length  # type: ignore[attr-defined]
    assert isinstance(length, int), f"{model.__name__}.{name} has no max_length"
    return length


def field_limits() -> FieldLimits:
    """Return the limits, with column sizes read from the models when Django is ready."""
    try:
        from django.apps import apps
    except ImportError:  # pragma: no cover - only without Django installed
        return DEFAULT_LIMITS
    if not apps.ready:
        return DEFAULT_LIMITS
    from knowledge.models import Bank, Card, Source, SourceSection, Tag, Topic

    return FieldLimits(
        card_slug=_max_length(Card, "slug"),
        bank_slug=_max_length(Bank, "slug"),
        topic_slug=_max_length(Topic, "slug"),
        tag_slug=_max_length(Tag, "slug"),
        template_id=_max_length(Card, "template_id"),
        source_code=_max_length(Source, "code"),
        section_id=_max_length(SourceSection, "section_id"),
        source_file=_max_length(Source, "file_name"),
        authors=_max_length(Source, "authors"),
        url=_max_length(Source, "url"),
        title=min(_max_length(Bank, "title_en"), _max_length(Topic, "title_en")),
        section_title=min(_max_length(Source, "title_en"), _max_length(SourceSection, "title_en")),
    )
