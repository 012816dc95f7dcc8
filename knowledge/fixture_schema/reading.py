"""Read YAML within bounds, and read a whole fixtures folder.

A YAML document is first walked as a stream of parser events, counting nodes and nesting depth
(an alias counts as the whole subtree it repeats), and refused as soon as it passes a bound;
only a document within bounds is turned into Python objects. libyaml's C parser and emitter are
used where PyYAML was built with them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .checking import BankData, FixtureError
from .limits import YamlLimits

__all__ = [
    "YAML_DUMPER",
    "YAML_LOADER",
    "YamlTooComplex",
    "read_bank",
    "yaml_dump",
    "yaml_load_bounded",
]

YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAML_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

FIXTURE_LIMITS = YamlLimits()


class YamlTooComplex(ValueError):
    """The document nests deeper or holds more nodes than allowed; the message says which."""


class _Frame:
    """An open sequence or mapping while the event stream is walked."""

    __slots__ = ("anchor", "height", "start")

    def __init__(self, anchor: str | None, start: int) -> None:
        self.anchor = anchor
        self.start = start
        self.height = 0  # how many levels of collections lie below this one


def _check_events(text: str, limits: YamlLimits, *, allow_aliases: bool) -> None:
    """Walk the parser events of ``text``; raise YamlTooComplex past a bound.

    The parser is lazy, so a document nested a million levels deep is refused after
    ``max_depth`` levels have been read, not after it has all been parsed.
    """
    stack: list[_Frame] = []
    anchors: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, height) of what it names
    nodes = 0

    def add(count: int, height: int) -> None:
        nonlocal nodes
        nodes += count
        if nodes > limits.max_nodes:
            raise YamlTooComplex(f"holds more than {limits.max_nodes:,} YAML nodes")
        if len(stack) + height > limits.max_depth:
            raise YamlTooComplex(f"nests deeper than {limits.max_depth} levels")
        if stack:
            stack[-1].height = max(stack[-1].height, height)

    for event in yaml.parse(text, Loader=YAML_LOADER):
        if isinstance(event, yaml.ScalarEvent):
            add(1, 0)
            if event.anchor:
                anchors[event.anchor] = (1, 0)
        elif isinstance(event, yaml.CollectionStartEvent):
            add(1, 1)
            stack.append(_Frame(event.anchor, nodes - 1))
        elif isinstance(event, yaml.CollectionEndEvent):
            frame = stack.pop()
            height = frame.height + 1
            if stack:
                stack[-1].height = max(stack[-1].height, height)
            if frame.anchor:
                anchors[frame.anchor] = (nodes - frame.start, height)
        elif isinstance(event, yaml.AliasEvent):
            if not allow_aliases:
                raise YamlTooComplex("uses YAML aliases (*name), which are not allowed here")
            count, height = anchors.get(event.anchor or "", (1, 0))
            add(count, height)


def yaml_load_bounded(
    text: str, *, limits: YamlLimits = FIXTURE_LIMITS, allow_aliases: bool = True
) -> Any:
    """Return the data of one YAML document, refusing one past ``limits`` before building it.

    Raise YamlTooComplex for a document past the bounds (or with an alias when aliases are not
    allowed) and yaml.YAMLError for one that is not valid YAML.
    """
    _check_events(text, limits, allow_aliases=allow_aliases)
    return yaml.load(text, Loader=YAML_LOADER)  # YAML_LOADER is a safe loader


def yaml_dump(data: Any) -> str:
    """Return ``data`` as block-style YAML, Chinese unescaped, keys in their given order."""
    text: str = yaml.dump(data, Dumper=YAML_DUMPER, allow_unicode=True, sort_keys=False, width=100)
    return text


def _load_yaml(path: Path, root: Path, errors: list[FixtureError]) -> Any:
    name = str(path.relative_to(root))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        errors.append(FixtureError(name, "", "", f"not UTF-8: {exc}"))
        return None
    try:
        return yaml_load_bounded(text)
    except YamlTooComplex as exc:
        errors.append(FixtureError(name, "", "", f"refused: the file {exc}"))
    except yaml.YAMLError as exc:
        errors.append(FixtureError(name, "", "", f"invalid YAML: {exc}"))
    return None


def _as_list(data: Any, name: str, what: str, errors: list[FixtureError]) -> list[Any]:
    if data is None:
        return []
    if not isinstance(data, list):
        errors.append(FixtureError(name, "", "", f"must be a list of {what}"))
        return []
    return data


def read_bank(root: Path | str) -> BankData:
    """Parse every fixture file under ``root``; parse errors are collected, not raised."""
    root = Path(root)
    data = BankData(root=root)
    errors = data.errors
    if not root.is_dir():
        errors.append(FixtureError(str(root), "", "", "fixtures folder does not exist"))
        return data
    for filename, target, what in (
        ("banks.yaml", data.banks, "banks"),
        ("topics.yaml", data.topics, "topics"),
    ):
        path = root / filename
        if not path.exists():
            errors.append(FixtureError(filename, "", "", "file is missing"))
            continue
        for item in _as_list(_load_yaml(path, root, errors), filename, what, errors):
            target.append((filename, item))
    for path in sorted((root / "sources").glob("*.yaml")):
        doc = _load_yaml(path, root, errors)
        if doc is not None:
            data.sources.append((str(path.relative_to(root)), doc))
    for path in sorted((root / "cards").glob("*.yaml")):
        name = str(path.relative_to(root))
        for item in _as_list(_load_yaml(path, root, errors), name, "cards", errors):
            data.cards.append((name, item))
    return data
