"""Small builders for knowledge objects, independent of the authored bank."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import User

from knowledge.models import Bank, Card, KeyPoint, Option, Source, SourceSection, Topic
from knowledge.services import instructors_group_ensure


def instructor(username: str = "teacher") -> User:
    user = User.objects.create_user(username, password="pw-teach-123", is_staff=True)
    user.groups.add(instructors_group_ensure())
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
    **fields: Any,
) -> Card:
    values: dict[str, Any] = {
        "uuid": uuid.uuid4(),
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
    }
    values.update(fields)
    created = Card.objects.create(**values)
    created.sections.add(section())
    if kind == "concept":
        KeyPoint.objects.create(
            card=created,
            position=0,
            text_zh="补零",
            text_en="zero padding",
            accept_zh=["补零"],
            accept_en=["zero", "padding"],
        )
    if kind == "mcq":
        Option.objects.create(
            card=created,
            position=0,
            text_zh="对",
            text_en="Right",
            correct=True,
            feedback_zh="是",
            feedback_en="Yes",
        )
        Option.objects.create(
            card=created,
            position=1,
            text_zh="错",
            text_en="Wrong",
            correct=False,
            feedback_zh="否",
            feedback_en="No",
        )
    return created
