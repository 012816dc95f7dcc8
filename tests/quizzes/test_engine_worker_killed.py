"""A worker killed with SIGKILL in the middle of grading loses nothing (issue 10, req 6).

The worker here is a prefork worker like the one ``make run`` starts (a parent and one pool
child) on a private Redis. The test holds a lock on the attempt's row so the child stops inside
the grading transaction, kills the child with SIGKILL, then lets go: with late acknowledgement
and reject-on-worker-lost the parent puts the message back, a fresh child grades it, and the
attempt is graded once, with one review.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from config.celery_app import app as celery_app
from config.process_guard import die_with_parent
from config.redis_server import start_private_redis
from ops.outbox import outbox_task_id
from quizzes.models import Attempt, CardState, ReviewLog
from quizzes.services import attempt_submit, attempt_wait, study_next
from tests.conftest import ROOT, point_celery_at, stop_process, wait_until
from tests.quizzes import factories
from tests.quizzes.helpers import numeric_answer, study_item

pytestmark = pytest.mark.django_db(transaction=True)

START_TIMEOUT = 90.0
RESULT_TIMEOUT = 60.0


@dataclass
class PreforkWorker:
    hostname: str
    log: Path


@pytest.fixture
def prefork_worker(
    test_database_url: str, redis_url: str, tmp_path: Path
) -> Iterator[PreforkWorker]:
    """A prefork worker (one pool child) on a private Redis that no other worker reads."""
    private = start_private_redis()
    point_celery_at(private.url)
    hostname = f"prefork-{os.getpid()}@localhost"
    log = tmp_path / "prefork-worker.log"
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.test",
        REDIS_URL=private.url,
        DATABASE_URL=test_database_url,
        PYTHONUNBUFFERED="1",
    )
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork"]
    command += ["--concurrency", "1", "--loglevel", "INFO", "--hostname", hostname]
    command += ["--without-gossip", "--without-mingle"]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )
    try:
        wait_until(
            lambda: (
                process.poll() is None
                and any(hostname in reply for reply in celery_app.control.ping(timeout=0.5) or [])
            ),
            timeout=START_TIMEOUT,
            what="the prefork worker to answer a ping",
        )
        yield PreforkWorker(hostname=hostname, log=log)
    finally:
        stop_process(process)
        point_celery_at(redis_url)
        private.stop()


def _running_child(worker: PreforkWorker, task_id: str) -> int | None:
    """Return the pid of the pool child running ``task_id`` (None if it is not running)."""
    active = celery_app.control.inspect(destination=[worker.hostname], timeout=1).active() or {}
    for task in active.get(worker.hostname, []):
        if task["id"] == task_id and task.get("worker_pid"):
            return int(task["worker_pid"])
    return None


def _gone(pid: int) -> bool:
    """Return whether ``pid`` has exited (a zombie waiting for its parent counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def test_a_worker_killed_while_grading_loses_nothing(prefork_worker: PreforkWorker) -> None:
    learner = factories.learner("ada")
    bank = factories.bank("killed")
    factories.subscribe(learner, bank)
    factories.numeric(bank)
    item = study_item(study_next(learner=learner, now=timezone.now()))
    attempt_id = uuid.uuid4()

    locked, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        # SELECT ... FOR UPDATE on PostgreSQL; on SQLite the IMMEDIATE transaction holds the
        # database's write lock. Either way the worker's claim of the row waits here.
        try:
            with transaction.atomic():
                list(Attempt.objects.select_for_update().filter(pk=attempt_id))
                locked.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    # The attempt is committed as a request commits it, but the grading task it queued for
    # after the commit is held back (taken off the commit hooks) until the row is locked:
    # otherwise the worker could finish before the lock is taken.
    with transaction.atomic():
        attempt = attempt_submit(
            learner=learner,
            token=item.token,
            response={"answer": numeric_answer(item)},
            client_id=attempt_id,
            reviewed_at=timezone.now(),
            duration_ms=20_000,
        )
        sends = [entry[1] for entry in connection.run_on_commit]  # (savepoints, send, robust)
        connection.run_on_commit = []
    assert len(sends) == 1
    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        sends[0]()
        task_id = outbox_task_id(attempt)
        child = wait_until(
            lambda: _running_child(prefork_worker, task_id),
            timeout=RESULT_TIMEOUT,
            what="the pool child to start grading",
        )
        os.kill(child, signal.SIGKILL)
        wait_until(lambda: _gone(child), timeout=30, what="the killed child to exit")
    finally:
        release.set()
        holder.join(timeout=60)

    result = attempt_wait(attempt_id=attempt_id, learner=learner, timeout=RESULT_TIMEOUT)

    assert result.status == Attempt.Status.GRADED
    assert result.outbox_resends == 0  # redelivered by the broker, not re-sent by the sweep
    assert ReviewLog.objects.filter(attempt_id=attempt_id).count() == 1
    assert CardState.objects.get(learner=learner).reps == 1
    log = prefork_worker.log.read_text()
    assert "SIGKILL" in log or "WorkerLostError" in log, log[-3000:]
    assert log.count(f"grade_attempt[{task_id}] received") >= 2, log[-3000:]
