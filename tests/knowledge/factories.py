"""Small builders for knowledge objects, independent of the authored bank."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import User

from knowledge.models import Bank, Card, Source, SourceSection, Topic
from knowledge.services import (
    CardInput,
    KeyPointInput,
    OptionInput,
    card_create,
    curators_group_ensure,
    instructors_group_ensure,
)


def instructor(username: str = "teacher") -> User:
    user = User.objects.create_user(username, password="pw-teach-123", is_staff=True)
    user.groups.add(instructors_group_ensure())
    return user


def curator(username: str = "keeper") -> User:
    user = User.objects.create_user(username, password="pw-teach-123", is_staff=True)
    user.groups.add(instructors_group_ensure(), curators_group_ensure())
    return user


def bank(owner: User, slug: str = "my-bank") -> Bank:
    return Bank.objects.create(slug=slug, title_zh="题库", title_en="Bank", owner=owner)


def topic(slug: str = "cnn", parent: Topic | None = None) -> Topic:
    return Topic.objects.get_or_create(
        slug=slug, defaults={"title_zh": "卷积", "title_en": "CNN", "parent": parent}
    )[0]


def section(code: str = "000", section_id: str = "1") -> SourceSection:
    source, _ = Source.objects.get_or_create(
        code=code, defaults={"file_name": f"{code}.txt", "title_zh": "笔记", "title_en": "Notes"}
    )
    return SourceSection.objects.get_or_create(
        source=source, section_id=section_id, defaults={"title_zh": "节", "title_en": "Section"}
    )[0]


def card(
    in_bank: Bank,
    *,
    kind: str = "concept",
    slug: str | None = None,
    status: str = "published",
    user: Any = None,
    **fields: Any,
) -> Card:
    """Create a card through the card service (a published one gets its version 1)."""
    values: dict[str, Any] = {
        "slug": slug or f"card-{uuid.uuid4().hex[:8]}",
        "bank": in_bank,
        "topic": fields.pop("topic", None) or topic(),
        "kind": kind,
        "status": status,
        "question_zh": "什么是填充？",
        "question_en": "What is padding?",
        "answer_zh": "在输入边缘补零。",
        "answer_en": "Zeros added around the input.",
        "template_id": "conv.output_size" if kind == "numeric" else "",
        "sections": [section()],
    }
    if kind == "concept":
        values["key_points"] = [
            KeyPointInput("补零", "zero padding", ["补零"], ["zero", "padding"])
        ]
    if kind == "mcq":
        values["options"] = [
            OptionInput("对", "Right", True, "是", "Yes"),
            OptionInput("错", "Wrong", False, "否", "No"),
        ]
    values.update(fields)
    return card_create(data=CardInput(**values), user=user, note="created")


def raw_card(in_bank: Bank, *, kind: str = "numeric", **fields: Any) -> Card:
    """Write a card straight through the ORM, past every rule: what a broken row looks like."""
    values: dict[str, Any] = {
        "uuid": uuid.uuid4(),
        "slug": f"raw-{uuid.uuid4().hex[:8]}",
        "bank": in_bank,
        "topic": topic(),
        "kind": kind,
        "status": "draft",
        "question_zh": "什么是填充？",
        "question_en": "What is padding?",
        "answer_zh": "在输入边缘补零。",
        "answer_en": "Zeros added around the input.",
        "template_id": "conv.output_size" if kind == "numeric" else "",
        "template_version": 1 if kind == "numeric" else None,
    }
    values.update(fields)
    return Card.objects.create(**values)
