"""Moodle XML: export a bank to Moodle, and bring an existing Moodle bank across.

Export: concept cards become ``essay`` questions (the model answer as grader information) and,
when they have key points, also ``shortanswer`` questions accepting every phrasing; multiple
choice becomes ``multichoice``; a numeric card becomes a fixed set of ``numerical`` questions,
one per seed, with the template's tolerance (tuple and set answers, which Moodle's numerical type
cannot hold, become ``shortanswer`` with the exact answer). Both languages travel in one text
with Moodle's multi-language spans (``<span lang="en" class="multilang">``).

Import: ``multichoice``, ``truefalse``, ``shortanswer``, ``essay`` and ``numerical`` questions.
Moodle questions are monolingual, so the text goes into both languages and the cards land as
drafts for the instructor to translate. XML is parsed with defusedxml: DTDs, entity declarations
and external references are refused.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable
from typing import Any
from xml.etree import ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from knowledge.fixture_schema import FixtureError
from knowledge.fixture_schema.checking import show
from knowledge.models import Card
from knowledge.rendering import render_markdown

from .uploads import MAX_UPLOAD_CARDS
from .variants import numeric_variants

__all__ = ["MOODLE_VARIANTS", "cards_to_moodle_xml", "moodle_xml_to_items"]

MOODLE_VARIANTS = 5


# Characters XML 1.0 cannot hold at all (even escaped); a text containing them would make the
# whole export unreadable, so they are dropped.
_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(value: str) -> str:
    """Return ``value`` with the characters XML cannot hold removed (ElementTree escapes the rest)."""
    return _NOT_XML_RE.sub("", value)


def _multilang(card_or_obj: Any, prefix: str) -> str:
    parts = []
    for lang in ("en", "zh"):
        html = render_markdown(getattr(card_or_obj, f"{prefix}_{lang}"))
        moodle_lang = "zh_cn" if lang == "zh" else "en"
        parts.append(f'<span lang="{moodle_lang}" class="multilang">{html}</span>')
    return "".join(parts)


def _text(parent: ET.Element, tag: str, value: str, *, html: bool = True) -> ET.Element:
    element = ET.SubElement(parent, tag, {"format": "html"} if html else {})
    ET.SubElement(element, "text").text = _xml(value)
    return element


def _question(
    quiz: ET.Element, qtype: str, name: str, text_html: str, general_feedback: str
) -> ET.Element:
    question = ET.SubElement(quiz, "question", {"type": qtype})
    name_el = ET.SubElement(question, "name")
    ET.SubElement(name_el, "text").text = _xml(name)
    _text(question, "questiontext", text_html)
    _text(question, "generalfeedback", general_feedback)
    ET.SubElement(question, "defaultgrade").text = "1"
    ET.SubElement(question, "idnumber").text = _xml(name)
    return question


def _answer(
    question: ET.Element, fraction: float, text: str, feedback: str = "", *, html: bool = False
) -> ET.Element:
    answer = ET.SubElement(
        question,
        "answer",
        # A typed answer is plain text: Moodle escapes it wherever it shows it.
        {"fraction": f"{fraction:g}", "format": "html" if html else "plain_text"},
    )
    ET.SubElement(answer, "text").text = _xml(text)
    _text(answer, "feedback", feedback)
    return answer


def cards_to_moodle_xml(cards: Iterable[Card]) -> bytes:
    """Return the cards as a Moodle XML ``<quiz>`` document (UTF-8)."""
    quiz = ET.Element("quiz")
    for card in cards:
        category = ET.SubElement(quiz, "question", {"type": "category"})
        ET.SubElement(ET.SubElement(category, "category"), "text").text = _xml(
            f"$course$/{card.bank.slug}/{card.topic.slug}"
        )
        answer_html = _multilang(card, "answer")
        if card.kind == Card.Kind.CONCEPT:
            essay = _question(quiz, "essay", card.slug, _multilang(card, "question"), answer_html)
            _text(essay, "graderinfo", answer_html)
            ET.SubElement(essay, "responseformat").text = "editor"
            points = list(card.key_points.all())
            if points:
                short = _question(
                    quiz,
                    "shortanswer",
                    f"{card.slug}-keywords",
                    _multilang(card, "question"),
                    answer_html,
                )
                ET.SubElement(short, "usecase").text = "0"
                share = 100.0 / len(points)
                for point in points:
                    for phrase in [*point.accept_en, *point.accept_zh]:
                        _answer(short, share, f"*{phrase}*", render_markdown(point.text_en))
        elif card.kind == Card.Kind.MCQ:
            options = list(card.options.all())
            correct = [option for option in options if option.correct]
            question = _question(
                quiz, "multichoice", card.slug, _multilang(card, "question"), answer_html
            )
            ET.SubElement(question, "single").text = "true" if len(correct) == 1 else "false"
            ET.SubElement(question, "shuffleanswers").text = "true"
            ET.SubElement(question, "answernumbering").text = "abc"
            wrong_fraction = (
                0.0 if len(correct) == 1 else -100.0 / max(1, len(options) - len(correct))
            )
            for option in options:
                fraction = 100.0 / len(correct) if option.correct else wrong_fraction
                _answer(
                    question,
                    round(fraction, 5),
                    _multilang(option, "text"),
                    _multilang(option, "feedback"),
                    html=True,
                )
        else:
            for variant in numeric_variants(card, range(1, MOODLE_VARIANTS + 1)):
                text = (
                    f'<span lang="en" class="multilang">{variant["prompt_html"]["en"]}</span>'
                    f'<span lang="zh_cn" class="multilang">{variant["prompt_html"]["zh"]}</span>'
                )
                solution = (
                    f'<span lang="en" class="multilang">{variant["solution_html"]["en"]}</span>'
                    f'<span lang="zh_cn" class="multilang">{variant["solution_html"]["zh"]}</span>'
                )
                name = f"{card.slug}-seed-{variant['seed']}"
                if variant["scalar"] is not None:
                    question = _question(quiz, "numerical", name, text, solution)
                    answer = _answer(question, 100, repr(variant["scalar"]))
                    ET.SubElement(answer, "tolerance").text = repr(variant["tolerance"])
                else:
                    question = _question(quiz, "shortanswer", name, text, solution)
                    _answer(question, 100, variant["answer_text"])
    ET.indent(quiz)
    body: bytes = ET.tostring(quiz, encoding="utf-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def _plain(element: ET.Element | None) -> str:
    """Return the text of a Moodle ``<...><text>`` element, HTML tags removed."""
    if element is None:
        return ""
    node = element.find("text")
    raw = (node.text if node is not None else element.text) or ""
    without_tags = re.sub(r"<[^>]+>", " ", raw)
    return re.sub(r"\s+", " ", without_tags).strip()


class _BadQuestion(ValueError):
    """A question that cannot become a card; ``field`` and the message say why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _fraction(answer: ET.Element) -> float:
    """Return an answer's grade in percent (Moodle's ``fraction``; 0 when absent)."""
    raw = answer.get("fraction", "0").strip() or "0"
    try:
        value = float(raw)
    except ValueError:
        raise _BadQuestion("fraction", f"{show(raw)} is not a number") from None
    if not math.isfinite(value) or not -100 <= value <= 100:
        raise _BadQuestion("fraction", f"{show(raw)} is not a percentage from -100 to 100")
    return value


def _answer_text(answer: ET.Element) -> str:
    return (answer.findtext("text") or "").strip()


def _choice_item(answers: list[ET.Element], feedback: str) -> dict[str, Any]:
    options: list[dict[str, Any]] = []
    for answer in answers:
        correct = _fraction(answer) > 0
        option_text = _plain(answer) or _answer_text(answer)
        option_feedback = _plain(answer.find("feedback")) or (
            "Correct." if correct else "Not correct."
        )
        options.append(
            {
                "text": {"zh": option_text, "en": option_text},
                "correct": correct,
                "feedback": {"zh": option_feedback, "en": option_feedback},
            }
        )
    chosen = [o["text"]["en"] for o in options if o["correct"]]
    explanation = feedback or "Correct: " + "; ".join(chosen)
    return {
        "kind": "mcq",
        "options": options,
        "answer": {"zh": explanation, "en": explanation},
    }


def _short_answer_item(answers: list[ET.Element], feedback: str) -> dict[str, Any]:
    accepted = [_answer_text(answer).strip("*") for answer in answers if _fraction(answer) > 0]
    accepted = [phrase for phrase in accepted if phrase]
    explanation = feedback or "; ".join(accepted)
    points = (
        [
            {
                "text": {"zh": accepted[0], "en": accepted[0]},
                "accept": {"zh": accepted, "en": accepted},
            }
        ]
        if accepted
        else []
    )
    return {
        "kind": "concept",
        "answer": {"zh": explanation, "en": explanation},
        "key_points": points,
    }


def _essay_item(question: ET.Element, feedback: str) -> dict[str, Any]:
    model = _plain(question.find("graderinfo")) or feedback
    points = (
        [
            {
                "text": {"zh": model[:200], "en": model[:200]},
                "accept": {"zh": [model[:80]], "en": [model[:80]]},
            }
        ]
        if model
        else []
    )
    return {"kind": "concept", "answer": {"zh": model, "en": model}, "key_points": points}


def _numerical_item(answers: list[ET.Element], feedback: str) -> dict[str, Any]:
    values = [
        (_answer_text(answer), (answer.findtext("tolerance") or "0").strip())
        for answer in answers
        if _fraction(answer) > 0
    ]
    shown = "; ".join(f"{v} (± {t})" if t not in ("", "0") else v for v, t in values)
    explanation = f"{shown}. {feedback}".strip()
    return {
        "kind": "concept",
        "answer": {"zh": explanation, "en": explanation},
        "key_points": [
            {"text": {"zh": v, "en": v}, "accept": {"zh": [v], "en": [v]}} for v, _ in values
        ],
    }


def moodle_xml_to_items(
    text: str, *, name: str, bank: str, topic: str
) -> tuple[list[dict[str, Any]], list[FixtureError]]:
    """Turn a Moodle XML document into draft cards in fixture form, with every problem found."""
    try:
        root = fromstring(text.encode("utf-8"), forbid_dtd=True)
    except DefusedXmlException as exc:
        return [], [
            FixtureError(
                name, "", "", f"refused: the XML declares a DTD or entities ({type(exc).__name__})"
            )
        ]
    except ET.ParseError as exc:
        return [], [FixtureError(name, "", "", f"malformed XML: {exc}")]
    if root.tag != "quiz":
        return [], [
            FixtureError(name, "", "", f"the root element must be <quiz>, not <{show(root.tag)}>")
        ]
    items: list[dict[str, Any]] = []
    errors: list[FixtureError] = []
    questions = [q for q in root.findall("question") if q.get("type") != "category"]
    if len(questions) > MAX_UPLOAD_CARDS:
        return [], [FixtureError(name, "", "", f"more than {MAX_UPLOAD_CARDS:,} questions")]
    for number, question in enumerate(questions, start=1):
        qtype = question.get("type", "")
        title = _plain(question.find("name"))[:200] or f"question {number}"
        label = f"question {number} ({show(title)})"
        body = _plain(question.find("questiontext"))
        feedback = _plain(question.find("generalfeedback"))
        answers = question.findall("answer")
        try:
            if qtype in ("multichoice", "truefalse"):
                specific = _choice_item(answers, feedback)
            elif qtype == "shortanswer":
                specific = _short_answer_item(answers, feedback)
            elif qtype == "essay":
                specific = _essay_item(question, feedback)
            elif qtype == "numerical":
                specific = _numerical_item(answers, feedback)
            else:
                raise _BadQuestion("type", f"question type {show(qtype)} is not supported")
        except _BadQuestion as exc:
            errors.append(FixtureError(name, label, exc.field, str(exc)))
            continue
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80] or f"question-{number}"
        item: dict[str, Any] = {
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"moodle:{bank}:{title}")),
            "slug": f"moodle-{slug}".rstrip("-"),
            "bank": bank,
            "topic": topic,
            "difficulty": 2,
            "tags": ["moodle-import"],
            "sources": [],
            "status": "draft",
            "question": {"zh": body, "en": body},
            **specific,
        }
        if not body:
            errors.append(FixtureError(name, label, "questiontext", "is empty"))
        if not item["answer"]["en"]:
            errors.append(
                FixtureError(name, label, "answer", "has no correct answer or model answer")
            )
        items.append(item)
    return items, errors
