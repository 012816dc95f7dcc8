"""The vocabulary of the validator: errors, the data read from a folder, and field checks."""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .limits import FieldLimits

__all__ = [
    "CARD_KINDS",
    "LANGUAGES",
    "SLUG_RE",
    "STATUSES",
    "BankData",
    "Checker",
    "FixtureError",
    "label",
    "plain_data_problems",
    "show",
]

CARD_KINDS = ("concept", "mcq", "numeric")
STATUSES = ("draft", "published", "archived")
LANGUAGES = ("zh", "en")

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TOPIC_RE = re.compile(r"^[a-z0-9-]+(?:/[a-z0-9-]+)*$")
SECTION_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")
CJK_RE = re.compile(r"[\u4e00-\u9fff]")
# Characters that only occur in Traditional Chinese; a Simplified text should contain none of them.
TRADITIONAL_ONLY = set("們與為這個對學習網絡經數參時機會點據應實從變處幾樣麼層積應權優於將")

# JSON numbers beyond 2**53 lose precision in browsers and in SQLite's JSON functions.
_MAX_JSON_INT = 2**53
# Surrogate code points cannot be encoded as UTF-8, so neither database can store them; PostgreSQL
# refuses NUL in text and in jsonb.
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")

_SHORT = reprlib.Repr()
_SHORT.maxstring = 60
_SHORT.maxother = 60
_SHORT.maxlevel = 2
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 4


def show(value: Any) -> str:
    """Return a short ``repr`` of an uploaded value for a message (never the whole of a big one)."""
    return _SHORT.repr(value)


def label(value: Any) -> str:
    """Return how a card or item is named in messages: its slug if short text, else a short repr."""
    if isinstance(value, str) and len(value) <= 80:
        return value
    return show(value)


@dataclass(frozen=True)
class FixtureError:
    """One problem in one place of the fixtures."""

    file: str
    card: str
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.card:
            where += f" [{self.card}]"
        if self.field:
            where += f" {self.field}"
        return f"{where}: {self.message}"


@dataclass
class BankData:
    """Everything read from a fixtures folder, each item with the file it came from."""

    root: Path
    banks: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    topics: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sources: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    cards: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    errors: list[FixtureError] = field(default_factory=list)

    def section_ids(self) -> set[str]:
        """Return every citable ``"<document>:<section>"`` id."""
        ids: set[str] = set()
        for _file, doc in self.sources:
            if not isinstance(doc, Mapping):
                continue
            for section in doc.get("sections") or []:
                if isinstance(section, Mapping):
                    ids.add(f"{doc.get('id')}:{section.get('id')}")
        return ids


def plain_data_problems(value: Any, *, max_text: int, limit: int = 5) -> list[tuple[str, str]]:
    """Return (path, message) for values neither database can store as JSON or text.

    YAML can express timestamps, sets, binary data, non-string keys, NaN and infinities, and
    escapes for NUL and lone surrogates; none of these belongs in a card. At most ``limit``
    problems are returned: they usually repeat.
    """
    problems: list[tuple[str, str]] = []
    stack: list[tuple[str, Any]] = [("", value)]
    while stack and len(problems) < limit:
        path, item = stack.pop()
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, str):
            if len(item) > max_text:
                problems.append(
                    (path, f"is {len(item):,} characters long; the limit is {max_text:,}")
                )
            elif _UNSTORABLE_RE.search(item):
                problems.append((path, "contains a NUL character or a lone surrogate"))
        elif isinstance(item, int):
            if abs(item) > _MAX_JSON_INT:
                problems.append((path, f"the number {show(item)} is too large"))
        elif isinstance(item, float):
            if not math.isfinite(item):
                problems.append((path, f"must be a finite number, not {item}"))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(item))))
        elif isinstance(item, dict):
            for key in reversed(list(item)):
                if not isinstance(key, str):
                    problems.append((path, f"has a key {show(key)} that is not a string"))
                    continue
                stack.append((f"{path}.{key}" if path else key, item[key]))
        else:
            kind = type(item).__name__
            problems.append((path, f"is a {kind} ({show(item)}); use text, numbers and lists"))
    return problems


class Checker:
    """Collect errors for one file/card while walking its fields."""

    def __init__(
        self, errors: list[FixtureError], file: str, card: str = "", *, limits: FieldLimits
    ) -> None:
        self.errors = errors
        self.file = file
        self.card = card
        self.limits = limits

    def error(self, field_name: str, message: str) -> None:
        self.errors.append(FixtureError(self.file, self.card, field_name, message))

    def keys(
        self,
        obj: Mapping[str, Any],
        where: str,
        required: Iterable[str],
        optional: Iterable[str] = (),
    ) -> None:
        required = tuple(required)
        allowed = set(required) | set(optional)
        for key in required:
            if key not in obj:
                self.error(f"{where}{key}", "is required")
        for key in obj:
            if key not in allowed:
                name = key if isinstance(key, str) and len(key) <= 60 else show(key)
                self.error(
                    f"{where}{name}", f"unknown field (allowed: {', '.join(sorted(allowed))})"
                )

    def slug(
        self, value: Any, field_name: str, *, pattern: re.Pattern[str], max_length: int, what: str
    ) -> str | None:
        """Check a slug-like string against ``pattern`` and the column size; return it if good."""
        if not isinstance(value, str) or not pattern.match(value):
            self.error(field_name, f"must be {what}, not {show(value)}")
            return None
        if len(value) > max_length:
            self.error(field_name, f"is {len(value)} characters long; the limit is {max_length}")
            return None
        return value

    def text(
        self,
        value: Any,
        field_name: str,
        *,
        zh_must_be_chinese: bool = False,
        max_length: int | None = None,
    ) -> None:
        """Check a bilingual text mapping ``{zh: ..., en: ...}``."""
        if not isinstance(value, Mapping):
            self.error(field_name, "must be a mapping with 'zh' and 'en' texts")
            return
        limit = self.limits.text if max_length is None else max_length
        for lang in LANGUAGES:
            item = value.get(lang)
            if not isinstance(item, str) or not item.strip():
                self.error(f"{field_name}.{lang}", "must be a non-empty string")
            elif len(item) > limit:
                self.error(
                    f"{field_name}.{lang}",
                    f"is {len(item):,} characters long; the limit is {limit:,}",
                )
        for key in value:
            if key not in LANGUAGES:
                self.error(f"{field_name}.{show(key)}", "unknown language (use 'zh' and 'en')")
        zh = value.get("zh")
        if isinstance(zh, str):
            if zh_must_be_chinese and not CJK_RE.search(zh):
                self.error(f"{field_name}.zh", "contains no Chinese characters")
            traditional = sorted({ch for ch in zh if ch in TRADITIONAL_ONLY})
            if traditional:
                self.error(
                    f"{field_name}.zh",
                    f"uses Traditional characters {''.join(traditional)}: write Simplified Chinese",
                )

    def string_list(
        self,
        value: Any,
        field_name: str,
        *,
        pattern: re.Pattern[str] | None = None,
        non_empty: bool = True,
        max_items: int,
        max_length: int,
    ) -> list[str]:
        """Check a list of strings; return the good ones."""
        if not isinstance(value, list) or (non_empty and not value):
            self.error(field_name, "must be a non-empty list" if non_empty else "must be a list")
            return []
        if len(value) > max_items:
            self.error(field_name, f"has {len(value)} entries; the limit is {max_items}")
            return []
        good: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.error(f"{field_name}[{i}]", f"must be a non-empty string, not {show(item)}")
            elif len(item) > max_length:
                self.error(
                    f"{field_name}[{i}]",
                    f"is {len(item):,} characters long; the limit is {max_length:,}",
                )
            elif pattern is not None and not pattern.match(item):
                self.error(f"{field_name}[{i}]", f"{show(item)} does not match {pattern.pattern}")
            else:
                good.append(item)
        return good
