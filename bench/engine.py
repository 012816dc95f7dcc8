"""Benchmarks of the learning engine (issue 10, requirement 9), one section per part.

    .venv/bin/python bench/engine.py [--only submit_latency next_item fsrs_step scheduler_quality]

(a) `submit_latency`: submit -> graded result at a steady 100 submissions/s (open-loop client,
    mixed card kinds, many learners), p50/p95 from the start of the `attempt_submit` call to the
    attempt row seen graded; with where the time goes (the submit call, the queue wait).
(b) `next_item`: `study_next` for a learner with 1,000 and one with 100,000 card states in one
    bank, interleaved in one run; p50/p95, the ratio, query count and EXPLAIN ANALYZE of the
    slowest queries.
(a) and (b) run on PostgreSQL (a fresh database `bench_engine`), a private Redis and two
    Celery worker processes (bench/engine_stack.py).
(c) `fsrs_step`: the cost of our FSRS step per review (`quizzes.scheduling.schedule_review`,
    which wraps `fsrs.Scheduler.review_card` with state conversion and reproducible fuzz) against
    the bare library call on the same reviews, in interleaved rounds; medians and ratios.
(d) `scheduler_quality`: how well default FSRS-6 parameters, parameters fitted on the first part
    of a real learner's log, SM-2 and a constant predict the rest of that log (log loss and
    RMSE(bins), as in the FSRS benchmark), on ../shared/data/fsrs-sample-revlogs.csv.

Results are merged into bench/results/engine.json, one key per part: a run of some parts leaves
the other parts' sections as they were. See bench/README.md.
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

from bench.engine_stack import (  # noqa: E402
    BENCH_DATABASE,
    DEFAULT_SERVER,
    LiveStack,
    live_stack,
)
from bench.healthz import latency_summary  # noqa: E402
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
# (a) submit -> graded result, p50/p95 at a steady 100 submissions/s
# (b) "next item" with 1,000 vs 100,000 card states
# Both run on the live stack of bench/engine_stack.py (PostgreSQL `bench_engine`, a private
# Redis, one prefork worker with two processes); Django is set up by that stack, so the Django
# imports below happen inside the functions.
# --------------------------------------------------------------------------------------------

# The submission mix of (a): one bank per entry, each learner studies one of them. Numeric
# answers are the variant's right answer (read from the server's variant key, as the tests do)
# or a readable wrong one; MCQ takes one of two right options (partial credit); concept cards
# are typed (one of two key points) or self-rated.
SUBMIT_MIX = (
    ("numeric_conv_right", "numeric", "conv.output_size"),
    ("numeric_conv_wrong", "numeric", "conv.output_size"),
    ("numeric_pool_right", "numeric", "pool.output_size"),
    ("numeric_params_right", "numeric", "params.conv"),
    ("mcq_multi_partial", "mcq", ""),
    ("concept_typed", "concept", ""),
    ("concept_self_rated", "concept", ""),
)


def _bulk_learners(prefix: str, count: int) -> list[Any]:
    from django.contrib.auth.models import User

    User.objects.bulk_create(
        User(username=f"{prefix}-{index:06d}", password="!") for index in range(count)
    )
    return list(User.objects.filter(username__startswith=f"{prefix}-").order_by("username"))


def _submit_plan(count: int, *, prefix: str) -> list[tuple[Any, str, dict[str, Any], str]]:
    """Create `count` learners, each with one item handed out by study_next; return what each
    will submit: (learner, token, response, mix label)."""
    from django.utils import timezone

    from compute.templates import VariantKey, generate
    from quizzes.models import BankSubscription, IssuedItem
    from quizzes.services import TOKEN_SALT, StudyItem, study_next
    from tests.quizzes import factories

    banks = {}
    for label, kind, template in SUBMIT_MIX:
        bank = factories.bank(f"{prefix}-{label.replace('_', '-')}")
        if kind == "numeric":
            factories.numeric(bank, template)
        elif kind == "mcq":
            factories.mcq(bank, multi=True)
        else:
            factories.concept(bank)
        banks[label] = bank
    learners = _bulk_learners(prefix, count)
    labels = [SUBMIT_MIX[index % len(SUBMIT_MIX)][0] for index in range(count)]
    BankSubscription.objects.bulk_create(
        BankSubscription(learner=learner, bank=banks[label])
        for learner, label in zip(learners, labels, strict=True)
    )
    from django.core import signing

    plan = []
    for learner, label in zip(learners, labels, strict=True):
        item = study_next(learner=learner, now=timezone.now())
        assert isinstance(item, StudyItem), item
        response: dict[str, Any]
        if label.startswith("numeric"):
            issued = IssuedItem.objects.get(pk=signing.loads(item.token, salt=TOKEN_SALT)["i"])
            right = generate(VariantKey.from_json(json.dumps(issued.variant_key))).answer_text
            response = {"answer": "987654" if label.endswith("wrong") else right}
        elif label.startswith("mcq"):
            response = {"choices": [0]}
        elif label == "concept_typed":
            response = {"text": "zero padding"}
        else:
            response = {"rating": 3}
        plan.append((learner, item.token, response, label))
    return plan


def bench_submit_latency(
    *,
    rate: float,
    seconds: float,
    warmup_seconds: float,
    senders: int,
    poll_ms: float,
    prefix: str,
    stack: LiveStack,
) -> dict[str, Any]:
    """Open-loop client: submission i starts at t0 + i / rate whatever the earlier ones do.

    Latency is from the start of the attempt_submit call to the moment a poller sees the attempt
    row graded (one query for all outstanding attempts every `poll_ms`). Submissions are spread
    over `senders` threads so that one slow call does not hold back the schedule.
    """
    import threading
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from django.utils import timezone

    from quizzes.models import Attempt
    from quizzes.services import attempt_submit

    warmup = int(rate * warmup_seconds)
    total = warmup + int(rate * seconds)
    setup_started = time.perf_counter()
    plan = _submit_plan(total, prefix=prefix)
    setup_seconds = time.perf_counter() - setup_started
    records: list[dict[str, Any]] = [{} for _ in plan]
    outstanding: dict[uuid.UUID, int] = {}
    lock = threading.Lock()
    sending_done = threading.Event()
    errors: list[str] = []

    def send(index: int) -> None:
        learner, token, response, _label = plan[index]
        started = time.perf_counter()
        records[index]["start"] = started
        try:
            attempt = attempt_submit(
                learner=learner,
                token=token,
                response=response,
                client_id=uuid.uuid4(),
                reviewed_at=timezone.now(),
                duration_ms=20_000,
            )
        except Exception as exc:  # counted and reported, the run goes on
            errors.append(f"{type(exc).__name__}: {exc}")
            return
        records[index]["submitted"] = time.perf_counter()
        with lock:
            outstanding[attempt.pk] = index

    def poll() -> None:
        while not (sending_done.is_set() and not outstanding):
            with lock:
                ids = list(outstanding)
            if ids:
                rows = (
                    Attempt.objects.filter(pk__in=ids)
                    .exclude(status=Attempt.Status.PENDING)
                    .values_list("pk", "status", "submitted_at", "graded_at")
                )
                seen = time.perf_counter()
                with lock:
                    for pk, status, submitted_at, graded_at in rows:
                        assert graded_at is not None  # not pending: graded (check constraint)
                        index = outstanding.pop(pk)
                        records[index].update(
                            seen=seen,
                            status=status,
                            queue_ms=(graded_at - submitted_at).total_seconds() * 1000,
                        )
            time.sleep(poll_ms / 1000)
        connection.close()

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    load_before = list(os.getloadavg())
    cpu_before = stack.cpu_seconds()
    postgres_before = stack.postgres_cpu()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        start = time.perf_counter() + 0.1
        for index in range(total):
            target = start + index / rate
            pause = target - time.perf_counter()
            if pause > 0:
                time.sleep(pause)  # the open-loop schedule, not a wait for work
            records[index]["target"] = target
            pool.submit(send, index)
        pool.submit(connection.close)
    sending_done.set()
    poller.join(timeout=600)
    load_after = list(os.getloadavg())
    cpu_after = stack.cpu_seconds()
    # Per server process, so that one that ended or started during the run does not skew the sum
    # (one that ended is missed: the connections are persistent, CONN_MAX_AGE).
    postgres_after = stack.postgres_cpu()
    cpu_after["postgres"] = sum(
        seconds - postgres_before.get(pid, 0.0) for pid, seconds in postgres_after.items()
    )
    cpu_before["postgres"] = 0.0
    # CPU per submission (all of them, warm-up included), whatever the machine's load: what one
    # submit -> graded round costs the client (submit and polling), the workers, PostgreSQL and
    # Redis. Their sum times the rate is the CPU the stack needs to keep up.
    cpu_ms = {
        part: round((cpu_after[part] - cpu_before[part]) * 1000 / total, 2) for part in cpu_after
    }
    cpu_ms["total"] = round(sum(cpu_ms.values()), 2)

    starts = sorted(r["start"] for r in records if "start" in r)
    measured = [r for r in records[warmup:] if "seen" in r]
    by_label: dict[str, list[float]] = defaultdict(list)
    for index, record in enumerate(records[warmup:], start=warmup):
        if "seen" in record:
            by_label[plan[index][3]].append((record["seen"] - record["start"]) * 1000)
    statuses: dict[str, int] = defaultdict(int)
    for record in records[warmup:]:
        statuses[record.get("status", "not graded")] += 1
    return {
        "setup": {
            "learners": total,
            "mix": [label for label, _, _ in SUBMIT_MIX],
            "items_handed_out_seconds": round(setup_seconds, 1),
        },
        "rate_per_second": rate,
        "seconds": seconds,
        "warmup_submissions_excluded": warmup,
        "senders": senders,
        "poll_ms": poll_ms,
        # From the actual call starts: below `rate` when the client itself fell behind.
        "achieved_rate_per_second": round((len(starts) - 1) / (starts[-1] - starts[0]), 1),
        "statuses": dict(statuses),
        "errors": errors[:5],
        "error_count": len(errors),
        "latency_submit_to_graded": latency_summary(
            [(r["seen"] - r["start"]) * 1000 for r in measured]
        ),
        "submit_call": latency_summary([(r["submitted"] - r["start"]) * 1000 for r in measured]),
        "queue_submitted_to_grading_start": latency_summary([r["queue_ms"] for r in measured]),
        "client_lag_behind_schedule": latency_summary(
            [(r["start"] - r["target"]) * 1000 for r in measured]
        ),
        "by_kind_p50_p95_ms": {
            label: [latency_summary(v)["p50_ms"], latency_summary(v)["p95_ms"]]
            for label, v in sorted(by_label.items())
        },
        "cpu_ms_per_submission": cpu_ms,
        "cpu_cores_needed_at_rate": round(cpu_ms["total"] * rate / 1000, 2),
        "target": "p95 of submit -> graded under 20 ms",
        "load_average_during": {"before": load_before, "after": load_after},
    }


def print_submit_latency(result: dict[str, Any]) -> None:
    lat = result["latency_submit_to_graded"]
    print(
        f"(a) submit -> graded at {result['rate_per_second']:.0f}/s for {result['seconds']} s "
        f"(achieved {result['achieved_rate_per_second']}/s), {lat['n']} measured"
    )
    for name in (
        "latency_submit_to_graded",
        "submit_call",
        "queue_submitted_to_grading_start",
        "client_lag_behind_schedule",
    ):
        row = result[name]
        print(f"    {name:34s} p50 {row['p50_ms']:7.2f} ms  p95 {row['p95_ms']:7.2f} ms")
    print(f"    statuses {result['statuses']}, errors {result['error_count']}")
    print(
        f"    CPU per submission (ms) {result['cpu_ms_per_submission']}: "
        f"{result['cpu_cores_needed_at_rate']} cores at this rate"
    )
    for label, (p50, p95) in result["by_kind_p50_p95_ms"].items():
        print(f"      {label:22s} p50 {p50:7.2f}  p95 {p95:7.2f}")


def _bulk_bank_with_states(sizes: Sequence[int], *, extra_new: int) -> list[Any]:
    """One bank of max(sizes) + extra_new published concept cards; per size a learner with that
    many card states on its first cards (review phase, due spread from 30 days ago to a year
    ahead, so about 7% are due). Return the learners, in the order of `sizes`."""
    import random

    from django.utils import timezone

    from knowledge.models import Card, CardVersion
    from quizzes.models import BankSubscription, CardState
    from tests.quizzes import factories

    bank = factories.bank("b-big")
    model = factories.concept(bank, slug="b-model")
    content = model.versions.get().content
    topic_id = model.topic_id
    total = max(sizes) + extra_new
    batch = 5000
    for first in range(0, total, batch):
        cards = Card.objects.bulk_create(
            Card(
                slug=f"b-{index:06d}",
                bank=bank,
                topic_id=topic_id,
                kind="concept",
                status=Card.Status.PUBLISHED,
                difficulty=1 + index % 5,
                question_zh="问",
                question_en="Question",
                answer_zh="答",
                answer_en="Answer",
            )
            for index in range(first, min(total, first + batch))
        )
        CardVersion.objects.bulk_create(
            CardVersion(card=card, version=1, content=content, content_hash=f"{card.pk:064d}")
            for card in cards
        )
    card_ids = list(
        Card.objects.filter(bank=bank, slug__startswith="b-0")
        .order_by("id")
        .values_list("id", flat=True)
    )
    learners = _bulk_learners("b", len(sizes))
    now = timezone.now()
    rng = random.Random(7)
    for learner, size in zip(learners, sizes, strict=True):
        BankSubscription.objects.create(learner=learner, bank=bank)
        for first in range(0, size, batch):
            rows = []
            for card_id in card_ids[first : min(size, first + batch)]:
                due = now + dt.timedelta(days=rng.uniform(-30, 365))
                stability = rng.uniform(1, 400)
                rows.append(
                    CardState(
                        learner=learner,
                        card_id=card_id,
                        state=2,
                        stability=stability,
                        difficulty=rng.uniform(1, 10),
                        due=due,
                        last_review=due - dt.timedelta(days=stability),
                        reps=rng.randint(1, 20),
                        lapses=rng.randint(0, 3),
                    )
                )
            CardState.objects.bulk_create(rows)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return learners


def _explain(sql: str) -> tuple[float, list[str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = [row[0] for row in cursor.fetchall()]
    total = next(
        (float(line.split(":")[1].split()[0]) for line in plan if "Execution Time" in line), 0.0
    )
    return total, plan


def _next_item_round(
    sizes: Sequence[int], learners: Sequence[Any], *, rounds: int
) -> dict[str, Any]:
    """Time study_next for each learner, interleaved (order alternating each round); then one
    more call each with its queries captured and its slowest queries explained."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from quizzes.services import StudyItem, study_next

    for learner in learners:  # warm-up
        for _ in range(5):
            assert isinstance(study_next(learner=learner, now=timezone.now()), StudyItem)
    runs: dict[int, list[float]] = defaultdict(list)
    load_before = list(os.getloadavg())
    for index in range(rounds):
        order = list(zip(sizes, learners, strict=True))
        if index % 2:
            order.reverse()
        for size, learner in order:
            at = timezone.now()
            begun = time.perf_counter()
            study_next(learner=learner, now=at)
            runs[size].append((time.perf_counter() - begun) * 1000)
    result: dict[str, Any] = {
        "load_average_during": {"before": load_before, "after": list(os.getloadavg())},
    }
    for size, learner in zip(sizes, learners, strict=True):
        with CaptureQueriesContext(connection) as queries:
            study_next(learner=learner, now=timezone.now())
        slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))
        profiled = []
        for query in slowest[:3]:
            if not query["sql"].lstrip().upper().startswith("SELECT"):
                continue
            execution_ms, plan = _explain(query["sql"])
            profiled.append(
                {
                    "time_ms": round(float(query["time"]) * 1000, 2),
                    "explain_execution_ms": execution_ms,
                    "sql": query["sql"][:600],
                    "plan": plan[:40],
                }
            )
        result[f"states_{size}"] = {
            **latency_summary(runs[size]),
            "queries_per_call": len(queries.captured_queries),
            "slowest_queries": profiled,
        }
    small, large = min(sizes), max(sizes)
    for stat in ("p50", "p95"):
        result[f"ratio_{stat}"] = round(
            result[f"states_{large}"][f"{stat}_ms"] / result[f"states_{small}"][f"{stat}_ms"], 3
        )
    return result


def bench_next_item(*, sizes: Sequence[int], rounds: int, extra_new: int) -> dict[str, Any]:
    """study_next for learners with `sizes` card states in one bank, interleaved in one run:
    first with new cards still to come today (the default settings: "next item" looks for due
    cards and new cards), then with today's new cards used up (new_per_day 0: due cards only)."""
    from quizzes.models import StudySettings

    started = time.perf_counter()
    learners = _bulk_bank_with_states(sizes, extra_new=extra_new)
    build_seconds = time.perf_counter() - started
    with_new = _next_item_round(sizes, learners, rounds=rounds)
    for learner in learners:
        StudySettings.objects.update_or_create(learner=learner, defaults={"new_per_day": 0})
    due_only = _next_item_round(sizes, learners, rounds=rounds)
    return {
        "build_seconds": round(build_seconds, 1),
        "bank_cards": max(sizes) + extra_new,
        "rounds": rounds,
        "statistic": "study_next wall time, learners interleaved (order alternating each round)",
        "target": "ratio (100,000 / 1,000 states) at most 1.3",
        "with_new_cards": with_new,
        "due_cards_only": due_only,
    }


def print_next_item(result: dict[str, Any]) -> None:
    print(f"(b) next item, bank of {result['bank_cards']} cards, {result['rounds']} rounds")
    for phase in ("with_new_cards", "due_cards_only"):
        block = result[phase]
        print(f"  {phase}:")
        for key, row in block.items():
            if key.startswith("states_"):
                print(
                    f"    {key:14s} p50 {row['p50_ms']:7.2f} ms  p95 {row['p95_ms']:7.2f} ms"
                    f"  {row['queries_per_call']} queries"
                )
                for query in row["slowest_queries"]:
                    print(
                        f"      {query['time_ms']:7.2f} ms (EXPLAIN ANALYZE "
                        f"{query['explain_execution_ms']} ms)  {query['sql'][:100]}"
                    )
        print(f"    ratio p50 {block['ratio_p50']}  p95 {block['ratio_p95']}")


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


LIVE_PARTS = ("submit_latency", "next_item")
OFFLINE_PARTS = ("fsrs_step", "scheduler_quality")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--only", nargs="+", choices=LIVE_PARTS + OFFLINE_PARTS, default=None)
    parser.add_argument("--rounds", type=int, default=15, help="timing rounds for (c)")
    parser.add_argument("--revlog", type=Path, default=REVLOG)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server for (a), (b)")
    parser.add_argument(
        "--rates",
        type=float,
        nargs="+",
        default=[100.0],
        help="(a) submissions per second; one run per rate, in this order",
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="(a) measured seconds")
    parser.add_argument("--warmup-seconds", type=float, default=2.0, help="(a) not measured")
    parser.add_argument("--senders", type=int, default=4, help="(a) client threads")
    parser.add_argument("--poll-ms", type=float, default=3.0, help="(a) poller interval")
    parser.add_argument("--next-rounds", type=int, default=100, help="(b) timing rounds")
    parser.add_argument(
        "--sizes", type=int, nargs=2, default=(1_000, 100_000), help="(b) card-state counts"
    )
    args = parser.parse_args(argv)
    parts = args.only or list(LIVE_PARTS + OFFLINE_PARTS)
    results: dict[str, Any] = {}
    if any(part in parts for part in OFFLINE_PARTS):
        if not args.revlog.exists():
            raise SystemExit(f"{args.revlog} is missing: (c) and (d) replay that review log")
        reviews = read_revlog(args.revlog)
        if "fsrs_step" in parts:
            results["fsrs_step"] = {
                "machine": machine(),
                **bench_fsrs_step(reviews, rounds=args.rounds),
            }
            print_fsrs_step(results["fsrs_step"])
        if "scheduler_quality" in parts:
            results["scheduler_quality"] = {
                "machine": machine(),
                **bench_scheduler_quality(reviews),
            }
            print_quality(results["scheduler_quality"])
    if any(part in parts for part in LIVE_PARTS):
        with live_stack(server=args.server, workers=2) as stack:
            stack_info = {
                "database": f"PostgreSQL {BENCH_DATABASE} (fresh)",
                "broker": "private Redis",
                "workers": "one celery worker, prefork pool, concurrency 2 (two processes)",
            }
            if "submit_latency" in parts:
                runs: list[dict[str, Any]] = []
                for rate in args.rates:
                    run = bench_submit_latency(
                        rate=rate,
                        seconds=args.seconds,
                        warmup_seconds=args.warmup_seconds,
                        senders=args.senders,
                        poll_ms=args.poll_ms,
                        prefix=f"a{len(runs)}",
                        stack=stack,
                    )
                    print_submit_latency(run)
                    runs.append(run)
                results["submit_latency"] = {
                    "machine": machine(),
                    "stack": stack_info,
                    "runs": runs,
                }
                log = stack.worker_log.read_text()
                if "Traceback" in log:
                    print(f"worker log has tracebacks:\n{log[-3000:]}")
            if "next_item" in parts:
                results["next_item"] = {
                    "machine": machine(),
                    "stack": stack_info,
                    **bench_next_item(sizes=args.sizes, rounds=args.next_rounds, extra_new=1_000),
                }
                print_next_item(results["next_item"])
    if not args.no_write:
        write(results, args.output)


if __name__ == "__main__":
    main()
