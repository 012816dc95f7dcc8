"""Fixtures shared by the whole suite: a real Redis and a real Celery worker process.

Redis is the one at ``REDIS_URL`` when that is set, otherwise a private server started for the
session. The worker is a separate ``celery worker`` process reading the same test database, so
integration tests exercise the real broker and the real task code; none of it is mocked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.conf import settings
from django.db import connection
from hypothesis import settings as hypothesis_settings
from kombu import pools as kombu_pools

from config.celery_app import app as celery_app
from config.process_guard import die_with_parent
from config.redis_server import PrivateRedis, start_private_redis

ROOT = Path(__file__).resolve().parent.parent
WORKER_START_TIMEOUT = 90.0
T = TypeVar("T")

# Property tests explore fresh random examples on every local run. CI (HYPOTHESIS_PROFILE=ci, set
# by .ci/run) draws the same examples every time, so a run's verdict depends on the commit alone;
# a counterexample found locally becomes an @example in its test.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def point_celery_at(url: str) -> None:
    """Send this process's tasks, results and health checks to the Redis at ``url``.

    Celery caches its connection pools and result backend; they are dropped so the next send
    connects to the new URL.
    """
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = settings.REDIS_URL = url
    celery_app.conf.update(broker_url=url, result_backend=url)
    kombu_pools.reset()  # closes kombu's shared connection and producer pools and forgets them
    app: Any = celery_app  # private attributes, absent from the type stubs
    app._after_fork()  # drops the app's references to those pools
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """Point Django and Celery at a real Redis for the session and yield its URL."""
    private = None
    url = os.environ.get("REDIS_URL")
    if not url:
        private = start_private_redis()
        url = private.url
    previous = settings.CELERY_BROKER_URL
    point_celery_at(url)
    try:
        yield url
    finally:
        point_celery_at(previous)
        if private is not None:
            private.stop()


def _database_url() -> str:
    """The URL of the test database this process uses, for the worker process to open."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(params['NAME']).resolve()}"
    if connection.vendor == "postgresql":
        user = params.get("USER") or ""
        password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
        auth = f"{user}{password}@" if user else ""
        host = params.get("HOST") or "127.0.0.1"
        port = f":{params['PORT']}" if params.get("PORT") else ""
        return f"postgres://{auth}{host}{port}/{params['NAME']}"
    raise RuntimeError(f"no worker support for the {connection.vendor} backend")


def start_worker(
    *, broker_url: str, database_url: str, hostname: str, log: Path, **extra_env: str
) -> subprocess.Popen[bytes]:
    """Start a real ``celery worker`` process (solo pool) and wait until it answers a ping.

    This process's Celery app must already point at ``broker_url`` (the ping goes through it).
    """
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.test",
        REDIS_URL=broker_url,
        DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
        **extra_env,
    )
    with log.open("ab") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--hostname",
                hostname,
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited at start:\n{log.read_text()}")
        if any(hostname in reply for reply in celery_app.control.ping(timeout=0.5) or []):
            return process
        if time.monotonic() > deadline:
            stop_process(process)
            raise RuntimeError(f"the Celery worker did not answer in time:\n{log.read_text()}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM a process started by a fixture; SIGKILL it if it has not stopped in 20 s."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until(predicate: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Return the first truthy value of ``predicate()``; fail naming ``what`` after ``timeout`` s.

    For work done by another process (a worker, beat) that leaves no result to block on.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)  # poll interval while another process works, not a wait for the work


@pytest.fixture(scope="session")
def test_database_url(django_db_setup: None, django_db_blocker: Any) -> str:
    """The URL of the test database, for the processes (worker, beat) that tests start."""
    with django_db_blocker.unblock():
        return _database_url()


@pytest.fixture(scope="session")
def celery_worker_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The log file of the session's worker (``celery_worker``)."""
    return tmp_path_factory.mktemp("worker") / "worker.log"


@pytest.fixture(scope="session")
def celery_worker(test_database_url: str, redis_url: str, celery_worker_log: Path) -> Iterator[str]:
    """Start one real Celery worker process on the test database; yield its node name."""
    hostname = f"test-worker-{os.getpid()}@localhost"
    process = start_worker(
        broker_url=redis_url,
        database_url=test_database_url,
        hostname=hostname,
        log=celery_worker_log,
    )
    try:
        yield hostname
    finally:
        stop_process(process)


@dataclass
class IsolatedBroker:
    """A private Redis that a test may stop and restart, with its own worker."""

    redis: PrivateRedis
    worker: str
    worker_log: Path


@pytest.fixture
def isolated_broker(
    test_database_url: str, redis_url: str, tmp_path: Path
) -> Iterator[IsolatedBroker]:
    """Point this process at a private Redis of the test's own, served by a worker of its own.

    The session's Redis may be a shared server (``REDIS_URL``) that a test must never stop; this
    one it may. The session's broker is restored afterwards.
    """
    private = start_private_redis()
    point_celery_at(private.url)
    hostname = f"isolated-worker-{os.getpid()}@localhost"
    log = tmp_path / "isolated-worker.log"
    process = None
    try:
        process = start_worker(
            broker_url=private.url, database_url=test_database_url, hostname=hostname, log=log
        )
        yield IsolatedBroker(redis=private, worker=hostname, worker_log=log)
    finally:
        if process is not None:
            stop_process(process)
        point_celery_at(redis_url)
        private.stop()
