"""Writes of the shared taxonomy: topics, sources, source sections and tags.

Every bank's cards point at these rows, so they are curated: only a user with the
``knowledge.curate_taxonomy`` permission (the Curators group) or the system (the loader) changes
or deletes them, a row that cards use is never deleted, and every change is recorded as a
:class:`~knowledge.models.TaxonomyRevision`. Any author may add a new tag: that changes nobody's
card.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from ..models import Card, Source, SourceSection, Tag, TaxonomyRevision, Topic
from .common import Actor, editor

__all__ = [
    "CURATE_PERMISSION",
    "TaxonomyInUse",
    "TaxonomyObject",
    "tags_ensure",
    "taxonomy_content",
    "taxonomy_delete",
    "taxonomy_may_curate",
    "taxonomy_save",
    "taxonomy_usage",
]

CURATE_PERMISSION = "knowledge.curate_taxonomy"
TaxonomyObject = Topic | Source | SourceSection | Tag


class TaxonomyInUse(ValidationError):
    """The row is used by cards (or has sub-topics) and cannot be deleted."""


def _bilingual(obj: Any, prefix: str) -> dict[str, str]:
    return {"zh": getattr(obj, f"{prefix}_zh"), "en": getattr(obj, f"{prefix}_en")}


def taxonomy_content(obj: TaxonomyObject) -> dict[str, Any]:
    """Return the row in fixture form (what the loader compares and the history records)."""
    if isinstance(obj, Topic):
        parent = obj.parent.slug if obj.parent_id is not None and obj.parent else None
        return {
            "slug": obj.slug,
            "parent": parent,
            "title": _bilingual(obj, "title"),
            "position": obj.position,
        }
    if isinstance(obj, Source):
        if obj.kind == Source.Kind.SEED:
            return {"id": obj.code, "file": obj.file_name, "title": _bilingual(obj, "title")}
        return {
            "id": obj.code,
            "kind": obj.kind,
            "title": _bilingual(obj, "title"),
            "authors": obj.authors,
            "year": obj.year,
            "url": obj.url,
        }
    if isinstance(obj, SourceSection):
        return {
            "source": obj.source.code,
            "id": obj.section_id,
            "title": _bilingual(obj, "title"),
            "position": obj.position,
        }
    return {"slug": obj.slug}


def _kind_and_key(obj: TaxonomyObject) -> tuple[str, str]:
    if isinstance(obj, Topic):
        return TaxonomyRevision.Kind.TOPIC, obj.slug
    if isinstance(obj, Source):
        return TaxonomyRevision.Kind.SOURCE, obj.code
    if isinstance(obj, SourceSection):
        return TaxonomyRevision.Kind.SECTION, f"{obj.source.code}:{obj.section_id}"
    return TaxonomyRevision.Kind.TAG, obj.slug


def taxonomy_may_curate(user: Actor) -> bool:
    """Return whether ``user`` may change or delete shared rows (None, the system, may)."""
    if user is None:
        return True
    return bool(
        user.is_active and getattr(user, "has_perm", lambda _perm: False)(CURATE_PERMISSION)
    )


def _require_curator(user: Actor) -> None:
    if not taxonomy_may_curate(user):
        raise PermissionDenied(
            "Topics, sources, sections and tags are shared by every bank; only curators change them."
        )


def taxonomy_usage(obj: TaxonomyObject) -> int:
    """Return how many cards use ``obj`` (for a source: cite any of its sections)."""
    if obj.pk is None:
        return 0
    if isinstance(obj, Topic):
        return Card.objects.filter(topic=obj).count()
    if isinstance(obj, Source):
        return Card.objects.filter(sections__source=obj).distinct().count()
    if isinstance(obj, SourceSection):
        return obj.cards.count()
    return obj.cards.count()


def taxonomy_save(*, obj: TaxonomyObject, user: Actor = None, note: str = "") -> bool:
    """Save a new or changed shared row and record the change; return True if anything changed."""
    _require_curator(user)
    before = None
    if obj.pk is not None:
        stored = type(obj)._default_manager.filter(pk=obj.pk).first()
        before = taxonomy_content(stored) if stored is not None else None
    with transaction.atomic():
        obj.save()
        after = taxonomy_content(obj)
        if before == after:
            return False
        kind, key = _kind_and_key(obj)
        TaxonomyRevision.objects.create(
            kind=kind,
            key=key[:200],
            action=TaxonomyRevision.Action.CREATED
            if before is None
            else TaxonomyRevision.Action.CHANGED,
            before=before,
            after=after,
            edited_by=editor(user),
            note=note[:200],
        )
    return True


def taxonomy_delete(*, obj: TaxonomyObject, user: Actor = None, note: str = "") -> None:
    """Delete a shared row nobody uses; raise TaxonomyInUse (with why) if cards use it."""
    _require_curator(user)
    kind, key = _kind_and_key(obj)
    used = taxonomy_usage(obj)
    if used:
        raise TaxonomyInUse(
            f"{kind} {key!r} is used by {used} card(s); take it off those cards before deleting it."
        )
    if isinstance(obj, Topic) and obj.children.exists():
        raise TaxonomyInUse(f"topic {key!r} has sub-topics; move or delete them first.")
    with transaction.atomic():
        TaxonomyRevision.objects.create(
            kind=kind,
            key=key[:200],
            action=TaxonomyRevision.Action.DELETED,
            before=taxonomy_content(obj),
            after=None,
            edited_by=editor(user),
            note=note[:200],
        )
        obj.delete()


def tags_ensure(*, slugs: Iterable[str], user: Actor = None) -> list[Tag]:
    """Return the tags named ``slugs`` (in that order), creating and recording the missing ones."""
    wanted = list(dict.fromkeys(slugs))
    if not wanted:
        return []
    found = {tag.slug: tag for tag in Tag.objects.filter(slug__in=wanted)}
    for slug in wanted:
        if slug not in found:
            tag = Tag(slug=slug)
            with transaction.atomic():
                tag.save()
                TaxonomyRevision.objects.create(
                    kind=TaxonomyRevision.Kind.TAG,
                    key=slug,
                    action=TaxonomyRevision.Action.CREATED,
                    after={"slug": slug},
                    edited_by=editor(user),
                )
            found[slug] = tag
    return [found[slug] for slug in wanted]
