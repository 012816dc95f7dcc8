"""Helpers of the admin tests: drive the real admin pages through the Django test client."""

from __future__ import annotations

import re
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from knowledge import services
from knowledge.models import Bank, Card, Topic

PASSWORD = "pw-teach-123"  # the password factories.instructor sets
CHANGELIST = "admin:knowledge_card_changelist"
ADD = "admin:knowledge_card_add"
CSV_HEADER = (
    "slug,kind,bank,topic,difficulty,tags,sources,question_zh,question_en,answer_zh,answer_en,"
    "key_points_zh,key_points_en,options_zh,options_en\n"
)


def form_data(response: Any) -> dict[str, Any]:
    """Return the POST data of an admin add/change page as it stands: every form and formset."""
    data: dict[str, Any] = {}

    def add(form: Any) -> None:
        for name in form.fields:
            value = form[name].value()
            if value is None:
                continue
            if isinstance(value, list | tuple):
                data[form.add_prefix(name)] = [str(v) for v in value]
            else:
                data[form.add_prefix(name)] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def change(client: Client, card: Card, **changes: Any) -> Any:
    """Submit the card's change form as served, with ``changes`` (POST names, inlines prefixed)."""
    url = reverse("admin:knowledge_card_change", args=[card.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = form_data(page)
    data.update(changes)
    return client.post(url, data)


def action(client: Client, action: str, cards: list[Card]) -> Any:
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [c.pk for c in cards], "index": 0},
    )


def recorded(card: Card) -> Card:
    """Record the card's first revision, as the loader and the admin do when a card is written."""
    services.card_revision_record(card, note="created")
    return card


def answers(content: str) -> list[str]:
    return re.findall(r'<span class="answer">(.*?)</span>', content)


def new_card_data(client: Client, bank: Bank, topic: Topic, **fields: Any) -> dict[str, Any]:
    """The add form as the admin serves it, filled in as a concept card with ``fields`` on top."""
    page = client.get(reverse(ADD))
    assert page.status_code == 200
    data = form_data(page)
    data.update(
        {
            "slug": "why-pad",
            "kind": "concept",
            "status": "draft",
            "bank": bank.pk,
            "topic": topic.pk,
            "difficulty": 2,
            "question_zh": "为什么要填充？",
            "question_en": "Why pad the input?",
            "answer_zh": "保持空间尺寸。",
            "answer_en": "To keep the spatial size.",
            "constraints": "{}",
            "checks": "[]",
            "key_points-TOTAL_FORMS": 1,
            "key_points-0-position": 0,
            "key_points-0-text_zh": "保持尺寸",
            "key_points-0-text_en": "keeps the size",
            "key_points-0-accept_zh": '["保持尺寸", "尺寸不变"]',
            "key_points-0-accept_en": '["keeps the size", "same size"]',
        }
    )
    data.update(fields)
    return data


def options_data(*options: tuple[str, bool]) -> dict[str, Any]:
    data: dict[str, Any] = {"options-TOTAL_FORMS": len(options)}
    for i, (text, correct) in enumerate(options):
        data |= {
            f"options-{i}-position": i,
            f"options-{i}-text_zh": f"选项{text}",
            f"options-{i}-text_en": f"Option {text}",
            f"options-{i}-feedback_zh": "说明",
            f"options-{i}-feedback_en": "Because.",
        }
        if correct:
            data[f"options-{i}-correct"] = "on"
    return data


def errors(response: Any) -> str:
    """Every error the add/change page shows: the card form's and each inline formset's."""
    form = response.context["adminform"].form
    parts = [str(form.errors)]
    for inline in response.context["inline_admin_formsets"]:
        parts.append(str(inline.formset.non_form_errors()))
        parts.extend(str(f.errors) for f in inline.formset.forms)
    return "".join(parts)


def numeric_data(client: Client, bank: Bank, topic: Topic, **fields: Any) -> dict[str, Any]:
    numeric = {
        "slug": "conv-size",
        "kind": "numeric",
        "difficulty": 3,
        "question_zh": "计算卷积输出尺寸。",
        "question_en": "Compute the convolution output size.",
        "answer_zh": "$O=\\lfloor (L+2p-k)/s \\rfloor+1$",
        "answer_en": "$O=\\lfloor (L+2p-k)/s \\rfloor+1$",
        "template_id": "conv.output_size",
        "key_points-TOTAL_FORMS": 0,
    }
    return new_card_data(client, bank, topic, **(numeric | fields))


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def upload(client: Client, content: bytes, name: str = "bank.csv", fmt: str = "csv") -> Any:
    return client.post(
        reverse("admin:knowledge_card_import"),
        {"format": fmt, "file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )
