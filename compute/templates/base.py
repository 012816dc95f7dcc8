"""Core types of the numeric question templates: texts, answer kinds, misconceptions, templates.

A template turns a seed into a variant: it draws parameters from
``numpy.random.Generator(numpy.random.PCG64(seed))`` through a :class:`Draw`, computes the answer
with the functions of :mod:`compute`, names the wrong values that common misconceptions produce,
and renders the prompt and the worked solution in Simplified Chinese and English.
"""

from __future__ import annotations

import math
import threading
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
    "pcg64_seed_state",
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


#: PCG64's 128-bit multiplier and the SeedSequence output hash constants (numpy's ``_pcg64`` and
#: ``bit_generator`` sources); ``tests/compute/test_templates_stability.py`` checks the stream they
#: give against ``Generator(PCG64(seed))`` itself.
_PCG_MULT = 0x2360ED051FC65DA44385DF649FCCF645
_MASK128 = (1 << 128) - 1
_MASK32 = 0xFFFFFFFF
_SS_INIT_B = 0x8B51F9DD
_SS_MULT_B = 0x58F38DED


def _output_hash_constants() -> tuple[int, ...]:
    """Return the (xor, multiply) constant pairs of ``generate_state``'s eight words, flattened.

    The running hash constant does not depend on the seed, so its eight steps are worked out once.
    """
    out, h = [], _SS_INIT_B
    for _ in range(8):
        x = h
        h = (h * _SS_MULT_B) & _MASK32
        out += [x, h]
    return tuple(out)


(_X0, _Y0, _X1, _Y1, _X2, _Y2, _X3, _Y3, _X4, _Y4, _X5, _Y5, _X6, _Y6, _X7, _Y7) = (
    _output_hash_constants()
)


def pcg64_seed_state(seed: int) -> tuple[int, int]:
    """Return the (state, inc) pair that ``numpy.random.PCG64(seed)`` starts from.

    NumPy builds it in three steps: ``SeedSequence(seed)`` mixes the seed into a pool of four
    32-bit words, ``generate_state(4, uint64)`` hashes the pool into eight 32-bit words read as
    four 64-bit ones, and PCG64 takes the first two as the initial state and the last two as the
    stream (``inc``), stepping the generator twice. Only the pool comes from NumPy here:
    ``generate_state`` runs under ``np.errstate``, whose context switch costs more than the
    hashing itself, written out below word by word.
    """
    p0, p1, p2, p3 = np.random.SeedSequence(seed).pool.tolist()
    m = _MASK32
    d0 = ((p0 ^ _X0) * _Y0) & m
    d1 = ((p1 ^ _X1) * _Y1) & m
    d2 = ((p2 ^ _X2) * _Y2) & m
    d3 = ((p3 ^ _X3) * _Y3) & m
    d4 = ((p0 ^ _X4) * _Y4) & m
    d5 = ((p1 ^ _X5) * _Y5) & m
    d6 = ((p2 ^ _X6) * _Y6) & m
    d7 = ((p3 ^ _X7) * _Y7) & m
    # Each word is d ^ (d >> 16); pairs are little-endian uint64s (low word first).
    init_state = ((d1 ^ d1 >> 16) << 96) | ((d0 ^ d0 >> 16) << 64)
    init_state |= ((d3 ^ d3 >> 16) << 32) | (d2 ^ d2 >> 16)
    init_seq = ((d5 ^ d5 >> 16) << 96) | ((d4 ^ d4 >> 16) << 64)
    init_seq |= ((d7 ^ d7 >> 16) << 32) | (d6 ^ d6 >> 16)
    inc = ((init_seq << 1) | 1) & _MASK128
    # pcg_setseq_128_srandom_r: state = 0; step; state += init_state; step.
    return ((inc + init_state) * _PCG_MULT + inc) & _MASK128, inc


class _Stream(threading.local):
    """One PCG64 generator per thread, re-seeded for each variant instead of rebuilt.

    Building ``Generator(PCG64(seed))`` costs more than drawing a whole variant; setting the
    state of an existing one gives the same variates at a fraction of the cost.
    """

    def __init__(self) -> None:
        self.bits = np.random.PCG64(0)
        self.rng = np.random.Generator(self.bits)
        self.owner: object = None


_STREAM = _Stream()


class Draw:
    """Draw named parameters from a seeded generator, honouring constraints.

    The variates are those of ``numpy.random.Generator(numpy.random.PCG64(seed)).random()``,
    fetched ``_BUFFER`` at a time to keep the per-variant cost low; the stream is the same
    whatever the chunk size, a pure function of the seed. Build a draw with :meth:`seeded` (the
    fast path used by the engine) or from any ``Generator``. A constraint ``{name: [values]}``
    replaces the default options of the parameter ``name`` by ``values``.
    """

    __slots__ = ("_buf", "_constraints", "_fill", "_i", "_rng", "_start", "_taken", "used")

    _start: tuple[int, int]
    _taken: int

    def __init__(
        self, rng: np.random.Generator, constraints: Mapping[str, Sequence[Any]] | None = None
    ) -> None:
        self._rng = rng
        # The unbound function, not ``self._from_generator``: a bound method stored on the
        # instance would make a reference cycle, leaving every draw to the garbage collector.
        self._fill: Callable[[Draw], list[float]] = Draw._from_generator
        self._buf: list[float] = []
        self._i = _BUFFER
        self._constraints = constraints or {}
        self.used: set[str] = set()

    @classmethod
    def seeded(cls, seed: int, constraints: Mapping[str, Sequence[Any]] | None = None) -> Draw:
        """Return a draw whose variates are those of ``Generator(PCG64(seed))``."""
        draw = cls(_STREAM.rng, constraints)
        draw._start = pcg64_seed_state(seed)
        draw._taken = 0
        draw._fill = Draw._from_stream
        return draw

    def _from_generator(self) -> list[float]:
        values: list[float] = self._rng.random(_BUFFER).tolist()
        return values

    def _from_stream(self) -> list[float]:
        stream = _STREAM
        if stream.owner is not self:
            # First chunk, or another draw on this thread used the generator since our last one.
            state, inc = self._start
            stream.bits.state = {
                "bit_generator": "PCG64",
                "state": {"state": state, "inc": inc},
                "has_uint32": 0,
                "uinteger": 0,
            }
            if self._taken:
                stream.bits.advance(self._taken)  # one 64-bit output per double
            stream.owner = self
        self._taken += _BUFFER
        values: list[float] = stream.rng.random(_BUFFER).tolist()
        return values

    def uniform(self) -> float:
        """Return the next uniform variate in [0, 1)."""
        if self._i >= _BUFFER:
            self._buf = self._fill(self)
            self._i = 0
        u = self._buf[self._i]
        self._i += 1
        return u

    def index(self, n: int) -> int:
        """Return a uniform index in ``range(n)``."""
        if self._i >= _BUFFER:
            self._buf = self._fill(self)
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
            self._buf = self._fill(self)
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
