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
VARIANTS_TARGET = 20_000.0  # generate + grade per second, shape templates
# (result key, torch dtype, torch threads; 0 = torch's default). float64 = the very same inputs.
REF_VARIANTS = (
    ("float64", "float64", 0),
    ("float32", "float32", 0),
    ("float64_1thread", "float64", 1),
)
SHAPE_TEMPLATE_PREFIXES = ("conv.", "pool.", "im2col.", "tensor.")


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
# Templates: variants generated + graded per second
# --------------------------------------------------------------------------------------------


def template_ids(templates: Any) -> list[str]:
    reg = templates.registry()
    if isinstance(reg, dict):
        return sorted(str(k) for k in reg)
    ids = set()
    for item in reg:  # Template objects (every version) or plain ids
        ids.add(str(item if isinstance(item, str) else getattr(item, "id", item)))
    return sorted(ids)


def correct_response(variant: Any) -> Any:
    """The variant's own answer as a learner would type it, so grading parses and scores it."""
    for attr in ("answer_text", "answer", "expected"):
        if hasattr(variant, attr):
            return getattr(variant, attr)
    if isinstance(variant, dict):
        for key in ("answer_text", "answer", "expected"):
            if key in variant:
                return variant[key]
    return None


def template_rate(
    templates: Any, tid: str, budget: float, first_seed: int, clear: Callable[[], None] | None
) -> float:
    """Whole generate + grade cycles per second over at least `budget` seconds.

    With `clear`, the engine's per-variant cache is emptied before each grade, as when the grade
    request reaches another worker process than the one that generated the variant.
    """
    seed, n, start = first_seed, 0, time.perf_counter()
    while True:
        for _ in range(50):
            variant = templates.generate(tid, seed)
            version = getattr(variant, "version", None)
            response = correct_response(variant)
            if clear is not None:
                clear()
            templates.grade(tid, version, seed, response)
            seed += 1
        n += 50
        elapsed = time.perf_counter() - start
        if elapsed >= budget:
            return n / elapsed


def bench_templates(args: argparse.Namespace) -> dict[str, Any]:
    templates, err = optional_import("compute.templates")
    needed = ("registry", "generate", "grade")
    if templates is None or not all(hasattr(templates, f) for f in needed):
        missing = [f for f in needed if templates is None or not hasattr(templates, f)]
        return {
            "status": "unavailable",
            "reason": err or f"compute.templates lacks {', '.join(missing)}",
            "target_variants_per_s": VARIANTS_TARGET,
        }
    engine = sys.modules.get("compute.templates.engine")
    cache = getattr(getattr(engine, "_core", None), "cache_clear", None)
    modes = [("", None)] + ([("_uncached_grade", cache)] if cache else [])
    # torch and torchvision leave some 300,000 objects for the cyclic garbage collector to walk
    # on every full collection; a service process has none of them. Freezing them keeps those
    # walks (about 0.15 s each) out of the template timings.
    gc.freeze()
    per: dict[str, Any] = {}
    rates: dict[tuple[str, str], list[float]] = {}
    for tid in template_ids(templates):
        try:
            template_rate(templates, tid, 0.0, 0, None)  # warm-up, surfaces errors early
            per[tid] = {"status": "ok", "shape_template": tid.startswith(SHAPE_TEMPLATE_PREFIXES)}
        except Exception as exc:
            per[tid] = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
    calibration = []
    # Round-robin: run r of every template, then run r + 1 of every template, and so on. The
    # speed of this virtual machine drifts over seconds, so each template's median is taken
    # over moments spread across the whole benchmark rather than over one short stretch.
    for run in range(args.repeat):
        calibration.append(python_calibration_us(number=200, repeat=3))
        for suffix, clear in modes:
            for tid, entry in per.items():
                if entry["status"] != "ok":
                    continue
                # Distinct seed ranges per run so that no run profits from an earlier run's cache.
                rate = template_rate(templates, tid, args.template_time, (run + 1) * 10**6, clear)
                rates.setdefault((tid, suffix), []).append(rate)
    gc.unfreeze()
    for (tid, suffix), values in rates.items():
        per[tid][f"variants_per_s_median{suffix}"] = statistics.median(values)
        per[tid][f"variants_per_s_best{suffix}"] = max(values)
    shape = [v["variants_per_s_median"] for v in per.values() if v.get("shape_template")]
    return {
        "status": "ok",
        "method": "generate(template_id, seed) then grade(template_id, variant.version, seed, "
        "variant.answer_text), consecutive seeds; median of --repeat runs of --template-time "
        "seconds, the runs of all templates interleaved round-robin. *_uncached_grade: the "
        "engine's per-variant LRU cache (_core) is cleared before each grade, so grading "
        "recomputes the variant as a separate worker would.",
        "python_calibration_us_per_round": calibration,
        "target_variants_per_s": VARIANTS_TARGET,
        "shape_templates_min_variants_per_s": min(shape) if shape else None,
        "shape_templates_meet_target": bool(shape) and min(shape) >= VARIANTS_TARGET,
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


def machine_info(bench: Bench) -> dict[str, Any]:
    cpu_model = platform.processor() or None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    torch = bench.torch
    return {
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else f"unavailable ({bench.torch_err})",
        "torchvision": (
            bench.torchvision.__version__
            if bench.torchvision is not None
            else f"unavailable ({bench.tv_err})"
        ),
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
        + " (start -> end; template rates scale inversely with it)"
    )
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
    if tmpl["status"] != "ok":
        print(f"templates: UNAVAILABLE - {tmpl['reason']} (no variants/s figures measured)")
        return
    print(
        f"templates (generate+grade per second, target >= {VARIANTS_TARGET:,.0f} for shape ones):"
    )
    print(f"  {'template':<28} {'cached':>13} {'uncached grade':>13}")
    for tid, v in tmpl["templates"].items():
        if v["status"] != "ok":
            print(f"  {tid:<28} ERROR {v['reason']}")
            continue
        mark = " (shape)" if v["shape_template"] else ""
        cold = v.get("variants_per_s_median_uncached_grade")
        cold_text = f"{cold:>10,.0f} /s" if cold is not None else f"{'-':>12}"
        print(f"  {tid:<28} {v['variants_per_s_median']:>10,.0f} /s {cold_text}{mark}")
    per_round = tmpl.get("python_calibration_us_per_round") or []
    if per_round:
        print(
            f"  calibration per round: {min(per_round):.0f} to {max(per_round):.0f} us "
            "(the machine's pure-Python speed while the template runs were taken)"
        )
    low = tmpl["shape_templates_min_variants_per_s"]
    if low is not None:
        verdict = "ok" if tmpl["shape_templates_meet_target"] else "MISSED"
        print(f"  slowest shape template: {low:,.0f} /s -> {verdict}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=7, help="timing runs per figure (median)")
    p.add_argument("--min-time", type=float, default=0.2, help="seconds per timing run")
    p.add_argument("--template-time", type=float, default=0.2, help="seconds per template run")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    p.add_argument("--only", nargs="*", default=None, help="subset: iou nms softmax roi templates")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    p.add_argument("--no-write", action="store_true", help="print only")
    args = p.parse_args(argv)

    bench = Bench(args)
    info = machine_info(bench)
    selected = set(args.only) if args.only else {"iou", "nms", "softmax", "roi", "templates"}
    rows = []
    for key, method in (
        ("iou", bench.box_iou),
        ("nms", bench.nms),
        ("softmax", bench.softmax),
        ("roi", bench.roi_align),
    ):
        if key in selected:
            rows.append(method())
    if "templates" in selected:
        tmpl = bench_templates(args)
    else:
        tmpl = {"status": "unavailable", "reason": "not selected (--only)"}
    info["load_average_1_5_15_at_end"] = list(os.getloadavg())
    info["python_calibration_us_at_end"] = python_calibration_us()
    print_report(rows, tmpl, info)
    if not args.no_write:
        result = {
            "machine": info,
            "settings": {
                "statistic": "median seconds per call over repeat runs (best also stored)",
                "repeat": args.repeat,
                "min_time_per_run_s": args.min_time,
                "dtype": "float64 for ours and torch f64 (identical inputs); torch f32 for context",
            },
            "ops": rows,
            "templates": tmpl,
        }
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
