"""Read and validate the question-bank fixtures in ``fixtures/`` without touching the database.

The format is described in ``fixtures/README.md``. ``read_bank`` parses every file and
``validate_bank_data`` returns *every* problem found (file, card, field, message), so an author
fixes a whole file in one pass. ``python -m knowledge.fixture_schema fixtures`` prints them.

This module imports no Django so that authors can run it before the project is set up.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CARD_KINDS",
    "BankData",
    "FixtureError",
    "normalize_card",
    "read_bank",
    "validate_bank_data",
    "validate_fixtures",
]

CARD_KINDS = ("concept", "mcq", "numeric")
STATUSES = ("draft", "published")
LANGUAGES = ("zh", "en")

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TOPIC_RE = re.compile(r"^[a-z0-9-]+(?:/[a-z0-9-]+)*$")
SECTION_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")
CJK_RE = re.compile(r"[\u4e00-\u9fff]")
# Characters that only occur in Traditional Chinese; a Simplified text should contain none of them.
TRADITIONAL_ONLY = set("們與為這個對學習網絡經數參時機會點據應實從變處幾樣麼層積應權優於將")

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
    "numeric": (("template",), ("constraints", "template_version")),
}


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
            for section in doc.get("sections") or []:
                if isinstance(section, Mapping):
                    ids.add(f"{doc.get('id')}:{section.get('id')}")
        return ids


def _load_yaml(path: Path, root: Path, errors: list[FixtureError]) -> Any:
    name = str(path.relative_to(root))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        errors.append(FixtureError(name, "", "", f"not UTF-8: {exc}"))
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        errors.append(FixtureError(name, "", "", f"invalid YAML: {exc}"))
        return None


def _as_list(data: Any, name: str, what: str, errors: list[FixtureError]) -> list[Any]:
    if data is None:
        return []
    if not isinstance(data, list):
        errors.append(FixtureError(name, "", "", f"must be a list of {what}"))
        return []
    return data


def read_bank(root: Path | str) -> BankData:
    """Parse every fixture file under ``root``; parse errors are collected, not raised."""
    root = Path(root)
    data = BankData(root=root)
    errors = data.errors
    if not root.is_dir():
        errors.append(FixtureError(str(root), "", "", "fixtures folder does not exist"))
        return data
    for filename, target, what in (
        ("banks.yaml", data.banks, "banks"),
        ("topics.yaml", data.topics, "topics"),
    ):
        path = root / filename
        if not path.exists():
            errors.append(FixtureError(filename, "", "", "file is missing"))
            continue
        for item in _as_list(_load_yaml(path, root, errors), filename, what, errors):
            target.append((filename, item))
    for path in sorted((root / "sources").glob("*.yaml")):
        doc = _load_yaml(path, root, errors)
        if doc is not None:
            data.sources.append((str(path.relative_to(root)), doc))
    for path in sorted((root / "cards").glob("*.yaml")):
        name = str(path.relative_to(root))
        for item in _as_list(_load_yaml(path, root, errors), name, "cards", errors):
            data.cards.append((name, item))
    return data


def _card_label(card: Any, index: int) -> str:
    if isinstance(card, Mapping):
        return str(card.get("slug") or card.get("uuid") or f"#{index}")
    return f"#{index}"


class _Checker:
    """Collect errors for one file/card while walking its fields."""

    def __init__(self, errors: list[FixtureError], file: str, card: str = "") -> None:
        self.errors = errors
        self.file = file
        self.card = card

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
                self.error(
                    f"{where}{key}", f"unknown field (allowed: {', '.join(sorted(allowed))})"
                )

    def text(self, value: Any, field_name: str, *, zh_must_be_chinese: bool = False) -> None:
        """Check a bilingual text mapping ``{zh: ..., en: ...}``."""
        if not isinstance(value, Mapping):
            self.error(field_name, "must be a mapping with 'zh' and 'en' texts")
            return
        for lang in LANGUAGES:
            item = value.get(lang)
            if not isinstance(item, str) or not item.strip():
                self.error(f"{field_name}.{lang}", "must be a non-empty string")
        for key in value:
            if key not in LANGUAGES:
                self.error(f"{field_name}.{key}", "unknown language (use 'zh' and 'en')")
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
    ) -> list[str]:
        if not isinstance(value, list) or (non_empty and not value):
            self.error(field_name, "must be a non-empty list" if non_empty else "must be a list")
            return []
        good: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.error(f"{field_name}[{i}]", "must be a non-empty string")
            elif pattern is not None and not pattern.match(item):
                self.error(f"{field_name}[{i}]", f"{item!r} does not match {pattern.pattern}")
            else:
                good.append(item)
        return good


TemplateLookup = Callable[[str], bool]


def _default_template_lookup() -> TemplateLookup | None:
    try:
        from compute.templates import registry
    except ImportError:
        return None
    known = {tpl.id for tpl in registry()}
    return known.__contains__


def validate_bank_data(
    data: BankData, *, template_exists: TemplateLookup | None = None, strict: bool = True
) -> list[FixtureError]:
    """Return every problem in ``data`` (parse errors included), in file order.

    ``strict=False`` relaxes two rules of the authored bank for instructors' imports: the Chinese
    text may not be Chinese yet (monolingual imports land as drafts to translate) and a card
    need not cite a source section nor carry tags.
    """
    errors = list(data.errors)

    bank_slugs: set[str] = set()
    for name, bank in data.banks:
        check = _Checker(errors, name, str(bank.get("slug")) if isinstance(bank, Mapping) else "")
        if not isinstance(bank, Mapping):
            check.error("", "a bank must be a mapping")
            continue
        check.keys(bank, "", ("slug", "title", "description"))
        slug = bank.get("slug")
        if not isinstance(slug, str) or not SLUG_RE.match(slug):
            check.error("slug", "must be kebab-case")
        elif slug in bank_slugs:
            check.error("slug", "duplicate bank slug")
        else:
            bank_slugs.add(slug)
        check.text(bank.get("title"), "title")
        check.text(bank.get("description"), "description")

    topic_slugs: set[str] = set()
    for name, topic in data.topics:
        check = _Checker(errors, name, str(topic.get("slug")) if isinstance(topic, Mapping) else "")
        if not isinstance(topic, Mapping):
            check.error("", "a topic must be a mapping")
            continue
        check.keys(topic, "", ("slug", "title"))
        slug = topic.get("slug")
        if not isinstance(slug, str) or not TOPIC_RE.match(slug):
            check.error("slug", "must be a path of kebab-case parts separated by '/'")
            continue
        if slug in topic_slugs:
            check.error("slug", "duplicate topic slug")
        parent = slug.rpartition("/")[0]
        if parent and parent not in topic_slugs:
            check.error("slug", f"parent topic {parent!r} must be listed before it")
        topic_slugs.add(slug)
        check.text(topic.get("title"), "title")

    doc_ids: set[str] = set()
    for name, doc in data.sources:
        check = _Checker(errors, name)
        if not isinstance(doc, Mapping):
            check.error("", "a source file must be a mapping")
            continue
        check.keys(doc, "", ("id", "file", "title", "sections"))
        doc_id = doc.get("id")
        if not isinstance(doc_id, str) or Path(name).stem != doc_id:
            check.error("id", f"must be a string equal to the file name ({Path(name).stem!r})")
        elif doc_id in doc_ids:
            check.error("id", "duplicate document id")
        else:
            doc_ids.add(doc_id)
        if not isinstance(doc.get("file"), str):
            check.error("file", "must be the seed file name")
        check.text(doc.get("title"), "title")
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
            elif sid in seen:
                check.error(f"{where}.id", f"duplicate section id {sid!r}")
            else:
                seen.add(sid)
            check.text(section.get("title"), f"{where}.title")

    sections = data.section_ids()
    if template_exists is None:
        template_exists = _default_template_lookup()
    uuids: set[str] = set()
    slugs: set[str] = set()
    for index, (name, card) in enumerate(data.cards):
        check = _Checker(errors, name, _card_label(card, index))
        if not isinstance(card, Mapping):
            check.error("", "a card must be a mapping")
            continue
        _validate_card(card, check, bank_slugs, topic_slugs, sections, template_exists, strict)
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
    check: _Checker,
    bank_slugs: set[str],
    topic_slugs: set[str],
    sections: set[str],
    template_exists: TemplateLookup | None,
    strict: bool = True,
) -> None:
    kind = card.get("kind")
    if kind not in CARD_KINDS:
        check.error("kind", f"must be one of {', '.join(CARD_KINDS)}")
        required: tuple[str, ...] = ()
        optional: tuple[str, ...] = ()
    else:
        required, optional = KIND_FIELDS[kind]
    check.keys(card, "", COMMON_REQUIRED + required, COMMON_OPTIONAL + optional)

    try:
        parsed = uuid.UUID(str(card.get("uuid")))
        if str(parsed) != card.get("uuid"):
            check.error("uuid", "write the UUID in lowercase hyphenated form")
    except ValueError:
        check.error("uuid", "is not a valid UUID")
    slug = card.get("slug")
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        check.error("slug", "must be kebab-case")
    if card.get("bank") not in bank_slugs:
        check.error("bank", f"unknown bank {card.get('bank')!r}")
    if card.get("topic") not in topic_slugs:
        check.error("topic", f"unknown topic {card.get('topic')!r}")
    difficulty = card.get("difficulty")
    if not isinstance(difficulty, int) or isinstance(difficulty, bool) or not 1 <= difficulty <= 5:
        check.error("difficulty", "must be an integer from 1 to 5")
    check.string_list(card.get("tags"), "tags", pattern=SLUG_RE, non_empty=strict)
    for i, citation in enumerate(
        check.string_list(card.get("sources"), "sources", non_empty=strict)
    ):
        if citation not in sections:
            check.error(f"sources[{i}]", f"cites {citation!r}, which no sources/*.yaml lists")
    if card.get("status") not in STATUSES:
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
        errors_before = len(check.errors)
        template = card.get("template")
        if not isinstance(template, str) or not template:
            check.error("template", "must be a template id such as 'conv.output_size'")
        elif template_exists is not None and not template_exists(template):
            check.error("template", f"unknown compute template {template!r}")
        version = card.get("template_version")
        if version is not None and (not isinstance(version, int) or version < 1):
            check.error("template_version", "must be a positive integer")
        constraints = card.get("constraints")
        if constraints is not None:
            if not isinstance(constraints, Mapping):
                check.error("constraints", "must map a parameter name to a list of values")
            else:
                for key, values in constraints.items():
                    if not isinstance(values, list) or not values:
                        check.error(f"constraints.{key}", "must be a non-empty list of values")
        if (
            template_exists is not None
            and isinstance(template, str)
            and len(check.errors) == errors_before
        ):
            problem = _variant_problem(template, version, constraints)
            if problem:
                check.error("constraints" if constraints else "template_version", problem)


def _variant_problem(template: str, version: Any, constraints: Any) -> str | None:
    """Draw one variant as a review would; return why it fails, or None.

    This catches constraints naming an unknown parameter or admitting no valid variant, and a
    template version that is not registered, before a learner meets them.
    """
    try:
        from compute.templates import generate
    except ImportError:
        return None
    try:
        generate(template, 0, version=version, constraints=constraints or None)
    except ValueError as exc:  # UnknownTemplate and InvalidConstraints are ValueErrors
        return f"the template cannot draw a variant: {exc}"
    return None


def _validate_key_points(points: Any, check: _Checker) -> None:
    if not isinstance(points, list) or not points:
        check.error("key_points", "must be a non-empty list")
        return
    for i, point in enumerate(points):
        where = f"key_points[{i}]"
        if not isinstance(point, Mapping):
            check.error(where, "must be a mapping with text and accept")
            continue
        check.keys(point, f"{where}.", ("text", "accept"))
        check.text(point.get("text"), f"{where}.text")
        accept = point.get("accept")
        if not isinstance(accept, Mapping):
            check.error(f"{where}.accept", "must map 'zh' and 'en' to lists of phrasings")
            continue
        for lang in LANGUAGES:
            check.string_list(accept.get(lang), f"{where}.accept.{lang}")
        for key in accept:
            if key not in LANGUAGES:
                check.error(f"{where}.accept.{key}", "unknown language (use 'zh' and 'en')")


def _validate_options(options: Any, check: _Checker) -> None:
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
        check.text(option.get("text"), f"{where}.text")
        check.text(option.get("feedback"), f"{where}.feedback")
        if not isinstance(option.get("correct"), bool):
            check.error(f"{where}.correct", "must be true or false")
        elif option["correct"]:
            correct += 1
    if correct == 0:
        check.error("options", "at least one option must be correct")


def _validate_checks(checks: Any, check: _Checker) -> None:
    if not isinstance(checks, list) or not checks:
        check.error("checks", "must be a non-empty list")
        return
    for i, item in enumerate(checks):
        where = f"checks[{i}]"
        if not isinstance(item, Mapping):
            check.error(where, "must be a mapping with fn, kwargs and expect")
            continue
        check.keys(item, f"{where}.", ("fn", "kwargs", "expect"), ("tol",))
        fn = item.get("fn")
        if not isinstance(fn, str) or not fn.startswith("compute."):
            check.error(
                f"{where}.fn", "must name a function in compute/, e.g. compute.conv.same_padding"
            )
        if not isinstance(item.get("kwargs"), Mapping):
            check.error(f"{where}.kwargs", "must be a mapping of keyword arguments")
        tol = item.get("tol")
        if tol is not None and (not isinstance(tol, int | float) or tol < 0):
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


def validate_fixtures(root: Path | str) -> tuple[BankData, list[FixtureError]]:
    """Read and validate the fixtures under ``root``."""
    data = read_bank(root)
    return data, validate_bank_data(data)


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path("fixtures")
    data, errors = validate_fixtures(root)
    for error in errors:
        print(error)
    kinds: dict[str, int] = {}
    for _name, card in data.cards:
        if isinstance(card, Mapping):
            kinds[str(card.get("kind"))] = kinds.get(str(card.get("kind")), 0) + 1
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    print(f"{len(data.cards)} cards ({summary}); {len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
