"""/healthz latency under load: 8 concurrent clients against a running gunicorn.

Usage::

    .venv/bin/python bench/healthz.py                      # starts `python -m config.stack`
    .venv/bin/python bench/healthz.py --url http://127.0.0.1:8000   # an already running one

Without ``--url`` it runs the real stack (gunicorn with WEB_CONCURRENCY processes, worker, beat,
private Redis) on a free port in a throwaway data directory, waits for /healthz to answer 200,
then: measures the home page alone (baseline), then runs ``--clients`` threads that request
/healthz back to back for ``--seconds`` while one more thread keeps requesting the home page.
Prints the latency percentiles of both and writes them to bench/results/healthz.json. Nothing is
asserted: the figure goes into the issue notes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "healthz.json"


def _get(url: str) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        status = exc.code
    return status, (time.perf_counter() - started) * 1000


def latency_summary(samples: Sequence[float]) -> dict[str, float]:
    """Return n, p50/p95/p99 (nearest rank), max and mean of millisecond samples, rounded."""
    ordered = sorted(samples)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

    return {
        "n": len(ordered),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


def _hammer(url: str, until: float, samples: list[float], statuses: dict[int, int]) -> None:
    while time.monotonic() < until:
        status, ms = _get(url)
        samples.append(ms)
        statuses[status] = statuses.get(status, 0) + 1


def measure(base: str, *, clients: int, seconds: float) -> dict[str, Any]:
    home_alone: list[float] = []
    _hammer(f"{base}/", time.monotonic() + min(5.0, seconds), home_alone, {})

    until = time.monotonic() + seconds
    health: list[list[float]] = [[] for _ in range(clients)]
    statuses: list[dict[int, int]] = [{} for _ in range(clients)]
    home_loaded: list[float] = []
    threads = [
        threading.Thread(target=_hammer, args=(f"{base}/healthz", until, health[i], statuses[i]))
        for i in range(clients)
    ]
    threads.append(threading.Thread(target=_hammer, args=(f"{base}/", until, home_loaded, {})))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    all_health = [ms for samples in health for ms in samples]
    merged: dict[int, int] = {}
    for per_client in statuses:
        for status, count in per_client.items():
            merged[status] = merged.get(status, 0) + count
    return {
        "clients": clients,
        "seconds": seconds,
        "healthz": latency_summary(all_health),
        "healthz_per_second": round(len(all_health) / seconds, 1),
        "healthz_statuses": {str(k): v for k, v in sorted(merged.items())},
        "home_alone": latency_summary(home_alone),
        "home_during_healthz_load": latency_summary(home_loaded),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_stack(data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(DATA_DIR=data_dir, PORT=str(port))
    stack = subprocess.Popen(
        [sys.executable, "-m", "config.stack"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if stack.poll() is not None:
            raise SystemExit(f"the run command exited with {stack.returncode}")
        try:
            if _get(f"{base}/healthz")[0] == 200:
                return stack, base
        except OSError:
            pass
        time.sleep(0.5)  # the stack is still starting
    stack.send_signal(signal.SIGINT)
    raise SystemExit("the stack did not become healthy in 240 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="base URL of a running server (default: start the stack)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    stack = None
    with tempfile.TemporaryDirectory(prefix="dlcv-bench-") as data_dir:
        if args.url:
            base = args.url.rstrip("/")
        else:
            stack, base = _start_stack(data_dir)
        try:
            result = measure(base, clients=args.clients, seconds=args.seconds)
        finally:
            if stack is not None:
                stack.send_signal(signal.SIGINT)
                stack.wait(timeout=60)
    result.update(
        machine=f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        web_concurrency=os.environ.get("WEB_CONCURRENCY", "2") if not args.url else "unknown",
        measured_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    print(json.dumps(result, indent=2))
    if not args.no_write:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
