"""Time compute/ (pure NumPy) against PyTorch / torchvision on identical inputs.

Run from the repository root with an interpreter that has torch + torchvision (they are not
project dependencies; see bench/README.md):

    python3.11 -m venv .venv-bench
    .venv-bench/bin/pip install torch==2.14.1 torchvision==0.29.1 numpy pyyaml
    .venv-bench/bin/python bench/compute.py

compute/ needs only NumPy, so the repository root is put on sys.path and nothing is installed.
Without torchvision the torchvision columns read "unavailable" (softmax still uses plain torch);
without torch every reference column does. Figures are the median of --repeat timing runs, each
run calling the function enough times to last at least --min-time seconds (timeit-style).
Results go to bench/results/compute.json (or --output).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib
import json
import os
import platform
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_OUTPUT = REPO / "bench" / "results" / "compute.json"
IOU_RATIO_TARGET = 2.0  # ours / torchvision, from the issue
NMS_RATIO_TARGET = 2.0
REVIEW_P95_TARGET_MS = 5.0  # one review end to end, every template (issue 9, requirement 6)
# (result key, torch dtype, torch threads; 0 = torch's default). float64 = the very same inputs.
REF_VARIANTS = (
    ("float64", "float64", 0),
    ("float32", "float32", 0),
    ("float64_1thread", "float64", 1),
)


def optional_import(name: str) -> tuple[Any, str | None]:
    """Return (module, None) or (None, reason) without failing the whole bench."""
    try:
        return importlib.import_module(name), None
    except Exception as exc:  # ImportError, or a half-written module raising anything else
        return None, f"{type(exc).__name__}: {exc}"


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


class Timed:
    """One contender: a zero-argument call plus an optional context (e.g. torch threads)."""

    def __init__(
        self,
        fn: Callable[[], object],
        enter: Callable[[], None] | None = None,
        leave: Callable[[], None] | None = None,
    ) -> None:
        self.fn, self.enter, self.leave = fn, enter, leave
        self.timer = timeit.Timer(fn)
        self.number = 1
        self.runs: list[float] = []

    def __enter__(self) -> Timed:
        if self.enter is not None:
            self.enter()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.leave is not None:
            self.leave()


def measure(contenders: dict[str, Timed], repeat: int, min_time: float) -> dict[str, Any]:
    """Median / best seconds per call of each contender, timeit-style.

    Each contender is warmed up and calibrated (calls per run so that one run lasts at least
    `min_time`), then the runs are interleaved (A B C, A B C, ...) so that load from other
    processes during the bench hits every contender alike.
    """
    for c in contenders.values():
        with c:
            c.fn()  # warm-up (imports, caches, allocator)
            while True:
                elapsed = c.timer.timeit(c.number)
                if elapsed >= min_time or c.number >= 1 << 20:
                    break
                c.number = max(c.number * 2, int(c.number * min_time / max(elapsed, 1e-9) * 1.1))
    for _ in range(repeat):
        for c in contenders.values():
            with c:
                c.runs.append(c.timer.timeit(c.number) / c.number)
    return {
        key: {
            "status": "ok",
            "median_s": statistics.median(c.runs),
            "best_s": min(c.runs),
            "repeat": repeat,
            "calls_per_run": c.number,
        }
        for key, c in contenders.items()
    }


# --------------------------------------------------------------------------------------------
# Inputs (seeded; the same arrays go to both sides)
# --------------------------------------------------------------------------------------------


def random_boxes(rng: np.random.Generator, n: int, extent: float = 1000.0) -> np.ndarray:
    xy = rng.uniform(0.0, extent, size=(n, 2))
    wh = rng.uniform(5.0, extent * 0.2, size=(n, 2))
    return np.concatenate([xy, xy + wh], axis=1)


def clustered_boxes(rng: np.random.Generator, n: int, clusters: int, extent: float) -> np.ndarray:
    """Detector-like proposals: jittered copies of `clusters` object boxes."""
    centers = rng.uniform(0.05 * extent, 0.95 * extent, size=(clusters, 2))
    sizes = rng.uniform(0.02 * extent, 0.2 * extent, size=(clusters, 2))
    which = rng.integers(0, clusters, size=n)
    c = centers[which] + rng.normal(0.0, 1.0, size=(n, 2)) * sizes[which] * 0.2
    wh = sizes[which] * rng.uniform(0.6, 1.4, size=(n, 2))
    return np.concatenate([c - wh / 2, c + wh / 2], axis=1)


# --------------------------------------------------------------------------------------------
# Op benchmarks
# --------------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.torch, self.torch_err = optional_import("torch")
        self.tv_ops: Any = None
        self.tv_err: str | None = "torch unavailable" if self.torch is None else None
        self.torchvision: Any = None
        if self.torch is not None:
            if args.threads:
                self.torch.set_num_threads(args.threads)
            self.torchvision, self.tv_err = optional_import("torchvision")
            if self.torchvision is not None:
                self.tv_ops = self.torchvision.ops

    def t(self, a: np.ndarray, dtype: str = "float64") -> Any:
        assert self.torch is not None
        return self.torch.from_numpy(np.ascontiguousarray(a)).to(getattr(self.torch, dtype))

    def run_op(
        self,
        name: str,
        description: str,
        ours: tuple[str, str],
        ours_call: Callable[[Any], Callable[[], Any]],
        ref_name: str,
        ref_needs_torchvision: bool,
        ref_call: Callable[[str], Callable[[], Any]] | None,
        agree: Callable[[Any, Any], bool],
        target: float | None,
    ) -> dict[str, Any]:
        """Time ours and the reference (torch float64 = same inputs; float32 for context)."""
        a = self.args
        row: dict[str, Any] = {
            "name": name,
            "description": description,
            "ours_impl": f"{ours[0]}.{ours[1]}",
            "ref_impl": ref_name,
            "target_ratio_max": target,
        }
        contenders: dict[str, Timed] = {}
        module, err = optional_import(ours[0])
        fn = getattr(module, ours[1], None) if module is not None else None
        if fn is None:
            row["ours"] = {"status": "unavailable", "reason": err or f"{ours[0]} has no {ours[1]}"}
        else:
            contenders["ours"] = Timed(ours_call(fn))
        ref_missing = self.torch_err or (self.tv_err if ref_needs_torchvision else None)
        for key, dtype, threads in REF_VARIANTS:
            if ref_call is None or ref_missing:
                row[f"ref_{key}"] = {"status": "unavailable", "reason": ref_missing or "none"}
            elif threads:
                assert self.torch is not None
                setter, default = self.torch.set_num_threads, self.torch.get_num_threads()
                contenders[f"ref_{key}"] = Timed(
                    ref_call(dtype), enter=partial(setter, threads), leave=partial(setter, default)
                )
            else:
                contenders[f"ref_{key}"] = Timed(ref_call(dtype))
        for key in list(contenders):
            try:
                contenders[key].fn()
            except Exception as exc:  # a broken contender is reported, not timed
                row[key] = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
                del contenders[key]
        row.update(measure(contenders, a.repeat, a.min_time))
        if "ours" in contenders and "ref_float64" in contenders:
            row["outputs_agree"] = bool(
                agree(contenders["ours"].fn(), contenders["ref_float64"].fn())
            )
        for key, _, _ in REF_VARIANTS:
            if "ours" in contenders and f"ref_{key}" in contenders:
                row[f"ratio_vs_{key}"] = row["ours"]["median_s"] / row[f"ref_{key}"]["median_s"]
        if target is not None and "ratio_vs_float64" in row:
            row["meets_target"] = row["ratio_vs_float64"] <= target
        return row

    def box_iou(self) -> dict[str, Any]:
        rng = np.random.default_rng(1)
        b1, b2 = random_boxes(rng, 2000), random_boxes(rng, 2000)
        return self.run_op(
            "box_iou 2000x2000",
            "pairwise IoU of two sets of 2,000 random xyxy boxes",
            ("compute.boxes", "box_iou"),
            lambda f: lambda: f(b1, b2),
            "torchvision.ops.box_iou",
            True,
            lambda d: (lambda x, y: lambda: self.tv_ops.box_iou(x, y))(
                self.t(b1, d), self.t(b2, d)
            ),
            lambda o, r: np.allclose(o, r.numpy(), rtol=1e-9, atol=1e-12),
            IOU_RATIO_TARGET,
        )

    def nms(self) -> dict[str, Any]:
        rng = np.random.default_rng(2)
        boxes = clustered_boxes(rng, 5000, clusters=60, extent=1333.0)
        scores = rng.uniform(0.0, 1.0, size=5000)
        thr = 0.5
        return self.run_op(
            "nms 5000 boxes",
            "5,000 boxes jittered around 60 objects on a 1333x1333 image, uniform random scores, "
            "iou_threshold 0.5",
            ("compute.boxes", "nms"),
            lambda f: lambda: f(boxes, scores, thr),
            "torchvision.ops.nms",
            True,
            lambda d: (lambda x, s: lambda: self.tv_ops.nms(x, s, thr))(
                self.t(boxes, d), self.t(scores, d)
            ),
            lambda o, r: np.array_equal(o, r.numpy()),
            NMS_RATIO_TARGET,
        )

    def softmax(self) -> dict[str, Any]:
        rng = np.random.default_rng(3)
        logits = rng.normal(0.0, 4.0, size=(1000, 1000))
        return self.run_op(
            "softmax 1e6 logits",
            "softmax over the last axis of a 1000x1000 array",
            ("compute.losses", "softmax"),
            lambda f: lambda: f(logits, axis=-1),
            "torch.softmax",
            False,
            lambda d: (lambda x: lambda: self.torch.softmax(x, dim=-1))(self.t(logits, d)),
            lambda o, r: np.allclose(o, r.numpy(), rtol=1e-9, atol=1e-15),
            None,
        )

    def roi_align(self) -> dict[str, Any]:
        rng = np.random.default_rng(4)
        features = rng.normal(0.0, 1.0, size=(1, 256, 50, 50))
        scale = 1.0 / 16.0  # 800x800 image, stride-16 feature map
        boxes = np.clip(random_boxes(rng, 512, extent=800.0), 0.0, 800.0)
        rois = np.concatenate([np.zeros((512, 1)), boxes], axis=1)
        kw = {"spatial_scale": scale, "sampling_ratio": 2, "aligned": True}
        return self.run_op(
            "roi_align 512 RoIs",
            "features 1x256x50x50, 512 RoIs, output 7x7, spatial_scale 1/16, sampling_ratio 2, "
            "aligned=True",
            ("compute.roi", "roi_align"),
            lambda f: lambda: f(features, rois, (7, 7), **kw),
            "torchvision.ops.roi_align",
            True,
            lambda d: (lambda x, r: lambda: self.tv_ops.roi_align(x, r, (7, 7), **kw))(
                self.t(features, d), self.t(rois, d)
            ),
            lambda o, r: np.allclose(o, r.numpy(), rtol=1e-9, atol=1e-12),
            None,
        )


# --------------------------------------------------------------------------------------------
# Templates: the cost of one review, end to end
# --------------------------------------------------------------------------------------------


def load_renderer() -> tuple[Callable[[str], str], str]:
    """Return the Markdown renderer the service uses, or plain ``markdown`` (and say which)."""
    rendering, err = optional_import("knowledge.rendering")
    if rendering is not None and hasattr(rendering, "render_markdown"):
        return (
            rendering.render_markdown,
            "knowledge.rendering.render_markdown (cmark-gfm + nh3)",
        )
    md, md_err = optional_import("markdown")
    if md is not None:
        return md.markdown, f"markdown.markdown only ({err}; no math stashing, no sanitizing)"
    raise RuntimeError(f"no Markdown renderer: {err}; {md_err}")


def one_review(
    templates: Any, engine: Any, render: Callable[[str], str], key: Any
) -> tuple[float, float]:
    """Return the (wall, CPU) seconds one review of ``key`` takes, as the service does it.

    A review draws the variant (in the request that shows it), renders the prompt in both
    languages, then grades the learner's answer (in a worker, which rebuilds the variant: the
    engine's per-process cache is cleared before each step) and renders the worked solution in
    both languages for the feedback. The CPU time is this thread's own (``time.thread_time``):
    on a shared machine it leaves out the time other processes held the CPU.
    """
    clear = engine._core.cache_clear
    clear()
    wall, cpu = time.perf_counter(), time.thread_time()
    variant = templates.generate(key)
    render(variant.prompt.en)
    render(variant.prompt.zh)
    response = variant.answer_text
    clear()
    result = templates.grade(key, response)
    render(result.solution.en)
    render(result.solution.zh)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    assert result.correct, (key, response)
    return wall, cpu


def percentile(values: list[float], q: float) -> float:
    """Return the ``q`` quantile (0..1) of ``values`` by linear interpolation."""
    return float(np.quantile(np.asarray(values), q))


def bench_review(args: argparse.Namespace) -> dict[str, Any]:
    """Time ``--reviews`` reviews per template version (distinct seeds), interleaved."""
    templates, err = optional_import("compute.templates")
    if templates is None:
        return {"status": "unavailable", "reason": err}
    engine = sys.modules["compute.templates.engine"]
    render, renderer = load_renderer()
    gc.freeze()  # torch's objects, if imported, stay out of the collector's walks
    entries = [(t.id, t.version) for t in templates.registry()]
    times: dict[str, list[tuple[float, float]]] = {f"{i}@{v}": [] for i, v in entries}
    per: dict[str, Any] = {}
    for tid, version in entries:  # warm-up: imports, lazy tables, first-call costs
        for seed in range(3):
            one_review(templates, engine, render, templates.VariantKey.of(tid, version, seed))
    calibration = []
    # Round-robin over templates, a few reviews at a time, so a slow spell of this shared
    # machine spreads over every template instead of landing on one.
    chunk = 10
    for start in range(0, args.reviews, chunk):
        calibration.append(python_calibration_us(number=100, repeat=3))
        for tid, version in entries:
            for seed in range(start, min(start + chunk, args.reviews)):
                key = templates.VariantKey.of(tid, version, 10**6 + seed)
                times[f"{tid}@{version}"].append(one_review(templates, engine, render, key))
    gc.unfreeze()
    for name, pairs in times.items():
        wall = [w for w, _ in pairs]
        cpu = [c for _, c in pairs]
        per[name] = {
            "reviews": len(pairs),
            "p50_ms": percentile(cpu, 0.5) * 1e3,
            "p95_ms": percentile(cpu, 0.95) * 1e3,
            "max_ms": max(cpu) * 1e3,
            "wall_p50_ms": percentile(wall, 0.5) * 1e3,
            "wall_p95_ms": percentile(wall, 0.95) * 1e3,
        }
    latest: dict[str, int] = {}
    for tid, version in entries:
        latest[tid] = max(latest.get(tid, 0), version)
    for name in per:
        tid, version = name.rsplit("@", 1)
        per[name]["superseded"] = int(version) < latest[tid]
    current = [v for v in per.values() if not v["superseded"]]
    slowest = max(per, key=lambda n: per[n]["p95_ms"])
    return {
        "status": "ok",
        "method": "per review: generate(key) with the engine cache cleared, render the prompt "
        "(en, zh) to HTML, grade(key, answer_text) with the cache cleared again (a worker "
        "rebuilds the variant), render the worked solution (en, zh) to HTML. Distinct seeds; "
        "templates interleaved round-robin in chunks of 10 reviews. p50/p95/max are the "
        "thread's CPU time per review (time.thread_time), which the target is checked on; "
        "wall_p50/wall_p95 are wall-clock times, which on a loaded machine include the time "
        "other processes held the CPU.",
        "load_average_1_5_15_at_start": list(os.getloadavg()),
        "renderer": renderer,
        "target_p95_ms": REVIEW_P95_TARGET_MS,
        "slowest_template": slowest,
        "slowest_p50_ms": per[slowest]["p50_ms"],
        "slowest_p95_ms": per[slowest]["p95_ms"],
        "all_meet_target": all(v["p95_ms"] <= REVIEW_P95_TARGET_MS for v in per.values()),
        "latest_versions_meet_target": all(v["p95_ms"] <= REVIEW_P95_TARGET_MS for v in current),
        "note": "Every registered version is timed. A version marked superseded (an older "
        "version of a template that has a newer one) is kept only to re-grade the attempts "
        "stored against it: no card draws it, so new reviews never pay its cost. The target "
        "applies to the latest versions (latest_versions_meet_target).",
        "python_calibration_us_per_round": calibration,
        "templates": per,
    }


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def python_calibration_us(number: int = 2000, repeat: int = 5) -> float:
    """Best time of a fixed pure-Python loop (``sum(range(10_000))``), in microseconds.

    The template rates are pure-Python work, so on a virtual machine whose speed drifts they
    move with this figure; compare template rates between runs only after scaling by it.
    """
    best = min(timeit.repeat("sum(range(10_000))", number=number, repeat=repeat)) / number
    return best * 1e6


def machine_info(bench: Bench | None) -> dict[str, Any]:
    cpu_model = platform.processor() or None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    torch = bench.torch if bench is not None else None
    torch_err = bench.torch_err if bench is not None else "not loaded (review cost only)"
    tv = bench.torchvision if bench is not None else None
    tv_err = bench.tv_err if bench is not None else "not loaded (review cost only)"
    return {
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else f"unavailable ({torch_err})",
        "torchvision": tv.__version__ if tv is not None else f"unavailable ({tv_err})",
        "torch_num_threads": torch.get_num_threads() if torch is not None else None,
        "load_average_1_5_15_at_start": list(os.getloadavg()),
        "python_calibration_us_at_start": python_calibration_us(),
    }


def fmt_time(entry: dict[str, Any]) -> str:
    if entry.get("status") != "ok":
        return str(entry.get("status", "unavailable"))
    s = float(entry["median_s"])
    return f"{s * 1e3:9.3f} ms" if s >= 1e-3 else f"{s * 1e6:9.1f} us"


def print_report(rows: list[dict[str, Any]], tmpl: dict[str, Any], info: dict[str, Any]) -> None:
    print(
        f"compute/ vs torch {info['torch']} / torchvision {info['torchvision']}, "
        f"numpy {info['numpy']}, {info['cpu_count']} CPUs, torch threads "
        f"{info['torch_num_threads']}, {info['date_utc']}"
    )
    calib = (info["python_calibration_us_at_start"], info.get("python_calibration_us_at_end"))
    print(
        "pure-Python calibration, sum(range(10_000)): "
        + " -> ".join(f"{c:.0f} us" for c in calib if c is not None)
        + " (start -> end; pure-Python timings scale with it)"
    )
    if rows:
        print_ops(rows)
    print_review(tmpl)


def print_ops(rows: list[dict[str, Any]]) -> None:
    cols = [("float64", "torch f64"), ("float32", "torch f32"), ("float64_1thread", "f64 1thr")]
    head = f"{'benchmark':<20} {'ours':>12}"
    for _, label in cols:
        head += f" {label:>12} {'ratio':>6}"
    print(head + "  target    agree")
    for r in rows:
        line = f"{r['name']:<20} {fmt_time(r['ours']):>12}"
        for key, _ in cols:
            ratio = f"{r[f'ratio_vs_{key}']:6.2f}" if f"ratio_vs_{key}" in r else f"{'-':>6}"
            line += f" {fmt_time(r[f'ref_{key}']):>12} {ratio}"
        tgt = r["target_ratio_max"]
        target = "-"
        if tgt is not None:
            verdict = "?" if "meets_target" not in r else ("ok" if r["meets_target"] else "MISSED")
            target = f"<={tgt:.0f}x {verdict}"
        print(f"{line}  {target:<9} {r.get('outputs_agree', '-')}")
    print(
        "(ratio = ours / torch median time, < 1: ours faster; target is vs torch f64 default threads)"
    )
    print()


def print_review(tmpl: dict[str, Any]) -> None:
    if tmpl.get("status") != "ok":
        print(f"review cost: UNAVAILABLE - {tmpl.get('reason')}")
        return
    print(
        f"one review end to end (generate, render prompt en+zh, grade, render solution en+zh), "
        f"target p95 <= {REVIEW_P95_TARGET_MS:g} ms; renderer: {tmpl['renderer']}"
    )
    print(f"  {'template':<34} {'CPU p50':>8} {'CPU p95':>8} {'max':>8} {'wall p50':>9} {'p95':>8}")
    for name, v in sorted(tmpl["templates"].items(), key=lambda kv: -kv[1]["p95_ms"]):
        mark = "" if v["p95_ms"] <= REVIEW_P95_TARGET_MS else "  MISSED"
        if v.get("superseded"):
            mark += "  (superseded: re-grades stored attempts only)"
        print(
            f"  {name:<34} {v['p50_ms']:>6.2f}ms {v['p95_ms']:>6.2f}ms {v['max_ms']:>6.2f}ms "
            f"{v['wall_p50_ms']:>7.2f}ms {v['wall_p95_ms']:>6.2f}ms{mark}"
        )
    verdict = "ok" if tmpl["all_meet_target"] else "MISSED"
    print(
        f"  slowest: {tmpl['slowest_template']} p50 {tmpl['slowest_p50_ms']:.2f} ms, "
        f"p95 {tmpl['slowest_p95_ms']:.2f} ms -> {verdict}"
    )
    if "latest_versions_meet_target" in tmpl:
        latest = "ok" if tmpl["latest_versions_meet_target"] else "MISSED"
        print(f"  latest versions (the ones cards draw): {latest}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=7, help="timing runs per figure (median)")
    p.add_argument("--min-time", type=float, default=0.2, help="seconds per timing run")
    p.add_argument("--reviews", type=int, default=200, help="reviews timed per template")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    p.add_argument("--only", nargs="*", default=None, help="subset: iou nms softmax roi review")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    p.add_argument("--no-write", action="store_true", help="print only")
    args = p.parse_args(argv)

    selected = set(args.only) if args.only else {"iou", "nms", "softmax", "roi", "review"}
    bench = Bench(args) if selected - {"review"} else None
    info = machine_info(bench)
    rows = []
    if bench is not None:
        for key, method in (
            ("iou", bench.box_iou),
            ("nms", bench.nms),
            ("softmax", bench.softmax),
            ("roi", bench.roi_align),
        ):
            if key in selected:
                rows.append(method())
    review = bench_review(args) if "review" in selected else {"status": "not selected"}
    info["load_average_1_5_15_at_end"] = list(os.getloadavg())
    info["python_calibration_us_at_end"] = python_calibration_us()
    print_report(rows, review, info)
    if args.no_write:
        return 0
    # Each section keeps the machine description of the run that measured it, so the ops (in
    # the torch venv) and the review cost (in the service venv) can come from separate runs.
    old = json.loads(args.output.read_text()) if args.output.exists() else {}
    result = {k: v for k, v in old.items() if k in ("ops", "review")}
    settings = {
        "statistic": "median seconds per call over repeat runs (best also stored)",
        "repeat": args.repeat,
        "min_time_per_run_s": args.min_time,
        "dtype": "float64 for ours and torch f64 (identical inputs); torch f32 for context",
    }
    if rows:
        result["ops"] = {"machine": info, "settings": settings, "results": rows}
    if review.get("status") == "ok":
        result["review"] = {"machine": info, **review}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
