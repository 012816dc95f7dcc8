"""CSV import of concept and multiple-choice cards, the format quiz apps most often exchange.

One card a row, UTF-8, a header row with these columns (order free; ``uuid`` optional):

| column | content |
| --- | --- |
| uuid | a card's UUID to update it; empty for a new card |
| slug, kind, bank, topic, difficulty, status | as in the fixtures; kind is ``concept`` or ``mcq``; status defaults to ``draft`` |
| tags, sources | separated by ``;`` (e.g. ``cnn;padding`` and ``000:2.2;001:3.7``) |
| question_zh, question_en, answer_zh, answer_en | Markdown with LaTeX |
| erratum_zh, erratum_en | optional |
| key_points_zh, key_points_en | concept: points separated by ``||``; within a point, phrasings separated by ``|``, the first being the point's text, all accepted |
| options_zh, options_en | mcq: options separated by ``||``; a correct one starts with ``*``; feedback follows ``::`` |
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from knowledge.fixture_schema import FixtureError

from .uploads import MAX_UPLOAD_CARDS

__all__ = ["CSV_COLUMNS", "csv_to_items"]

CSV_COLUMNS = (
    "uuid",
    "slug",
    "kind",
    "bank",
    "topic",
    "difficulty",
    "status",
    "tags",
    "sources",
    "question_zh",
    "question_en",
    "answer_zh",
    "answer_en",
    "erratum_zh",
    "erratum_en",
    "key_points_zh",
    "key_points_en",
    "options_zh",
    "options_en",
)
REQUIRED = ("slug", "kind", "bank", "topic", "question_zh", "question_en", "answer_zh", "answer_en")


def _split(value: str, sep: str) -> list[str]:
    return [part.strip() for part in value.split(sep) if part.strip()]


def _key_points(zh: str, en: str) -> list[dict[str, Any]] | str:
    points_zh, points_en = _split(zh, "||"), _split(en, "||")
    if not points_zh or len(points_zh) != len(points_en):
        return f"need the same number of key points in zh and en (got {len(points_zh)} and {len(points_en)})"
    points = []
    for point_zh, point_en in zip(points_zh, points_en, strict=True):
        phrases_zh, phrases_en = _split(point_zh, "|"), _split(point_en, "|")
        points.append(
            {
                "text": {"zh": phrases_zh[0], "en": phrases_en[0]},
                "accept": {"zh": phrases_zh, "en": phrases_en},
            }
        )
    return points


def _options(zh: str, en: str) -> list[dict[str, Any]] | str:
    options_zh, options_en = _split(zh, "||"), _split(en, "||")
    if not options_zh or len(options_zh) != len(options_en):
        return f"need the same number of options in zh and en (got {len(options_zh)} and {len(options_en)})"
    options = []
    for option_zh, option_en in zip(options_zh, options_en, strict=True):
        correct_zh, correct_en = option_zh.startswith("*"), option_en.startswith("*")
        if correct_zh != correct_en:
            return "an option is marked correct (*) in one language only"
        text_zh, _, feedback_zh = option_zh.lstrip("*").partition("::")
        text_en, _, feedback_en = option_en.lstrip("*").partition("::")
        options.append(
            {
                "text": {"zh": text_zh.strip(), "en": text_en.strip()},
                "correct": correct_en,
                "feedback": {
                    "zh": feedback_zh.strip() or ("正确。" if correct_zh else "不正确。"),
                    "en": feedback_en.strip() or ("Correct." if correct_en else "Not correct."),
                },
            }
        )
    return options


def csv_to_items(text: str, *, name: str) -> tuple[list[dict[str, Any]], list[FixtureError]]:
    """Turn CSV text into cards in fixture form, with every row's problems."""
    errors: list[FixtureError] = []
    items: list[dict[str, Any]] = []
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        missing = [column for column in REQUIRED if column not in header]
        unknown = [column for column in header if column not in CSV_COLUMNS]
        if missing:
            errors.append(
                FixtureError(name, "", "header", f"missing column(s): {', '.join(missing)}")
            )
        if unknown:
            errors.append(
                FixtureError(name, "", "header", f"unknown column(s): {', '.join(unknown)}")
            )
        if errors:
            return [], errors
        for number, row in enumerate(reader, start=2):
            if number - 1 > MAX_UPLOAD_CARDS:
                errors.append(FixtureError(name, "", "", f"more than {MAX_UPLOAD_CARDS:,} rows"))
                break
            label = f"row {number}"
            if None in row:
                errors.append(FixtureError(name, label, "", "has more cells than the header"))
                continue
            row = {key: (value or "").strip() for key, value in row.items()}
            try:
                difficulty: Any = int(row.get("difficulty") or 2)
            except ValueError:
                errors.append(
                    FixtureError(name, label, "difficulty", "must be a whole number from 1 to 5")
                )
                difficulty = 2
            item: dict[str, Any] = {
                "uuid": row.get("uuid")
                or str(uuid.uuid5(uuid.NAMESPACE_URL, f"csv:{row['bank']}:{row['slug']}")),
                "slug": row["slug"],
                "kind": row["kind"],
                "bank": row["bank"],
                "topic": row["topic"],
                "difficulty": difficulty,
                "tags": _split(row.get("tags", ""), ";") or ["imported"],
                "sources": _split(row.get("sources", ""), ";"),
                "status": row.get("status") or "draft",
                "question": {"zh": row["question_zh"], "en": row["question_en"]},
                "answer": {"zh": row["answer_zh"], "en": row["answer_en"]},
            }
            if row.get("erratum_zh") or row.get("erratum_en"):
                item["erratum"] = {"zh": row.get("erratum_zh", ""), "en": row.get("erratum_en", "")}
            if row["kind"] == "concept":
                points = _key_points(row.get("key_points_zh", ""), row.get("key_points_en", ""))
                if isinstance(points, str):
                    errors.append(FixtureError(name, label, "key_points", points))
                else:
                    item["key_points"] = points
            elif row["kind"] == "mcq":
                options = _options(row.get("options_zh", ""), row.get("options_en", ""))
                if isinstance(options, str):
                    errors.append(FixtureError(name, label, "options", options))
                else:
                    item["options"] = options
            else:
                errors.append(
                    FixtureError(name, label, "kind", "CSV holds concept and mcq cards only")
                )
            items.append(item)
    except csv.Error as exc:
        errors.append(FixtureError(name, "", "", f"malformed CSV: {exc}"))
    return items, errors
