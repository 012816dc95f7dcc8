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
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from hypothesis import settings as hypothesis_settings

from config.celery_app import app as celery_app
from config.redis_server import start_private_redis

ROOT = Path(__file__).resolve().parent.parent
WORKER_START_TIMEOUT = 90.0

# Property tests explore fresh random examples on every local run. CI (HYPOTHESIS_PROFILE=ci, set
# by .ci/run) draws the same examples every time, so a run's verdict depends on the commit alone;
# a counterexample found locally becomes an @example in its test.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """Point Django and Celery at a real Redis for the session and yield its URL."""
    private = None
    url = os.environ.get("REDIS_URL")
    if not url:
        private = start_private_redis()
        url = private.url
    previous = (settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND)
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = settings.REDIS_URL = url
    celery_app.conf.update(broker_url=url, result_backend=url)
    try:
        yield url
    finally:
        settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND = previous
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


@pytest.fixture(scope="session")
def celery_worker(
    django_db_setup: None,
    django_db_blocker: pytest.FixtureRequest,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """Start one real Celery worker process on the test database; yield its node name."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        database_url = _database_url()
    hostname = f"test-worker-{os.getpid()}@localhost"
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.test",
        REDIS_URL=redis_url,
        DATABASE_URL=database_url,
    )
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with log.open("wb") as log_file:
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
        )
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the Celery worker exited at start:\n{log.read_text()}")
            if any(hostname in reply for reply in celery_app.control.ping(timeout=0.5) or []):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not answer in time:\n{log.read_text()}")
        yield hostname
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
