"""Every template over 200 seeds: answers, misconceptions, format errors, prompts, MC options."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest

from compute.templates import AnswerKind, Template, Variant, generate, grade, registry
from compute.templates.engine import _build_core
from compute.templates.fmt import num, tex

SEEDS = range(200)
TEMPLATES = registry()
IDS = [f"{t.id}@{t.version}" for t in TEMPLATES]

_FULL_WIDTH = str.maketrans("0123456789,()", "０１２３４５６７８９，（）")


def _variants(t: Template) -> Iterator[Variant]:
    for seed in SEEDS:
        yield generate(t.id, seed, version=t.version)


def _typed_forms(t: Template, v: Variant) -> list[str]:
    """Return ways a learner would type the correct answer."""
    forms = [v.answer_text]
    a = v.answer
    if t.kind is AnswerKind.REAL:
        assert isinstance(a, float)
        forms += [f"{a:.6g}", f" {a:.6e} "]
        if t.ratio:
            forms.append(f"{a * 100:.3f}%")
    elif t.kind is AnswerKind.INTEGER:
        forms += [f"{a}.", f"  {a} "]
    elif t.kind is AnswerKind.TUPLE:
        assert isinstance(a, tuple)
        forms += [
            "x".join(map(str, a)),
            "×".join(map(str, a)),
            " ".join(map(str, a)),
            "[" + ",".join(map(str, a)) + "]",
            v.answer_text.translate(_FULL_WIDTH),
        ]
    elif t.kind is AnswerKind.SET:
        assert isinstance(a, frozenset)
        forms += [" ".join(map(str, sorted(a, reverse=True))), ", ".join(map(str, sorted(a)))]
    else:
        keys = [k for k, _ in t.choices]
        forms.append(chr(ord("A") + keys.index(str(a))))
    return forms


@pytest.mark.parametrize("t", TEMPLATES, ids=IDS)
def test_correct_answer_as_typed_scores_one(t: Template) -> None:
    for v in _variants(t):
        for typed in _typed_forms(t, v):
            r = grade(t.id, t.version, v.seed, typed)
            assert r.format_error is None, (v.seed, typed, r.format_error)
            assert r.correct and r.score == 1.0 and r.counts_as_attempt, (v.seed, typed, r)
            assert r.misconception is None


@pytest.mark.parametrize("t", TEMPLATES, ids=IDS)
def test_each_misconception_value_is_recognized(t: Template) -> None:
    seen: set[str] = set()
    for v in _variants(t):
        assert len(v.misconceptions) >= 2, v.seed
        for m in v.misconceptions:
            r = grade(t.id, t.version, v.seed, m.text)
            assert r.misconception == m.id, (v.seed, m.id, m.text, v.answer_text, r.misconception)
            assert not r.correct and r.counts_as_attempt
            assert r.score == m.credit
            assert m.feedback.en in r.feedback.en and m.feedback.zh in r.feedback.zh
            seen.add(m.id)
    # Every listed misconception shows up in some variant.
    assert seen == {m.id for m in t.misconceptions}


@pytest.mark.parametrize("t", TEMPLATES, ids=IDS)
def test_garbage_is_a_format_error_and_not_an_attempt(t: Template) -> None:
    for seed in range(0, 200, 7):
        for garbage in ("abc", "", "1,,2", "   ", "((3, 4)"):
            r = grade(t.id, t.version, seed, garbage)
            assert r.format_error is not None, (seed, garbage)
            assert not r.counts_as_attempt and r.score == 0.0 and not r.correct
            assert r.format_error.en and r.format_error.zh
            assert r.message == r.format_error.en


@pytest.mark.parametrize("t", TEMPLATES, ids=IDS)
def test_variants_are_reproducible_and_vary_with_the_seed(t: Template) -> None:
    params = []
    for seed in SEEDS:
        a = _build_core(t, seed, ())
        b = _build_core(t, seed, ())  # uncached: draws again from a fresh generator
        assert a.params == b.params and a.answer == b.answer
        assert [(m.id, v) for m, v in a.misconceptions] == [(m.id, v) for m, v in b.misconceptions]
        v1 = generate(t.id, seed, version=t.version)
        assert v1 == generate(t.id, seed, version=t.version)
        raw = t.prompt(dict(a.params))
        assert v1.prompt.en.startswith(raw.en) and v1.prompt.zh.startswith(raw.zh)
        assert v1.answer == a.answer
        params.append(repr(sorted((k, v) for k, v in a.params.items() if not k.startswith("_"))))
    differing = sum(x != y for x, y in itertools.pairwise(params))
    assert differing >= 0.75 * (len(params) - 1)


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def _numbers(value: Any) -> Iterator[float]:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int | float):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _numbers(item)


@pytest.mark.parametrize("t", TEMPLATES, ids=IDS)
def test_prompt_displays_the_parameters_exactly(t: Template) -> None:
    for v in _variants(t):
        for text in (v.prompt.zh, v.prompt.en):
            tokens = set(_NUMBER.findall(text))
            for name, value in v.params.items():
                if name.startswith("_") or t.hidden_defaults.get(name, object()) == value:
                    continue
                for x in _numbers(value):
                    assert num(x) in tokens or tex(x) in tokens, (v.seed, name, x, text)


@pytest.mark.parametrize("t", TEMPLATES, ids=IDS)
def test_solution_is_bilingual_and_states_the_answer(t: Template) -> None:
    for v in _variants(t):
        zh, en = v.solution.zh, v.solution.en
        assert zh.strip() and en.strip() and zh != en
        if t.kind is AnswerKind.TUPLE:
            for x in _numbers(v.answer):
                assert str(x) in en and str(x) in zh, (v.seed, x, en)
        else:
            assert v.answer_text in en, (v.seed, v.answer_text, en)
            if t.kind is not AnswerKind.CHOICE:
                assert v.answer_text in zh, (v.seed, v.answer_text, zh)


@pytest.mark.parametrize("t", TEMPLATES, ids=IDS)
def test_multiple_choice_has_one_correct_option_and_distinct_distractors(t: Template) -> None:
    for v in _variants(t):
        options = v.choices
        assert [o.label for o in options] == [chr(ord("A") + i) for i in range(len(options))]
        assert sum(o.correct for o in options) == 1
        assert len({o.text for o in options}) == len(options)
        assert [o.text for o in options].count(v.answer_text) == 1
        if t.kind is AnswerKind.CHOICE:
            assert [o.value for o in options] == [k for k, _ in t.choices]
        else:
            assert len(options) == 1 + min(len(v.misconceptions), 4)
        for o in options:
            r = grade(t.id, t.version, v.seed, o.label, choice=True)
            assert r.correct == o.correct and r.misconception == o.misconception
        assert options == v.choices  # deterministic
