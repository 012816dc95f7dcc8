"""Check a numeric card's template, pinned version and constraints against the compute engine.

The shape of the constraints is checked here (a mapping from parameter names to short lists of
plain values); whether each value suits its parameter (type, finiteness, magnitude) is the
engine's rule, applied when it draws. Variants are then drawn as a review would, by the probe
every card writer shares (``knowledge.template_probe``, with its time budget), so a card whose
template cannot make a question is refused before a learner meets it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from .checking import Checker, show

__all__ = ["ProbeTimer", "TemplateLookup", "check_numeric", "default_template_lookup"]

TemplateLookup = Callable[[str], bool]

_SCALARS = (str, int, float, bool, type(None))
_MAX_VALUE_TEXT = 100


def default_template_lookup() -> TemplateLookup | None:
    """Return a membership test for registered template ids, or None without the engine."""
    try:
        from compute.templates import registry
    except ImportError:
        return None
    known = {tpl.id for tpl in registry()}
    return known.__contains__


def _value_shape_problem(value: Any, max_items: int) -> str | None:
    if isinstance(value, _SCALARS):
        if isinstance(value, str) and len(value) > _MAX_VALUE_TEXT:
            return f"a text value may have at most {_MAX_VALUE_TEXT} characters"
        return None
    if isinstance(value, list):
        if len(value) > max_items:
            return f"a list value may have at most {max_items} entries"
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            return None
        return "a list value must hold numbers only"
    return f"{show(value)} is not a number, a text, true/false, null or a list of numbers"


def _constraints_shape(constraints: Any, check: Checker) -> bool:
    """Check that ``constraints`` maps names to short lists of plain values; return if so."""
    limits = check.limits
    if not isinstance(constraints, Mapping):
        check.error("constraints", "must map a parameter name to a list of values")
        return False
    ok = True
    if len(constraints) > limits.constraint_names:
        check.error("constraints", f"may name at most {limits.constraint_names} parameters")
        return False
    for key, values in constraints.items():
        if not isinstance(key, str) or not key or len(key) > 60:
            check.error("constraints", f"{show(key)} is not a parameter name")
            ok = False
            continue
        where = f"constraints.{key}"
        if not isinstance(values, list) or not values:
            check.error(where, "must be a non-empty list of values")
            ok = False
            continue
        if len(values) > limits.constraint_values:
            check.error(where, f"may list at most {limits.constraint_values} values")
            ok = False
            continue
        for i, value in enumerate(values):
            problem = _value_shape_problem(value, limits.constraint_values)
            if problem:
                check.error(f"{where}[{i}]", problem)
                ok = False
    return ok


class ProbeTimer:
    """Stop probing once one card's probe has run out of its time budget.

    Each probe may take up to the probe's budget; an upload of many cards with pathological
    constraints would otherwise hold a request for that budget times the number of cards. After
    the first timeout the remaining numeric cards are reported as not checked.
    """

    def __init__(self) -> None:
        self.timed_out: str | None = None  # the card whose probe ran out of time


def _probe(
    template: str, version: int, constraints: Mapping[str, Any] | None, timer: ProbeTimer, card: str
) -> str | None:
    """Draw variants as a review would, within the probe's time budget; return why not, or None.

    The probe is the one of every card writer (``knowledge.template_probe``); this adds the
    parameter names the template draws when the constraints name others.
    """
    try:
        from compute.templates import parameter_names
        from knowledge.template_probe import PROBE_BUDGET_SECONDS, template_problem
    except ImportError:
        return None
    if timer.timed_out is not None:
        return (
            f"not checked: the template check of {timer.timed_out} ran out of time first; "
            "fix that card, then upload again"
        )
    started = time.monotonic()
    problem = template_problem(template, version, constraints or None)
    if problem is None:
        return None
    if time.monotonic() - started >= PROBE_BUDGET_SECONDS:
        timer.timed_out = card  # a problem found only when the budget was spent: a timeout
    unknown = sorted(set(constraints or {}) - set(parameter_names(template, version)))
    if unknown:
        known = ", ".join(parameter_names(template, version))
        return f"the template has no parameter {', '.join(unknown)} (it draws: {known})"
    return problem


def check_numeric(
    card: Mapping[str, Any],
    check: Checker,
    template_exists: TemplateLookup | None,
    timer: ProbeTimer,
) -> None:
    """Check ``template``, ``template_version`` and ``constraints`` of a numeric card."""
    limits = check.limits
    errors_before = len(check.errors)
    template = card.get("template")
    if not isinstance(template, str) or not template:
        check.error("template", "must be a template id such as 'conv.output_size'")
    elif len(template) > limits.template_id:
        check.error("template", f"is longer than {limits.template_id} characters")
    elif template_exists is not None and not template_exists(template):
        check.error("template", f"unknown compute template {show(template)}")
    version = card.get("template_version")
    if (
        not isinstance(version, int)
        or isinstance(version, bool)
        or not 1 <= version <= limits.template_version
    ):
        check.error("template_version", "must be a positive integer (the template's version)")
    constraints = card.get("constraints")
    if constraints is not None:
        _constraints_shape(constraints, check)
    if template_exists is None or len(check.errors) != errors_before:
        return
    assert isinstance(template, str) and isinstance(version, int)
    try:
        from compute.templates import UnknownTemplate, get_template
    except ImportError:
        return
    try:
        get_template(template, version)
    except UnknownTemplate as exc:
        check.error("template_version", str(exc))
        return
    problem = _probe(template, version, constraints, timer, check.card)
    if problem:
        check.error("constraints" if constraints else "template_version", problem)
