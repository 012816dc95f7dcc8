"""The admin where instructors author question banks.

Instructors (the ``Instructors`` group) see and edit the banks they own and those banks' cards;
superusers see everything. Every save records a revision (the edit history) and bumps the
version of a published card whose content changed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from . import exchange, services
from .models import Bank, Card, CardRevision, KeyPoint, Option, Source, SourceSection, Tag, Topic
from .rendering import render_markdown

PREVIEW_VARIANTS = 3


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _owned(request: HttpRequest, queryset: QuerySet[Any], owner_path: str) -> QuerySet[Any]:
    user = request.user
    if user.is_superuser:
        return queryset
    return queryset.filter(**{owner_path: user})


@admin.register(Bank)
class BankAdmin(admin.ModelAdmin[Bank]):
    list_display = ["slug", "title_en", "title_zh", "owner", "updated_at"]
    search_fields = ["slug", "title_en", "title_zh"]
    readonly_fields = ["owner", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Bank]:
        return _owned(request, super().get_queryset(request), "owner")

    def save_model(self, request: HttpRequest, obj: Bank, form: Any, change: bool) -> None:
        if not change:
            obj.owner = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin[Topic]):
    list_display = ["slug", "title_en", "title_zh", "parent", "position"]
    search_fields = ["slug", "title_en", "title_zh"]
    list_select_related = ["parent"]


class SourceSectionInline(admin.TabularInline[SourceSection, Source]):
    model = SourceSection
    extra = 0


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin[Source]):
    list_display = ["code", "title_en", "file_name"]
    inlines = [SourceSectionInline]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    search_fields = ["slug"]


def _kept_forms(formset: forms.BaseInlineFormSet[Any, Card, Any]) -> list[Any]:
    """The formset's forms that will be saved: filled in and not marked for deletion."""
    return [
        form
        for form in formset.forms
        if getattr(form, "cleaned_data", None) and not form.cleaned_data.get("DELETE")
    ]


class KeyPointFormSet(forms.BaseInlineFormSet[KeyPoint, Card, forms.ModelForm[KeyPoint]]):
    """Hold a concept card to what the fixture schema requires: at least one key point."""

    def clean(self) -> None:
        super().clean()
        if self.instance.kind == Card.Kind.CONCEPT and not _kept_forms(self):
            raise forms.ValidationError("A concept card needs at least one key point.")


class OptionFormSet(forms.BaseInlineFormSet[Option, Card, forms.ModelForm[Option]]):
    """Hold a multiple-choice card to the fixture schema: 2 to 6 options, one or more correct."""

    def clean(self) -> None:
        super().clean()
        if self.instance.kind != Card.Kind.MCQ:
            return
        kept = _kept_forms(self)
        if not 2 <= len(kept) <= 6:
            raise forms.ValidationError("A multiple-choice card needs 2 to 6 options.")
        if not any(form.cleaned_data.get("correct") for form in kept):
            raise forms.ValidationError("Mark at least one option correct.")


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


class CardImportForm(forms.Form):
    file = forms.FileField()
    format = forms.ChoiceField(
        choices=[
            ("fixture", "Fixture YAML"),
            ("csv", "CSV (concept and multiple choice)"),
            ("moodle", "Moodle XML"),
        ]
    )
    bank = forms.ModelChoiceField(
        queryset=Bank.objects.none(),
        required=False,
        help_text="Moodle only: where the questions go.",
    )
    topic = forms.ModelChoiceField(
        queryset=Topic.objects.all(), required=False, help_text="Moodle only."
    )

    def __init__(self, *args: Any, banks: QuerySet[Bank], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = banks  # type: ignore[attr-defined]


class CardAdminForm(forms.ModelForm[Card]):
    class Meta:
        model = Card
        fields = [
            "slug",
            "kind",
            "status",
            "bank",
            "topic",
            "difficulty",
            "tags",
            "sections",
            "question_zh",
            "question_en",
            "answer_zh",
            "answer_en",
            "erratum_zh",
            "erratum_en",
            "template_id",
            "template_version",
            "constraints",
            "checks",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind, template_id = cleaned.get("kind"), cleaned.get("template_id") or ""
        if kind == Card.Kind.NUMERIC:
            from compute.templates import (
                InvalidConstraints,
                UnknownTemplate,
                generate,
                get_template,
            )

            version = cleaned.get("template_version")
            try:
                get_template(template_id)
            except (UnknownTemplate, KeyError, ValueError):
                self.add_error("template_id", f"Unknown compute template {template_id!r}.")
                return cleaned
            try:
                get_template(template_id, version)
            except (UnknownTemplate, KeyError, ValueError):
                self.add_error("template_version", f"{template_id!r} has no version {version}.")
            else:
                # Draw one variant now, or a bad constraint fails only when a learner reviews it.
                try:
                    generate(
                        template_id,
                        0,
                        version=version,
                        constraints=cleaned.get("constraints") or None,
                    )
                except (InvalidConstraints, TypeError, ValueError) as exc:
                    self.add_error("constraints", f"The template rejects these constraints: {exc}")
        elif template_id:
            self.add_error("template_id", "Only numeric cards name a compute template.")
        return cleaned


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
    inlines = [KeyPointInline, OptionInline, CardRevisionInline]
    actions = ["publish", "unpublish", "export_fixture", "export_anki", "export_moodle"]
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
        return _owned(request, super().get_queryset(request), "bank__owner")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "bank":
            kwargs["queryset"] = _owned(request, Bank.objects.all(), "owner")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "sections":
            # A section's label is its citation, which reads its source: one query per section.
            kwargs["queryset"] = SourceSection.objects.select_related("source")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.card_revision_record(form.instance, user=request.user, note="edited in admin")

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
        return format_html(
            '<a href="{}">Preview variants</a> (seeds 1-{}; the page has a seed field to reproduce any variant)',
            url,
            PREVIEW_VARIANTS,
        )

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
        ]
        return custom + super().get_urls()

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
                if seed < 0:
                    raise ValueError
                seeds = [seed]
            except ValueError:
                error = "The seed must be a whole number, 0 or more."
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
        banks = _owned(request, Bank.objects.all(), "owner")
        errors: list[str] = []
        if request.method == "POST":
            form = CardImportForm(request.POST, request.FILES, banks=banks)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                bank, topic = form.cleaned_data["bank"], form.cleaned_data["topic"]
                try:
                    if upload.size > settings.BANK_UPLOAD_MAX_BYTES:
                        raise exchange.UploadRejected(
                            f"{upload.name} is {upload.size:,} bytes; the limit is {settings.BANK_UPLOAD_MAX_BYTES:,} bytes."
                        )
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

    @admin.action(description="Publish selected cards", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        count, refused = services.cards_set_status(
            queryset, status=Card.Status.PUBLISHED, user=request.user
        )
        self.message_user(request, f"{count} card(s) published.", messages.SUCCESS)
        for slug, problems in refused.items():
            self.message_user(
                request, f"{slug} was not published: {'; '.join(problems)}.", messages.ERROR
            )

    @admin.action(description="Unpublish selected cards", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        count, _refused = services.cards_set_status(
            queryset, status=Card.Status.DRAFT, user=request.user
        )
        self.message_user(request, f"{count} card(s) unpublished.", messages.SUCCESS)

    @admin.action(description="Export selected cards (fixture YAML)", permissions=["view"])
    def export_fixture(self, request: HttpRequest, queryset: QuerySet[Card]) -> HttpResponse:
        return _download(exchange.cards_to_fixture_yaml(queryset), "cards.yaml", "application/yaml")

    @admin.action(description="Export selected cards (Anki .apkg)", permissions=["view"])
    def export_anki(self, request: HttpRequest, queryset: QuerySet[Card]) -> HttpResponse:
        return _download(exchange.cards_to_apkg(queryset), "cards.apkg", "application/octet-stream")

    @admin.action(description="Export selected cards (Moodle XML)", permissions=["view"])
    def export_moodle(self, request: HttpRequest, queryset: QuerySet[Card]) -> HttpResponse:
        return _download(exchange.cards_to_moodle_xml(queryset), "cards.xml", "application/xml")


@admin.register(CardRevision)
class CardRevisionAdmin(admin.ModelAdmin[CardRevision]):
    list_display = ["card", "version", "status", "edited_by", "note", "created_at"]
    list_filter = ["status"]
    search_fields = ["card__slug"]
    readonly_fields = ["card", "version", "status", "snapshot", "edited_by", "note", "created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CardRevision]:
        return _owned(request, super().get_queryset(request), "card__bank__owner")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
