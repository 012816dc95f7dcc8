"""The beat heartbeat: recorded by a worker, through a real ``celery beat`` process."""

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from config.process_guard import die_with_parent
from ops.models import WorkerProbe
from ops.services import worker_heartbeat_record, worker_probes_prune
from tests.conftest import ROOT, stop_process, wait_until

BEAT_TIMEOUT = 60


@pytest.mark.django_db
def test_a_heartbeat_is_requested_and_completed_at_the_same_instant() -> None:
    # It used to fail every time: requested_at was auto_now_add, stamped at the INSERT, after
    # completed_at, so the row broke worker_probe_completed_after_requested.
    heartbeat = worker_heartbeat_record(worker="w@host")

    heartbeat.refresh_from_db()
    assert heartbeat.source == WorkerProbe.Source.BEAT
    assert heartbeat.requested_at == heartbeat.completed_at
    assert heartbeat.worker == "w@host"


@pytest.mark.django_db
@override_settings(OPS_PROBE_RETENTION_DAYS=7)
def test_prune_deletes_only_old_finished_probes() -> None:
    now = timezone.now()
    old = worker_heartbeat_record(worker="w", now=now - timedelta(days=8))
    recent = worker_heartbeat_record(worker="w", now=now - timedelta(days=1))
    old_pending = WorkerProbe.objects.create(requested_at=now - timedelta(days=30))

    assert worker_probes_prune(now=now) == 1
    assert set(WorkerProbe.objects.values_list("id", flat=True)) == {recent.id, old_pending.id}
    assert not WorkerProbe.objects.filter(id=old.id).exists()


@pytest.fixture
def beat_log(
    test_database_url: str, redis_url: str, celery_worker: str, tmp_path: Path
) -> Iterator[Path]:
    """Run a real ``celery beat`` with one-second heartbeat and sweep periods; yield its log."""
    log = tmp_path / "beat.log"
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.test",
        REDIS_URL=redis_url,
        DATABASE_URL=test_database_url,
        HEARTBEAT_SECONDS="1",
        OUTBOX_SWEEP_SECONDS="1",
        PYTHONUNBUFFERED="1",
    )
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(tmp_path / "celerybeat-schedule"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )
    try:
        yield log
    finally:
        stop_process(process)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_real_beat_and_worker_record_heartbeats_and_sweep_a_lost_probe(
    celery_worker: str, celery_worker_log: Path, request: pytest.FixtureRequest
) -> None:
    # A probe whose message was lost long ago (saved, never sent): only the sweep can finish it.
    lost = WorkerProbe.objects.create(requested_at=timezone.now() - timedelta(hours=1))
    worker_log_start = celery_worker_log.stat().st_size
    started = timezone.now()

    beat_log: Path = request.getfixturevalue("beat_log")
    heartbeats = wait_until(
        lambda: (
            WorkerProbe.objects.filter(
                source=WorkerProbe.Source.BEAT, worker=celery_worker, completed_at__gt=started
            ).count()
            >= 2
        ),
        timeout=BEAT_TIMEOUT,
        what=f"two heartbeats sent by beat and recorded by the worker:\n{beat_log.read_text()}",
    )
    swept = wait_until(
        lambda: WorkerProbe.objects.filter(id=lost.id, completed_at__isnull=False).first(),
        timeout=BEAT_TIMEOUT,
        what="beat's outbox sweep to get the lost probe completed",
    )

    assert heartbeats
    assert swept.worker == celery_worker
    assert swept.outbox_resends == 1
    beat_output = beat_log.read_text()
    assert "Sending due task worker-heartbeat (ops.record_heartbeat)" in beat_output
    assert "Sending due task outbox-sweep (ops.outbox_sweep)" in beat_output
    with celery_worker_log.open("rb") as worker_output:
        worker_output.seek(worker_log_start)
        worker_text = worker_output.read().decode(errors="replace")
    assert "ops.record_heartbeat" in worker_text
    for text in (beat_output, worker_text):
        assert "ERROR" not in text and "Traceback" not in text, text
        assert "IntegrityError" not in text, text
