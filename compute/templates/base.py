"""Core types of the numeric question templates: texts, answer kinds, misconceptions, templates.

A template turns a seed into a variant: it draws parameters from
``numpy.random.Generator(numpy.random.PCG64(seed))`` through a :class:`Draw`, computes the answer
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

    Uniform variates are fetched ``_BUFFER`` at a time from the generator to keep the per-variant
    cost low; the stream of variates is the same whatever the chunk size, a pure function of the
    seed. A constraint ``{name: [values]}`` replaces
    the default options of the parameter ``name`` by ``values``.
    """

    __slots__ = ("_buf", "_constraints", "_i", "_rng", "used")

    def __init__(
        self, rng: np.random.Generator, constraints: Mapping[str, Sequence[Any]] | None = None
    ) -> None:
        self._rng = rng
        self._buf: list[float] = []
        self._i = _BUFFER
        self._constraints = constraints or {}
        self.used: set[str] = set()

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
        if self._i >= _BUFFER:
            self._buf = self._rng.random(_BUFFER).tolist()
            self._i = 0
        u = self._buf[self._i]
        self._i += 1
        return int(u * n)  # u < 1, so the index is < n

    def pick(self, name: str, options: Sequence[T]) -> T:
        """Return one of ``options`` (or of the constraint's values for ``name``)."""
        if self._constraints and name in self._constraints:
            self.used.add(name)
            options = self._constraints[name]
        # index() inlined: this is the hot path of every template.
        i = self._i
        if i >= _BUFFER:
            self._buf = self._rng.random(_BUFFER).tolist()
            i = 0
        self._i = i + 1
        return options[int(self._buf[i] * len(options))]

    def integer(self, name: str, low: int, high: int) -> int:
        """Return an integer in ``[low, high]`` (or one of the constraint's values)."""
        if name in self._constraints:
            return int(self.pick(name, ()))
        return low + self.index(high - low + 1)

    def real(self, name: str, low: float, high: float, decimals: int) -> float:
        """Return a real in ``[low, high]`` rounded to ``decimals`` places, exactly as displayed."""
        if name in self._constraints:
            return float(self.pick(name, ()))
        return round(low + self.uniform() * (high - low), decimals)

    def free(self, low: int, high: int) -> int:
        """Return an unnamed integer in ``[low, high]`` (not subject to constraints)."""
        return low + self.index(high - low + 1)


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
