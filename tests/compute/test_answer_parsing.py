"""The answer parser on real learner input, half-width and full-width."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compute.templates.parsing import (
    ParseError,
    normalize,
    parse_choice,
    parse_number,
    parse_set,
    parse_tuple,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("112", 112),
        ("  112  ", 112),
        ("112.", 112),
        ("112。", 112),
        ("-3", -3),
        ("+7", 7),
        ("0.25", 0.25),
        (".5", 0.5),
        ("3.", 3),
        ("1e-3", 1e-3),
        ("1E-3", 1e-3),
        ("1.5E+4", 1.5e4),
        ("2.5e2", 250.0),
        ("1.5×10^-3", 1.5e-3),
        ("1.5x10^-3", 1.5e-3),
        ("1.5 * 10^(-3)", 1.5e-3),
        ("1.5*10**-3", 1.5e-3),
        ("1.5·10⁻³", 1.5e-3),
        ("3/4", 0.75),
        ("18/25", 0.72),
        ("-1 / 8", -0.125),
        ("61,100,840", 61100840),
        ("138_357_544", 138357544),
        ("１２", 12),
        ("１２．５", 12.5),
        ("－３", -3),
        ("−3", -3),
        ("０．７２", 0.72),
        ("１．５ｅ－３", 1.5e-3),
        ("  ３／４  ", 0.75),
    ],
)
def test_numbers(text: str, expected: float) -> None:
    value = parse_number(text)
    assert value == pytest.approx(expected, rel=1e-12)


def test_integer_literals_stay_integers() -> None:
    assert type(parse_number("112")) is int
    assert type(parse_number("１１２")) is int
    assert type(parse_number("112.0")) is float


@pytest.mark.parametrize(("text", "expected"), [("72%", 0.72), ("72.5 %", 0.725), ("７２％", 0.72)])
def test_percent_is_divided_by_100_where_a_ratio_is_expected(text: str, expected: float) -> None:
    assert parse_number(text, allow_percent=True) == pytest.approx(expected)


def test_percent_is_a_format_error_where_no_ratio_is_expected() -> None:
    with pytest.raises(ParseError) as exc:
        parse_number("72%")
    assert "percent" in exc.value.message.en and "百分号" in exc.value.message.zh


@pytest.mark.parametrize(
    "text", ["", "   ", "abc", "1,,2", "1..2", "e5", "3/0", "12 apples", "1/2/3", "--3", "0x10"]
)
def test_unreadable_numbers_raise_a_bilingual_parse_error(text: str) -> None:
    with pytest.raises(ParseError) as exc:
        parse_number(text)
    assert exc.value.message.en and exc.value.message.zh


def test_several_numbers_where_one_is_expected_says_so() -> None:
    with pytest.raises(ParseError) as exc:
        parse_number("20, 33")
    assert "single number" in exc.value.message.en and "2" in exc.value.message.en


@pytest.mark.parametrize(
    "text",
    [
        "(20, 33, 24, 49)",
        "(20,33,24,49)",
        "[20, 33, 24, 49]",
        "20x33x24x49",
        "20 x 33 x 24 x 49",
        "20X33X24X49",
        "20×33×24×49",
        "20*33*24*49",
        "20 33 24 49",
        "20, 33, 24, 49",
        "20;33;24;49",
        "torch.Size([20, 33, 24, 49])",
        "（２０，３３，２４，４９）",
        "（20，33，24，49）。",
        "２０×３３×２４×４９",
        "20、33、24、49",
        "  (20, 33, 24, 49).  ",
        "((20, 33, 24, 49))",
    ],
)
def test_tuples(text: str) -> None:
    assert parse_tuple(text, 4) == (20, 33, 24, 49)


def test_tuple_of_wrong_arity_says_how_many_numbers_were_expected() -> None:
    with pytest.raises(ParseError) as exc:
        parse_tuple("(20, 33, 24)", 4)
    assert exc.value.message.en == "Expected 4 numbers, got 3."
    assert "4" in exc.value.message.zh and "3" in exc.value.message.zh


@pytest.mark.parametrize("text", ["", "()", "(1,,2)", "(1, 2", "1, 2)", "(a, b)", "[1, 2)", "1,"])
def test_unreadable_tuples(text: str) -> None:
    with pytest.raises(ParseError):
        parse_tuple(text, 2)


@pytest.mark.parametrize(
    "text",
    [
        "{0, 2, 5}",
        "{0,2,5}",
        "0, 2, 5",
        "0 2 5",
        "5 2 0",
        "[0, 2, 5]",
        "｛０，２，５｝",
        "{0, 2, 5, 2}",
    ],
)
def test_sets(text: str) -> None:
    assert parse_set(text) == frozenset({0, 2, 5})


def test_empty_set() -> None:
    assert parse_set("{}") == frozenset()
    assert parse_set("∅") == frozenset()


@pytest.mark.parametrize(
    ("text", "index"), [("A", 0), ("b", 1), (" C ", 2), ("(D)", 3), ("Ｂ", 1), ("2", 1), ("B.", 1)]
)
def test_choices(text: str, index: int) -> None:
    assert parse_choice(text, 4) == index


@pytest.mark.parametrize("text", ["E", "0", "5", "AB", "", "x1"])
def test_bad_choices(text: str) -> None:
    with pytest.raises(ParseError):
        parse_choice(text, 4)


def test_normalize_folds_full_width_and_drops_the_final_period() -> None:
    assert normalize("  （１，２）．") == "(1,2)"
    assert normalize("3.") == "3"
    assert normalize("...") == "..."


@pytest.mark.parametrize("text", ["1x10^99999", "1e999", "1" * 201])
def test_huge_or_overlong_input_is_a_format_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_number(text)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_any_integer_round_trips(n: int) -> None:
    assert parse_number(str(n)) == n
    assert parse_number(f"{n:,}") == n


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False).filter(lambda x: x != 0))
def test_any_float_round_trips_in_repr_and_g_formats(x: float) -> None:
    assert parse_number(repr(x)) == pytest.approx(x, rel=1e-12)
    assert parse_number(f"{x:.6g}") == pytest.approx(float(f"{x:.6g}"), rel=1e-12)


@given(
    st.lists(st.integers(min_value=0, max_value=4096), min_size=1, max_size=6),
    st.sampled_from(["({})", "[{}]", "{}"]),
    st.sampled_from([", ", ",", "x", " × ", " "]),
)
def test_any_tuple_round_trips(values: list[int], brackets: str, sep: str) -> None:
    text = brackets.format(sep.join(map(str, values)))
    assert parse_tuple(text, len(values)) == tuple(values)
