"""The run command (``python -m config.stack``), end to end with real processes.

The tests share one data directory, so only the first start pays for the migrations and the
bank; each start uses a free port of its own.
"""

from __future__ import annotations

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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from config.process_guard import die_with_parent
from config.redis_server import start_private_redis
from config.stack import _pid_file_write
from tests.conftest import wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 180.0
EVENT_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


class Run:
    """One ``python -m config.stack`` process, its log, and what it printed."""

    def __init__(
        self, data_dir: Path, log: Path, *, under_shell: bool = False, **extra_env: str
    ) -> None:
        self.port = _free_port()
        self.log = log
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
        }
        env.update(
            DATA_DIR=str(data_dir),
            PORT=str(self.port),
            WEB_CONCURRENCY="1",
            CELERY_CONCURRENCY="1",
            # Heartbeats every 2 s: /healthz then shows a restarted worker is really working.
            HEARTBEAT_SECONDS="2",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env)
        command = [sys.executable, "-m", "config.stack"]
        if under_shell:
            # As under make: a parent process between this test and the run command ("; exit"
            # keeps the shell from exec-ing the command in its own place).
            command = ["/bin/sh", "-c", f'"{sys.executable}" -m config.stack; exit $?']
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent(),
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float = EVENT_TIMEOUT) -> re.Match[str]:
        def found() -> re.Match[str] | None:
            match = re.search(pattern, self.output())
            if match is None and self.process.poll() is not None:
                pytest.fail(f"the run command exited before printing {pattern!r}:\n{self.output()}")
            return match

        return wait_until(found, timeout=timeout, what=f"{pattern!r} in:\n{self.output()}")

    def pid_of(self, name: str) -> int:
        pattern = rf"\[stack\] started {name} \(pid (\d+)\)"
        return int(self.wait_for(pattern, timeout=START_TIMEOUT).group(1))

    def healthz(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as r:
                body: dict[str, Any] = json.load(r)
                return body
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None  # still starting, or 503

    def wait_healthy(self, *, heartbeat_after: float = 0.0) -> dict[str, Any]:
        """Wait for a 200 whose latest heartbeat was recorded after ``heartbeat_after`` (epoch s)."""

        def healthy() -> dict[str, Any] | None:
            if self.process.poll() is not None:
                pytest.fail(f"the run command exited:\n{self.output()}")
            body = self.healthz()
            if body is None:
                return None
            heartbeat_at = time.time() - body["checks"]["worker"]["last_heartbeat_age_s"]
            return body if heartbeat_at > heartbeat_after else None

        return wait_until(healthy, timeout=START_TIMEOUT, what=f"a healthy stack:\n{self.output()}")

    def stop(self, sig: int = signal.SIGINT) -> str:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait(timeout=60)
        return self.output()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack") / "data"


@pytest.fixture
def run_factory(data_dir: Path, tmp_path: Path) -> Iterator[Any]:
    runs: list[Run] = []

    def start(*, under_shell: bool = False, **extra_env: str) -> Run:
        run = Run(
            data_dir, tmp_path / f"stack-{len(runs)}.log", under_shell=under_shell, **extra_env
        )
        runs.append(run)
        return run

    yield start
    for run in runs:  # a failed test must not leave a stack running
        if run.process.poll() is None:
            run.stop(signal.SIGTERM)


def test_killed_worker_and_redis_are_restarted_and_ctrl_c_stops_all_in_order(
    run_factory: Any, data_dir: Path
) -> None:
    run: Run = run_factory()
    pids = {name: run.pid_of(name) for name in ("web", "beat", "worker")}
    redis_pid = int(run.wait_for(r"started a private Redis at \S+ \(pid (\d+)\)").group(1))
    body = run.wait_healthy()
    assert body["checks"]["worker"]["workers"]
    assert "Question bank loaded" in run.output()

    # A second run on the same data directory is refused while this one supervises it.
    second = run_factory()
    assert second.process.wait(timeout=60) == 1
    assert "another run command is still running with this DATA_DIR" in second.output()
    assert _alive(pids["web"])

    os.killpg(pids["worker"], signal.SIGKILL)
    restarted = run.wait_for(
        rf"\[stack\] worker \(pid {pids['worker']}\) exited with code -9; restarted it as "
        r"pid (\d+) \(restart 1 of 3 within 60 s\)"
    )
    new_worker = int(restarted.group(1))
    # Healthy again, with a heartbeat recorded after the restart: the new worker works.
    run.wait_healthy(heartbeat_after=time.time())
    assert _alive(new_worker)

    os.kill(redis_pid, signal.SIGKILL)
    back = run.wait_for(
        r"\[stack\] redis exited with code -9; restarted it on port \d+ as pid (\d+)"
    )
    new_redis = int(back.group(1))
    # A heartbeat after the restart: beat and the worker reconnected to the new Redis.
    run.wait_healthy(heartbeat_after=time.time())

    before_ctrl_c = len(run.output())
    output = run.stop(signal.SIGINT)
    shutdown = output[before_ctrl_c:]

    assert run.process.returncode == 0, output
    # (Killing Redis above makes the worker log connection tracebacks; stopping must not.)
    assert "Traceback" not in shutdown, shutdown
    stops = re.findall(r"\[stack\] stopping (web|beat|worker|the private Redis)", shutdown)
    assert stops == ["web", "beat", "worker", "the private Redis"], output
    for pid in (pids["web"], pids["beat"], new_worker, new_redis):
        assert not _alive(pid), output
        with pytest.raises(ProcessLookupError):  # nothing of its process group either
            os.killpg(pid, 0)
    assert not any((data_dir / "run").glob("*.pid"))


def test_leftovers_of_a_previous_run_are_stopped_before_serving(
    run_factory: Any, data_dir: Path
) -> None:
    run_dir = data_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    # A Redis the previous run started and left behind, recorded as the run command records it.
    leftover = start_private_redis()
    _pid_file_write(run_dir, "redis", leftover.process.pid)
    # A pid file naming a live process that is not ours (another command line): left alone.
    stranger = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"], preexec_fn=die_with_parent()
    )
    (run_dir / "beat.pid").write_text(
        json.dumps(
            {
                "pid": stranger.pid,
                "started": psutil.Process(stranger.pid).create_time(),
                "argv": [sys.executable, "-m", "celery", "-A", "config", "beat"],
            }
        )
    )
    try:
        run: Run = run_factory()
        run.wait_for(r"serving on", timeout=START_TIMEOUT)
        output = run.output()
        named = re.search(
            rf"\[stack\] stopping redis left over from a previous run: \S+ \(pid "
            rf"{leftover.process.pid}\)",
            output,
        )
        assert named, output
        assert named.start() < output.index("serving on")
        assert leftover.process.wait(timeout=5) is not None
        assert stranger.poll() is None  # not ours: not touched
        assert "beat left over" not in output
        run.wait_healthy()
        assert run.stop() and run.process.returncode == 0
    finally:
        leftover.stop()
        stranger.kill()
        stranger.wait()


def test_a_killed_run_command_takes_its_children_with_it(run_factory: Any) -> None:
    run: Run = run_factory()
    pids = [run.pid_of(name) for name in ("web", "beat", "worker")]
    pids.append(int(run.wait_for(r"started a private Redis at \S+ \(pid (\d+)\)").group(1)))
    run.wait_for(r"serving on", timeout=START_TIMEOUT)

    run.process.kill()  # SIGKILL: no chance to clean up; the kernel signals the children
    run.process.wait()

    wait_until(
        lambda: not any(_alive(pid) for pid in pids),
        timeout=EVENT_TIMEOUT,
        what=f"the children {pids} to exit after their parent was killed",
    )


def test_a_killed_parent_makes_the_run_command_stop_everything_cleanly(
    run_factory: Any, data_dir: Path
) -> None:
    run: Run = run_factory(under_shell=True)
    pids = [run.pid_of(name) for name in ("web", "beat", "worker")]
    run.wait_for(r"serving on", timeout=START_TIMEOUT)
    stack_pid = json.loads((data_dir / "run" / "stack.pid").read_text())["pid"]
    assert psutil.Process(stack_pid).ppid() == run.process.pid

    run.process.kill()  # SIGKILL the parent (make, in `make run`); the run command gets SIGTERM
    run.process.wait()

    wait_until(
        lambda: not _alive(stack_pid),
        timeout=EVENT_TIMEOUT,
        what=f"the run command to stop after its parent was killed:\n{run.output()}",
    )
    output = run.output()
    assert "[stack] stopped" in output
    assert re.findall(r"\[stack\] stopping (web|beat|worker)", output) == ["web", "beat", "worker"]
    assert not any(_alive(pid) for pid in pids)


def test_a_taken_port_is_named_and_nothing_starts(run_factory: Any) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        run: Run = run_factory(PORT=str(holder.getsockname()[1]))
        assert run.process.wait(timeout=60) == 1
    output = run.output()
    assert "it is used by" in output and f"(pid {os.getpid()})" in output, output
    assert "serving on" not in output
    assert "started" not in output  # not even Redis: the port is checked first


def test_spent_restarts_stop_everything_with_one_line(run_factory: Any) -> None:
    run: Run = run_factory(STACK_MAX_RESTARTS="0")
    worker = run.pid_of("worker")
    web = run.pid_of("web")
    run.wait_for(r"serving on", timeout=START_TIMEOUT)

    os.killpg(worker, signal.SIGKILL)
    assert run.process.wait(timeout=EVENT_TIMEOUT) == 1
    output = run.output()
    assert (
        "[stack] worker exited with code -9 after 0 restarts within 60 s; stopping everything"
        in output
    )
    assert "Traceback" not in output
    assert not _alive(web)
