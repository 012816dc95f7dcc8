"""Instructors' Markdown is rendered with its math intact and nothing executable."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.rendering import render_markdown

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
    ["[" * 10_000, "![" * 5_000, "[a](b " * 1_700, "[](" * 3_300, ">" * 10_000 + " x"],
    ids=["brackets", "images", "open-links", "empty-links", "quotes"],
)
def test_pathological_markdown_renders_in_bounded_time(text: str) -> None:
    started = time.perf_counter()

    html = render_markdown(text)

    # Python-Markdown took about a minute over 10,000 "["; CommonMark parses in linear time.
    assert time.perf_counter() - started < 5.0
    assert html_problems(html) == []
