"""The one check that a numeric card's template can draw variants under its constraints.

Every writer of cards (the admin, the loader, importers) asks :func:`template_problem` before
it opens its write transaction, so a slow probe never holds a database lock. The probe draws a
few seeds in a helper thread and gives up when its time budget is spent: a pathological
constraint answers "too expensive" within about a second instead of holding a request. Only the
compute engine's documented exceptions are caught; anything else is a bug and propagates.

This module imports no Django, so ``knowledge.fixture_schema`` can use it as well.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["PROBE_BUDGET_SECONDS", "PROBE_SEEDS", "template_problem"]

#: Seeds every probe draws; a learner's review draws any seed, so a few different ones are tried.
PROBE_SEEDS: tuple[int, ...] = (0, 1, 2, 3, 4)
#: Wall-clock seconds a probe may take before the constraints are refused as too expensive.
PROBE_BUDGET_SECONDS = 1.0


def template_problem(
    template_id: str,
    version: int | None,
    constraints: Mapping[str, Sequence[Any]] | None,
    *,
    budget: float | None = None,
    seeds: Sequence[int] = PROBE_SEEDS,
) -> str | None:
    """Return why ``template_id`` at ``version`` cannot draw variants under ``constraints``, or None.

    The answer for the same arguments is remembered (the engine is deterministic), except a
    timeout, which is asked again next time.
    """
    try:
        key = json.dumps(constraints or {}, sort_keys=True)
    except (TypeError, ValueError):
        return "the constraints must map parameter names to lists of numbers or strings"
    budget = PROBE_BUDGET_SECONDS if budget is None else budget
    cache_key = (template_id, version, key, tuple(seeds))
    if cache_key in _KNOWN:
        return _KNOWN[cache_key]
    finished, problem = _draw(template_id, version, json.loads(key) or None, seeds, budget)
    if not finished:
        # Not remembered: whether the draw fits in the budget depends on the machine's load.
        return (
            f"the constraints are too expensive: {len(seeds)} variants were not drawn within "
            f"{budget:g} s; narrow the values"
        )
    if len(_KNOWN) >= _KNOWN_MAX:
        _KNOWN.clear()
    _KNOWN[cache_key] = problem
    return problem


_KNOWN: dict[tuple[str, int | None, str, tuple[int, ...]], str | None] = {}
_KNOWN_MAX = 4096


def _draw(
    template_id: str,
    version: int | None,
    constraints: Mapping[str, Sequence[Any]] | None,
    seeds: Sequence[int],
    budget: float,
) -> tuple[bool, str | None]:
    """Draw ``seeds`` in a helper thread; return (finished within the budget, problem)."""
    from compute.templates import InvalidConstraints, UnknownTemplate, generate

    outcome: list[str | None] = []
    failure: list[BaseException] = []

    def draw() -> None:
        try:
            for seed in seeds:
                generate(template_id, seed, version=version, constraints=constraints)
        except (InvalidConstraints, UnknownTemplate) as exc:
            outcome.append(f"the template cannot draw a variant: {exc}")
        except BaseException as exc:  # a bug: handed to the caller below, not swallowed
            failure.append(exc)
        else:
            outcome.append(None)

    # A daemon thread: when the budget is spent the caller answers at once, and the draw (whose
    # retries the engine bounds) finishes on its own without holding any lock of ours.
    worker = threading.Thread(target=draw, name="template-probe", daemon=True)
    worker.start()
    worker.join(budget)
    if failure:
        raise failure[0]
    if not outcome:
        return False, None
    return True, outcome[0]
