"""The run command, end to end: a fresh data directory, /healthz 200, Ctrl-C leaves nothing behind."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes (its parent has not reaped it yet).
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[1].startswith("Z"))


def test_run_command_serves_healthz_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DATA_DIR=str(tmp_path / "data"), PORT=str(port), WEB_CONCURRENCY="1", CELERY_CONCURRENCY="1"
    )
    log_path = tmp_path / "stack.log"
    with log_path.open("wb") as log:
        stack = subprocess.Popen(
            [sys.executable, "-m", "config.stack"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        body = None
        while time.monotonic() < deadline and stack.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/healthz", timeout=5
                ) as response:
                    body = json.load(response)
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)  # polling an external server that is still starting
        assert body is not None, (
            f"no 200 from /healthz within {START_TIMEOUT} s:\n{log_path.read_text()}"
        )
        assert body["status"] == "ok"
        assert body["checks"]["worker"]["workers"]
    finally:
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=60)

    output = log_path.read_text()
    pids = [int(pid) for pid in re.findall(r"\[stack\] started .*?\(pid (\d+)\)", output)]
    assert len(pids) == 4, output  # redis, web, worker, beat
    assert stack.returncode == 0, output
    assert [pid for pid in pids if _alive(pid)] == []
    # Each child led its own process group; nothing of any group (gunicorn's or Celery's
    # children) may survive.
    for pgid in pids:
        with pytest.raises(ProcessLookupError):
            os.killpg(pgid, 0)
    assert "Demo accounts" in output
    assert "Question bank loaded" in output
