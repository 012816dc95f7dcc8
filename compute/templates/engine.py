"""Registry, variant generation and grading of the numeric templates.

``generate`` and ``grade`` are pure functions of (template id, version, seed, constraints) and the
response: a caller that stores those four values (a :class:`~compute.templates.key.VariantKey`
holds exactly them) can rebuild the variant and grade a response to it at any later time, as long
as that template version stays registered. Drawing the parameters and computing the answer and
the misconception values is memoized, so grading a variant that was just generated costs one
parse and a few comparisons.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from types import MappingProxyType
from typing import Any, Literal, TypeVar, overload

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
from compute.templates.key import VariantKey
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
    "VariantKey",
    "check_seed",
    "distinguishable",
    "generate",
    "get_template",
    "grade",
    "parameter_names",
    "register",
    "registry",
]

#: Draws tried before a variant is declared impossible. Each draw of every template takes well
#: under a millisecond within the bounds :class:`~compute.templates.base.Draw` puts on constraint
#: values, so a constraint that leaves no valid variant fails within a fraction of a second.
MAX_ATTEMPTS = 200
#: Seeds are stored in 64-bit signed columns: ``0 <= seed < SEED_LIMIT``.
SEED_LIMIT = 2**63
#: What a template's own code may raise on constraint values it was not written for (a negative
#: kernel, a string where a number goes); with constraints these become InvalidConstraints.
_TEMPLATE_ERRORS = (
    TypeError,
    ValueError,
    ArithmeticError,  # OverflowError, ZeroDivisionError, FloatingPointError
    IndexError,
    KeyError,
    MemoryError,
    RecursionError,
)
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
    """Return every registered template (all versions), sorted by id then version.

    Raises nothing. Old versions stay listed: a variant is graded by the version it was drawn
    from, so a caller must store the version with the seed.
    """
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get_template(template_id: str, version: int | None = None) -> Template:
    """Return the template ``template_id`` at ``version`` (default: the latest version).

    Raise :class:`UnknownTemplate` (a KeyError and a ValueError) for an id that is not
    registered, or for a version the id does not have (the message lists the known versions).
    A caller that will grade later must store ``template.version``, not rely on "latest".
    """
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


@dataclass(frozen=True, slots=True)
class _Core:
    """What a variant is made of, memoized per (template, version, seed, constraints)."""

    template: Template
    seed: int
    params: Params
    answer: Value
    misconceptions: tuple[tuple[Misconception, Value], ...]
    answer_text: str


@dataclass(frozen=True)
class Variant:
    """One concrete question; texts, misconceptions and options are rendered on first access.

    Build it with :func:`generate`, never directly. To grade a response to it later, store
    ``template_id``, ``version``, ``seed`` and ``constraints`` (or ``key``, which holds the four)
    and pass them to :func:`grade`; nothing else is needed, and the answer must never be sent to
    a learner's client. ``params`` is a read-only view; ``prompt``, ``solution``,
    ``misconceptions`` and ``choices`` are rendered on first access. Accessing them raises
    nothing for a variant :func:`generate` returned.
    """

    template_id: str
    version: int
    seed: int
    kind: AnswerKind
    params: Mapping[str, Any]
    answer: Value
    constraints: Mapping[str, Sequence[Any]] | None = field(default=None, compare=False)
    _core: _Core | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> VariantKey:
        """Return the (template id, version, seed, constraints) that rebuild this variant."""
        return VariantKey.of(self.template_id, self.version, self.seed, self.constraints)

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
    """The outcome of grading one response, built by :func:`grade`.

    ``counts_as_attempt`` is False exactly when ``format_error`` is set: an unreadable response is
    sent back to the learner and not recorded as a wrong answer. ``score`` is in [0, 1] (partial
    credit for some misconceptions), ``misconception`` the id of the recognised mistake (stable
    across versions of a template; store it for statistics), ``expected`` the answer as a learner
    would type it. ``solution`` is rendered on first access; ``to_dict`` gives JSON-ready data.
    Nothing here raises. To re-grade later, store the response and the variant's key, not this
    result: grading is a pure function of the two.
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


#: Longest list a constraint may give (its values, or a list-valued value such as a vector).
MAX_CONSTRAINT_ITEMS = 256


def _frozen(value: Any) -> Any:
    """Return ``value`` with lists turned into tuples, so that it can key the cache."""
    if isinstance(value, list | tuple):
        if len(value) > MAX_CONSTRAINT_ITEMS:
            raise InvalidConstraints(
                f"a constraint value lists {len(value)} items, more than {MAX_CONSTRAINT_ITEMS}"
            )
        return tuple(_frozen(v) for v in value)
    return value


def _constraints_key(
    constraints: Mapping[str, Sequence[Any]] | None,
) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """Return ``constraints`` as a sorted, hashable key; raise InvalidConstraints on bad shapes."""
    if not constraints:
        return ()
    if not isinstance(constraints, Mapping):
        raise InvalidConstraints(
            f"constraints must be a mapping of parameter names to lists, got {constraints!r}"
        )
    key = []
    for name in sorted(constraints, key=str):
        if not isinstance(name, str):
            raise InvalidConstraints(f"constraint names must be strings, got {name!r}")
        values = constraints[name]
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise InvalidConstraints(f"constraint {name!r} must be a list of values")
        values = _frozen(values if isinstance(values, list | tuple) else list(values))
        if not values:
            raise InvalidConstraints(f"constraint {name!r} lists no values")
        try:
            hash(values)
        except TypeError:
            raise InvalidConstraints(
                f"constraint {name!r} must list numbers, strings, booleans or lists of them"
            ) from None
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

    def pick(self, name: str, options: Sequence[T], *, like: Sequence[Any] = ()) -> T:
        self.names.add(name)
        return super().pick(name, options, like=like)

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

    ``draw`` defaults to a draw over ``numpy.random.default_rng(seed)``. With constraints, an
    error the template's own code raises on the constrained values becomes InvalidConstraints.
    """
    constraints = dict(ckey)
    if draw is None:
        draw = Draw.seeded(seed, constraints, t.limits)
    if not constraints:
        return _draw_core(t, seed, draw, constraints)
    try:
        return _draw_core(t, seed, draw, constraints)
    except InvalidConstraints:
        raise
    except _TEMPLATE_ERRORS as exc:
        raise InvalidConstraints(
            f"template {t.id!r} cannot draw a variant with constraints {constraints}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _draw_core(t: Template, seed: int, draw: Draw, constraints: dict[str, Any]) -> _Core:
    fallback: _Core | None = None
    rejected = 0
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
            rejected += 1
            continue  # the template rejects this draw (e.g. a kernel larger than the input)
        if type(ans) is float and not math.isfinite(ans):
            rejected += 1
            continue  # e.g. the mean loss over zero samples a constraint asked for
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
                clash = next((e for e, w in values if _is_close(t, v, w)), None)
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
        raise InvalidConstraints(
            f"the constraints {constraints} leave no valid variant of {t.id!r}: the template "
            f"rejected all {rejected} draws (for example a kernel larger than the padded input)"
        )
    raise RuntimeError(f"template {t.id!r} found no valid variant for seed {seed}")


def distinguishable(t: Template, p: Params) -> bool:
    """Return whether the engine keeps the unconstrained draw ``p`` of ``t`` as a variant.

    The test is the one :func:`generate` applies to each draw without constraints: the answer
    exists and is finite, every misconception that shows lies away from the answer (an
    absorbable one may coincide with it) and from the others (unless it defers to the one it
    meets), and at least ``MIN_APPLICABLE`` show. A sampler may use it to keep only inputs the
    engine accepts, so that the first draw of every seed is the variant. ``t.answer`` may
    annotate ``p`` as it does during a draw. Raises whatever the template's own code raises
    other than the ValueError that rejects a draw.
    """
    try:
        ans = t.answer(p)
    except ValueError:
        return False
    if type(ans) is float and not math.isfinite(ans):
        return False
    values: list[tuple[Misconception, Value]] = []
    for m in t.misconceptions:
        try:
            v = m.value(p)
        except (ValueError, ZeroDivisionError):
            continue
        if v is None or (type(v) is float and not math.isfinite(v)):
            continue
        if _is_close(t, v, ans):
            if m.absorbable:
                continue
            return False
        clash = next((e for e, w in values if _is_close(t, v, w)), None)
        if clash is None:
            values.append((m, v))
        elif m.defers_to != clash.id:
            return False
    return len(values) >= MIN_APPLICABLE


@lru_cache(maxsize=8192)
def _core(
    template_id: str, version: int, seed: int, ckey: tuple[tuple[str, tuple[Any, ...]], ...]
) -> _Core:
    return _build_core(get_template(template_id, version), seed, ckey)


def _variant(core: _Core, constraints: Mapping[str, Sequence[Any]] | None) -> Variant:
    t = core.template
    return Variant(
        template_id=t.id,
        version=t.version,
        seed=core.seed,
        kind=t.kind,
        # A read-only view: the parameters are shared with the memoized variant.
        params=MappingProxyType(core.params),
        answer=core.answer,
        constraints=constraints,
        _core=core,
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
    return GradeResult(
        score=score,
        correct=misconception is None and score == 1.0,
        counts_as_attempt=True,
        misconception=misconception,
        feedback=feedback,
        format_error=None,
        expected=expected,
        parsed=parsed,
        lang=lang,
        _core=core,
    )


def check_seed(seed: object) -> int:
    """Return ``seed`` as an int; raise ValueError unless ``0 <= seed < 2**63``.

    The bound is what a signed 64-bit database column holds, so every seed the engine accepts
    can be stored and used again. NumPy integers are accepted, booleans and floats are not.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"seed must be an integer from 0 to 2**63 - 1, got {seed!r}")
    value = operator.index(seed)
    if not 0 <= value < SEED_LIMIT:
        raise ValueError(f"seed must be from 0 to 2**63 - 1 (a signed 64-bit value), got {value}")
    return value


@overload
def generate(key: VariantKey, /) -> Variant: ...


@overload
def generate(
    template_id: str,
    seed: int,
    *,
    version: int | None = None,
    constraints: Mapping[str, Sequence[Any]] | None = None,
) -> Variant: ...


def generate(
    template_id: str | VariantKey,
    seed: int | None = None,
    *,
    version: int | None = None,
    constraints: Mapping[str, Sequence[Any]] | None = None,
) -> Variant:
    """Return the variant of ``template_id`` (latest version by default) for ``seed``.

    Pass a :class:`VariantKey` alone instead of the id and keywords to rebuild a stored variant.
    The same arguments always give the same variant. To grade a response later, store
    ``variant.key`` (the template id, the *resolved* version, the seed and the constraints).

    Raise :class:`UnknownTemplate` for an unknown id or version; ``ValueError`` for a seed that
    is not an integer in ``[0, 2**63)``; :class:`InvalidConstraints` (a ValueError) when a
    constraint names a parameter the template does not draw, is not a non-empty list, holds a
    value of the wrong type or out of range, makes the template's own code fail, or leaves no
    valid variant. Any of these comes back within a fraction of a second.
    """
    if isinstance(template_id, VariantKey):
        if seed is not None or version is not None or constraints is not None:
            raise TypeError("generate(key) takes no seed, version or constraints")
        key = template_id
        template_id, seed, version = key.template_id, key.seed, key.version
        constraints = key.constraints_dict()
    if seed is None:
        raise TypeError("generate() needs a seed")
    t = get_template(template_id, version)
    core = _core(t.id, t.version, check_seed(seed), _constraints_key(constraints))
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


@overload
def grade(
    key: VariantKey,
    response: str,
    /,
    *,
    lang: Literal["en", "zh"] = "en",
    choice: bool = False,
) -> GradeResult: ...


@overload
def grade(
    template_id: str,
    version: int,
    seed: int,
    response: str,
    /,
    *,
    constraints: Mapping[str, Sequence[Any]] | None = None,
    lang: Literal["en", "zh"] = "en",
    choice: bool = False,
) -> GradeResult: ...


def grade(
    *args: Any,
    constraints: Mapping[str, Sequence[Any]] | None = None,
    lang: Literal["en", "zh"] = "en",
    choice: bool = False,
) -> GradeResult:
    """Grade a response to the variant (template_id, version, seed, constraints).

    Call it as ``grade(key, response)`` with a :class:`VariantKey`, or as
    ``grade(template_id, version, seed, response, constraints=...)``. With ``choice=True`` the
    response is the label of a multiple-choice option ("B"); otherwise it is typed input. Return
    the score in [0, 1], the matched misconception (if any), bilingual feedback and the worked
    solution; an unreadable response yields ``format_error`` and ``counts_as_attempt=False``
    (not an exception). ``None`` counts as an empty response and a number as its ``repr``.

    Grading depends only on the key and the response, so storing both is enough to grade again
    later (the version must be the one the variant was drawn with, never "latest"). Raise
    ``ValueError`` for a ``lang`` other than "en"/"zh", ``TypeError`` for a response of another
    type or a wrong argument list, and what :func:`generate` raises for a bad key.
    """
    if len(args) == 2 and isinstance(args[0], VariantKey):
        if constraints is not None:
            raise TypeError("grade(key, response) takes no constraints: the key holds them")
        key, response = args
        template_id, version, seed = key.template_id, key.version, key.seed
        constraints = key.constraints_dict()
    elif len(args) == 4:
        template_id, version, seed, response = args
    else:
        raise TypeError("grade() takes (key, response) or (template_id, version, seed, response)")
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
    core = _core(t.id, t.version, check_seed(seed), _constraints_key(constraints))
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
