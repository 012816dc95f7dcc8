"""Papers and reference implementations: sources for what the seed documents do not cover.

A reference names its authors, year and address instead of a seed file; the loader stores it,
reloads it without writing, and COVERAGE.md reports it apart from the seed documents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge.coverage import beyond_seed_areas, coverage_markdown
from knowledge.fixture_schema import read_bank, validate_bank_data
from knowledge.models import Source, SourceSection
from knowledge.services import bank_load

pytestmark = pytest.mark.django_db

PAPER: dict[str, Any] = {
    "id": "zz-test-paper",
    "kind": "paper",
    "title": {"zh": "Faster R-CNN：基于区域建议网络的实时检测", "en": "Faster R-CNN"},
    "authors": "Shaoqing Ren, Kaiming He, Ross Girshick, Jian Sun",
    "year": 2015,
    "url": "https://arxiv.org/abs/1506.01497",
    "sections": [{"id": "3.1", "title": {"zh": "区域建议网络", "en": "Region Proposal Networks"}}],
}


def _add_reference(root: Path, doc: dict[str, Any], *, cite: bool = True) -> None:
    path = root / "sources" / f"{doc['id']}.yaml"
    assert not path.exists(), "the test's paper must not be one of the bank's own"
    path.write_text(
        yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    if not cite:
        return
    path = sorted((root / "cards").glob("*.yaml"))[0]
    cards = yaml.safe_load(path.read_text(encoding="utf-8"))
    card = next(c for c in cards if c["status"] == "published")
    # The card now cites only the paper: it counts beyond the seeds, in its topic's area.
    card["sources"] = [f"{doc['id']}:{doc['sections'][0]['id']}"]
    path.write_text(yaml.safe_dump(cards, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _errors(root: Path) -> list[str]:
    return [f"{e.field}: {e.message}" for e in validate_bank_data(read_bank(root))]


def test_a_cited_paper_validates_loads_and_reloads_without_writes(
    bank_copy: Path, django_assert_max_num_queries: Any
) -> None:
    _add_reference(bank_copy, PAPER)

    assert _errors(bank_copy) == []
    bank_load(bank_copy)
    source = Source.objects.get(code=PAPER["id"])
    assert (source.kind, source.year, source.file_name) == ("paper", 2015, "")
    assert source.authors.startswith("Shaoqing Ren")
    assert source.url == PAPER["url"]
    assert SourceSection.objects.filter(source=source, section_id="3.1").exists()
    hash_before = source.fixture_hash

    report = bank_load(bank_copy)

    assert report.conflicts == []
    source.refresh_from_db()
    assert source.fixture_hash == hash_before


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"authors": ""}, "authors: must be the authors' names"),
        ({"year": "2015"}, "year: must be the year"),
        ({"year": 15}, "year: must be the year"),
        ({"url": "arxiv.org/abs/1"}, "url: must be an http(s) address"),
        ({"kind": "blog"}, "kind: must be one of seed, paper, implementation"),
        ({"file": "x.txt"}, "file: unknown field"),
    ],
)
def test_a_reference_missing_its_identity_is_refused(
    bank_copy: Path, change: dict[str, Any], expected: str
) -> None:
    _add_reference(bank_copy, {**PAPER, **change})

    errors = _errors(bank_copy)

    assert any(error.startswith(expected) for error in errors), errors


def test_a_seed_still_needs_its_file_and_no_reference_fields(bank_copy: Path) -> None:
    path = bank_copy / "sources" / "000.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    del doc["file"]
    doc["year"] = 2019
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")

    errors = _errors(bank_copy)

    assert any(e.startswith("file: is required") for e in errors), errors
    assert any(e.startswith("year: unknown field") for e in errors), errors


def test_an_uncited_reference_section_counts_as_uncovered(bank_copy: Path) -> None:
    _add_reference(bank_copy, PAPER, cite=False)

    table = coverage_markdown(read_bank(bank_copy))

    assert "| zz-test-paper:3.1 | Region Proposal Networks | **none** |" in table


def test_coverage_reports_seed_sections_and_beyond_seed_areas_apart(bank_copy: Path) -> None:
    _add_reference(bank_copy, PAPER)
    data = read_bank(bank_copy)

    table = coverage_markdown(data)
    seed_part, _, beyond_part = table.partition("## Beyond the seeds")

    assert "| 000:" in seed_part and "zz-test-paper" not in seed_part
    assert "- `zz-test-paper` (paper): Shaoqing Ren" in beyond_part
    assert "| zz-test-paper:3.1 | Region Proposal Networks | `" in beyond_part
    assert sum(beyond_seed_areas(data).values()) >= 1
