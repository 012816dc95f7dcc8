"""Write ``variants.json``: what every template version gives for a few fixed seeds.

Stored attempts and review cards refer to a variant only by (template id, version, seed), and a
stored attempt may be graded again later, so everything grading depends on is pinned here: the
public parameters, the answer text, each misconception that shows with its exact value and
credit, and the multiple-choice options in display order. A change that alters any of these under
an existing version would silently change questions learners have already answered;
``tests/compute/test_templates_stability.py`` compares the engine with this file, field by field.

Existing entries are never rewritten. When a template (or a new version of one) is added, run

    python tests/compute/golden/snapshot_variants.py --add-missing

which appends entries for the registered template versions the file does not hold yet, and
leaves every other entry as it is. ``--check`` lists the entries that differ from the engine.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SNAPSHOT = Path(__file__).with_name("variants.json")
SEEDS = (0, 1, 2, 1234, 2**40 + 3)


def snapshot_entry(template_id: str, version: int, seed: int) -> dict[str, Any]:
    """Return every graded field of one variant, as JSON-ready data.

    Values are pinned by ``repr`` (exact for floats), so a change in the last bit shows.
    """
    from compute.templates import generate

    v = generate(template_id, seed, version=version)
    params = {k: v.params[k] for k in sorted(v.params) if not k.startswith("_")}
    return {
        "seed": seed,
        "params": repr(params),
        "answer": v.answer_text,
        "answer_value": repr(v.answer),
        "misconceptions": [[m.id, repr(m.value), m.credit] for m in v.misconceptions],
        "choices": [[c.label, repr(c.value), c.correct, c.misconception] for c in v.choices],
    }


def load() -> dict[str, list[dict[str, Any]]]:
    """Return the committed snapshot (empty when the file does not exist yet)."""
    if not SNAPSHOT.exists():
        return {}
    data: dict[str, list[dict[str, Any]]] = json.loads(SNAPSHOT.read_text())
    return data


def save(data: dict[str, list[dict[str, Any]]]) -> None:
    """Write ``data`` in the committed layout (sorted keys, one space indent)."""
    SNAPSHOT.write_text(json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n")


def registered_keys() -> list[tuple[str, int]]:
    """Return (id, version) of every registered template, sorted."""
    from compute.templates import registry

    return [(t.id, t.version) for t in registry()]


def add_missing() -> list[str]:
    """Add entries for registered template versions the snapshot lacks; return their keys."""
    data = load()
    added = []
    for template_id, version in registered_keys():
        key = f"{template_id}@{version}"
        if key not in data:
            data[key] = [snapshot_entry(template_id, version, seed) for seed in SEEDS]
            added.append(key)
    if added:
        save(data)
    return added


def differences() -> list[str]:
    """Return a line per snapshot entry that the engine no longer reproduces."""
    out = []
    for key, entries in sorted(load().items()):
        template_id, version = key.rsplit("@", 1)
        for entry in entries:
            now = snapshot_entry(template_id, int(version), int(entry["seed"]))
            for field in sorted(set(entry) | set(now)):
                if entry.get(field) != now.get(field):
                    out.append(
                        f"{key} seed {entry['seed']} {field}: {entry.get(field)!r} -> "
                        f"{now.get(field)!r}"
                    )
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the command line (see the module docstring)."""
    sys.path.insert(0, str(ROOT))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--add-missing", action="store_true", help="add absent template versions")
    group.add_argument("--check", action="store_true", help="list entries the engine changed")
    args = parser.parse_args(argv)
    if args.add_missing:
        added = add_missing()
        print("added: " + (", ".join(added) if added else "nothing"))
        return 0
    diffs = differences()
    print("\n".join(diffs) if diffs else "the engine reproduces every entry")
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
