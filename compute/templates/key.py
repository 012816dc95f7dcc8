"""The key of a variant: everything needed to draw it again and grade a response to it.

A :class:`VariantKey` is (template id, version, seed, constraints). ``generate(key)`` and
``grade(key, response)`` are pure functions of it, so a stored key (for example in a review log,
or signed into a token handed to a client) is all a later re-grade needs. :meth:`VariantKey.to_json`
gives one canonical text per key (sorted keys, no whitespace), fit for signing; a key read back
with :meth:`VariantKey.from_json` is checked field by field and equals the original.

This module knows nothing of the registry: a well-formed key may still name a template or
version that is not registered, which ``generate`` reports as ``UnknownTemplate``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_TEXT", "SEED_LIMIT", "VariantKey"]

#: Seeds fit a signed 64-bit column.
SEED_LIMIT = 2**63
#: Longest accepted JSON text, template id, constraint name, and number of constraints/values.
MAX_TEXT = 4096
_MAX_ID = 100
_MAX_ITEMS = 64


def _freeze(value: Any, where: str, depth: int = 0) -> Any:
    """Return ``value`` with lists as tuples; raise ValueError on anything not JSON-like."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: {value!r} is not a finite number")
        return value
    if isinstance(value, list | tuple):
        if depth >= 2:
            raise ValueError(f"{where}: lists may nest at most two deep")
        if len(value) > _MAX_ITEMS:
            raise ValueError(f"{where}: at most {_MAX_ITEMS} items")
        return tuple(_freeze(v, where, depth + 1) for v in value)
    raise ValueError(
        f"{where}: {type(value).__name__} is not a number, string, boolean, null or list"
    )


def _thaw(value: Any) -> Any:
    return [_thaw(v) for v in value] if isinstance(value, tuple) else value


@dataclass(frozen=True, slots=True)
class VariantKey:
    """(template id, version, seed, constraints): what :func:`generate` needs to draw a variant.

    Build one with :meth:`of` (which checks and canonicalizes) or :meth:`from_json`; the
    constructor does no checking. ``constraints`` is a sorted tuple of (name, values) pairs with
    lists turned into tuples, so equal keys compare and hash equal.
    """

    template_id: str
    version: int
    seed: int
    constraints: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    @classmethod
    def of(
        cls,
        template_id: str,
        version: int,
        seed: int,
        constraints: Mapping[str, Sequence[Any]] | None = None,
    ) -> VariantKey:
        """Return the key for these values; raise ValueError (saying which field) if invalid."""
        if not isinstance(template_id, str) or not 0 < len(template_id) <= _MAX_ID:
            raise ValueError(
                f"template_id must be a non-empty string of at most {_MAX_ID} characters, "
                f"got {template_id!r}"
            )
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(f"version must be an integer >= 1, got {version!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT:
            raise ValueError(f"seed must be an integer from 0 to 2**63 - 1, got {seed!r}")
        pairs: list[tuple[str, tuple[Any, ...]]] = []
        if constraints is not None:
            if not isinstance(constraints, Mapping):
                raise ValueError(f"constraints must be an object, got {constraints!r}")
            if len(constraints) > _MAX_ITEMS:
                raise ValueError(f"constraints: at most {_MAX_ITEMS} parameters")
            for name, values in constraints.items():
                if not isinstance(name, str) or not 0 < len(name) <= _MAX_ID:
                    raise ValueError(f"constraint names must be non-empty strings, got {name!r}")
                if not isinstance(values, list | tuple) or not values:
                    raise ValueError(f"constraint {name!r} must be a non-empty list of values")
                frozen = _freeze(values, f"constraint {name!r}")
                pairs.append((name, frozen))
        return cls(template_id, version, seed, tuple(sorted(pairs, key=lambda pair: pair[0])))

    def constraints_dict(self) -> dict[str, list[Any]] | None:
        """Return the constraints as ``{name: [values]}`` (None when there are none)."""
        if not self.constraints:
            return None
        return {name: _thaw(values) for name, values in self.constraints}

    def to_json(self) -> str:
        """Return the canonical JSON text: sorted keys, no whitespace, constraints always given."""
        data = {
            "constraints": self.constraints_dict() or {},
            "seed": self.seed,
            "template_id": self.template_id,
            "version": self.version,
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> VariantKey:
        """Return the key encoded by ``text``; raise ValueError saying what is wrong.

        The text must be one JSON object with exactly the fields ``template_id``, ``version``,
        ``seed`` and ``constraints`` (an object of non-empty lists), no duplicate fields, no
        NaN or Infinity, at most ``MAX_TEXT`` characters; each field is checked as in :meth:`of`.
        """
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError("variant key: not UTF-8 text") from None
        if not isinstance(text, str):
            raise ValueError(f"variant key: expected JSON text, got {type(text).__name__}")
        if len(text) > MAX_TEXT:
            raise ValueError(f"variant key: longer than {MAX_TEXT} characters")
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise ValueError(f"variant key: invalid JSON ({exc.msg} at {exc.pos})") from None
        if not isinstance(data, dict):
            raise ValueError("variant key: expected a JSON object")
        fields = {"template_id", "version", "seed", "constraints"}
        if set(data) != fields:
            missing, extra = sorted(fields - set(data)), sorted(set(data) - fields)
            raise ValueError(f"variant key: missing fields {missing}, unknown fields {extra}")
        try:
            return cls.of(data["template_id"], data["version"], data["seed"], data["constraints"])
        except ValueError as exc:
            raise ValueError(f"variant key: {exc}") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise ValueError(f"variant key: field {name!r} appears twice")
        out[name] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"variant key: {name} is not allowed")
