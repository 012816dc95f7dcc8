"""Validate cards in fixture form: every field's type, length and cross-reference."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from .checking import (
    CARD_KINDS,
    LANGUAGES,
    SLUG_RE,
    STATUSES,
    Checker,
    FixtureError,
    label,
    plain_data_problems,
    show,
)
from .limits import FieldLimits
from .templates import ProbeTimer, TemplateLookup, check_numeric, default_template_lookup

__all__ = ["KIND_FIELDS", "normalize_card", "validate_cards"]

COMMON_REQUIRED = (
    "uuid",
    "slug",
    "kind",
    "bank",
    "topic",
    "difficulty",
    "tags",
    "sources",
    "status",
    "question",
    "answer",
)
COMMON_OPTIONAL = ("erratum", "checks")
KIND_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required, optional)
    "concept": (("key_points",), ()),
    "mcq": (("options",), ()),
    "numeric": (("template", "template_version"), ("constraints",)),
}


def _card_label(card: Any, index: int) -> str:
    if isinstance(card, Mapping):
        name = card.get("slug") or card.get("uuid")
        if name:
            return label(name)
    return f"#{index}"


def validate_cards(
    cards: Iterable[tuple[str, Any]],
    *,
    bank_slugs: set[str],
    topic_slugs: set[str],
    section_ids: set[str],
    limits: FieldLimits,
    template_exists: TemplateLookup | None = None,
    strict: bool = True,
) -> list[FixtureError]:
    """Return every problem of ``cards`` ((file name, card) pairs), in order.

    ``bank_slugs``, ``topic_slugs`` and ``section_ids`` are what a card may refer to.
    ``strict=False`` relaxes two rules of the authored bank for instructors' imports: the Chinese
    text may not be Chinese yet (monolingual imports land as drafts to translate) and a card
    need not cite a source section nor carry tags. ``template_exists`` defaults to the compute
    engine's registry.
    """
    if template_exists is None:
        template_exists = default_template_lookup()
    errors: list[FixtureError] = []
    uuids: set[str] = set()
    slugs: set[str] = set()
    timer = ProbeTimer()
    for index, (name, card) in enumerate(cards):
        check = Checker(errors, name, _card_label(card, index), limits=limits)
        if not isinstance(card, Mapping):
            check.error("", "a card must be a mapping")
            continue
        problems = plain_data_problems(card, max_text=limits.text)
        for path, message in problems:
            check.error(path, message)
        if problems:
            continue  # the checks below assume values a database can hold
        _validate_card(
            card, check, bank_slugs, topic_slugs, section_ids, template_exists, strict, timer
        )
        card_uuid, slug = card.get("uuid"), card.get("slug")
        if isinstance(card_uuid, str):
            if card_uuid in uuids:
                check.error("uuid", "duplicate uuid")
            uuids.add(card_uuid)
        if isinstance(slug, str):
            if slug in slugs:
                check.error("slug", "duplicate slug")
            slugs.add(slug)
    return errors


def _validate_card(
    card: Mapping[str, Any],
    check: Checker,
    bank_slugs: set[str],
    topic_slugs: set[str],
    sections: set[str],
    template_exists: TemplateLookup | None,
    strict: bool,
    timer: ProbeTimer,
) -> None:
    limits = check.limits
    kind = card.get("kind")
    if not isinstance(kind, str) or kind not in CARD_KINDS:
        check.error("kind", f"must be one of {', '.join(CARD_KINDS)}")
        required: tuple[str, ...] = ()
        optional: tuple[str, ...] = ()
    else:
        required, optional = KIND_FIELDS[kind]
    check.keys(card, "", COMMON_REQUIRED + required, COMMON_OPTIONAL + optional)

    card_uuid = card.get("uuid")
    try:
        if not isinstance(card_uuid, str):
            raise ValueError
        if str(uuid.UUID(card_uuid)) != card_uuid:
            check.error("uuid", "write the UUID in lowercase hyphenated form")
    except ValueError:
        check.error("uuid", "is not a valid UUID")
    check.slug(
        card.get("slug"), "slug", pattern=SLUG_RE, max_length=limits.card_slug, what="kebab-case"
    )
    bank = card.get("bank")
    if not isinstance(bank, str) or bank not in bank_slugs:
        check.error("bank", f"unknown bank {show(bank)}")
    topic = card.get("topic")
    if not isinstance(topic, str) or topic not in topic_slugs:
        check.error("topic", f"unknown topic {show(topic)}")
    difficulty = card.get("difficulty")
    if not isinstance(difficulty, int) or isinstance(difficulty, bool) or not 1 <= difficulty <= 5:
        check.error("difficulty", "must be an integer from 1 to 5")
    check.string_list(
        card.get("tags"),
        "tags",
        pattern=SLUG_RE,
        non_empty=strict,
        max_items=limits.tags,
        max_length=limits.tag_slug,
    )
    citations = check.string_list(
        card.get("sources"),
        "sources",
        non_empty=strict,
        max_items=limits.sources,
        max_length=limits.source_code + 1 + limits.section_id,
    )
    for i, citation in enumerate(citations):
        if citation not in sections:
            check.error(f"sources[{i}]", f"cites {show(citation)}, which no sources/*.yaml lists")
    status = card.get("status")
    if not isinstance(status, str) or status not in STATUSES:
        check.error("status", f"must be one of {', '.join(STATUSES)}")
    # Titles and short key phrases may be pure formulas or names; questions and answers may not.
    check.text(card.get("question"), "question", zh_must_be_chinese=strict)
    check.text(card.get("answer"), "answer", zh_must_be_chinese=strict)
    if "erratum" in card:
        check.text(card.get("erratum"), "erratum")
    if "checks" in card:
        _validate_checks(card.get("checks"), check)

    if kind == "concept":
        _validate_key_points(card.get("key_points"), check)
    elif kind == "mcq":
        _validate_options(card.get("options"), check)
    elif kind == "numeric":
        check_numeric(card, check, template_exists, timer)


def _validate_key_points(points: Any, check: Checker) -> None:
    limits = check.limits
    if not isinstance(points, list) or not points:
        check.error("key_points", "must be a non-empty list")
        return
    if len(points) > limits.key_points:
        check.error("key_points", f"has {len(points)} points; the limit is {limits.key_points}")
        return
    for i, point in enumerate(points):
        where = f"key_points[{i}]"
        if not isinstance(point, Mapping):
            check.error(where, "must be a mapping with text and accept")
            continue
        check.keys(point, f"{where}.", ("text", "accept"))
        check.text(point.get("text"), f"{where}.text", max_length=check.limits.short_text)
        accept = point.get("accept")
        if not isinstance(accept, Mapping):
            check.error(f"{where}.accept", "must map 'zh' and 'en' to lists of phrasings")
            continue
        for lang in LANGUAGES:
            check.string_list(
                accept.get(lang),
                f"{where}.accept.{lang}",
                max_items=limits.phrasings,
                max_length=limits.phrase,
            )
        for key in accept:
            if key not in LANGUAGES:
                check.error(f"{where}.accept.{key}", "unknown language (use 'zh' and 'en')")


def _validate_options(options: Any, check: Checker) -> None:
    if not isinstance(options, list) or not 2 <= len(options) <= 6:
        check.error("options", "must be a list of 2 to 6 options")
        return
    correct = 0
    for i, option in enumerate(options):
        where = f"options[{i}]"
        if not isinstance(option, Mapping):
            check.error(where, "must be a mapping with text, correct and feedback")
            continue
        check.keys(option, f"{where}.", ("text", "correct", "feedback"))
        check.text(option.get("text"), f"{where}.text", max_length=check.limits.short_text)
        check.text(option.get("feedback"), f"{where}.feedback", max_length=check.limits.short_text)
        if not isinstance(option.get("correct"), bool):
            check.error(f"{where}.correct", "must be true or false")
        elif option["correct"]:
            correct += 1
    if correct == 0:
        check.error("options", "at least one option must be correct")


def _validate_checks(checks: Any, check: Checker) -> None:
    limits = check.limits
    if not isinstance(checks, list) or not checks:
        check.error("checks", "must be a non-empty list")
        return
    if len(checks) > limits.checks:
        check.error("checks", f"has {len(checks)} entries; the limit is {limits.checks}")
        return
    for i, item in enumerate(checks):
        where = f"checks[{i}]"
        if not isinstance(item, Mapping):
            check.error(where, "must be a mapping with fn, kwargs and expect")
            continue
        check.keys(item, f"{where}.", ("fn", "kwargs", "expect"), ("tol",))
        fn = item.get("fn")
        if not isinstance(fn, str) or not fn.startswith("compute.") or len(fn) > 200:
            check.error(
                f"{where}.fn", "must name a function in compute/, e.g. compute.conv.same_padding"
            )
        if not isinstance(item.get("kwargs"), Mapping):
            check.error(f"{where}.kwargs", "must be a mapping of keyword arguments")
        tol = item.get("tol")
        if tol is not None and (
            not isinstance(tol, int | float) or isinstance(tol, bool) or tol < 0
        ):
            check.error(f"{where}.tol", "must be a non-negative number")


def normalize_card(card: Mapping[str, Any]) -> dict[str, Any]:
    """Return a valid card in canonical form: sorted tags and sources, no empty optional fields.

    Two cards with the same canonical form teach the same thing; the loader uses it to skip
    unchanged cards and exporters produce it.
    """
    data = {key: value for key, value in card.items() if value not in (None, [], {})}
    data["tags"] = sorted(card.get("tags") or [])
    data["sources"] = sorted(card.get("sources") or [])
    erratum = data.get("erratum")
    if isinstance(erratum, Mapping) and not any(erratum.values()):
        del data["erratum"]
    return data
