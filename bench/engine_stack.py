"""The live stack for bench/engine.py parts (a) and (b): PostgreSQL, Redis, two Celery workers.

`live_stack()` drops and recreates the PostgreSQL database `bench_engine` (through the server's
`postgres` database), migrates it, starts a private Redis (config.redis_server) and one
`celery worker --pool prefork --concurrency 2` (two worker processes) on them, and configures
Django in this process with the same settings (config.settings.local, DEBUG off), so the bench
calls the services exactly as the web process would. Everything it started is stopped on exit;
the database is left for inspection (the next run drops it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "bench_engine"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
WORKER_START_TIMEOUT = 120.0

__all__ = ["BENCH_DATABASE", "DEFAULT_SERVER", "LiveStack", "live_stack"]


@dataclass(frozen=True)
class LiveStack:
    database_url: str
    redis_url: str
    worker_hostname: str
    worker_log: Path
    worker_pid: int
    redis_pid: int

    def postgres_cpu(self) -> dict[int, float]:
        """Return the CPU time of each PostgreSQL server process serving the bench database."""
        import psutil

        found: dict[int, float] = {}
        for process in psutil.process_iter(["cmdline"]):
            command = " ".join(process.info["cmdline"] or ())
            if command.startswith("postgres:") and f" {BENCH_DATABASE} " in command:
                try:
                    times = process.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                found[process.pid] = float(times.user + times.system)
        return found

    def cpu_seconds(self) -> dict[str, float]:
        """Return the CPU time (user + system) used so far by each part of the stack.

        "client" is this process; "workers" the worker's main process and its pool processes;
        "postgres" the server processes serving the bench database; "redis" the private Redis.
        """
        import psutil

        def used(process: psutil.Process) -> float:
            times = process.cpu_times()
            return float(times.user + times.system)

        def tree(pid: int) -> float:
            try:
                root = psutil.Process(pid)
                return used(root) + sum(used(child) for child in root.children(recursive=True))
            except psutil.NoSuchProcess:
                return 0.0

        postgres = sum(self.postgres_cpu().values())
        return {
            "client": used(psutil.Process()),
            "workers": tree(self.worker_pid),
            "postgres": postgres,
            "redis": tree(self.redis_pid),
        }


def _recreate_database(server: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def live_stack(*, server: str = DEFAULT_SERVER, workers: int = 2) -> Iterator[LiveStack]:
    """Yield a fresh `bench_engine` database with Redis and `workers` worker processes."""
    from config.process_guard import die_with_parent
    from config.redis_server import start_private_redis

    database_url = f"{server}/{BENCH_DATABASE}"
    _recreate_database(server, BENCH_DATABASE)
    redis = start_private_redis()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=database_url,
        REDIS_URL=redis.url,
        DATA_DIR=str(data_dir),
        DEBUG="false",
        PYTHONUNBUFFERED="1",
    )
    os.environ.update(
        {
            key: env[key]
            for key in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "DATA_DIR", "DEBUG")
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from config.celery_app import app

    hostname = f"bench-engine-{os.getpid()}@localhost"
    log = data_dir / "worker.log"
    with log.open("ab") as handle:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(workers),
                "--loglevel",
                "WARNING",
                "--hostname",
                hostname,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=REPO,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while not any(hostname in reply for reply in app.control.ping(timeout=0.5) or []):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start:\n{log.read_text()}")
        yield LiveStack(
            database_url=database_url,
            redis_url=redis.url,
            worker_hostname=hostname,
            worker_log=log,
            worker_pid=worker.pid,
            redis_pid=redis.process.pid,
        )
    finally:
        _stop(worker)
        redis.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        from django.db import connections

        connections.close_all()
