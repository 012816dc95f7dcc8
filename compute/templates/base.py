"""Core types of the numeric question templates: texts, answer kinds, misconceptions, templates.

A template turns a seed into a variant: it draws parameters from
``numpy.random.default_rng(seed)`` (that is ``Generator(PCG64(seed))``) through a :class:`Draw`, computes the answer
with the functions of :mod:`compute`, names the wrong values that common misconceptions produce,
and renders the prompt and the worked solution in Simplified Chinese and English.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

import numpy as np

__all__ = [
    "AnswerKind",
    "Bilingual",
    "Draw",
    "InvalidConstraints",
    "Misconception",
    "Params",
    "Template",
    "Tolerance",
    "UnknownTemplate",
    "Value",
]

T = TypeVar("T")

#: Parameters of one variant, by name. Values are ints, floats, strings, bools or tuples of them.
Params = dict[str, Any]

#: A graded value: an integer or real number, a tuple of integers, a set of integers or a choice key.
Value = int | float | tuple[int, ...] | frozenset[int] | str


class UnknownTemplate(KeyError, ValueError):
    """Raised for a template id or (id, version) pair that is not registered."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown template"


class InvalidConstraints(ValueError):
    """Raised when constraints name an unknown parameter or admit no valid variant."""


@dataclass(frozen=True, slots=True)
class Bilingual:
    """A text in Simplified Chinese (``zh``) and English (``en``), Markdown with LaTeX allowed."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        """Return the text in ``lang`` ("zh" or "en")."""
        return self.zh if lang == "zh" else self.en


class AnswerKind(StrEnum):
    """How an answer is entered and compared."""

    INTEGER = "integer"
    REAL = "real"
    TUPLE = "tuple"
    SET = "set"
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class Tolerance:
    """Accept a real response ``x`` for answer ``a`` when ``|x - a| <= max(abs, rel * |a|)``.

    ``sig_figs`` additionally accepts a response that equals the answer once both are rounded to
    that many significant figures.
    """

    rel: float = 0.0
    abs: float = 0.0
    sig_figs: int | None = None

    def width(self, a: float) -> float:
        """Return the accepted distance from ``a``."""
        return max(self.abs, self.rel * abs(a))

    def accepts(self, x: float, a: float) -> bool:
        """Return whether ``x`` counts as equal to ``a``."""
        if abs(x - a) <= self.width(a) * (1 + 1e-9):
            return True
        if self.sig_figs is not None:
            return _round_sig(x, self.sig_figs) == _round_sig(a, self.sig_figs)
        return False


def _round_sig(x: float, sig: int) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, sig - 1 - math.floor(math.log10(abs(x))))


EXACT = Tolerance()

#: Uniform variates fetched from the generator per call.
_BUFFER = 32


@dataclass(frozen=True, slots=True)
class Misconception:
    """A named wrong way to solve a template.

    ``value`` maps the parameters to the value a learner holding the misconception would enter, or
    to ``None`` when the misconception cannot show in this variant (for example "padding counted
    once" when the padding is 0). ``credit`` is the partial credit awarded for that value.

    A value that coincides with the answer or with another misconception's makes the engine draw
    the variant again, except for an ``absorbable`` misconception: its mistake is one that integer
    rounding can swallow (padding counted once under a stride-2 floor), so a value equal to the
    answer means the mistake has no effect here and the misconception is left out instead.
    Without this, classic variants such as a 3x3, stride-2, padding-1 convolution on 224 pixels
    could never be drawn. Likewise ``defers_to`` names an earlier misconception that always
    produces the same number in some variants (padding 1 counted once at stride 1 is exactly the
    forgotten +1); there the number is attributed to that one and this misconception is left out.
    """

    id: str
    value: Callable[[Params], Value | None]
    feedback: Bilingual
    credit: float = 0.0
    absorbable: bool = False
    defers_to: str | None = None


class Draw:
    """Draw named parameters from a seeded generator, honouring constraints.

    The variates are those of ``numpy.random.default_rng(seed).random()`` (a
    ``Generator(PCG64(seed))``), fetched ``_BUFFER`` at a time; a double takes one 64-bit output
    whatever the chunk size, so the stream is a pure function of the seed. A constraint
    ``{name: [values]}`` replaces the default options of the parameter ``name`` by ``values``;
    each value must have the type of the default options (an int where the template draws ints)
    and a magnitude a template can compute with quickly (see :meth:`_checked`), or
    :class:`InvalidConstraints` is raised with a message naming the parameter.
    """

    __slots__ = ("_buf", "_checked_names", "_constraints", "_i", "_limits", "_rng", "used")

    def __init__(
        self,
        rng: np.random.Generator,
        constraints: Mapping[str, Sequence[Any]] | None = None,
        limits: Mapping[str, tuple[float, float]] | None = None,
    ) -> None:
        self._rng = rng
        self._limits = limits or {}
        self._buf: list[float] = []
        self._i = _BUFFER
        self._constraints = constraints or {}
        self._checked_names: set[str] = set()
        self.used: set[str] = set()

    @classmethod
    def seeded(
        cls,
        seed: int,
        constraints: Mapping[str, Sequence[Any]] | None = None,
        limits: Mapping[str, tuple[float, float]] | None = None,
    ) -> Draw:
        """Return a draw over ``numpy.random.default_rng(seed)``."""
        return cls(np.random.default_rng(seed), constraints, limits)

    def uniform(self) -> float:
        """Return the next uniform variate in [0, 1)."""
        if self._i >= _BUFFER:
            self._buf = self._rng.random(_BUFFER).tolist()
            self._i = 0
        u = self._buf[self._i]
        self._i += 1
        return u

    def index(self, n: int) -> int:
        """Return a uniform index in ``range(n)``."""
        return int(self.uniform() * n)  # u < 1, so the index is < n

    def _checked(self, name: str, options: Sequence[Any], kind: str) -> Sequence[Any]:
        """Return the constraint's values for ``name`` after checking them against ``options``.

        ``kind`` is "pick" (``options`` are the template's defaults), "integer" or "real". A value
        must be of the defaults' type (bools only where the defaults are bools, ints accepted
        for reals, tuples where the defaults are tuples, None only where a default is None), and
        a number must lie within ``MAX_MAGNITUDE`` of zero and within ``WIDEN`` times the
        largest default magnitude, so that no constraint can make a template loop or allocate
        without bound.
        """
        values = self._constraints[name]
        self.used.add(name)
        if name in self._checked_names:
            return values
        bounds = self._limits.get(name)
        for value in values:
            problem = _value_problem(value, options, kind)
            if problem is None and bounds is not None:
                low, high = bounds
                if any(not low <= x <= high for x in _numbers(value)):
                    problem = f"is out of range for this parameter (from {low:g} to {high:g})"
            if problem:
                raise InvalidConstraints(f"constraint {name!r}: {value!r:.60} {problem}")
        self._checked_names.add(name)
        return values

    def pick(self, name: str, options: Sequence[T], *, like: Sequence[Any] = ()) -> T:
        """Return one of ``options`` (or of the constraint's values for ``name``).

        ``like`` gives example values when ``options`` do not show what a constraint may hold
        (a ``(None,)`` default meaning "draw it some other way"); constraint values are checked
        against both.
        """
        if self._constraints and name in self._constraints:
            options = self._checked(name, (*options, *like), "pick")
        return options[self.index(len(options))]

    def integer(self, name: str, low: int, high: int) -> int:
        """Return an integer in ``[low, high]`` (or one of the constraint's values)."""
        if self._constraints and name in self._constraints:
            values = self._checked(name, (low, high), "integer")
            return int(values[self.index(len(values))])
        return low + self.index(high - low + 1)

    def real(self, name: str, low: float, high: float, decimals: int) -> float:
        """Return a real in ``[low, high]`` rounded to ``decimals`` places, exactly as displayed."""
        if self._constraints and name in self._constraints:
            values = self._checked(name, (low, high), "real")
            return float(values[self.index(len(values))])
        return round(low + self.uniform() * (high - low), decimals)

    def free(self, low: int, high: int) -> int:
        """Return an unnamed integer in ``[low, high]`` (not subject to constraints)."""
        return low + self.index(high - low + 1)


#: A constrained number may not exceed this magnitude, whatever the template's defaults.
MAX_MAGNITUDE = 10**6
#: Nor this many times the largest default magnitude (at least ``_WIDEN_FLOOR``).
WIDEN = 16
_WIDEN_FLOOR = 64
#: A constrained sequence (a layer list, a vector) may be at most this many times as long as the
#: longest default (at least ``_WIDEN_FLOOR``).
LONGER = 4


def _numbers(value: Any) -> list[float]:
    """Return the numbers in ``value`` (a number, or nested tuples/lists of numbers)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return []
    if isinstance(value, int | float):
        return [float(value)] if isinstance(value, float) else [value]
    if isinstance(value, tuple | list):
        return [x for v in value for x in _numbers(v)]
    return []


def _shape_of(value: Any) -> str:
    """Return a coarse type of ``value``: bool, number, int, str, none, seq or other."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, tuple | list):
        return "seq"
    return "other"


def _value_problem(value: Any, options: Sequence[Any], kind: str) -> str | None:
    """Return why ``value`` cannot replace ``options`` (see :meth:`Draw._checked`), or None."""
    shape = _shape_of(value)
    if shape == "other":
        return f"is a {type(value).__name__}; use numbers, strings, booleans or lists of them"
    if kind == "integer":
        allowed = {"int"}
    elif kind == "real":
        allowed = {"int", "number"}
    else:
        allowed = {_shape_of(o) for o in options}
        if "number" in allowed:
            allowed.add("int")
    if shape not in allowed:
        names = {
            "int": "an integer",
            "number": "a number",
            "bool": "true or false",
            "str": "a string",
            "none": "null",
            "seq": "a list",
        }
        wanted = " or ".join(sorted(names[a] for a in allowed if a in names))
        return f"is not {wanted}, as this parameter requires"
    numbers = _numbers(value)
    if any(isinstance(x, float) and not math.isfinite(x) for x in numbers):
        return "is not a finite number"
    if shape == "seq":
        longest = max((len(o) for o in options if isinstance(o, tuple | list)), default=0)
        if _depth(value) > 2 or len(value) > max(_WIDEN_FLOOR, LONGER * longest):
            return "is longer or more deeply nested than this parameter allows"
        inner = {_shape_of(x) for o in options if isinstance(o, tuple | list) for x in o}
        if "number" in inner:
            inner.add("int")
        if inner and not {_shape_of(x) for x in value} <= inner:
            return "holds values of another type than this parameter's"
    biggest = max((abs(x) for x in _numbers(list(options))), default=0.0)
    limit = min(MAX_MAGNITUDE, max(_WIDEN_FLOOR, WIDEN * biggest))
    if any(abs(x) > limit for x in numbers):
        return f"is out of range for this parameter (magnitudes up to {limit:g})"
    return None


def _depth(value: Any) -> int:
    if isinstance(value, tuple | list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


class Template(ABC):
    """A parametrized numeric question.

    Subclasses set the class attributes and implement :meth:`sample`, :meth:`answer`,
    :meth:`prompt` and :meth:`solution`. :meth:`sample` draws parameters; :meth:`answer` computes
    the answer with :mod:`compute` and may raise ``ValueError`` to reject the draw (the engine then
    draws again from the same generator).
    """

    id: ClassVar[str]
    version: ClassVar[int] = 1
    kind: ClassVar[AnswerKind]
    title: ClassVar[Bilingual]
    tolerance: ClassVar[Tolerance] = EXACT
    #: Accept percentages ("72%" means 0.72): set for answers that are ratios or probabilities.
    ratio: ClassVar[bool] = False
    #: ``format`` spec used to display real answers, e.g. ".4g" or ".4f".
    real_format: ClassVar[str] = ".4g"
    misconceptions: ClassVar[tuple[Misconception, ...]]
    #: Inclusive bounds on constrained values of some parameters (a count a template draws
    #: distinct values for, say); every other number is bounded by ``Draw``'s generic rule.
    limits: ClassVar[dict[str, tuple[float, float]]] = {}
    #: Parameters that the prompt leaves out when they have their default value (e.g. dilation 1).
    hidden_defaults: ClassVar[dict[str, Any]] = {}
    #: For CHOICE templates: option keys in display order and their texts.
    choices: ClassVar[tuple[tuple[str, Bilingual], ...]] = ()

    @abstractmethod
    def sample(self, draw: Draw) -> Params:
        """Draw the parameters of one variant."""

    @abstractmethod
    def answer(self, p: Params) -> Value:
        """Return the correct answer for parameters ``p``."""

    @abstractmethod
    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""

    @abstractmethod
    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the worked solution: formula, substitution and intermediate values."""

    def format_value(self, value: Value) -> str:
        """Render ``value`` the way a learner would type it."""
        if isinstance(value, bool):
            return str(int(value))
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            if self.kind is AnswerKind.INTEGER and value == int(value):
                return str(int(value))
            if self.kind is AnswerKind.INTEGER:
                return f"{value:g}"
            return format(value, self.real_format)
        if isinstance(value, tuple):
            return "(" + ", ".join(map(str, value)) + ")"
        if isinstance(value, frozenset):
            return "{" + ", ".join(map(str, sorted(value))) + "}"
        return value
