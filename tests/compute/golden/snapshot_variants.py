"""Write ``variants.json``: the variants every template gives for a few fixed seeds.

Stored attempts and review cards refer to a variant only by (template id, version, seed), so a
change that alters what a seed draws under an existing version would silently change questions
learners have already answered. ``tests/compute/test_templates_stability.py`` compares the engine
with this file. Rerun the script only when a template gets a new version (old entries must stay):

    python tests/compute/golden/snapshot_variants.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SNAPSHOT = Path(__file__).with_name("variants.json")
SEEDS = (0, 1, 2, 1234, 2**40 + 3)


def snapshot_entry(template_id: str, version: int, seed: int) -> dict[str, Any]:
    """Return the public parameters and the answer text of one variant."""
    from compute.templates import generate

    v = generate(template_id, seed, version=version)
    params = {k: v.params[k] for k in sorted(v.params) if not k.startswith("_")}
    return {"seed": seed, "params": repr(params), "answer": v.answer_text}


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from compute.templates import registry

    old = json.loads(SNAPSHOT.read_text()) if SNAPSHOT.exists() else {}
    for t in registry():
        key = f"{t.id}@{t.version}"
        old.setdefault(key, [snapshot_entry(t.id, t.version, seed) for seed in SEEDS])
    text = json.dumps(old, indent=1, ensure_ascii=False, sort_keys=True)
    SNAPSHOT.write_text(text + "\n")


if __name__ == "__main__":
    main()
