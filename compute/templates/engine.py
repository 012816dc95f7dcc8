"""Registry, variant generation and grading of the numeric templates.

``generate`` and ``grade`` are pure functions of (template id, version, seed, constraints) and the
response. The expensive part shared by both, drawing the parameters and computing the answer and
the misconception values, is memoized, so grading a variant that was just generated costs one
parse and a few comparisons.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, TypeVar

import numpy as np

from compute.templates.base import (
    AnswerKind,
    Bilingual,
    Draw,
    InvalidConstraints,
    Misconception,
    Params,
    Template,
    Tolerance,
    UnknownTemplate,
    Value,
)
from compute.templates.parsing import (
    ParseError,
    parse_choice,
    parse_number,
    parse_set,
    parse_tuple,
)

T = TypeVar("T")

__all__ = [
    "MAX_DISTRACTORS",
    "Choice",
    "GradeResult",
    "MisconceptionValue",
    "Variant",
    "generate",
    "get_template",
    "grade",
    "parameter_names",
    "register",
    "registry",
]

#: Draws tried before a variant is declared impossible.
MAX_ATTEMPTS = 200
#: A variant needs at least this many misconceptions that show in it (distractors for MC).
MIN_APPLICABLE = 2
#: Multiple choice shows the correct answer and at most this many distractors.
MAX_DISTRACTORS = 4
#: Real values closer than this many tolerance widths count as coinciding.
SEPARATION = 3.0

_REGISTRY: dict[tuple[str, int], Template] = {}
_LATEST: dict[str, int] = {}


def register(cls: type[Template]) -> type[Template]:
    """Register a template class under its (id, version); use as a class decorator."""
    key = (cls.id, cls.version)
    if key in _REGISTRY:
        raise ValueError(f"template {cls.id!r} version {cls.version} is registered twice")
    if len(cls.misconceptions) < 3:
        raise ValueError(f"template {cls.id!r} lists fewer than three misconceptions")
    earlier: set[str] = set()
    for m in cls.misconceptions:
        if m.defers_to is not None and m.defers_to not in earlier:
            raise ValueError(
                f"{cls.id!r}: {m.id!r} defers to {m.defers_to!r}, not listed before it"
            )
        earlier.add(m.id)
    _REGISTRY[key] = cls()
    _LATEST[cls.id] = max(_LATEST.get(cls.id, 0), cls.version)
    return cls


def registry() -> list[Template]:
    """Return every registered template (all versions), sorted by id then version."""
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get_template(template_id: str, version: int | None = None) -> Template:
    """Return the template ``template_id`` at ``version`` (default: the latest version)."""
    if version is None:
        if template_id not in _LATEST:
            raise UnknownTemplate(f"unknown template id {template_id!r}")
        version = _LATEST[template_id]
    try:
        return _REGISTRY[(template_id, version)]
    except KeyError:
        if template_id not in _LATEST:
            raise UnknownTemplate(f"unknown template id {template_id!r}") from None
        known = sorted(v for i, v in _REGISTRY if i == template_id)
        raise UnknownTemplate(
            f"template {template_id!r} has no version {version!r}; known versions: {known}"
        ) from None


@dataclass(frozen=True, slots=True)
class MisconceptionValue:
    """A misconception that shows in a variant, with the wrong value it leads to."""

    id: str
    value: Value
    text: str
    feedback: Bilingual
    credit: float


@dataclass(frozen=True, slots=True)
class Choice:
    """One multiple-choice option: its label, displayed text and what choosing it means."""

    label: str
    text: str
    value: Value
    correct: bool
    misconception: str | None


class _Core(NamedTuple):
    """What a variant is made of, memoized per (template, version, seed, constraints).

    A NamedTuple rather than a frozen dataclass: it is built once per generated variant, and a
    frozen dataclass's ``__init__`` (one ``object.__setattr__`` per field) costs several times more.
    """

    template: Template
    seed: int
    params: Params
    answer: Value
    misconceptions: tuple[tuple[Misconception, Value], ...]
    answer_text: str


@dataclass(frozen=True)
class Variant:
    """One concrete question; texts, misconceptions and options are rendered on first access."""

    template_id: str
    version: int
    seed: int
    kind: AnswerKind
    params: Mapping[str, Any]
    answer: Value
    constraints: Mapping[str, Sequence[Any]] | None = field(default=None, compare=False)
    _core: _Core | None = field(default=None, compare=False, repr=False)

    @property
    def _c(self) -> _Core:
        assert self._core is not None, "build variants with generate()"
        return self._core

    @property
    def answer_text(self) -> str:
        """Return the answer as a learner would type it."""
        return self._c.answer_text

    @cached_property
    def misconceptions(self) -> tuple[MisconceptionValue, ...]:
        """Return the misconceptions that show in this variant, with their wrong values."""
        t = self._c.template
        return tuple(
            MisconceptionValue(m.id, v, t.format_value(v), m.feedback, m.credit)
            for m, v in self._c.misconceptions
        )

    @cached_property
    def prompt(self) -> Bilingual:
        """Return the question text (with a precision hint for real answers)."""
        t = self._c.template
        text = t.prompt(self._c.params)
        if t.kind is AnswerKind.REAL and t.real_format.endswith("g") and t.tolerance.rel:
            digits = max(3, round(-math.log10(t.tolerance.rel)) + 1)
            text = Bilingual(
                zh=f"{text.zh}(保留 {digits} 位有效数字。)",
                en=f"{text.en} (Give {digits} significant figures.)",
            )
        return text

    @cached_property
    def solution(self) -> Bilingual:
        """Return the worked solution."""
        return self._c.template.solution(self._c.params, self.answer)

    @cached_property
    def choices(self) -> tuple[Choice, ...]:
        """Return the multiple-choice options (correct answer plus distractors), shuffled."""
        return _choices(self._c)

    @property
    def tolerance(self) -> Tolerance:
        """Return how close a real response must be (exact for the other kinds)."""
        return self._c.template.tolerance

    @property
    def ratio(self) -> bool:
        """Return whether a percentage is accepted (the answer is a ratio or probability)."""
        return self._c.template.ratio

    @property
    def arity(self) -> int | None:
        """Return how many numbers a tuple answer has (None for other kinds)."""
        return len(self.answer) if isinstance(self.answer, tuple) else None


@dataclass(frozen=True)
class GradeResult:
    """The outcome of grading one response.

    ``counts_as_attempt`` is False exactly when ``format_error`` is set: an unreadable response is
    sent back to the learner and not recorded as a wrong answer. ``solution`` is rendered on first
    access.
    """

    score: float
    correct: bool
    counts_as_attempt: bool
    misconception: str | None
    feedback: Bilingual
    format_error: Bilingual | None
    expected: str
    parsed: Value | None
    lang: str = "en"
    _core: _Core | None = field(default=None, compare=False, repr=False)

    @cached_property
    def solution(self) -> Bilingual:
        """Return the worked solution of the variant."""
        assert self._core is not None
        return self._core.template.solution(self._core.params, self._core.answer)

    @property
    def message(self) -> str:
        """Return the feedback (or the format error) in the requested language."""
        return (self.format_error or self.feedback).get(self.lang)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready data (sets become sorted lists, tuples lists)."""

        def text(b: Bilingual | None) -> dict[str, str] | None:
            return None if b is None else {"zh": b.zh, "en": b.en}

        parsed: Any = self.parsed
        if isinstance(parsed, frozenset):
            parsed = sorted(parsed)
        elif isinstance(parsed, tuple):
            parsed = list(parsed)
        return {
            "score": self.score,
            "correct": self.correct,
            "counts_as_attempt": self.counts_as_attempt,
            "misconception": self.misconception,
            "feedback": text(self.feedback),
            "format_error": text(self.format_error),
            "solution": text(self.solution),
            "expected": self.expected,
            "parsed": parsed,
        }


def _frozen(value: Any) -> Any:
    """Return ``value`` with lists turned into tuples, so that it can key the cache."""
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


def _constraints_key(
    constraints: Mapping[str, Sequence[Any]] | None,
) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    if not constraints:
        return ()
    key = []
    for name in sorted(constraints):
        values = constraints[name]
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise InvalidConstraints(f"constraint {name!r} must be a list of values")
        values = tuple(_frozen(v) for v in values)
        if not values:
            raise InvalidConstraints(f"constraint {name!r} lists no values")
        key.append((name, values))
    return tuple(key)


def _is_close(t: Template, a: Value, b: Value) -> bool:
    if a == b:
        return True
    ta = type(a)
    if ta is tuple or ta is frozenset or ta is str or (ta is int and type(b) is int):
        return False
    if isinstance(a, int | float) and isinstance(b, int | float):
        if t.kind is AnswerKind.REAL:
            width = max(t.tolerance.width(float(a)), t.tolerance.width(float(b)))
            return abs(a - b) <= SEPARATION * width
        return abs(a - b) < 1e-9
    return a == b


class _NameRecorder(Draw):
    """A Draw that records the name of every parameter drawn."""

    __slots__ = ("names",)

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__(rng)
        self.names: set[str] = set()

    def pick(self, name: str, options: Sequence[T]) -> T:
        self.names.add(name)
        return super().pick(name, options)

    def integer(self, name: str, low: int, high: int) -> int:
        self.names.add(name)
        return super().integer(name, low, high)

    def real(self, name: str, low: float, high: float, decimals: int) -> float:
        self.names.add(name)
        return super().real(name, low, high, decimals)


@cache
def parameter_names(template_id: str, version: int | None = None) -> tuple[str, ...]:
    """Return the parameter names that constraints may restrict, sorted.

    The names are collected by drawing a few dozen variants, so a parameter drawn only in rare
    branches may be missing; the engine still accepts any name the template draws.
    """
    t = get_template(template_id, version)
    draw = _NameRecorder(np.random.Generator(np.random.PCG64(0)))
    for _ in range(64):
        t.sample(draw)
    return tuple(sorted(draw.names))


def _build_core(
    t: Template,
    seed: int,
    ckey: tuple[tuple[str, tuple[Any, ...]], ...],
    draw: Draw | None = None,
) -> _Core:
    """Draw until a variant has distinct misconception values (see :class:`Misconception`).

    ``draw`` defaults to ``Draw.seeded(seed, constraints)``; the tests pass a draw over a freshly
    built ``Generator(PCG64(seed))`` to check that both give the same variant.
    """
    constraints = dict(ckey)
    if draw is None:
        draw = Draw.seeded(seed, constraints)
    fallback: _Core | None = None
    for _ in range(MAX_ATTEMPTS):
        p = t.sample(draw)
        if constraints and not draw.used >= constraints.keys():
            unknown = sorted(set(constraints) - draw.used)
            known = ", ".join(parameter_names(t.id, t.version))
            raise InvalidConstraints(
                f"template {t.id!r} has no parameter named {unknown}; it draws: {known}"
            )
        try:
            ans = t.answer(p)
        except ValueError:
            continue
        values: list[tuple[Misconception, Value]] = []
        ok = True
        for m in t.misconceptions:
            try:
                v = m.value(p)
            except (ValueError, ZeroDivisionError):
                continue  # the learner's wrong formula has no value here
            if v is None or (type(v) is float and not math.isfinite(v)):
                continue
            if _is_close(t, v, ans):
                if m.absorbable:
                    continue  # rounding swallows this mistake here: nothing to detect
                ok = False
            else:
                clash: Misconception | None = None
                for earlier, w in values:  # a plain loop: this runs per misconception per draw
                    if _is_close(t, v, w):
                        clash = earlier
                        break
                if clash is None:
                    values.append((m, v))
                    continue
                if m.defers_to == clash.id:
                    continue  # the same number is attributed to the earlier misconception
                ok = False
            if not constraints or fallback is not None:
                break  # this draw is rejected; only a constrained first draw is kept whole
        if ok and len(values) >= MIN_APPLICABLE:
            return _Core(t, seed, p, ans, tuple(values), t.format_value(ans))
        if constraints and fallback is None:
            fallback = _Core(t, seed, p, ans, tuple(values), t.format_value(ans))
    if fallback is not None:
        # The constraints pin the parameters to values where some misconceptions coincide with
        # the answer or with each other; keep the distinguishable ones rather than fail.
        return fallback
    if constraints:
        raise InvalidConstraints(f"no valid variant of {t.id!r} satisfies {constraints}")
    raise RuntimeError(f"template {t.id!r} found no valid variant for seed {seed}")


@lru_cache(maxsize=8192)
def _core(
    template_id: str, version: int, seed: int, ckey: tuple[tuple[str, tuple[Any, ...]], ...]
) -> _Core:
    return _build_core(get_template(template_id, version), seed, ckey)


def _frozen_instance(cls: type[T], fields: dict[str, Any]) -> T:
    """Build a frozen dataclass instance from ``fields`` (every field, by name).

    The generated ``__init__`` of a frozen dataclass sets each field through
    ``object.__setattr__``; filling the instance dictionary at once costs a quarter of that, and
    the instance stays frozen. Used for the two objects made per request, Variant and GradeResult.
    """
    obj = object.__new__(cls)
    obj.__dict__.update(fields)
    return obj


def _variant(core: _Core, constraints: Mapping[str, Sequence[Any]] | None) -> Variant:
    t = core.template
    return _frozen_instance(
        Variant,
        {
            "template_id": t.id,
            "version": t.version,
            "seed": core.seed,
            "kind": t.kind,
            # A read-only view: the parameters are shared with the memoized variant.
            "params": MappingProxyType(core.params),
            "answer": core.answer,
            "constraints": constraints,
            "_core": core,
        },
    )


def _result(
    score: float,
    misconception: str | None,
    feedback: Bilingual,
    expected: str,
    parsed: Value,
    lang: str,
    core: _Core,
) -> GradeResult:
    """Return the GradeResult of a readable response (it counts as an attempt)."""
    return _frozen_instance(
        GradeResult,
        {
            "score": score,
            "correct": misconception is None and score == 1.0,
            "counts_as_attempt": True,
            "misconception": misconception,
            "feedback": feedback,
            "format_error": None,
            "expected": expected,
            "parsed": parsed,
            "lang": lang,
            "_core": core,
        },
    )


def _check_seed(seed: int) -> int:
    if type(seed) is int and seed >= 0:
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def generate(
    template_id: str,
    seed: int,
    *,
    version: int | None = None,
    constraints: Mapping[str, Sequence[Any]] | None = None,
) -> Variant:
    """Return the variant of ``template_id`` (latest version by default) for ``seed``."""
    t = get_template(template_id, version)
    core = _core(t.id, t.version, _check_seed(seed), _constraints_key(constraints))
    return _variant(core, constraints)


def _choices(core: _Core) -> tuple[Choice, ...]:
    t = core.template
    if t.kind is AnswerKind.CHOICE:
        # The prompt lists the options in the template's order; keep those labels.
        wrong = {v: m.id for m, v in core.misconceptions}
        return tuple(
            Choice(chr(ord("A") + i), text.en, key, key == core.answer, wrong.get(key))
            for i, (key, text) in enumerate(t.choices)
        )
    entries: list[tuple[Value, str | None]] = [(core.answer, None)]
    entries += [(v, m.id) for m, v in core.misconceptions[:MAX_DISTRACTORS]]
    rng = np.random.Generator(np.random.PCG64([core.seed, 0x4D43]))
    order = rng.permutation(len(entries)).tolist()
    return tuple(
        Choice(
            label=chr(ord("A") + i),
            text=t.format_value(entries[j][0]),
            value=entries[j][0],
            correct=entries[j][1] is None,
            misconception=entries[j][1],
        )
        for i, j in enumerate(order)
    )


def _parse(t: Template, core: _Core, response: str) -> Value:
    kind = t.kind
    if kind is AnswerKind.INTEGER or kind is AnswerKind.REAL:
        return parse_number(response, allow_percent=t.ratio)
    if kind is AnswerKind.TUPLE:
        assert isinstance(core.answer, tuple)
        values = parse_tuple(response, len(core.answer))
        if float not in map(type, values):
            return values  # type: ignore[return-value]
        return tuple(int(v) if float(v).is_integer() else v for v in values)  # type: ignore[misc]
    if kind is AnswerKind.SET:
        return frozenset(int(v) if float(v).is_integer() else v for v in parse_set(response))  # type: ignore[misc]
    keys = [k for k, _ in t.choices]
    folded = response.strip().strip(".。").casefold()
    for key, text in t.choices:
        if folded in (key.casefold(), text.en.casefold(), text.zh.casefold()):
            return key
    return keys[parse_choice(response, len(keys))]


def _matches(t: Template, response: Value, target: Value) -> bool:
    if isinstance(response, int | float) and isinstance(target, int | float):
        if t.kind is AnswerKind.REAL:
            return t.tolerance.accepts(float(response), float(target))
        return abs(response - target) < 1e-9
    return response == target


_CORRECT = Bilingual(zh="正确。", en="Correct.")


def grade(
    template_id: str,
    version: int,
    seed: int,
    response: str,
    *,
    constraints: Mapping[str, Sequence[Any]] | None = None,
    lang: Literal["en", "zh"] = "en",
    choice: bool = False,
) -> GradeResult:
    """Grade ``response`` to the variant (template_id, version, seed, constraints).

    With ``choice=True`` the response is the label of a multiple-choice option ("B"); otherwise it
    is typed input. Return the score in [0, 1], the matched misconception (if any), bilingual
    feedback and the worked solution; an unreadable response yields ``format_error`` and
    ``counts_as_attempt=False``.
    """
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    if not isinstance(response, str):
        if response is None:
            response = ""  # a missing answer is a format error, not a crash
        elif isinstance(response, int | float) and not isinstance(response, bool):
            response = repr(response)
        else:
            raise TypeError(f"response must be a string, got {type(response).__name__}")
    t = get_template(template_id, version)
    core = _core(t.id, t.version, _check_seed(seed), _constraints_key(constraints))
    expected = core.answer_text
    try:
        if choice:
            options = _choices(core)
            parsed: Value = options[parse_choice(response, len(options))].value
        else:
            parsed = _parse(t, core, response)
    except ParseError as exc:
        return GradeResult(
            score=0.0,
            correct=False,
            counts_as_attempt=False,
            misconception=None,
            feedback=exc.message,
            format_error=exc.message,
            expected=expected,
            parsed=None,
            lang=lang,
            _core=core,
        )
    if _matches(t, parsed, core.answer):
        return _result(1.0, None, _CORRECT, expected, parsed, lang, core)
    for m, v in core.misconceptions:
        if _matches(t, parsed, v):
            feedback = Bilingual(
                zh=f"{m.feedback.zh}正确答案是 {expected}。",
                en=f"{m.feedback.en} The correct answer is {expected}.",
            )
            return _result(m.credit, m.id, feedback, expected, parsed, lang, core)
    feedback = Bilingual(
        zh=f"不正确。正确答案是 {expected},请对照解答步骤。",
        en=f"Not correct. The answer is {expected}; compare with the worked solution.",
    )
    return _result(0.0, None, feedback, expected, parsed, lang, core)
