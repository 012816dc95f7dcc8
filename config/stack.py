"""Run the whole service in the foreground: ``python -m config.stack`` (what ``make run`` does).

Start-up, in order:

1. Leftovers of a previous run. Every process this command starts is recorded in a pid file
   under ``$DATA_DIR/run/`` (pid, start time, command line). A recorded process that is still
   alive and is still that process (same start time and command line) is stopped, with one line
   naming it; if it is the run command itself, still supervising, this start is refused instead
   (two supervisors over one data directory would fight). Pid files of dead processes are removed.
2. The web port must be free; if it is not, the command stops with a line naming the process
   that holds it.
3. A private Redis (unless ``REDIS_URL`` is set), then migrate, static files, question bank and
   demo accounts, then gunicorn, one Celery worker and Celery beat. "serving on" is printed once
   gunicorn accepts connections.

Supervision: when a child (web, worker, beat, or the private Redis) exits, it is started again
after a backoff of 1, 2, 4 s, with one line per restart; the private Redis comes back on the same
port, so every client reconnects, and the outbox sweep re-sends work whose queued message was
lost with it. A child that exits more than ``STACK_MAX_RESTARTS`` times (default 3) within
``STACK_RESTART_WINDOW`` seconds (default 60) stops everything with a one-line reason and exit
code 1: the command never goes on serving with a part missing.

Stopping: Ctrl-C or SIGTERM stops web, beat and worker (SIGTERM to each process group, SIGKILL
after 15 s), then Redis, and exits 0. If this command is killed outright (SIGKILL), its children
get SIGTERM from the kernel (Linux ``PR_SET_PDEATHSIG``, see ``config.process_guard``); where
that does not exist, the pid files let the next start stop them. The command itself gets SIGTERM
when the process that started it (``make``, or the shell) dies.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import psutil

from config.env import BASE_DIR, env
from config.process_guard import (
    die_with_parent,
    die_with_parent_now,
    process_describe,
    process_matches,
    terminate_tree,
)
from config.redis_server import PrivateRedis, start_private_redis

__all__ = ["main"]

GRACE_SECONDS = 15
POLL_SECONDS = 0.2
# Children in the order they start; they stop in the same order, and Redis after all of them.
CHILD_ORDER = ("web", "beat", "worker")
PID_FILE_ORDER = (*CHILD_ORDER, "redis")


class StackError(Exception):
    """A reason to stop: printed as one line, exit code 1."""


def _say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


# --- pid files --------------------------------------------------------------------------


def _pid_record(pid: int) -> dict[str, object]:
    process = psutil.Process(pid)
    return {"pid": pid, "started": process.create_time(), "argv": process.cmdline()}


def _pid_file_write(run_dir: Path, name: str, pid: int) -> None:
    path = run_dir / f"{name}.pid"
    with contextlib.suppress(psutil.Error):  # a child that died at once leaves no record
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(_pid_record(pid)))
        tmp.replace(path)


def _pid_file_read(path: Path) -> dict[str, object] | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("pid"), int):
        return None
    return record


def _recorded_process_alive(record: dict[str, object]) -> bool:
    argv = record.get("argv")
    started = record.get("started")
    return (
        isinstance(argv, list)
        and isinstance(started, int | float)
        and process_matches(int(str(record["pid"])), started=float(started), argv=argv)
    )


def _leftovers_clean(run_dir: Path) -> None:
    """Stop what a previous run left behind; refuse to start if that run is still supervising."""
    own = run_dir / "stack.pid"
    record = _pid_file_read(own)
    if record is not None and _recorded_process_alive(record):
        raise StackError(
            f"another run command is still running with this DATA_DIR: "
            f"{process_describe(int(str(record['pid'])))}; stop it first (Ctrl-C in its "
            f"terminal, or kill {record['pid']})"
        )
    for name in PID_FILE_ORDER:
        path = run_dir / f"{name}.pid"
        record = _pid_file_read(path)
        if record is not None and _recorded_process_alive(record):
            pid = int(str(record["pid"]))
            _say(f"stopping {name} left over from a previous run: {process_describe(pid)}")
            terminate_tree(pid, timeout=GRACE_SECONDS)
        path.unlink(missing_ok=True)


# --- the web port -----------------------------------------------------------------------


def _port_holder(port: int) -> str:
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.Error:
        connections = []
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            if conn.pid:
                return process_describe(conn.pid)
            return "a process of another user"
    return "an unknown process"


def _port_check(host: str, port: int) -> None:
    """Raise StackError naming the holder if ``host:port`` cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR as gunicorn sets it: a port in TIME_WAIT is free for the server too.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise StackError(
                f"cannot listen on {host}:{port} ({exc.strerror}): it is used by "
                f"{_port_holder(port)}; stop that or set PORT"
            ) from None


def _port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


# --- children ----------------------------------------------------------------------------


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: deque[float] = field(default_factory=deque)
    restart_at: float | None = None
    last_exit: int | None = None


class Stack:
    """The supervised processes and the restart policy."""

    def __init__(
        self,
        *,
        environ: dict[str, str],
        run_dir: Path,
        redis: PrivateRedis | None,
        max_restarts: int,
        window: float,
    ) -> None:
        self.environ = environ
        self.run_dir = run_dir
        self.redis = redis
        self.max_restarts = max_restarts
        self.window = window
        self.children: dict[str, Child] = {}
        self.redis_restarts: deque[float] = deque()

    def start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            child.argv,
            cwd=BASE_DIR,
            env=self.environ,
            # Own session: Ctrl-C reaches this command only, which stops the children in order.
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        _pid_file_write(self.run_dir, child.name, child.process.pid)
        self.children[child.name] = child

    def _allow_restart(self, name: str, history: deque[float], code: int | None) -> float:
        """Record a restart of ``name``; return its backoff, or raise StackError when spent."""
        now = time.monotonic()
        while history and now - history[0] > self.window:
            history.popleft()
        if len(history) >= self.max_restarts:
            raise StackError(
                f"{name} exited with code {code} after {len(history)} restarts within "
                f"{self.window:g} s; stopping everything"
            )
        history.append(now)
        return float(2 ** (len(history) - 1))

    def supervise_once(self) -> None:
        """Restart whatever died (after its backoff); raise StackError when retries run out."""
        now = time.monotonic()
        if self.redis is not None and self.redis.process.poll() is not None:
            code = self.redis.process.returncode
            backoff = self._allow_restart("redis", self.redis_restarts, code)
            time.sleep(backoff)  # Redis first: nothing else works without it
            try:
                self.redis.restart()
            except RuntimeError as exc:
                raise StackError(f"redis could not be restarted: {exc}") from None
            _pid_file_write(self.run_dir, "redis", self.redis.process.pid)
            _say(
                f"redis exited with code {code}; restarted it on port {self.redis.port} "
                f"as pid {self.redis.process.pid} after {backoff:g} s (restart "
                f"{len(self.redis_restarts)} of {self.max_restarts} within {self.window:g} s; "
                f"queued tasks were lost, the outbox sweep sends pending work again)"
            )
        for child in self.children.values():
            assert child.process is not None
            if child.restart_at is None:
                if child.process.poll() is None:
                    continue
                child.last_exit = child.process.returncode
                backoff = self._allow_restart(child.name, child.restarts, child.last_exit)
                child.restart_at = now + backoff
            if now >= child.restart_at:
                old = child.process.pid
                self.start(child)
                child.restart_at = None
                _say(
                    f"{child.name} (pid {old}) exited with code {child.last_exit}; restarted it "
                    f"as pid {child.process.pid} (restart {len(child.restarts)} of "
                    f"{self.max_restarts} within {self.window:g} s)"
                )

    def stop(self) -> None:
        """Stop web, beat and worker, then Redis; SIGKILL what ignores SIGTERM for too long."""
        running = [
            child
            for name in CHILD_ORDER
            if (child := self.children.get(name)) is not None
            and child.process is not None
            and child.process.poll() is None
        ]
        for child in running:
            assert child.process is not None
            _say(f"stopping {child.name} (pid {child.process.pid})")
            # Each child leads its own process group: gunicorn's and Celery's children go too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _say(f"{child.name} did not stop in {GRACE_SECONDS} s; killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
        for name in CHILD_ORDER:
            (self.run_dir / f"{name}.pid").unlink(missing_ok=True)
        if self.redis is not None:
            _say(f"stopping the private Redis (pid {self.redis.process.pid})")
            self.redis.stop()
            (self.run_dir / "redis.pid").unlink(missing_ok=True)


def _commands(host: str, port: int, data_dir: Path) -> dict[str, list[str]]:
    # ``python -m``: each server imports the project from BASE_DIR (its working directory).
    return {
        "web": [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(env.int("WEB_CONCURRENCY", default=2)),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
            # gunicorn's control socket defaults to one path in $HOME for every instance.
            "--no-control-socket",
        ],
        "beat": [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(data_dir / "celerybeat-schedule"),
        ],
        "worker": [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(env.int("CELERY_CONCURRENCY", default=2)),
            "--hostname",
            "worker@%h",
            # One worker: nothing to gossip or mingle with, and a faster (re)start.
            "--without-gossip",
            "--without-mingle",
        ],
    }


def main() -> int:
    host = env.str("HOST", default="127.0.0.1")
    port = env.int("PORT", default=8000)
    environ = dict(os.environ)
    environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    data_dir = Path(env.str("DATA_DIR", default=str(BASE_DIR / "data")))
    run_dir = data_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    die_with_parent_now()

    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    def manage(*args: str) -> None:
        # Own session, like the children: Ctrl-C during set-up must not print a traceback from
        # the management command; the step is ended here instead.
        step = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=environ,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        while step.poll() is None:
            if stopping:
                terminate_tree(step.pid, timeout=GRACE_SECONDS)
            with contextlib.suppress(subprocess.TimeoutExpired):
                step.wait(timeout=POLL_SECONDS)
        if step.returncode != 0 and not stopping:
            raise StackError(
                f"set-up step failed: manage.py {' '.join(args)} (exit {step.returncode})"
            )

    stack: Stack | None = None
    redis: PrivateRedis | None = None
    exit_code = 0
    try:
        _leftovers_clean(run_dir)
        _pid_file_write(run_dir, "stack", os.getpid())
        _port_check(host, port)
        if "REDIS_URL" in environ:
            _say(f"using the Redis at REDIS_URL={environ['REDIS_URL']}")
        else:
            try:
                redis = start_private_redis()
            except RuntimeError as exc:
                raise StackError(str(exc)) from None
            _pid_file_write(run_dir, "redis", redis.process.pid)
            environ["REDIS_URL"] = redis.url
            _say(f"started a private Redis at {redis.url} (pid {redis.process.pid})")
        stack = Stack(
            environ=environ,
            run_dir=run_dir,
            redis=redis,
            max_restarts=env.int("STACK_MAX_RESTARTS", default=3),
            window=env.float("STACK_RESTART_WINDOW", default=60.0),
        )
        for step in (
            ("migrate", "--noinput"),
            ("collectstatic", "--noinput", "--verbosity", "0"),
            ("load_bank",),
            ("create_demo_users",),
        ):
            if not stopping:
                manage(*step)

        for name, argv in _commands(host, port, data_dir).items():
            if stopping:
                break
            stack.start(Child(name=name, argv=argv))
            _say(f"started {name} (pid {stack.children[name].process.pid})")  # type: ignore[union-attr]
        announced = False
        while not stopping:
            stack.supervise_once()
            if not announced and _port_answers(host, port):
                announced = True
                _say(
                    f"serving on http://{host}:{port}/  (health: /healthz, admin: /admin/); "
                    "Ctrl-C stops"
                )
            time.sleep(POLL_SECONDS)
    except StackError as exc:
        _say(str(exc))
        exit_code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if stack is not None:
            stack.stop()
        elif redis is not None:
            redis.stop()
        (run_dir / "redis.pid").unlink(missing_ok=True)
        own = _pid_file_read(run_dir / "stack.pid")
        if own is not None and own.get("pid") == os.getpid():
            (run_dir / "stack.pid").unlink(missing_ok=True)
        _say("stopped")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
