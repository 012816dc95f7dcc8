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

import nh3
from markdown_it import MarkdownIt

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
_TAG_RE = re.compile(r'<(?:[^>"]|"[^"]*")*>')
# CommonMark (markdown-it-py) parses in time linear in the text, where Python-Markdown took minutes
# over a card of 20,000 "[" characters; raw HTML is let through here and removed by nh3 below.
_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_DISPLAY_IN_P_RE = re.compile(r"<p>\s*(<div class=\"math math-display\">[^<]*</div>)\s*</p>")


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
    rendered = _MARKDOWN.render(protected)
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

    parts: list[str] = []
    position = 0
    for tag in _TAG_RE.finditer(clean):
        parts.append(_TOKEN_RE.sub(as_math, clean[position : tag.start()]))
        parts.append(_TOKEN_RE.sub(as_text, tag.group(0)))
        position = tag.end()
    parts.append(_TOKEN_RE.sub(as_math, clean[position:]))
    # A display block was given a paragraph of its own; do not leave it inside <p>.
    return _DISPLAY_IN_P_RE.sub(r"\1", "".join(parts)).strip()
