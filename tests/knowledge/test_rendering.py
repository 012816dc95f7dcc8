"""Instructors' Markdown is rendered with its math intact and nothing executable."""

import time

import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.commonmark import commonmark_to_html
from knowledge.rendering import MAX_NESTING, render_markdown

from .html_checks import html_problems


def test_inline_math_survives_markdown_untouched() -> None:
    html = render_markdown(
        r"Output $\lfloor (W-K+2P)/S \rfloor + 1$ for *each* axis, and $a_1 * b_2$."
    )

    assert r'<span class="math math-inline">\(\lfloor (W-K+2P)/S \rfloor + 1\)</span>' in html
    assert r"\(a_1 * b_2\)" in html  # not turned into <em>
    assert "<em>each</em>" in html


def test_display_math_is_a_block_of_its_own() -> None:
    html = render_markdown("Softmax:\n\n$$p_i = \\frac{e^{z_i}}{\\sum_j e^{z_j}}$$\n\nDone.")

    assert (
        '<div class="math math-display">\\[p_i = \\frac{e^{z_i}}{\\sum_j e^{z_j}}\\]</div>' in html
    )
    assert "<p><div" not in html


def test_a_lone_dollar_is_text() -> None:
    assert "$5 and $6" in render_markdown("It costs $5 and $6.")


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src='https://evil.example'></iframe>",
        '<div onmouseover="alert(1)">hover</div>',
        "<style>body{display:none}</style>",
    ],
)
def test_markup_that_could_run_code_is_removed(attack: str) -> None:
    html = render_markdown(f"Before {attack} after").lower()

    assert "<script" not in html
    assert "onerror" not in html
    assert "onmouseover" not in html
    assert 'href="javascript:' not in html  # as text it is harmless; as a link it is not
    assert html_problems(html) == []
    assert "<iframe" not in html
    assert "<style" not in html
    assert "before" in html and "after" in html


def test_math_cannot_smuggle_markup() -> None:
    html = render_markdown(r"$</span><script>alert(1)</script>$")

    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_math_in_a_link_title_cannot_break_out_of_the_attribute() -> None:
    html = render_markdown('[x](https://example.org "$a$ onmouseover=alert(1) $b$")')

    assert html_problems(html) == []
    assert 'title="$a$ onmouseover=alert(1) $b$"' in html
    assert "<span" not in html


def test_placeholder_lookalikes_in_card_text_are_text() -> None:
    forged = "a \u2063MATH7\u2063 b \u20630123456789abcdef:9\u2063 $x$"

    html = render_markdown(forged)

    assert "MATH7" in html and "0123456789abcdef:9" in html
    assert r'<span class="math math-inline">\(x\)</span>' in html


def test_rendering_is_deterministic_despite_the_nonce() -> None:
    text = "Say $a$ and [l](https://x.org '$b$')\n\n$$c$$"

    assert render_markdown(text) == render_markdown(text)


PIECES = [
    *"ab $\\*_`[]()<>\"'=/:!#-|\n\u2063",
    *("javascript:", "onerror=", "<script>", "<img src=x ", "](", "$$", "MATH0", "0" * 16),
    *('[l](https://x.org "', '")', "$a$", "$$b$$", "\u2063MATH0\u2063", "\u2063MATH9\u2063"),
]
MARKDOWNISH = st.lists(st.sampled_from(PIECES), max_size=80).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(MARKDOWNISH, st.text(max_size=200)))
def test_any_text_renders_to_sanitized_html(text: str) -> None:
    html = render_markdown(text)

    assert html_problems(html) == []
    assert "\u2063" not in html or "\u2063" in text


@pytest.mark.parametrize(
    "text",
    [
        "[" * 10_000,
        "![" * 5_000,
        "[a](b " * 1_700,
        "[](" * 3_300,
        ">" * 10_000 + " x",
        ">" * 40_000 + " x",
        "- " * 20_000 + "x",
        "> - " * 10_000 + "x",
        "<div>" * 10_000,
        "|a|\n|-|\n" + "|" * 40_000,
    ],
    ids=[
        "brackets",
        "images",
        "open-links",
        "empty-links",
        "quotes",
        "deep-quotes",
        "deep-lists",
        "quotes-in-lists",
        "raw-divs",
        "table-of-bars",
    ],
)
def test_pathological_markdown_renders_in_bounded_time(text: str) -> None:
    started = time.perf_counter()

    html = render_markdown(text)

    # Python-Markdown took about a minute over 10,000 "["; CommonMark parses in linear time. nh3
    # took seconds over 20,000 nested blockquotes (and minutes over 80,000): nesting is bounded.
    assert time.perf_counter() - started < 5.0
    assert html_problems(html) == []


def test_nesting_deeper_than_the_bound_is_shown_as_written() -> None:
    deep = ">" * (MAX_NESTING + 1) + " quoted $x < y$\n\nnext *para*"

    html = render_markdown(deep)

    assert "<blockquote>" not in html
    assert html.startswith("<p>" + "&gt;" * (MAX_NESTING + 1) + " quoted ")
    assert r'<span class="math math-inline">\(x &lt; y\)</span>' in html
    assert "<p>next *para*</p>" in html
    assert html_problems(html) == []


def test_nesting_within_the_bound_is_rendered() -> None:
    html = render_markdown(">" * 20 + " quoted")

    assert html.count("<blockquote>") == 20


def test_table_alignment_survives_sanitizing() -> None:
    html = render_markdown("| k | AP |\n|:--|--:|\n| 1 | $0.5$ |\n\n~~old~~ and ~5 ms")

    assert '<th align="left">k</th>' in html and '<td align="right">' in html
    assert r'<td align="right"><span class="math math-inline">\(0.5\)</span></td>' in html
    assert "<del>old</del> and ~5 ms" in html  # one tilde is text, as in markdown-it-py


def test_the_c_renderer_frees_what_it_allocates() -> None:
    # cmarkgfm's own wrapper leaked the syntax tree and the HTML, about 90 KB a call for this.
    table = "| a | b |\n|---|---|\n" + "| *1* | [2](https://x.org) |\n" * 60
    for _ in range(200):
        commonmark_to_html(table)
    before = psutil.Process().memory_info().rss

    for _ in range(3_000):
        commonmark_to_html(table)

    assert psutil.Process().memory_info().rss - before < 30 * 2**20
