"""The validator reports every error with its file, card and field, not only the first."""

from pathlib import Path

import yaml

from knowledge.fixture_schema import read_bank, validate_bank_data

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _copy_bank(tmp_path: Path) -> Path:
    root = tmp_path / "fixtures"
    (root / "cards").mkdir(parents=True)
    (root / "sources").mkdir()
    for name in ("banks.yaml", "topics.yaml"):
        (root / name).write_text((FIXTURES / name).read_text(encoding="utf-8"), encoding="utf-8")
    (root / "sources" / "000.yaml").write_text(
        (FIXTURES / "sources" / "000.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return root


GOOD = {
    "uuid": "0b3c0d9e-8f62-4c53-9d2c-5f4f1c2a7e11",
    "slug": "test-good-card",
    "kind": "concept",
    "bank": "dl-cv-interview",
    "topic": "cnn",
    "difficulty": 2,
    "tags": ["conv"],
    "sources": ["000:1"],
    "status": "published",
    "question": {"zh": "什么是卷积核？", "en": "What is a kernel?"},
    "answer": {"zh": "一个二维权重矩阵。", "en": "A 2-D weight matrix."},
    "key_points": [
        {
            "text": {"zh": "二维权重", "en": "2-D weights"},
            "accept": {"zh": ["权重"], "en": ["weights"]},
        }
    ],
}


def test_a_valid_card_has_no_errors(tmp_path: Path) -> None:
    root = _copy_bank(tmp_path)
    (root / "cards" / "a.yaml").write_text(
        yaml.safe_dump([GOOD], allow_unicode=True), encoding="utf-8"
    )

    assert validate_bank_data(read_bank(root), template_exists=lambda _id: True) == []


def test_every_error_is_reported_with_file_card_and_field(tmp_path: Path) -> None:
    root = _copy_bank(tmp_path)
    bad_kind = {
        **GOOD,
        "uuid": "not-a-uuid",
        "slug": "bad-one",
        "difficulty": 9,
        "sources": ["000:999"],
    }
    bad_mcq = {
        **GOOD,
        "uuid": "1b3c0d9e-8f62-4c53-9d2c-5f4f1c2a7e11",
        "slug": "bad-two",
        "kind": "mcq",
        "options": [
            {
                "text": {"zh": "甲", "en": "A"},
                "correct": False,
                "feedback": {"zh": "否", "en": "No"},
            }
        ],
        "question": {"zh": "Only English here", "en": "Q?"},
    }
    del bad_mcq["key_points"]
    (root / "cards" / "a.yaml").write_text(
        yaml.safe_dump([bad_kind], allow_unicode=True), encoding="utf-8"
    )
    (root / "cards" / "b.yaml").write_text(
        yaml.safe_dump([bad_mcq], allow_unicode=True), encoding="utf-8"
    )
    (root / "cards" / "c.yaml").write_text("- [unclosed", encoding="utf-8")

    messages = [
        str(error)
        for error in validate_bank_data(read_bank(root), template_exists=lambda _id: True)
    ]

    assert "cards/a.yaml [bad-one] uuid: is not a valid UUID" in messages
    assert "cards/a.yaml [bad-one] difficulty: must be an integer from 1 to 5" in messages
    assert any(m.startswith("cards/a.yaml [bad-one] sources[0]: cites '000:999'") for m in messages)
    assert "cards/b.yaml [bad-two] options: must be a list of 2 to 6 options" in messages
    assert "cards/b.yaml [bad-two] question.zh: contains no Chinese characters" in messages
    assert any(m.startswith("cards/c.yaml: invalid YAML") for m in messages)


def test_traditional_characters_are_flagged(tmp_path: Path) -> None:
    root = _copy_bank(tmp_path)
    card = {**GOOD, "answer": {"zh": "卷積層的權重", "en": "weights"}}
    (root / "cards" / "a.yaml").write_text(
        yaml.safe_dump([card], allow_unicode=True), encoding="utf-8"
    )

    errors = validate_bank_data(read_bank(root), template_exists=lambda _id: True)

    assert [e.field for e in errors] == ["answer.zh"]
    assert "Traditional" in errors[0].message


def test_unknown_template_and_unknown_field_are_errors(tmp_path: Path) -> None:
    root = _copy_bank(tmp_path)
    card = {
        **GOOD,
        "kind": "numeric",
        "template": "no.such.template",
        "template_version": 1,
        "colour": "red",
    }
    del card["key_points"]
    (root / "cards" / "a.yaml").write_text(
        yaml.safe_dump([card], allow_unicode=True), encoding="utf-8"
    )

    errors = validate_bank_data(
        read_bank(root), template_exists=lambda tid: tid == "conv.output_size"
    )

    fields = {e.field for e in errors}
    assert fields == {"template", "colour"}


def test_constraints_the_template_cannot_honour_are_errors(tmp_path: Path) -> None:
    root = _copy_bank(tmp_path)
    card = {
        **GOOD,
        "kind": "numeric",
        "template": "conv.output_size",
        "template_version": 1,
        "constraints": {"no_such_param": [3]},
    }
    del card["key_points"]
    (root / "cards" / "a.yaml").write_text(
        yaml.safe_dump([card], allow_unicode=True), encoding="utf-8"
    )

    errors = validate_bank_data(read_bank(root))

    assert [e.field for e in errors] == ["constraints"]
    assert "has no parameter no_such_param" in errors[0].message


def test_an_unregistered_template_version_is_an_error(tmp_path: Path) -> None:
    root = _copy_bank(tmp_path)
    card = {**GOOD, "kind": "numeric", "template": "conv.output_size", "template_version": 99}
    del card["key_points"]
    (root / "cards" / "a.yaml").write_text(
        yaml.safe_dump([card], allow_unicode=True), encoding="utf-8"
    )

    errors = validate_bank_data(read_bank(root))

    assert [e.field for e in errors] == ["template_version"]
