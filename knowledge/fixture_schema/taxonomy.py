"""Validate the shared taxonomy of the fixtures: banks, topics and source documents."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .checking import SECTION_ID_RE, SLUG_RE, TOPIC_RE, Checker, FixtureError, label
from .limits import FieldLimits

__all__ = ["validate_banks", "validate_sources", "validate_topics"]


def _label(item: Any, key: str) -> str:
    return label(item.get(key)) if isinstance(item, Mapping) else ""


def validate_banks(
    banks: list[tuple[str, Any]], errors: list[FixtureError], limits: FieldLimits
) -> set[str]:
    """Append the problems of ``banks`` to ``errors``; return the good bank slugs."""
    slugs: set[str] = set()
    for name, bank in banks:
        check = Checker(errors, name, _label(bank, "slug"), limits=limits)
        if not isinstance(bank, Mapping):
            check.error("", "a bank must be a mapping")
            continue
        check.keys(bank, "", ("slug", "title", "description"))
        slug = check.slug(
            bank.get("slug"),
            "slug",
            pattern=SLUG_RE,
            max_length=limits.bank_slug,
            what="kebab-case",
        )
        if slug is not None:
            if slug in slugs:
                check.error("slug", "duplicate bank slug")
            slugs.add(slug)
        check.text(bank.get("title"), "title", max_length=limits.title)
        check.text(bank.get("description"), "description")
    return slugs


def validate_topics(
    topics: list[tuple[str, Any]], errors: list[FixtureError], limits: FieldLimits
) -> set[str]:
    """Append the problems of ``topics`` to ``errors``; return the good topic slugs."""
    slugs: set[str] = set()
    for name, topic in topics:
        check = Checker(errors, name, _label(topic, "slug"), limits=limits)
        if not isinstance(topic, Mapping):
            check.error("", "a topic must be a mapping")
            continue
        check.keys(topic, "", ("slug", "title"))
        slug = check.slug(
            topic.get("slug"),
            "slug",
            pattern=TOPIC_RE,
            max_length=limits.topic_slug,
            what="a path of kebab-case parts separated by '/'",
        )
        if slug is None:
            continue
        if slug in slugs:
            check.error("slug", "duplicate topic slug")
        parent = slug.rpartition("/")[0]
        if parent and parent not in slugs:
            check.error("slug", f"parent topic {parent!r} must be listed before it")
        slugs.add(slug)
        check.text(topic.get("title"), "title", max_length=limits.title)
    return slugs


# A document without ``kind`` is a seed note; the others are references beyond the seeds.
SOURCE_KINDS = ("seed", "paper", "implementation")
URL_RE = re.compile(r"^https?://[^\s]+$")
YEARS = range(1900, 2101)


def _check_reference(doc: Mapping[str, Any], check: Checker, limits: FieldLimits) -> None:
    """Check the fields that identify a paper or a reference implementation."""
    authors = doc.get("authors")
    if not isinstance(authors, str) or not authors.strip() or len(authors) > limits.authors:
        check.error("authors", f"must be the authors' names (at most {limits.authors} characters)")
    year = doc.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or year not in YEARS:
        check.error("year", "must be the year of publication or release, such as 2015")
    url = doc.get("url")
    if not isinstance(url, str) or len(url) > limits.url or not URL_RE.match(url):
        check.error("url", f"must be an http(s) address of at most {limits.url} characters")


def validate_sources(
    sources: list[tuple[str, Any]], errors: list[FixtureError], limits: FieldLimits
) -> None:
    """Append the problems of the source documents to ``errors``."""
    doc_ids: set[str] = set()
    for name, doc in sources:
        check = Checker(errors, name, limits=limits)
        if not isinstance(doc, Mapping):
            check.error("", "a source file must be a mapping")
            continue
        kind = doc.get("kind", "seed")
        if kind not in SOURCE_KINDS:
            check.error("kind", f"must be one of {', '.join(SOURCE_KINDS)}")
            continue
        if kind == "seed":
            check.keys(doc, "", ("id", "file", "title", "sections"), ("kind",))
        else:
            check.keys(doc, "", ("id", "kind", "title", "authors", "year", "url", "sections"))
        doc_id = doc.get("id")
        if not isinstance(doc_id, str) or Path(name).stem != doc_id:
            check.error("id", f"must be a string equal to the file name ({Path(name).stem!r})")
        elif len(doc_id) > limits.source_code:
            check.error("id", f"is longer than {limits.source_code} characters")
        elif doc_id in doc_ids:
            check.error("id", "duplicate document id")
        else:
            doc_ids.add(doc_id)
        if kind == "seed":
            file_name = doc.get("file")
            if (
                not isinstance(file_name, str)
                or not file_name
                or len(file_name) > limits.source_file
            ):
                check.error(
                    "file", f"must be the seed file name (at most {limits.source_file} characters)"
                )
        else:
            _check_reference(doc, check, limits)
        check.text(doc.get("title"), "title", max_length=limits.section_title)
        sections = doc.get("sections")
        if not isinstance(sections, list) or not sections:
            check.error("sections", "must be a non-empty list")
            continue
        seen: set[str] = set()
        for i, section in enumerate(sections):
            where = f"sections[{i}]"
            if not isinstance(section, Mapping):
                check.error(where, "must be a mapping with id and title")
                continue
            check.keys(section, f"{where}.", ("id", "title"))
            sid = section.get("id")
            if not isinstance(sid, str) or not SECTION_ID_RE.match(sid):
                check.error(
                    f"{where}.id", "must be a string such as '2.1' or 'mobilenet' (quote numbers)"
                )
            elif len(sid) > limits.section_id:
                check.error(f"{where}.id", f"is longer than {limits.section_id} characters")
            elif sid in seen:
                check.error(f"{where}.id", f"duplicate section id {sid!r}")
            else:
                seen.add(sid)
            check.text(section.get("title"), f"{where}.title", max_length=limits.section_title)
