"""YAML is bounded before it is built, and every field is checked for type and length."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge.fixture_schema import (
    YAML_DUMPER,
    YAML_LOADER,
    YamlLimits,
    YamlTooComplex,
    read_bank,
    validate_cards,
    yaml_dump,
    yaml_load_bounded,
)
from knowledge.fixture_schema.limits import DEFAULT_LIMITS

from .test_fixture_schema import GOOD

SMALL = YamlLimits(max_depth=5, max_nodes=50)
GOOD_ACCEPT: Any = GOOD["key_points"][0]["accept"]  # type: ignore[index]


def test_libyaml_reads_and_writes_the_bank_when_pyyaml_has_it() -> None:
    if not yaml.__with_libyaml__:  # pragma: no cover - the pure-Python fallback
        pytest.skip("PyYAML was built without libyaml")
    assert YAML_LOADER.__name__ == "CSafeLoader"
    assert YAML_DUMPER.__name__ == "CSafeDumper"


def test_a_document_within_bounds_loads_and_dumps_back() -> None:
    data = [{"a": [1, 2, {"b": "中文"}]}]

    assert yaml_load_bounded(yaml_dump(data), limits=SMALL) == data
    assert "中文" in yaml_dump(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[[[[[1]]]]]]", "deeper than 5"),
        ("a:\n b:\n  c:\n   d:\n    e:\n     f: 1\n", "deeper than 5"),
        ("[" + ", ".join(["1"] * 60) + "]", "more than 50"),
        # Aliases count as what they repeat: 3 + 3 * 5 + 3 * 15 nodes.
        ("a: &a [1, 2, 3, 4]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n", "more than 50"),
        # An alias deepens the tree by the depth of what it names.
        ("a: &a [[[1]]]\nb: [[[*a]]]\n", "deeper than 5"),
    ],
)
def test_documents_past_a_bound_are_refused(text: str, message: str) -> None:
    with pytest.raises(YamlTooComplex, match=message):
        yaml_load_bounded(text, limits=SMALL)


def test_a_billion_laughs_is_refused_without_expanding_it() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [{', '.join([f'*{chr(96 + i)}'] * 9)}]")
    started = time.perf_counter()

    with pytest.raises(YamlTooComplex, match="YAML nodes"):
        yaml_load_bounded("\n".join(lines))

    assert time.perf_counter() - started < 1.0


def test_a_million_levels_of_nesting_are_refused_after_reading_a_few() -> None:
    started = time.perf_counter()

    with pytest.raises(YamlTooComplex, match="deeper"):
        yaml_load_bounded("- " * 1_000_000 + "x")

    assert time.perf_counter() - started < 1.0


def test_aliases_can_be_forbidden() -> None:
    with pytest.raises(YamlTooComplex, match="aliases"):
        yaml_load_bounded("a: &x 1\nb: *x\n", allow_aliases=False)


def test_a_fixture_file_past_the_bounds_is_a_reported_error(tmp_path: Path) -> None:
    (tmp_path / "cards").mkdir()
    (tmp_path / "banks.yaml").write_text("[]", encoding="utf-8")
    (tmp_path / "topics.yaml").write_text("[]", encoding="utf-8")
    (tmp_path / "cards" / "deep.yaml").write_text("[" * 100 + "]" * 100, encoding="utf-8")

    errors = read_bank(tmp_path).errors

    assert [(e.file, e.message) for e in errors] == [
        ("cards/deep.yaml", "refused: the file nests deeper than 24 levels")
    ]


def _problems(**changes: Any) -> list[str]:
    card = {**GOOD, **changes}
    errors = validate_cards(
        [("up.yaml", card)],
        bank_slugs={"dl-cv-interview"},
        topic_slugs={"cnn"},
        section_ids={"000:1"},
        limits=DEFAULT_LIMITS,
        strict=False,
    )
    return [f"{e.field}: {e.message}" for e in errors]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"bank": ["dl-cv-interview"]}, "bank: unknown bank"),
        ({"topic": {"cnn": 1}}, "topic: unknown topic"),
        ({"slug": {"a": "b"}}, "slug: must be kebab-case"),
        ({"slug": "a" * 121}, "slug: is 121 characters long; the limit is 120"),
        ({"tags": ["t" * 61]}, "tags[0]: is 61 characters long; the limit is 60"),
        ({"tags": [["nested"]]}, "tags[0]: must be a non-empty string"),
        ({"kind": ["concept"]}, "kind: must be one of concept, mcq, numeric"),
        ({"status": {"a": 1}}, "status: must be one of draft, published"),
        ({"uuid": 12345}, "uuid: is not a valid UUID"),
        ({"question": {"zh": {"a": "b"}, "en": "Q?"}}, "question.zh: must be a non-empty string"),
        ({"answer": {"zh": "答" * 10_001, "en": "A"}}, "answer.zh: is 10,001 characters long"),
        ({"answer": {"zh": "答\x00", "en": "A"}}, "answer.zh: contains a NUL character"),
        (
            {"answer": {"zh": "答\ud800", "en": "A"}},
            "answer.zh: contains a NUL character or a lone",
        ),
        (
            {"key_points": [{"text": {"zh": "点" * 2001, "en": "p"}, "accept": GOOD_ACCEPT}]},
            "key_points[0].text.zh: is 2,001 characters long; the limit is 2,000",
        ),
        ({"difficulty": True}, "difficulty: must be an integer from 1 to 5"),
        ({"difficulty": 2**70}, "difficulty: the number"),
        ({"erratum": {"zh": float("nan"), "en": "x"}}, "erratum.zh: must be a finite number"),
        ({"tags": {1, 2}}, "tags: is a set"),
        ({"question": {1: "a", "en": "Q"}}, "question: has a key 1 that is not a string"),
    ],
)
def test_a_wrong_type_or_length_is_a_message_not_an_exception(
    changes: dict[str, Any], expected: str
) -> None:
    problems = _problems(**changes)

    assert any(problem.startswith(expected) for problem in problems), problems


NUMERIC = {**GOOD, "kind": "numeric", "template": "conv.output_size", "template_version": 1}
del NUMERIC["key_points"]


@pytest.mark.parametrize(
    ("changes", "field", "phrase"),
    [
        ({"template_version": None}, "template_version", "positive integer"),
        ({"template_version": True}, "template_version", "positive integer"),
        ({"template_version": 2**31}, "template_version", "positive integer"),
        ({"template_version": 99}, "template_version", "no version 99"),
        ({"template": "t" * 81}, "template", "longer than 80"),
        ({"constraints": ["kernel"]}, "constraints", "must map"),
        ({"constraints": {"kernel": []}}, "constraints.kernel", "non-empty list"),
        ({"constraints": {"kernel": 3}}, "constraints.kernel", "non-empty list"),
        ({"constraints": {"kernel": list(range(65))}}, "constraints.kernel", "at most 64"),
        ({"constraints": {"kernel": [{"a": 1}]}}, "constraints.kernel[0]", "is not a number"),
        ({"constraints": {"kernel": [["a"]]}}, "constraints.kernel[0]", "numbers only"),
        ({"constraints": {"nope": [3]}}, "constraints", "no parameter nope"),
        ({"constraints": {"kernel": ["a"]}}, "constraints", "cannot draw a variant"),
        ({"constraints": {"kernel": [10**6 + 1]}}, "constraints", "cannot draw a variant"),
    ],
)
def test_a_numeric_cards_template_fields_are_checked(
    changes: dict[str, Any], field: str, phrase: str
) -> None:
    card = {**NUMERIC, **changes}
    if changes.get("template_version", 1) is None:
        del card["template_version"]

    errors = validate_cards(
        [("up.yaml", card)],
        bank_slugs={"dl-cv-interview"},
        topic_slugs={"cnn"},
        section_ids={"000:1"},
        limits=DEFAULT_LIMITS,
        strict=False,
    )

    assert any(e.field == field and phrase in e.message for e in errors), errors


def test_a_valid_numeric_card_passes() -> None:
    card = {**NUMERIC, "constraints": {"kernel": [3, 5], "dilation": [1]}}

    assert (
        validate_cards(
            [("up.yaml", card)],
            bank_slugs={"dl-cv-interview"},
            topic_slugs={"cnn"},
            section_ids={"000:1"},
            limits=DEFAULT_LIMITS,
        )
        == []
    )


def test_after_one_probe_runs_out_of_time_the_rest_are_not_probed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Twenty cards whose probes would each spend the budget cost one budget, not twenty.

    Which real constraints are slow changes with the engine, so the probe here stands in for
    one that spends its whole budget, as ``template_probe`` does when a draw is too slow.
    """
    import knowledge.template_probe as probe

    calls: list[str] = []

    def spends_the_budget(template_id: str, version: int | None, constraints: Any) -> str:
        calls.append(template_id)
        time.sleep(probe.PROBE_BUDGET_SECONDS)  # stands for a draw that does not finish
        return "the constraints are too expensive: narrow the values"

    monkeypatch.setattr(probe, "PROBE_BUDGET_SECONDS", 0.02)
    monkeypatch.setattr(probe, "template_problem", spends_the_budget)
    cards = [
        ("up.yaml", {**NUMERIC, "uuid": f"00000000-0000-4000-8000-{i:012d}", "slug": f"slow-{i}"})
        for i in range(20)
    ]

    errors = validate_cards(
        cards,
        bank_slugs={"dl-cv-interview"},
        topic_slugs={"cnn"},
        section_ids={"000:1"},
        limits=DEFAULT_LIMITS,
    )

    assert len(calls) == 1
    assert [e.card for e in errors] == [f"slow-{i}" for i in range(20)]
    assert "too expensive" in errors[0].message
    assert all("not checked" in e.message and "slow-0" in e.message for e in errors[1:])
