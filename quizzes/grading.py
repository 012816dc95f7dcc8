"""Grading rules of the three card kinds and the mapping from a grade to an FSRS rating.

Pure code over a card version's stored content (``CardVersion.content``) and the learner's
response; no models, no clock. Numeric cards are graded by :func:`compute.templates.grade`
against the stored variant key; this module maps that grade to a rating.

Ratings from a correct answer depend on the time taken, relative to the card's expected time
(:func:`expected_ms`): at most half of it is Easy, more than twice it is Hard, Good between.
A wrong answer is Again. MCQ and typed concept answers score in [0, 1]: 1 is rated by time as
a correct answer, at least 0.5 is Hard, below 0.5 is Again.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .scheduling import Rating

__all__ = [
    "EASY_FRACTION",
    "HARD_FACTOR",
    "ConceptGrade",
    "McqGrade",
    "concept_grade",
    "expected_ms",
    "mcq_correct_positions",
    "mcq_grade",
    "normalize_text",
    "rating_for_correct",
    "rating_from_score",
]

# Expected answer time: 20 s plus 20 s per difficulty level (1-5), i.e. 40 s to 2 min. A card's
# difficulty is the author's estimate of the work; numeric cards compute, so they get the same
# scale (a per-template table can refine this once review times are measured).
EXPECTED_BASE_MS = 20_000
EXPECTED_PER_DIFFICULTY_MS = 20_000
EASY_FRACTION = 0.5  # at most half the expected time: Easy
HARD_FACTOR = 2.0  # more than twice the expected time: Hard
PARTIAL_HARD = 0.5  # a score from this up to (not incl.) 1: Hard


def expected_ms(*, difficulty: int) -> int:
    """Return the time a learner is expected to need for a card of this difficulty (1-5)."""
    level = min(max(int(difficulty), 1), 5)
    return EXPECTED_BASE_MS + EXPECTED_PER_DIFFICULTY_MS * level


def rating_for_correct(*, duration_ms: int, expected: int) -> Rating:
    """Return the rating of a correct answer given in ``duration_ms`` (Easy, Good or Hard)."""
    if duration_ms <= expected * EASY_FRACTION:
        return Rating.Easy
    if duration_ms > expected * HARD_FACTOR:
        return Rating.Hard
    return Rating.Good


def rating_from_score(*, score: float, duration_ms: int, expected: int) -> Rating:
    """Return the rating of a scored answer: full marks by time, partial Hard, low Again."""
    if score >= 1.0:
        return rating_for_correct(duration_ms=duration_ms, expected=expected)
    if score >= PARTIAL_HARD:
        return Rating.Hard
    return Rating.Again


def _bilingual(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {"zh": str(value.get("zh", "")), "en": str(value.get("en", ""))}
    return {"zh": "", "en": ""}


@dataclass(frozen=True)
class McqGrade:
    score: float
    options: list[dict[str, Any]]  # every option: text, chosen, correct, feedback

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "options": self.options}


def mcq_correct_positions(content: Mapping[str, Any]) -> set[int]:
    """Return the positions (0-based) of the correct options of an MCQ card version."""
    return {i for i, option in enumerate(content.get("options", [])) if option.get("correct")}


def mcq_grade(*, content: Mapping[str, Any], choices: Sequence[int]) -> McqGrade:
    """Grade the chosen option positions against an MCQ card version's options.

    One correct option: full marks for choosing it alone, else 0. Several (multi-select): one
    point per correct option chosen minus one per wrong option chosen, over the number of
    correct options, never below 0. Every option comes back with its feedback, so the learner
    sees why each choice was right or wrong.
    """
    options = list(content.get("options", []))
    correct = mcq_correct_positions(content)
    chosen = set(choices)
    if len(correct) <= 1:
        score = 1.0 if chosen == correct and correct else 0.0
    else:
        hits = len(chosen & correct)
        false_picks = len(chosen - correct)
        score = max(0.0, (hits - false_picks) / len(correct))
    report = [
        {
            "position": i,
            "text": _bilingual(option.get("text")),
            "chosen": i in chosen,
            "correct": bool(option.get("correct")),
            "feedback": _bilingual(option.get("feedback")),
        }
        for i, option in enumerate(options)
    ]
    return McqGrade(score=score, options=report)


_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Return ``text`` folded for matching: NFKC (full-width to half-width), case-folded, spaces
    collapsed. Both the answer and the accepted phrasings go through it.
    """
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


@dataclass(frozen=True)
class ConceptGrade:
    score: float
    covered: list[dict[str, str]]
    missing: list[dict[str, str]]
    suggested_rating: Rating

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "covered": self.covered,
            "missing": self.missing,
            "suggested_rating": int(self.suggested_rating),
        }


def concept_grade(
    *, content: Mapping[str, Any], text: str, duration_ms: int, expected: int
) -> ConceptGrade:
    """Grade a typed answer against a concept card version's key points, in either language.

    A key point is covered when the answer contains any of its accepted phrasings (Chinese or
    English, case- and width-insensitive); a point without phrasings is matched by its own text.
    Return the covered and missing points (bilingual texts) and the rating the score suggests.
    """
    answer = normalize_text(text)
    covered: list[dict[str, str]] = []
    missing: list[dict[str, str]] = []
    points = list(content.get("key_points", []))
    for point in points:
        point_text = _bilingual(point.get("text"))
        accept = point.get("accept") or {}
        phrasings = [*accept.get("zh", []), *accept.get("en", [])] or list(point_text.values())
        needles = [normalize_text(str(p)) for p in phrasings]
        if any(needle and needle in answer for needle in needles):
            covered.append(point_text)
        else:
            missing.append(point_text)
    score = len(covered) / len(points) if points else 0.0
    suggested = rating_from_score(score=score, duration_ms=duration_ms, expected=expected)
    return ConceptGrade(score=score, covered=covered, missing=missing, suggested_rating=suggested)
