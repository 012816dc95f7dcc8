"""Turn instructors' Markdown with LaTeX into safe HTML for learners' pages.

Math is cut out before Markdown runs (so ``a_1 * b_2`` inside ``$...$`` is not read as emphasis),
the Markdown output is sanitized with nh3 (an allow-list: no scripts, no event handlers, no
``javascript:`` links), and the math goes back in HTML-escaped, wrapped for KaTeX to typeset in
the browser: ``<span class="math">\\(...\\)</span>`` inline, ``<div class="math">\\[...\\]</div>``
for display math. Escaping is what makes the math safe; nh3 is what makes the rest safe.
"""

from __future__ import annotations

import html
import re
import secrets
from itertools import accumulate

import nh3

from knowledge.commonmark import commonmark_to_html

__all__ = ["ALLOWED_TAGS", "render_markdown"]

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sub",
    "sup",
    "del",
    "s",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}

# $$...$$ first (display), then $...$ (inline, not spanning blank lines); \$ is a literal dollar.
_MATH_RE = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<![\\$])\$(?!\s)((?:[^$\n]|\n(?!\n))+?)(?<![\s\\])\$", re.S
)
# A placeholder carries a fresh random nonce per render, so card text cannot forge one.
_MARK = "\u2063"
_TOKEN_RE = re.compile(f"{_MARK}([0-9a-f]{{16}}):(\\d{{1,9}}){_MARK}")
# A tag of nh3's output: attribute values are double-quoted with quotes escaped inside.
# (One group, so that split() keeps the tags.)
_TAG_RE = re.compile(r'(<(?:[^>"]|"[^"]*")*>)')
# CommonMark (cmark-gfm, in C) parses in time linear in the text, where Python-Markdown took
# minutes over a card of 20,000 "[" characters, and a card with a table in a tenth of a
# millisecond where markdown-it-py took several; raw HTML is let through there and removed by nh3.
# nh3's HTML parser takes time growing with the square of the nesting depth (10,000 nested
# blockquotes, one ">" each, took over a second, 20,000 over six); markdown-it-py stopped nesting
# at 20 levels, cmark-gfm does not, and raw HTML (<div><div>...) never did. Deeper HTML than this
# is not parsed at all: the card's text is shown as written, escaped, one paragraph a blank line.
MAX_NESTING = 64
_VOID = "area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr"
_START_OR_END_RE = re.compile(rf"<(/?)(?!(?:{_VOID})\b)[A-Za-z]")
_STEP = {"": 1, "/": -1}
_DISPLAY_IN_P_RE = re.compile(r"<p>\s*(<div class=\"math math-display\">[^<]*</div>)\s*</p>")


def _nesting(markup: str) -> int:
    """Return an upper bound of how deep the elements of ``markup`` nest (0 for plain text).

    Each start tag of a non-void element opens a level, each end tag closes one (an end tag with
    nothing open is ignored, as an HTML parser ignores it); a start tag never closed counts as
    open to the end, so unbalanced raw HTML can only raise the bound.
    """
    if markup.count("<") <= MAX_NESTING:  # cannot nest deeper than it has tags
        return 0
    steps = [_STEP[slash] for slash in _START_OR_END_RE.findall(markup)]
    depths = list(accumulate(steps))
    if not depths:
        return 0
    if min(depths) >= 0:  # no end tag without a start tag before it: the common case
        return max(depths)
    return max(accumulate(steps, _step_floored))


def _step_floored(depth: int, step: int) -> int:
    return max(depth + step, 0)


def render_markdown(text: str) -> str:
    """Return sanitized HTML for Markdown ``text`` with ``$...$`` and ``$$...$$`` math."""
    nonce = secrets.token_hex(8)
    pieces: list[tuple[bool, str, str]] = []  # (display?, TeX, the source as written)

    def stash(match: re.Match[str]) -> str:
        display = match.group(1) is not None
        pieces.append((display, match.group(1) if display else match.group(2), match.group(0)))
        token = f"{_MARK}{nonce}:{len(pieces) - 1}{_MARK}"
        # Display math stands in a paragraph of its own.
        return f"\n\n{token}\n\n" if display else token

    protected = _MATH_RE.sub(stash, text)
    rendered = commonmark_to_html(protected)
    if _nesting(rendered) > MAX_NESTING:
        rendered = "".join(
            f"<p>{html.escape(block.strip(), quote=False)}</p>"
            for block in protected.split("\n\n")
            if block.strip()
        )
    clean = nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )

    def piece(match: re.Match[str]) -> tuple[bool, str, str] | None:
        index = int(match.group(2))
        if match.group(1) != nonce or index >= len(pieces):
            return None
        return pieces[index]

    def as_math(match: re.Match[str]) -> str:
        found = piece(match)
        if found is None:
            return match.group(0)  # not ours: card text that merely looks like a placeholder
        display, tex, _source = found
        body = html.escape(tex.strip())
        if display:
            return f'<div class="math math-display">\\[{body}\\]</div>'
        return f'<span class="math math-inline">\\({body}\\)</span>'

    def as_text(match: re.Match[str]) -> str:
        # Math that Markdown put inside an attribute (a link's title or address) stays text.
        found = piece(match)
        return match.group(0) if found is None else html.escape(found[2], quote=True)

    if _MARK in clean:
        # Even items are text between tags, odd items are tags; most hold no placeholder.
        parts = _TAG_RE.split(clean)
        for i, part in enumerate(parts):
            if _MARK in part:
                parts[i] = _TOKEN_RE.sub(as_text if i % 2 else as_math, part)
        clean = "".join(parts)
    # A display block was given a paragraph of its own; do not leave it inside <p>.
    return _DISPLAY_IN_P_RE.sub(r"\1", clean).strip()
