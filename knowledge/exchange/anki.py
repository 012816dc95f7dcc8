"""Anki ``.apkg`` export with genanki.

GUIDs are derived from the card's UUID (and, for numeric cards, the variant's seed), so
re-importing an updated export into Anki updates the notes instead of duplicating them. The
note type and the deck ids are fixed numbers derived from names, for the same reason. Math is
written as ``\\(...\\)`` / ``\\[...\\]``, which Anki's built-in MathJax typesets.
"""

from __future__ import annotations

import hashlib
import html
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

import genanki

from knowledge.models import Card
from knowledge.rendering import render_markdown

from .variants import numeric_variants

__all__ = ["ANKI_VARIANTS", "anki_tag", "cards_to_apkg", "note_guid"]

ANKI_VARIANTS = 5


def _stable_id(name: str) -> int:
    """A positive 31-bit id from a name (Anki ids must fit a signed 64-bit int; keep them small)."""
    return int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) | (1 << 30)


NOTE_MODEL = genanki.Model(
    _stable_id("dlcv-drill note v1"),
    "DL/CV drill (bilingual)",
    fields=[{"name": "Question"}, {"name": "Answer"}, {"name": "Source"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": "{{Question}}",
            "afmt": '{{FrontSide}}<hr id="answer">{{Answer}}<div class="source">{{Source}}</div>',
        }
    ],
    css=".card { font-family: sans-serif; font-size: 18px; } .zh { margin-top: 1em; color: #444; } .source { font-size: 12px; color: #888; }",
)


def note_guid(card: Card, seed: int | None = None) -> str:
    """The Anki GUID of a card's note (of one variant's note for a numeric card)."""
    guid: str = genanki.guid_for(str(card.uuid), seed if seed is not None else "card")
    return guid


# Anki separates tags by spaces and shows them as text; keep letters, digits and a few marks.
_TAG_UNSAFE_RE = re.compile(r"[^\w\-:.]+")
# Anki joins a note's fields with U+001F; a field holding one would spill into the next.
_FIELD_UNSAFE_RE = re.compile("[\x00\x1f]")


def anki_tag(value: str) -> str:
    """Return ``value`` as an Anki tag: one word of letters, digits, ``_-:.`` (never empty)."""
    return _TAG_UNSAFE_RE.sub("_", value).strip("_") or "_"


def _source_html(card: Card) -> str:
    """Return the card's citations as escaped text: section ids are typed by any curator."""
    citations = sorted(section.citation for section in card.sections.all())
    return _FIELD_UNSAFE_RE.sub("", html.escape(", ".join(citations)))


def _both(en_html: str, zh_html: str) -> str:
    both = f'<div class="en">{en_html}</div><div class="zh" lang="zh-Hans">{zh_html}</div>'
    return _FIELD_UNSAFE_RE.sub("", both)


def cards_to_apkg(cards: Iterable[Card]) -> bytes:
    """Return an Anki package with one deck per bank (numeric cards as a fixed set of variants)."""
    decks: dict[str, genanki.Deck] = {}
    for card in cards:
        deck = decks.get(card.bank.slug)
        if deck is None:
            deck = decks[card.bank.slug] = genanki.Deck(
                _stable_id(f"deck:{card.bank.slug}"), card.bank.title_en
            )
        source = _source_html(card)
        tags = [anki_tag(tag.slug) for tag in card.tags.all()] + [anki_tag(card.kind)]
        answer = _both(render_markdown(card.answer_en), render_markdown(card.answer_zh))
        if card.kind == Card.Kind.NUMERIC:
            for variant in numeric_variants(card, range(1, ANKI_VARIANTS + 1)):
                answer_text = html.escape(variant["answer_text"])
                back = _both(
                    f"<p><b>{answer_text}</b></p>{variant['solution_html']['en']}",
                    f"<p><b>{answer_text}</b></p>{variant['solution_html']['zh']}",
                )
                deck.add_note(
                    genanki.Note(
                        model=NOTE_MODEL,
                        fields=[
                            _both(variant["prompt_html"]["en"], variant["prompt_html"]["zh"]),
                            back,
                            source,
                        ],
                        guid=note_guid(card, variant["seed"]),
                        tags=tags,
                    )
                )
            continue
        question = _both(render_markdown(card.question_en), render_markdown(card.question_zh))
        if card.kind == Card.Kind.MCQ:
            options_en = "".join(
                f"<li>{render_markdown(o.text_en)}</li>" for o in card.options.all()
            )
            options_zh = "".join(
                f"<li>{render_markdown(o.text_zh)}</li>" for o in card.options.all()
            )
            question = _both(
                render_markdown(card.question_en) + f"<ol type='A'>{options_en}</ol>",
                render_markdown(card.question_zh) + f"<ol type='A'>{options_zh}</ol>",
            )
            correct_en = "".join(
                f"<li>{render_markdown(o.text_en)}</li>" for o in card.options.all() if o.correct
            )
            answer = _both(f"<ul>{correct_en}</ul>", "") + answer
        deck.add_note(
            genanki.Note(
                model=NOTE_MODEL, fields=[question, answer, source], guid=note_guid(card), tags=tags
            )
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.apkg"
        genanki.Package(list(decks.values())).write_to_file(str(path))
        return path.read_bytes()
