"""Links from each compute-template misconception to the cards that teach the idea behind it.

``fixtures/misconception_links.yaml`` maps ``template id -> misconception id -> [card slug]``.
After a wrong numeric answer that matches a misconception, the learning engine brings the linked
concept (or mcq) cards forward. ``links_read`` returns the mapping for a loader;
``links_validate`` checks it against the compute templates and the bank's cards and is run by
``manage.py validate_bank``.

Like ``knowledge.fixture_schema`` this module imports no Django, and compute only when validating.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from knowledge.fixture_schema import BankData, FixtureError

__all__ = [
    "LINKS_FILE",
    "LinkKey",
    "MisconceptionLinksError",
    "links_read",
    "links_validate",
]

LINKS_FILE = "misconception_links.yaml"
LINKABLE_KINDS = ("concept", "mcq")

LinkKey = tuple[str, str]  # (template id, misconception id)


class MisconceptionLinksError(ValueError):
    """The links file cannot be read as a mapping of links; ``errors`` says where and why."""

    def __init__(self, errors: list[FixtureError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(error) for error in errors))


def _error(key: str, message: str) -> FixtureError:
    return FixtureError(LINKS_FILE, "", key, message)


def _parse(root: Path) -> tuple[dict[LinkKey, list[str]], list[FixtureError]]:
    """Read the file's structure; return the links found and every structural problem."""
    path = root / LINKS_FILE
    if not path.is_file():
        return {}, [_error("", "file is missing")]
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return {}, [_error("", f"cannot be read: {exc}")]
    if document is None:
        document = {}
    if not isinstance(document, Mapping):
        return {}, [_error("", "must map template ids to their misconceptions")]
    links: dict[LinkKey, list[str]] = {}
    errors: list[FixtureError] = []
    for template_id, misconceptions in document.items():
        if not isinstance(template_id, str) or not template_id:
            errors.append(_error(str(template_id), "a template id must be a string"))
            continue
        if not isinstance(misconceptions, Mapping) or not misconceptions:
            errors.append(_error(template_id, "must map misconception ids to lists of card slugs"))
            continue
        for misconception_id, slugs in misconceptions.items():
            key = f"{template_id}.{misconception_id}"
            if not isinstance(misconception_id, str) or not misconception_id:
                errors.append(_error(key, "a misconception id must be a string"))
                continue
            if not isinstance(slugs, list) or not slugs:
                errors.append(_error(key, "must be a non-empty list of card slugs"))
                continue
            good: list[str] = []
            for slug in slugs:
                if not isinstance(slug, str) or not slug:
                    errors.append(_error(key, f"{slug!r} is not a card slug"))
                elif slug in good:
                    errors.append(_error(key, f"lists {slug!r} twice"))
                else:
                    good.append(slug)
            links[(template_id, misconception_id)] = good
    return links, errors


def links_read(root: Path | str) -> dict[LinkKey, list[str]]:
    """Return ``{(template id, misconception id): [card slug, ...]}`` from ``root``'s links file.

    Raise :class:`MisconceptionLinksError` when the file is missing or not shaped as
    ``template -> misconception -> [slug]``. Whether the templates, misconceptions and cards
    exist is checked by :func:`links_validate`, not here.
    """
    links, errors = _parse(Path(root))
    if errors:
        raise MisconceptionLinksError(errors)
    return links


def _templates_used(cards: Iterable[Mapping[str, Any]]) -> set[tuple[str, int | None]]:
    return {
        (card["template"], card.get("template_version"))
        for card in cards
        if card.get("kind") == "numeric" and isinstance(card.get("template"), str)
    }


def links_validate(data: BankData) -> list[FixtureError]:
    """Return every problem of ``data.root``'s links file against the templates and cards.

    Errors: the file's structure; a template id no version of which is registered; a
    misconception id no registered version of its template has; a slug that is not a published
    concept or mcq card of ``data`` (dangling); and a misconception of a template version some
    numeric card uses that has no link at all (missing).
    """
    from compute.templates import UnknownTemplate, get_template, registry

    links, errors = _parse(Path(data.root))
    known: dict[str, set[str]] = {}
    for template in registry():
        known.setdefault(template.id, set()).update(m.id for m in template.misconceptions)
    cards = {
        card["slug"]: card
        for _file, card in data.cards
        if isinstance(card, Mapping) and isinstance(card.get("slug"), str)
    }

    for (template_id, misconception_id), slugs in links.items():
        key = f"{template_id}.{misconception_id}"
        if template_id not in known:
            errors.append(_error(template_id, "no compute template has this id"))
            continue
        if misconception_id not in known[template_id]:
            errors.append(
                _error(
                    key,
                    f"template {template_id!r} has no misconception {misconception_id!r} "
                    f"(known: {', '.join(sorted(known[template_id]))})",
                )
            )
        for slug in slugs:
            card = cards.get(slug)
            if card is None:
                errors.append(_error(key, f"dangling link: no card has the slug {slug!r}"))
            elif card.get("kind") not in LINKABLE_KINDS:
                errors.append(
                    _error(
                        key,
                        f"dangling link: {slug!r} is a {card.get('kind')} card, "
                        "not a concept or mcq card",
                    )
                )
            elif card.get("status") != "published":
                errors.append(
                    _error(key, f"dangling link: {slug!r} is {card.get('status')}, not published")
                )

    linked = {key for key, slugs in links.items() if slugs}
    for template_id, version in sorted(
        _templates_used(card for _file, card in data.cards if isinstance(card, Mapping)),
        key=lambda item: (item[0], item[1] or 0),
    ):
        try:
            template = get_template(template_id, version)
        except UnknownTemplate:
            continue  # the card itself is reported by validate_bank_data
        for misconception in template.misconceptions:
            if (template_id, misconception.id) not in linked:
                errors.append(
                    _error(
                        f"{template_id}.{misconception.id}",
                        "missing link: no card is named for this misconception of a template "
                        f"a numeric card uses (version {template.version})",
                    )
                )
    return errors
