"""The admin of the shared taxonomy: topics, sources with their sections, tags, and their history.

Every bank's cards point at these rows, so only curators (``knowledge.curate_taxonomy``, the
Curators group) add, change or delete them; instructors may look. A save or delete goes through
:mod:`knowledge.services.taxonomy`, which records it; a row that cards use is not deleted, and
the delete page says why.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from .. import services
from ..models import Source, SourceSection, Tag, TaxonomyRevision, Topic
from .forms import SectionFormSet


class CuratedAdmin(admin.ModelAdmin[Any]):
    """Writes for curators only, through the taxonomy services; deletes of used rows refused."""

    def _curator(self, request: HttpRequest) -> bool:
        return services.taxonomy_may_curate(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._curator(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._curator(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._curator(request) and super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.taxonomy_save(obj=obj, user=request.user, note="edited in admin")

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.taxonomy_delete(obj=obj, user=request.user, note="deleted in admin")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """List the rows cards use as protected: Django then refuses the delete and says why."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        in_use = []
        for obj in objs:
            used = services.taxonomy_usage(obj)
            if used:
                in_use.append(f"{obj}: used by {used} card(s); take it off them first")
            elif isinstance(obj, Topic) and obj.children.exists():
                in_use.append(f"{obj}: has sub-topics; move or delete them first")
        return deleted, counts, perms_needed, list(protected) + in_use


@admin.register(Topic)
class TopicAdmin(CuratedAdmin):
    list_display = ["slug", "title_en", "title_zh", "parent", "position"]
    search_fields = ["slug", "title_en", "title_zh"]
    list_select_related = ["parent"]


class SourceSectionInline(admin.TabularInline[SourceSection, Source]):
    model = SourceSection
    formset = SectionFormSet
    extra = 0


@admin.register(Source)
class SourceAdmin(CuratedAdmin):
    list_display = ["code", "kind", "title_en", "file_name", "year"]
    inlines = [SourceSectionInline]
    # A reference's address typed without a scheme means https (Django 6's default already).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Save each section through the taxonomy services, so each change is recorded."""
        sections = formset.save(commit=False)
        for section in formset.deleted_objects:
            services.taxonomy_delete(obj=section, user=request.user, note="deleted in admin")
        for section in sections:
            services.taxonomy_save(obj=section, user=request.user, note="edited in admin")


@admin.register(Tag)
class TagAdmin(CuratedAdmin):
    search_fields = ["slug"]


@admin.register(TaxonomyRevision)
class TaxonomyRevisionAdmin(admin.ModelAdmin[TaxonomyRevision]):
    list_display = ["created_at", "kind", "key", "action", "edited_by", "note"]
    list_filter = ["kind", "action"]
    search_fields = ["key"]
    readonly_fields = [
        "kind",
        "key",
        "action",
        "before",
        "after",
        "edited_by",
        "note",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
