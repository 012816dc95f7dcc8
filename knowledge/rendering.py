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

import markdown
import nh3

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
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}

# $$...$$ first (display), then $...$ (inline, not spanning blank lines); \$ is a literal dollar.
_MATH_RE = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<![\\$])\$(?!\s)((?:[^$\n]|\n(?!\n))+?)(?<![\s\\])\$", re.S
)
_TOKEN = "\u2063MATH{}\u2063"
_TOKEN_RE = re.compile("\u2063MATH(\\d+)\u2063")


def render_markdown(text: str) -> str:
    """Return sanitized HTML for Markdown ``text`` with ``$...$`` and ``$$...$$`` math."""
    pieces: list[tuple[bool, str]] = []

    def stash(match: re.Match[str]) -> str:
        display = match.group(1) is not None
        pieces.append((display, match.group(1) if display else match.group(2)))
        token = _TOKEN.format(len(pieces) - 1)
        # Display math stands in a paragraph of its own.
        return f"\n\n{token}\n\n" if display else token

    protected = _MATH_RE.sub(stash, text)
    rendered = markdown.markdown(protected, extensions=["tables", "fenced_code", "sane_lists"])
    clean = nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )

    def restore(match: re.Match[str]) -> str:
        display, tex = pieces[int(match.group(1))]
        body = html.escape(tex.strip())
        if display:
            return f'<div class="math math-display">\\[{body}\\]</div>'
        return f'<span class="math math-inline">\\({body}\\)</span>'

    restored = _TOKEN_RE.sub(restore, clean)
    # A display block was given a paragraph of its own; do not leave it inside <p>.
    return re.sub(
        r"<p>\s*(<div class=\"math math-display\">.*?</div>)\s*</p>", r"\1", restored, flags=re.S
    )
