"""Derive tests/quizzes/data/revlog-sample.csv from the shared real review log.

The tests need a real learner's history but must not depend on a file outside the checkout, so
they use committed samples: every 25th card of ../shared/data/fsrs-sample-revlogs.csv (by card
id), with all of that card's reviews, in the source's column layout (revlog-sample.csv), and
every 10th card the same way (revlog-learner.csv: enough reviews for the periodic parameter fit
of quizzes.fitting). Run from the repository root:

    .venv/bin/python tests/quizzes/data/make_sample.py [path/to/fsrs-sample-revlogs.csv]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[2].parent / "shared" / "data" / "fsrs-sample-revlogs.csv"
TARGETS = {HERE / "revlog-sample.csv": 25, HERE / "revlog-learner.csv": 10}


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    with source.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or ())
        rows = list(reader)
    cards = sorted({row["card_id"] for row in rows}, key=int)
    for target, every_nth_card in TARGETS.items():
        kept = set(cards[::every_nth_card])
        sample = [row for row in rows if row["card_id"] in kept]
        with target.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(sample)
        print(f"{len(sample)} reviews of {len(kept)} cards -> {target}")


if __name__ == "__main__":
    main()
