"""A seed keeps drawing the same variant: the fast seeding and the committed variant snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from compute.templates import registry
from compute.templates.base import Draw, Template, pcg64_seed_state
from compute.templates.engine import _build_core

from .golden.snapshot_variants import SNAPSHOT, snapshot_entry

SEEDS = [0, 1, 2, 7, 255, 256, 65535, 2**31 - 1, 2**32 - 1, 2**32, 2**40 + 3, 2**64 - 1, 10**30]


@pytest.mark.parametrize("seed", SEEDS)
def test_seed_state_is_numpys(seed: int) -> None:
    state = np.random.PCG64(seed).state["state"]
    assert pcg64_seed_state(seed) == (state["state"], state["inc"])


def test_seed_state_over_a_range_of_small_seeds() -> None:
    for seed in range(2000):
        state = np.random.PCG64(seed).state["state"]
        assert pcg64_seed_state(seed) == (state["state"], state["inc"]), seed


@pytest.mark.parametrize("seed", SEEDS)
def test_seeded_draw_gives_the_generators_stream(seed: int) -> None:
    expected = np.random.Generator(np.random.PCG64(seed)).random(100).tolist()
    assert [Draw.seeded(seed).uniform() for _ in range(1)] == expected[:1]
    # Several chunks, with another draw taking the shared generator between every variate.
    a, b = Draw.seeded(seed), Draw.seeded(seed + 1)
    got = []
    for _ in range(100):
        got.append(a.uniform())
        b.uniform()
    assert got == expected


@pytest.mark.parametrize("t", registry(), ids=lambda t: f"{t.id}@{t.version}")
def test_seeded_variants_equal_those_of_a_fresh_generator(t: Template) -> None:
    for seed in range(60):
        slow = Draw(np.random.Generator(np.random.PCG64(seed)))
        assert _build_core(t, seed, ()) == _build_core(t, seed, (), slow)


def _snapshot() -> dict[str, list[dict[str, object]]]:
    data: dict[str, list[dict[str, object]]] = json.loads(Path(SNAPSHOT).read_text())
    return data


def test_every_registered_template_version_is_in_the_snapshot() -> None:
    missing = sorted({f"{t.id}@{t.version}" for t in registry()} - set(_snapshot()))
    assert not missing, f"run tests/compute/golden/snapshot_variants.py to add {missing}"


@pytest.mark.parametrize("key", sorted(_snapshot()))
def test_variants_match_the_committed_snapshot(key: str) -> None:
    template_id, version = key.rsplit("@", 1)
    for entry in _snapshot()[key]:
        seed = entry["seed"]
        assert isinstance(seed, int)
        assert snapshot_entry(template_id, int(version), seed) == entry
