"""Benchmarks of the learning engine (issue 10, requirement 9), one section per part.

    .venv/bin/python bench/engine.py [--only fsrs_step scheduler_quality] [--no-write]

(a) submit -> graded result and (b) "next item" need the engine's models and workers; they are
added with the engine. This file holds:

(c) `fsrs_step`: the cost of our FSRS step per review (`quizzes.scheduling.schedule_review`,
    which wraps `fsrs.Scheduler.review_card` with state conversion and reproducible fuzz) against
    the bare library call on the same reviews, in interleaved rounds; medians and ratios.
(d) `scheduler_quality`: how well default FSRS-6 parameters, parameters fitted on the first part
    of a real learner's log, SM-2 and a constant predict the rest of that log (log loss and
    RMSE(bins), as in the FSRS benchmark), on ../shared/data/fsrs-sample-revlogs.csv.

Results are merged into bench/results/engine.json under the keys "fsrs_step" and
"scheduler_quality" (other keys, e.g. the lead's (a) and (b), are kept).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from fsrs import Rating, Scheduler  # noqa: E402
from fsrs_rs_python import FSRS  # noqa: E402

from quizzes.optimizer import (  # noqa: E402
    CardReview,
    DayRule,
    Prediction,
    fsrs_items,
    log_loss,
    parameters_evaluate,
    parameters_fit,
    predictions,
    rmse_bins,
)
from quizzes.scheduling import (  # noqa: E402
    DEFAULT_DESIRED_RETENTION,
    DEFAULT_LEARNING_STEPS,
    DEFAULT_PARAMETERS,
    DEFAULT_RELEARNING_STEPS,
    MAXIMUM_INTERVAL_DAYS,
    MemoryState,
    fuzz_unit,
    schedule_review,
    scheduler_for,
)

DEFAULT_OUTPUT = REPO / "bench" / "results" / "engine.json"
REVLOG = REPO.parent / "shared" / "data" / "fsrs-sample-revlogs.csv"

# The reference for (d), measured with fsrs-rs-python on "the same split".
REFERENCE = {
    "default": {"log_loss": 0.434, "rmse_bins": 0.080},
    "fitted": {"log_loss": 0.435, "rmse_bins": 0.074},
}
# The sample learner studies between 15:00 and 06:00 UTC and never between 06:00 and 15:00: a
# US Pacific learner (UTC-7 over the whole log, March to October 2024). Any day start inside that
# gap gives the same study days; we use Anki's 4 a.m. local.
LEARNER_DAY = DayRule(tz=dt.timezone(dt.timedelta(hours=-7)), day_start_hour=4)
UTC_MIDNIGHT = DayRule(tz=dt.UTC, day_start_hour=0)


def machine() -> dict[str, Any]:
    return {
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "fsrs": version("fsrs"),
        "fsrs_rs_python": version("fsrs-rs-python"),
        "load_average_1_5_15": list(os.getloadavg()),
    }


def read_revlog(path: Path) -> list[CardReview]:
    with path.open(newline="") as handle:
        reviews = [
            CardReview(
                card_key=row["card_id"],
                rating=int(row["review_rating"]),
                reviewed_at=dt.datetime.fromisoformat(row["review_time"]),
            )
            for row in csv.DictReader(handle)
        ]
    reviews.sort(key=lambda review: review.reviewed_at)
    return reviews


# --------------------------------------------------------------------------------------------
# (a) submit -> graded result, p50/p95 at 100 submissions/s   [added with the engine]
# (b) "next item" with 1,000 vs 100,000 card states            [added with the engine]
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# (c) the FSRS step per review, ours against the bare library call
# --------------------------------------------------------------------------------------------


def step_workload(reviews: Sequence[CardReview]) -> list[tuple[MemoryState, Rating, dt.datetime]]:
    """Return (state before, rating, time) for every review of the log, replayed online."""
    states: dict[str, MemoryState] = {}
    work = []
    for review in reviews:
        before = states.get(review.card_key) or MemoryState.new(now=review.reviewed_at)
        after, _ = schedule_review(
            state=before, rating=review.rating, now=review.reviewed_at, fuzz_key=review.card_key
        )
        work.append((before, Rating(review.rating), review.reviewed_at))
        states[review.card_key] = after
    return work


def bench_fsrs_step(reviews: Sequence[CardReview], *, rounds: int) -> dict[str, Any]:
    work = step_workload(reviews)
    library = Scheduler()  # the bare call: default FSRS-6, the library's own (global-random) fuzz
    cards = [(before.to_card(), rating, at) for before, rating, at in work]
    keys = [f"learner-1:{index % 1205}" for index in range(len(work))]

    def ours() -> None:
        for (before, rating, at), key in zip(work, keys, strict=True):
            schedule_review(state=before, rating=rating, now=at, fuzz_key=key)

    def ours_stored() -> None:
        # What the engine pays per review: the step plus both states as JSON for the log.
        for (before, rating, at), key in zip(work, keys, strict=True):
            after, _ = schedule_review(state=before, rating=rating, now=at, fuzz_key=key)
            json.dumps(before.to_dict())
            json.dumps(after.to_dict())

    def bare() -> None:
        for card, rating, at in cards:
            library.review_card(card, rating, review_datetime=at)

    # Where our extra time goes: the pieces of schedule_review around the library call.
    afters = [(card, before) for (card, _, _), (before, _, _) in zip(cards, work, strict=True)]

    def part_state_conversion() -> None:
        for card, before in afters:
            before.to_card()
            MemoryState.from_card(card, reps=before.reps + 1, lapses=before.lapses)

    def part_fuzz_draw() -> None:
        for (before, _, _), key in zip(work, keys, strict=True):
            fuzz_unit(fuzz_key=key, reps=before.reps)

    def part_scheduler_lookup() -> None:
        for _ in work:
            scheduler_for(
                parameters=DEFAULT_PARAMETERS,
                desired_retention=DEFAULT_DESIRED_RETENTION,
                learning_steps=DEFAULT_LEARNING_STEPS,
                relearning_steps=DEFAULT_RELEARNING_STEPS,
                maximum_interval=MAXIMUM_INTERVAL_DAYS,
            )

    contenders: dict[str, Callable[[], None]] = {
        "bare_library": bare,
        "ours": ours,
        "ours_with_json_states": ours_stored,
        "part_state_conversion": part_state_conversion,
        "part_fuzz_draw": part_fuzz_draw,
        "part_scheduler_lookup": part_scheduler_lookup,
    }
    runs: dict[str, list[float]] = defaultdict(list)
    names = list(contenders)
    for fn in contenders.values():
        fn()  # warm-up
    gc.collect()
    for index in range(rounds):
        # Rotate the order every round so drift in machine speed hits every contender alike.
        order = names[index % len(names) :] + names[: index % len(names)]
        for name in order:
            start = time.perf_counter()
            contenders[name]()
            runs[name].append((time.perf_counter() - start) / len(work))
    bare_us = statistics.median(runs["bare_library"]) * 1e6
    result: dict[str, Any] = {
        "reviews_per_round": len(work),
        "rounds": rounds,
        "statistic": "median over rounds of seconds per review (interleaved, rotating order)",
    }
    for name in names:
        median_us = statistics.median(runs[name]) * 1e6
        result[name] = {
            "median_us_per_review": round(median_us, 3),
            "best_us_per_review": round(min(runs[name]) * 1e6, 3),
            "ratio_to_bare_library": round(median_us / bare_us, 3),
        }
    return result


def print_fsrs_step(result: dict[str, Any]) -> None:
    print(f"(c) FSRS step per review ({result['reviews_per_round']} reviews x {result['rounds']})")
    for name in (
        "bare_library",
        "ours",
        "ours_with_json_states",
        "part_state_conversion",
        "part_fuzz_draw",
        "part_scheduler_lookup",
    ):
        row = result[name]
        print(
            f"    {name:24s} {row['median_us_per_review']:8.2f} us"
            f"   ratio {row['ratio_to_bare_library']:.2f}x"
        )


# --------------------------------------------------------------------------------------------
# (d) scheduler quality on a real learner's log
# --------------------------------------------------------------------------------------------


def _by_card_with_gaps(
    reviews: Iterable[CardReview], day_rule: DayRule
) -> dict[str, list[tuple[CardReview, int]]]:
    """Group reviews by card, each with the number of study days since the card's previous
    review (0 for the first review and for same-day repeats)."""
    by_card: dict[str, list[tuple[CardReview, int]]] = defaultdict(list)
    last_day: dict[str, dt.date] = {}
    for review in sorted(reviews, key=lambda r: r.reviewed_at):
        day = day_rule.study_day(review.reviewed_at)
        previous = last_day.get(review.card_key)
        by_card[review.card_key].append((review, 0 if previous is None else (day - previous).days))
        last_day[review.card_key] = day
    return by_card


def sm2_predictions(
    reviews: Sequence[CardReview], *, day_rule: DayRule, scored_from: dt.datetime
) -> list[Prediction]:
    """Predict recall with SM-2 (SuperMemo 2 as published, run as the FSRS benchmark runs it).

    SM-2 schedules but does not predict, so, as in the FSRS benchmark, its interval I is read as
    the time at which recall has fallen to 90%: R(t) = 0.9 ** (t / I). Only the first review of
    each study day counts (SM-2 has no same-day steps); Again/Hard/Good/Easy are the qualities
    2/3/4/5, so Hard and better are successes. The scored reviews are the same as for FSRS.
    """
    scored: list[tuple[dt.datetime, Prediction]] = []
    for history in _by_card_with_gaps(reviews, day_rule).values():
        interval, ease, streak = 1.0, 2.5, 0
        long_term = lapses = 0
        seen = False
        for review, gap in history:
            if seen and gap == 0:
                continue
            if seen:
                long_term += 1
                if review.reviewed_at >= scored_from:
                    prediction = Prediction(
                        probability=0.9 ** (gap / interval),
                        recalled=review.rating > 1,
                        elapsed_days=gap,
                        long_term_reviews=long_term + 1,
                        lapses=lapses,
                    )
                    scored.append((review.reviewed_at, prediction))
                if review.rating == 1:
                    lapses += 1
            seen = True
            quality = review.rating + 1
            if quality >= 3:
                interval = 1.0 if streak == 0 else 6.0 if streak == 1 else interval * ease
                streak += 1
            else:
                interval, streak = 1.0, 0
            ease = max(1.3, ease + 0.1 - (5 - quality) * (0.08 + (5 - quality) * 0.02))
            interval = float(max(1, round(interval + 0.01)))
    scored.sort(key=lambda pair: pair[0])
    return [prediction for _, prediction in scored]


def constant_predictions(
    reviews: Sequence[CardReview], *, day_rule: DayRule, scored_from: dt.datetime
) -> list[Prediction]:
    """Predict every review with the recall rate of the training part (the benchmark's AVG)."""
    everything = predictions(
        reviews=reviews, parameters=DEFAULT_PARAMETERS, day_rule=day_rule, scored_from=None
    )
    held_out = predictions(
        reviews=reviews, parameters=DEFAULT_PARAMETERS, day_rule=day_rule, scored_from=scored_from
    )
    training = everything[: len(everything) - len(held_out)]
    rate = sum(p.recalled for p in training) / len(training)
    return [
        Prediction(
            probability=rate,
            recalled=p.recalled,
            elapsed_days=p.elapsed_days,
            long_term_reviews=p.long_term_reviews,
            lapses=p.lapses,
        )
        for p in held_out
    ]


def _metrics(items: Sequence[Prediction]) -> dict[str, Any]:
    return {
        "log_loss": round(log_loss(items), 4),
        "rmse_bins": round(rmse_bins(items), 4),
        "count": len(items),
    }


def quality_split(
    reviews: Sequence[CardReview], *, day_rule: DayRule, cut_index: int
) -> dict[str, Any]:
    """Fit on reviews[:cut_index], score reviews[cut_index:] (those on a later study day)."""
    cut = reviews[cut_index].reviewed_at
    training = [review for review in reviews if review.reviewed_at < cut]
    started = time.perf_counter()
    fitted = parameters_fit(reviews=training, day_rule=day_rule)
    fit_seconds = time.perf_counter() - started
    rows: dict[str, Any] = {}
    for name, parameters in (("default", DEFAULT_PARAMETERS), ("fitted", fitted)):
        evaluation = parameters_evaluate(
            parameters=parameters, reviews=reviews, day_rule=day_rule, scored_from=cut
        )
        rows[name] = {
            "log_loss": round(evaluation.log_loss, 4),
            "rmse_bins": round(evaluation.rmse_bins, 4),
            "count": evaluation.count,
        }
    rows["sm2"] = _metrics(sm2_predictions(reviews, day_rule=day_rule, scored_from=cut))
    rows["constant"] = _metrics(constant_predictions(reviews, day_rule=day_rule, scored_from=cut))
    return {
        "cut_at": cut.isoformat(),
        "training_reviews": len(training),
        "fit_seconds": round(fit_seconds, 3),
        "fitted_parameters": [round(w, 4) for w in fitted],
        **rows,
    }


def reference_reproduction(reviews: Sequence[CardReview]) -> dict[str, Any]:
    """Recompute the issue's reference the way it was evidently measured, and ours beside it.

    UTC-midnight days and the 80/20 split taken over the scored reviews (one fsrs-rs item each)
    rather than over all reviews; scored by fsrs-rs-python's own batched `evaluate` and by ours,
    with the same parameters.
    """
    items = fsrs_items(reviews=reviews, day_rule=UTC_MIDNIGHT)  # in review-time order
    times = _scored_times(reviews, UTC_MIDNIGHT)
    assert len(times) == len(items)
    cut = int(len(items) * 0.8)
    cut_at = times[cut]
    training = [review for review in reviews if review.reviewed_at < cut_at]
    fitted = parameters_fit(reviews=training, day_rule=UTC_MIDNIGHT)
    out: dict[str, Any] = {
        "split": "UTC days; first 80% of the scored reviews fit, last 20% scored",
        "train_items": cut,
        "test_items": len(items) - cut,
    }
    for name, parameters in (("default", DEFAULT_PARAMETERS), ("fitted", fitted)):
        model = FSRS(list(parameters))
        theirs = model.evaluate(items[cut:])
        # fsrs-rs-python 0.9.3 pads the histories of a batch to one length, and its figures then
        # depend on how items are grouped; one item per call is the model's own prediction.
        one_by_one = [model.evaluate([item]).log_loss for item in items[cut:]]
        ours = parameters_evaluate(
            parameters=parameters, reviews=reviews, day_rule=UTC_MIDNIGHT, scored_from=cut_at
        )
        out[name] = {
            "fsrs_rs_evaluate": {
                "log_loss": round(theirs.log_loss, 4),
                "rmse_bins": round(theirs.rmse_bins, 4),
            },
            "fsrs_rs_one_item_per_call": {"log_loss": round(sum(one_by_one) / len(one_by_one), 4)},
            "ours": {"log_loss": round(ours.log_loss, 4), "rmse_bins": round(ours.rmse_bins, 4)},
            "ours_count": ours.count,
        }
    return out


def _scored_times(reviews: Sequence[CardReview], day_rule: DayRule) -> list[dt.datetime]:
    """Return the times of the reviews made on a later study day than the card's previous one."""
    return sorted(
        review.reviewed_at
        for history in _by_card_with_gaps(reviews, day_rule).values()
        for review, gap in history
        if gap > 0
    )


def bench_scheduler_quality(reviews: Sequence[CardReview]) -> dict[str, Any]:
    cut_index = int(len(reviews) * 0.8)
    return {
        "data": str(REVLOG.relative_to(REPO.parent)),
        "reviews": len(reviews),
        "cards": len({review.card_key for review in reviews}),
        "split": "by time: first 80% of all reviews fit, the last 20% scored; a review is scored "
        "only when the card's previous review was on an earlier study day",
        "predictions": "our scheduler (py-fsrs) replayed at study-day resolution; metrics in "
        "quizzes.optimizer",
        "learner_day": {
            "rule": "UTC-7, day starts 04:00 (learner's local day, inferred)",
            **quality_split(reviews, day_rule=LEARNER_DAY, cut_index=cut_index),
        },
        "utc_day": {
            "rule": "UTC, day starts 00:00",
            **quality_split(reviews, day_rule=UTC_MIDNIGHT, cut_index=cut_index),
        },
        "reference": REFERENCE,
        "reference_reproduction": reference_reproduction(reviews),
    }


def print_quality(result: dict[str, Any]) -> None:
    print(f"(d) scheduler quality, {result['reviews']} reviews of {result['cards']} cards")
    print(f"    {result['split']}")
    for key in ("learner_day", "utc_day"):
        block = result[key]
        print(
            f"  {block['rule']}: scored {block['default']['count']}, "
            f"fit on {block['training_reviews']} reviews in {block['fit_seconds']} s"
        )
        for name in ("default", "fitted", "sm2", "constant"):
            row = block[name]
            ref = REFERENCE.get(name)
            beside = (
                f"   (issue reference {ref['log_loss']:.3f} / {ref['rmse_bins']:.3f})"
                if ref
                else ""
            )
            print(
                f"    {name:9s} log loss {row['log_loss']:.4f}  RMSE(bins) {row['rmse_bins']:.4f}"
                f"{beside}"
            )
    rep = result["reference_reproduction"]
    print(
        f"  reference reproduced (UTC days, 80/20 over {rep['train_items'] + rep['test_items']} "
        "scored reviews):"
    )
    for name in ("default", "fitted"):
        theirs, ours = rep[name]["fsrs_rs_evaluate"], rep[name]["ours"]
        single = rep[name]["fsrs_rs_one_item_per_call"]
        print(
            f"    {name:9s} fsrs-rs evaluate {theirs['log_loss']:.4f} / {theirs['rmse_bins']:.4f}"
            f"   fsrs-rs one item per call {single['log_loss']:.4f} / -"
            f"   ours {ours['log_loss']:.4f} / {ours['rmse_bins']:.4f}"
        )


# --------------------------------------------------------------------------------------------


def write(results: dict[str, Any], output: Path) -> None:
    merged: dict[str, Any] = {}
    if output.exists():
        merged = json.loads(output.read_text())
    merged.update(results)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(merged, indent=2) + "\n")
    print(f"wrote {', '.join(results)} to {output}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--only", nargs="+", choices=("fsrs_step", "scheduler_quality"), default=None
    )
    parser.add_argument("--rounds", type=int, default=15, help="timing rounds for (c)")
    parser.add_argument("--revlog", type=Path, default=REVLOG)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    parts = args.only or ["fsrs_step", "scheduler_quality"]
    if not args.revlog.exists():
        raise SystemExit(f"{args.revlog} is missing: (c) and (d) replay that review log")
    reviews = read_revlog(args.revlog)
    results: dict[str, Any] = {}
    if "fsrs_step" in parts:
        results["fsrs_step"] = {
            "machine": machine(),
            **bench_fsrs_step(reviews, rounds=args.rounds),
        }
        print_fsrs_step(results["fsrs_step"])
    if "scheduler_quality" in parts:
        results["scheduler_quality"] = {"machine": machine(), **bench_scheduler_quality(reviews)}
        print_quality(results["scheduler_quality"])
    if not args.no_write:
        write(results, args.output)


if __name__ == "__main__":
    main()
