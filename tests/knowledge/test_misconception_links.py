"""The links from template misconceptions to the cards that teach them: the real file and its checks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from compute.templates import registry
from knowledge.fixture_schema import BankData, read_bank
from knowledge.misconception_links import (
    LINKS_FILE,
    MisconceptionLinksError,
    links_read,
    links_validate,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DATA = read_bank(FIXTURES)
REAL_LINKS = yaml.safe_load((FIXTURES / LINKS_FILE).read_text(encoding="utf-8"))


def _bank_with_links(tmp_path: Path, links: object) -> BankData:
    """The real cards, with ``links`` as the links file of a fixtures folder at ``tmp_path``."""
    (tmp_path / LINKS_FILE).write_text(yaml.safe_dump(links, allow_unicode=True), encoding="utf-8")
    return BankData(root=tmp_path, cards=DATA.cards)


def _messages(data: BankData) -> list[str]:
    return [str(error) for error in links_validate(data)]


def _status(slug: str) -> str:
    return str(next(card["status"] for _file, card in DATA.cards if card["slug"] == slug))


def _used_pair() -> tuple[str, str]:
    """A (template, misconception) of a template some numeric card uses."""
    card = next(card for _file, card in DATA.cards if card["kind"] == "numeric")
    return card["template"], next(iter(REAL_LINKS[card["template"]]))


def test_the_real_links_file_validates() -> None:
    assert _messages(DATA) == []


def test_every_misconception_of_every_current_template_is_linked() -> None:
    links = links_read(FIXTURES)
    latest = {template.id: template for template in registry()}  # sorted: the last version wins

    unlinked = [
        f"{template.id}.{m.id}"
        for template in latest.values()
        for m in template.misconceptions
        if not links.get((template.id, m.id))
    ]

    assert unlinked == []


def test_links_read_returns_slugs_by_template_and_misconception() -> None:
    links = links_read(FIXTURES)

    assert links[("params.conv", "in_channels_ignored")] == [
        "000-kernel-vs-filter",
        "000-conv-weight-shapes",
    ]
    assert all(isinstance(slugs, list) and slugs for slugs in links.values())


def test_a_link_to_an_unknown_slug_is_dangling(tmp_path: Path) -> None:
    template, misconception = _used_pair()
    links = {t: dict(ms) for t, ms in REAL_LINKS.items()}
    links[template][misconception] = ["no-such-card"]

    messages = _messages(_bank_with_links(tmp_path, links))

    assert messages == [
        f"{LINKS_FILE} {template}.{misconception}: dangling link: no card has the slug "
        "'no-such-card'"
    ]


@pytest.mark.parametrize(
    ("slug", "why"),
    [
        ("000-conv-output-size-drill", "is a numeric card, not a concept or mcq card"),
        ("000-weight-sharing-cnn", f"is {_status('000-weight-sharing-cnn')}, not published"),
    ],
)
def test_a_link_to_a_numeric_or_unpublished_card_is_dangling(
    tmp_path: Path, slug: str, why: str
) -> None:
    links = {t: dict(ms) for t, ms in REAL_LINKS.items()}
    links["conv.output_size"]["stride_ignored"] = [slug]

    messages = _messages(_bank_with_links(tmp_path, links))

    assert messages == [
        f"{LINKS_FILE} conv.output_size.stride_ignored: dangling link: {slug!r} {why}"
    ]


def test_a_misconception_of_a_used_template_without_a_link_is_missing(tmp_path: Path) -> None:
    template, misconception = _used_pair()
    links = {t: dict(ms) for t, ms in REAL_LINKS.items()}
    del links[template][misconception]

    messages = _messages(_bank_with_links(tmp_path, links))

    assert len(messages) == 1
    assert messages[0].startswith(f"{LINKS_FILE} {template}.{misconception}: missing link:")


def test_unknown_templates_and_misconceptions_are_errors(tmp_path: Path) -> None:
    links = {t: dict(ms) for t, ms in REAL_LINKS.items()}
    links["no.such_template"] = {"x": ["000-kernel-vs-filter"]}
    links["conv.output_size"]["not_a_misconception"] = ["000-kernel-vs-filter"]

    messages = _messages(_bank_with_links(tmp_path, links))

    assert f"{LINKS_FILE} no.such_template: no compute template has this id" in messages
    assert any(
        m.startswith(
            f"{LINKS_FILE} conv.output_size.not_a_misconception: template 'conv.output_size' "
            "has no misconception 'not_a_misconception'"
        )
        for m in messages
    )
    assert len(messages) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, f"{LINKS_FILE}: file is missing"),
        ("- a\n- b\n", f"{LINKS_FILE}: must map template ids to their misconceptions"),
        ("conv.output_size: [a]\n", "must map misconception ids to lists of card slugs"),
        ("conv.output_size:\n  stride_ignored: []\n", "must be a non-empty list of card slugs"),
        ("conv.output_size:\n  stride_ignored: [a, a]\n", "lists 'a' twice"),
        ("conv.output_size: {a: [b]\n", "cannot be read"),
    ],
)
def test_links_read_rejects_a_malformed_file(
    tmp_path: Path, content: str | None, message: str
) -> None:
    if content is not None:
        (tmp_path / LINKS_FILE).write_text(content, encoding="utf-8")

    with pytest.raises(MisconceptionLinksError) as raised:
        links_read(tmp_path)

    assert message in str(raised.value)
    assert raised.value.errors


def test_validate_bank_fails_on_a_dangling_link(tmp_path: Path) -> None:
    root = tmp_path / "fixtures"
    for path in FIXTURES.rglob("*.yaml"):
        target = root / path.relative_to(FIXTURES)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    links = {t: dict(ms) for t, ms in REAL_LINKS.items()}
    links["conv.output_size"]["stride_ignored"] = ["no-such-card"]
    (root / LINKS_FILE).write_text(yaml.safe_dump(links), encoding="utf-8")

    with pytest.raises(CommandError, match=r"1 in the misconception links"):
        call_command("validate_bank", str(root))


def test_validate_bank_reports_the_links_it_checked() -> None:
    from io import StringIO

    out = StringIO()
    call_command("validate_bank", stdout=out)

    assert f"{len(links_read(FIXTURES))} misconception links, no errors" in out.getvalue()
