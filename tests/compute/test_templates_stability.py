"""A seed keeps drawing the same variant: NumPy's generator and the committed variant snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from compute.templates import registry
from compute.templates.base import Draw, Template
from compute.templates.engine import _build_core

from .golden.snapshot_variants import SNAPSHOT, snapshot_entry

SEEDS = [0, 1, 2, 7, 255, 256, 65535, 2**31 - 1, 2**32 - 1, 2**32, 2**40 + 3, 2**63 - 1]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_seeded_draw_reads_numpys_default_generator(seed: int) -> None:
    expected = np.random.Generator(np.random.PCG64(seed)).random(100).tolist()
    draw = Draw.seeded(seed)
    assert [draw.uniform() for _ in range(100)] == expected


@pytest.mark.parametrize("t", registry(), ids=lambda t: f"{t.id}@{t.version}")
def test_variants_equal_those_of_a_fresh_generator(t: Template) -> None:
    for seed in range(60):
        slow = Draw(np.random.Generator(np.random.PCG64(seed)))
        assert _build_core(t, seed, ()) == _build_core(t, seed, (), slow)


def _snapshot() -> dict[str, list[dict[str, object]]]:
    data: dict[str, list[dict[str, object]]] = json.loads(Path(SNAPSHOT).read_text())
    return data


def test_every_registered_template_version_is_in_the_snapshot() -> None:
    missing = sorted({f"{t.id}@{t.version}" for t in registry()} - set(_snapshot()))
    assert not missing, (
        f"run python tests/compute/golden/snapshot_variants.py --add-missing to add {missing}"
    )


def test_snapshot_entries_pin_every_graded_field() -> None:
    fields = {"seed", "params", "answer", "answer_value", "misconceptions", "choices"}
    for key, entries in _snapshot().items():
        assert entries, key
        for entry in entries:
            assert set(entry) == fields, (key, entry.get("seed"))


@pytest.mark.parametrize("key", sorted(_snapshot()))
def test_variants_match_the_committed_snapshot(key: str) -> None:
    template_id, version = key.rsplit("@", 1)
    for entry in _snapshot()[key]:
        seed = entry["seed"]
        assert isinstance(seed, int)
        now = snapshot_entry(template_id, int(version), seed)
        for name in sorted(set(entry) | set(now)):
            assert now.get(name) == entry.get(name), (key, seed, name)


def test_add_missing_adds_new_versions_and_keeps_existing_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .golden import snapshot_variants

    data = _snapshot()
    dropped = sorted(data)[0]
    kept = sorted(data)[1]
    partial = {k: v for k, v in data.items() if k != dropped}
    partial[kept] = [{**partial[kept][0], "answer": "edited by hand"}]
    path = tmp_path / "variants.json"
    path.write_text(json.dumps(partial))
    monkeypatch.setattr(snapshot_variants, "SNAPSHOT", path)
    assert snapshot_variants.add_missing() == [dropped]
    after = json.loads(path.read_text())
    assert after[dropped] == data[dropped]
    assert after[kept] == partial[kept]  # an existing entry is never rewritten
    assert snapshot_variants.add_missing() == []
