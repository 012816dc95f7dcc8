"""The admin's forms. They check what a form can see with the services' own rule functions and
turn what was entered into one :class:`~knowledge.services.CardInput`; they never save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from .. import services
from ..models import Bank, Card, KeyPoint, Option, SourceSection, Topic

__all__ = [
    "CardAdminForm",
    "CardImportForm",
    "KeyPointFormSet",
    "OptionFormSet",
    "SectionFormSet",
    "card_input_from_forms",
]


def _kept_forms(formset: forms.BaseInlineFormSet[Any, Any, Any]) -> list[Any]:
    """The formset's forms that will be kept: filled in and not marked for deletion, by position."""
    kept = [
        form
        for form in formset.forms
        if getattr(form, "cleaned_data", None) and not form.cleaned_data.get("DELETE")
    ]
    return sorted(kept, key=lambda form: form.cleaned_data.get("position") or 0)


def _key_points(formset: Any) -> list[services.KeyPointInput]:
    return [
        services.KeyPointInput(
            f.cleaned_data["text_zh"],
            f.cleaned_data["text_en"],
            list(f.cleaned_data.get("accept_zh") or []),
            list(f.cleaned_data.get("accept_en") or []),
        )
        for f in _kept_forms(formset)
    ]


def _options(formset: Any) -> list[services.OptionInput]:
    return [
        services.OptionInput(
            f.cleaned_data["text_zh"],
            f.cleaned_data["text_en"],
            bool(f.cleaned_data.get("correct")),
            f.cleaned_data.get("feedback_zh") or "",
            f.cleaned_data.get("feedback_en") or "",
        )
        for f in _kept_forms(formset)
    ]


def _children_errors(kind: str, **children: Any) -> list[str]:
    problems = services.card_children_problems(
        kind=kind, key_points=children.get("key_points", ()), options=children.get("options", ())
    )
    return [
        message[:1].upper() + message[1:] + "."
        for messages in problems.values()
        for message in messages
    ]


class KeyPointFormSet(forms.BaseInlineFormSet[KeyPoint, Card, forms.ModelForm[KeyPoint]]):
    """Hold a concept card to the services' rule: at least one key point."""

    def clean(self) -> None:
        super().clean()
        if self.instance.kind == Card.Kind.CONCEPT:
            errors = _children_errors(Card.Kind.CONCEPT, key_points=_key_points(self))
            if errors:
                raise forms.ValidationError(errors)


class OptionFormSet(forms.BaseInlineFormSet[Option, Card, forms.ModelForm[Option]]):
    """Hold a multiple-choice card to the services' rule: 2 to 6 options, one or more correct."""

    def clean(self) -> None:
        super().clean()
        if self.instance.kind == Card.Kind.MCQ:
            errors = _children_errors(Card.Kind.MCQ, options=_options(self))
            if errors:
                raise forms.ValidationError(errors)


class SectionFormSet(forms.BaseInlineFormSet[SourceSection, Any, forms.ModelForm[SourceSection]]):
    """Refuse to delete a section that cards cite (deleting it would drop their citations)."""

    def clean(self) -> None:
        super().clean()
        for form in self.forms:
            cleaned = getattr(form, "cleaned_data", None) or {}
            if cleaned.get("DELETE") and form.instance.pk is not None:
                used = services.taxonomy_usage(form.instance)
                if used:
                    raise forms.ValidationError(
                        f"Section {form.instance.section_id} is cited by {used} card(s); "
                        "take it off those cards before deleting it."
                    )


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
        """Probe the template here, before the service opens its transaction (no lock held)."""
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        if kind is None:
            return cleaned
        problems = services.card_template_problems(
            kind=kind,
            template_id=cleaned.get("template_id") or "",
            template_version=cleaned.get("template_version"),
            constraints=cleaned.get("constraints"),
            card=self.instance if self.instance.pk else None,
        )
        for name, messages in problems.items():
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message[:1].upper() + message[1:] + ".")
        if "template_version" in self.fields:
            # The model requires a pinned version exactly on numeric cards; pin the latest.
            if kind != Card.Kind.NUMERIC:
                cleaned["template_version"] = None
            elif cleaned.get("template_version") is None and not problems:
                template_id = cleaned.get("template_id") or ""
                cleaned["template_version"] = services.template_latest_version(template_id)
        return cleaned


def card_input_from_forms(form: CardAdminForm, formsets: list[Any]) -> services.CardInput:
    """Return what the change form and its inlines hold as one CardInput."""
    cleaned = form.cleaned_data
    key_points: list[services.KeyPointInput] = []
    options: list[services.OptionInput] = []
    for formset in formsets:
        if isinstance(formset, KeyPointFormSet):
            key_points = _key_points(formset)
        elif isinstance(formset, OptionFormSet):
            options = _options(formset)
    return services.CardInput(
        slug=cleaned["slug"],
        kind=cleaned["kind"],
        bank=cleaned["bank"],
        topic=cleaned["topic"],
        status=cleaned["status"],
        difficulty=cleaned["difficulty"],
        question_zh=cleaned["question_zh"],
        question_en=cleaned["question_en"],
        answer_zh=cleaned["answer_zh"],
        answer_en=cleaned["answer_en"],
        erratum_zh=cleaned.get("erratum_zh") or "",
        erratum_en=cleaned.get("erratum_en") or "",
        template_id=cleaned.get("template_id") or "",
        template_version=cleaned.get("template_version"),
        constraints=cleaned.get("constraints") or {},
        checks=cleaned.get("checks") or [],
        tags=[tag.slug for tag in cleaned.get("tags") or []],
        sections=list(cleaned.get("sections") or []),
        key_points=key_points,
        options=options,
    )
