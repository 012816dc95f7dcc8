"""Number formatting shared by prompts, solutions and tests.

``num`` displays a parameter exactly: integers as digits, floats by their shortest round-trip
representation, so the number a learner reads is the number the answer was computed from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from compute.templates.base import Bilingual, Misconception, Params, Value

__all__ = ["mis", "num", "nums", "tex", "vec"]


def num(x: float) -> str:
    """Return the exact plain-text display of a parameter (``0.25``, ``1e-08``, ``224``)."""
    if isinstance(x, bool):
        return str(int(x))
    if isinstance(x, int):
        return str(x)
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x)}.0"
    return repr(float(x))


def tex(x: float) -> str:
    """Return the exact LaTeX display of a parameter (``10^{-8}`` for 1e-08)."""
    s = num(x)
    if "e" in s:
        mantissa, exponent = s.split("e")
        power = f"10^{{{int(exponent)}}}"
        return power if mantissa == "1" else f"{mantissa} \\times {power}"
    return s


def nums(values: Iterable[float], sep: str = ", ") -> str:
    """Return ``values`` displayed with :func:`num`, joined by ``sep``."""
    return sep.join(num(v) for v in values)


def vec(values: Iterable[float]) -> str:
    """Return ``values`` as a LaTeX row vector ``[a, b, c]``."""
    return "[" + ", ".join(tex(v) for v in values) + "]"


def mis(
    id: str,
    value: Callable[[Params], Value | None],
    zh: str,
    en: str,
    credit: float = 0.0,
    *,
    absorbable: bool = False,
    defers_to: str | None = None,
) -> Misconception:
    """Return a :class:`Misconception` with bilingual feedback."""
    return Misconception(
        id=id,
        value=value,
        feedback=Bilingual(zh=zh, en=en),
        credit=credit,
        absorbable=absorbable,
        defers_to=defers_to,
    )
