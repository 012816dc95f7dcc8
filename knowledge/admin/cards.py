"""The admin where instructors author their banks' cards.

Instructors (the ``Instructors`` group) see and edit the banks they own and those banks' cards;
superusers see everything. A save ends in one service call (``card_create`` or ``card_update``),
which records a revision and, when learners would see something new, a card version. The form
and its inlines are validated first, outside any transaction: the template probe holds no lock.
"""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import construct_change_message
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from .. import exchange, services
from ..models import (
    Bank,
    Card,
    CardRevision,
    CardVersion,
    KeyPoint,
    MisconceptionLink,
    Option,
    SourceSection,
)
from ..rendering import render_markdown
from .common import download, owned
from .forms import (
    CardAdminForm,
    CardImportForm,
    KeyPointFormSet,
    OptionFormSet,
    card_input_from_forms,
)

PREVIEW_VARIANTS = 3


@admin.register(Bank)
class BankAdmin(admin.ModelAdmin[Bank]):
    list_display = ["slug", "title_en", "title_zh", "owner", "updated_at"]
    search_fields = ["slug", "title_en", "title_zh"]
    readonly_fields = ["owner", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Bank]:
        return owned(request, super().get_queryset(request), "owner")

    def save_model(self, request: HttpRequest, obj: Bank, form: Any, change: bool) -> None:
        if not change:
            obj.owner = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


class KeyPointInline(admin.StackedInline[KeyPoint, Card]):
    model = KeyPoint
    formset = KeyPointFormSet
    extra = 0
    fields = ["position", "text_zh", "text_en", "accept_zh", "accept_en"]


class OptionInline(admin.StackedInline[Option, Card]):
    model = Option
    formset = OptionFormSet
    extra = 0
    fields = ["position", "correct", "text_zh", "text_en", "feedback_zh", "feedback_en"]


class CardRevisionInline(admin.TabularInline[CardRevision, Card]):
    model = CardRevision
    extra = 0
    can_delete = False
    fields = ["created_at", "version", "status", "edited_by", "note"]
    readonly_fields = ["created_at", "version", "status", "edited_by", "note"]
    ordering = ["-created_at", "-id"]
    verbose_name_plural = "Edit history"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CardVersionInline(admin.TabularInline[CardVersion, Card]):
    model = CardVersion
    extra = 0
    can_delete = False
    fields = ["version", "created_at", "created_by", "content_hash"]
    readonly_fields = ["version", "created_at", "created_by", "content_hash"]
    ordering = ["-version"]
    verbose_name_plural = "Versions learners saw"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Card)
class CardAdmin(admin.ModelAdmin[Card]):
    form = CardAdminForm
    list_display = [
        "slug",
        "kind",
        "status",
        "version",
        "topic",
        "bank",
        "difficulty",
        "updated_at",
    ]
    # Only the banks of the cards this user may see: a plain "bank" filter lists every bank.
    list_filter = [
        "status",
        "kind",
        "difficulty",
        ("bank", admin.RelatedOnlyFieldListFilter),
        "topic",
        "tags",
    ]
    list_select_related = ["topic", "bank"]
    search_fields = [
        "slug",
        "question_zh",
        "question_en",
        "answer_zh",
        "answer_en",
        "tags__slug",
        "=uuid",
    ]
    filter_horizontal = ["tags", "sections"]
    readonly_fields = ["uuid", "version", "created_at", "updated_at", "preview", "numeric_preview"]
    inlines = [KeyPointInline, OptionInline, CardVersionInline, CardRevisionInline]
    actions = [
        "publish",
        "unpublish",
        "archive",
        "export_fixture",
        "export_anki",
        "export_moodle",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "slug",
                    "uuid",
                    "kind",
                    "status",
                    "version",
                    "bank",
                    "topic",
                    "difficulty",
                    "tags",
                    "sections",
                ]
            },
        ),
        (
            "Question and answer",
            {
                "fields": [
                    "question_zh",
                    "question_en",
                    "answer_zh",
                    "answer_en",
                    "erratum_zh",
                    "erratum_en",
                ]
            },
        ),
        (
            "Numeric",
            {"fields": ["template_id", "template_version", "constraints"], "classes": ["collapse"]},
        ),
        ("Verified figures", {"fields": ["checks"], "classes": ["collapse"]}),
        ("Preview", {"fields": ["preview", "numeric_preview"]}),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]

    class Media:
        css = {"all": ["vendor/katex/katex.min.css"]}
        js = [
            "vendor/katex/katex.min.js",
            "vendor/katex/contrib/auto-render.min.js",
            "knowledge/math.js",
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Card]:
        return owned(request, super().get_queryset(request), "bank__owner")

    def get_readonly_fields(self, request: HttpRequest, obj: Card | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.kind == Card.Kind.NUMERIC:
            # A pinned card moves to another template version only through the move page,
            # after the instructor has seen the new variants.
            fields.append("template_version")
        return fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "bank":
            kwargs["queryset"] = owned(request, Bank.objects.all(), "owner")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "sections":
            # A section's label is its citation, which reads its source: one query per section.
            kwargs["queryset"] = SourceSection.objects.select_related("source")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # Django wraps the whole view in a transaction (on SQLite, the write lock from the
        # start): the form's template probe would hold it. The service opens its own.
        response: HttpResponse = self._changeform_view(  # type: ignore[attr-defined]
            request, object_id, form_url, extra_context
        )
        return response

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> list[dict[str, Any]]:
        # The inlines are not saved as formsets (the service writes them), so only the card
        # form's changed fields are listed; the card's edit history has the full detail.
        return construct_change_message(form, [], add)

    def save_model(self, request: HttpRequest, obj: Card, form: Any, change: bool) -> None:
        """Save nothing yet: the card is written with its inlines in :meth:`save_related`."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Write the card, its key points, options, tags and citations in one service call."""
        data = card_input_from_forms(form, formsets)
        try:
            if change:
                stored = Card.objects.select_related("bank").get(pk=form.instance.pk)
                card = services.card_update(
                    card=stored, data=data, user=request.user, note="edited in admin"
                )
            else:
                card = services.card_create(data=data, user=request.user, note="created in admin")
        except (ValidationError, services.CardConflict) as exc:
            # The form checked these rules already; only a concurrent change gets here.
            self.message_user(request, f"Nothing was saved: {exc}", messages.ERROR)
            return
        form.instance.pk = card.pk
        form.instance.uuid = card.uuid

    def delete_model(self, request: HttpRequest, obj: Card) -> None:
        services.card_delete(card=obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        for card in queryset:
            services.card_delete(card=card, user=request.user)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """Refuse (with why) to delete cards learners have seen: archive them instead."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # A card's parts and edit history go with it (the service deletes them): deleting the
        # card needs no permission on them.
        parts = {m._meta.verbose_name for m in (KeyPoint, Option, CardRevision)}
        perms_needed = {name for name in perms_needed if name not in parts}
        shown = [card.slug for card in objs if card.versions.exists()]
        if shown:
            protected = [
                f"{slug}: learners have seen it (it has versions); archive it instead of deleting it"
                for slug in shown
            ]
        return deleted, counts, perms_needed, protected

    @admin.display(description="Learner's view")
    def preview(self, card: Card) -> SafeString:
        if card.pk is None:
            return mark_safe("<em>Save the card to preview it.</em>")
        blocks = []
        for lang, label in (("en", "English"), ("zh", "简体中文")):
            parts = [
                format_html("<h4>{}</h4>", label),
                mark_safe(render_markdown(getattr(card, f"question_{lang}"))),
            ]
            for option in card.options.all():
                mark = "✔" if option.correct else "✘"
                parts.append(
                    format_html(
                        "<p>{} {}</p>",
                        mark,
                        mark_safe(render_markdown(getattr(option, f"text_{lang}"))),
                    )
                )
            parts.append(format_html("<h5>{}</h5>", "Answer"))
            parts.append(mark_safe(render_markdown(getattr(card, f"answer_{lang}"))))
            erratum = getattr(card, f"erratum_{lang}")
            if erratum:
                parts.append(format_html("<h5>{}</h5>", "Erratum"))
                parts.append(mark_safe(render_markdown(erratum)))
            blocks.append(
                format_html(
                    '<div class="card-preview" lang="{}">{}</div>', lang, mark_safe("".join(parts))
                )
            )
        return mark_safe("".join(blocks))

    @admin.display(description="Numeric variants")
    def numeric_preview(self, card: Card) -> SafeString:
        if card.pk is None or card.kind != Card.Kind.NUMERIC:
            return mark_safe("<em>Numeric cards only.</em>")
        url = reverse("admin:knowledge_card_variants", args=[card.pk])
        link = format_html(
            '<a href="{}">Preview variants</a> (seeds 1-{}; the page has a seed field to reproduce any variant)',
            url,
            PREVIEW_VARIANTS,
        )
        latest = services.template_latest_version(card.template_id)
        if (
            latest is not None
            and card.template_version is not None
            and latest > card.template_version
        ):
            move = reverse("admin:knowledge_card_template_move", args=[card.pk])
            link += format_html(
                '<br>Pinned to template v{}; <a href="{}">compare with v{} and move the card</a>.',
                card.template_version,
                move,
                latest,
            )
        return link

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="knowledge_card_import",
            ),
            path(
                "<int:card_id>/variants/",
                self.admin_site.admin_view(self.variants_view),
                name="knowledge_card_variants",
            ),
            path(
                "<int:card_id>/template-move/",
                self.admin_site.admin_view(self.template_move_view),
                name="knowledge_card_template_move",
            ),
        ]
        return custom + super().get_urls()

    def template_move_view(self, request: HttpRequest, card_id: int) -> HttpResponse:
        """Show the card's variants at its pinned and at the newer template version, same seeds;
        on confirmation move the card (a published card gets a new version)."""
        card = get_object_or_404(self.get_queryset(request), pk=card_id, kind=Card.Kind.NUMERIC)
        if not self.has_change_permission(request, card):
            return HttpResponse(status=403)
        latest = services.template_latest_version(card.template_id)
        try:
            target = int(request.POST.get("version") or request.GET.get("version") or latest or 0)
        except ValueError:
            target = 0
        error = ""
        if target == card.template_version:
            error = f"The card is already pinned to v{target}."
        elif latest is None or not 1 <= target <= latest:
            error = f"{card.template_id!r} has no version {target}."
        if request.method == "POST" and not error:
            try:
                services.card_template_move(card=card, version=target, user=request.user)
            except ValidationError as exc:
                error = "; ".join(m for ms in exc.message_dict.values() for m in ms)
            except services.CardConflict as exc:
                error = str(exc)
            else:
                self.message_user(
                    request, f"{card.slug} now draws its variants from v{target}.", messages.SUCCESS
                )
                return HttpResponseRedirect(reverse("admin:knowledge_card_change", args=[card.pk]))
        seeds = list(range(1, PREVIEW_VARIANTS + 1))
        pairs: list[tuple[int, Any, Any]] = []
        if not error or request.method == "POST":
            from compute.templates import InvalidConstraints, UnknownTemplate

            moved = copy.copy(card)
            moved.template_version = target
            try:
                old = exchange.numeric_variants(card, seeds)
                new = exchange.numeric_variants(moved, seeds)
            except (InvalidConstraints, UnknownTemplate) as exc:
                error = error or f"v{target} cannot draw this card's variants: {exc}"
            else:
                pairs = list(zip(seeds, old, new, strict=True))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Move {card.slug} to template v{target}",
            "card": card,
            "opts": self.model._meta,
            "target": target,
            "pairs": pairs,
            "error": error,
            "media": self.media,
        }
        return TemplateResponse(
            request,
            "admin/knowledge/card/template_move.html",
            context,
            status=400 if error and request.method == "POST" else 200,
        )

    def variants_view(self, request: HttpRequest, card_id: int) -> HttpResponse:
        """Show numeric variants with answers, misconceptions and worked solutions."""
        card = get_object_or_404(self.get_queryset(request), pk=card_id, kind=Card.Kind.NUMERIC)
        if not self.has_view_permission(request, card):
            return HttpResponse(status=403)
        error = ""
        seeds = list(range(1, PREVIEW_VARIANTS + 1))
        raw_seed = request.GET.get("seed", "").strip()
        if raw_seed:
            try:
                seed = int(raw_seed)
                # Seeds are stored in a signed 64-bit column; the engine refuses larger ones.
                if not 0 <= seed < 2**63:
                    raise ValueError
                seeds = [seed]
            except ValueError:
                error = "The seed must be a whole number from 0 to 2**63 - 1."
        variants = []
        if not error:
            from compute.templates import InvalidConstraints, UnknownTemplate

            try:
                variants = exchange.numeric_variants(card, seeds)
            except (InvalidConstraints, UnknownTemplate) as exc:
                # Cards written by an import or the loader are not checked against the template.
                error = f"The card's template or constraints cannot make a variant: {exc}"
        context = {
            **self.admin_site.each_context(request),
            "title": f"Variants of {card.slug}",
            "card": card,
            "opts": self.model._meta,
            "variants": variants,
            "seed": raw_seed,
            "error": error,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/knowledge/card/variants.html", context)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a bank file; validate it all, then import it all or nothing."""
        if not self.has_add_permission(request):
            return HttpResponse(status=403)
        banks = owned(request, Bank.objects.all(), "owner")
        errors: list[str] = []
        if request.method == "POST":
            form = CardImportForm(request.POST, request.FILES, banks=banks)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                bank, topic = form.cleaned_data["bank"], form.cleaned_data["topic"]
                try:
                    report = exchange.cards_import_file(
                        upload.read(),
                        fmt=form.cleaned_data["format"],
                        user=request.user,
                        name=upload.name,
                        bank=bank.slug if bank else "",
                        topic=topic.slug if topic else "",
                    )
                except exchange.UploadRejected as exc:
                    errors = [str(exc)]
                except exchange.BankImportError as exc:
                    errors = [str(error) for error in exc.errors]
                else:
                    self.message_user(
                        request, f"Imported {upload.name}: {report}.", messages.SUCCESS
                    )
                    return HttpResponseRedirect(reverse("admin:knowledge_card_changelist"))
        else:
            form = CardImportForm(banks=banks)
        context = {
            **self.admin_site.each_context(request),
            "title": "Import cards",
            "opts": self.model._meta,
            "form": form,
            "errors": errors,
            "limit": f"{settings.BANK_UPLOAD_MAX_BYTES:,}",
        }
        return TemplateResponse(
            request, "admin/knowledge/card/import.html", context, status=400 if errors else 200
        )

    def _report(
        self, request: HttpRequest, verb: str, count: int, refused: dict[str, list[str]]
    ) -> None:
        self.message_user(request, f"{count} card(s) {verb}.", messages.SUCCESS)
        for slug, problems in refused.items():
            self.message_user(
                request, f"{slug} was not {verb}: {'; '.join(problems)}.", messages.ERROR
            )

    @admin.action(description="Publish selected cards", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        count, refused = services.cards_set_status(
            cards=queryset, status=Card.Status.PUBLISHED, user=request.user
        )
        self._report(request, "published", count, refused)

    @admin.action(description="Unpublish selected cards", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        count, refused = services.cards_set_status(
            cards=queryset, status=Card.Status.DRAFT, user=request.user
        )
        self._report(request, "unpublished", count, refused)

    @admin.action(
        description="Archive selected cards (out of rotation, history kept)", permissions=["change"]
    )
    def archive(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        count, refused = services.cards_set_status(
            cards=queryset, status=Card.Status.ARCHIVED, user=request.user
        )
        self._report(request, "archived", count, refused)

    @admin.action(description="Export selected cards (fixture YAML)", permissions=["view"])
    def export_fixture(self, request: HttpRequest, queryset: QuerySet[Card]) -> HttpResponse:
        return download(exchange.cards_to_fixture_yaml(queryset), "cards.yaml", "application/yaml")

    @admin.action(description="Export selected cards (Anki .apkg)", permissions=["view"])
    def export_anki(self, request: HttpRequest, queryset: QuerySet[Card]) -> HttpResponse:
        return download(exchange.cards_to_apkg(queryset), "cards.apkg", "application/octet-stream")

    @admin.action(description="Export selected cards (Moodle XML)", permissions=["view"])
    def export_moodle(self, request: HttpRequest, queryset: QuerySet[Card]) -> HttpResponse:
        return download(exchange.cards_to_moodle_xml(queryset), "cards.xml", "application/xml")


@admin.register(CardRevision)
class CardRevisionAdmin(admin.ModelAdmin[CardRevision]):
    list_display = ["card", "version", "status", "edited_by", "note", "created_at"]
    list_filter = ["status"]
    search_fields = ["card__slug"]
    readonly_fields = ["card", "version", "status", "snapshot", "edited_by", "note", "created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CardRevision]:
        return owned(request, super().get_queryset(request), "card__bank__owner")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MisconceptionLink)
class MisconceptionLinkAdmin(admin.ModelAdmin[MisconceptionLink]):
    """The links the bank loader keeps in step with ``misconception_links.yaml``: read only."""

    list_display = ["template_id", "misconception_id", "card", "position"]
    list_filter = ["template_id"]
    list_select_related = ["card"]
    search_fields = ["template_id", "misconception_id", "card__slug"]
    ordering = ["template_id", "misconception_id", "position"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[MisconceptionLink]:
        return owned(request, super().get_queryset(request), "card__bank__owner")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
