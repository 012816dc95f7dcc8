"""Keep the run command's children from outliving it, and recognise them in a later run.

On Linux every child is started with ``prctl(PR_SET_PDEATHSIG, SIGTERM)``: when the process that
started it dies, even by SIGKILL, the kernel sends the child SIGTERM, and gunicorn, Celery and
Redis all shut down cleanly on SIGTERM. Elsewhere (or if a child was started by another tool) the
pid files of ``config.stack`` are the second line: the next start finds and stops what is left.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import time
from collections.abc import Callable

import psutil

__all__ = [
    "die_with_parent",
    "die_with_parent_now",
    "process_describe",
    "process_matches",
    "terminate_tree",
]

PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """Return a ``preexec_fn`` that makes the child receive SIGTERM when this process dies.

    None off Linux, where no such kernel feature exists.
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        # The parent may have died between fork and prctl: then nothing would ever signal us.
        if os.getppid() != parent:
            os._exit(1)

    return preexec


def die_with_parent_now() -> None:
    """Ask for SIGTERM when this process's parent dies (Linux; a no-op elsewhere or under init)."""
    if not sys.platform.startswith("linux") or os.getppid() == 1:
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def process_describe(pid: int) -> str:
    """Return ``name (pid N): command line`` for a process, or ``pid N`` when it cannot be read."""
    try:
        process = psutil.Process(pid)
        return f"{process.name()} (pid {pid}): {' '.join(process.cmdline())[:200]}"
    except psutil.Error:
        return f"pid {pid}"


def process_matches(pid: int, *, started: float, argv: list[str]) -> bool:
    """Return whether ``pid`` is still the process recorded with this start time and argv.

    Both must match: a recycled pid has another start time, and a process that only shares the
    number is left alone.
    """
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        same_start = abs(process.create_time() - started) < 1.0
        return same_start and list(process.cmdline()[: len(argv)]) == argv
    except psutil.Error:
        return False


def _gone(process: psutil.Process) -> bool:
    # A zombie has exited; only its parent (maybe not us) can reap it.
    try:
        return bool(process.status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def _wait_gone(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    alive = [p for p in processes if not _gone(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(
            0.05
        )  # polling: these need not be our children, so there is nothing to wait() on
        alive = [p for p in alive if not _gone(p)]
    return alive


def terminate_tree(pid: int, *, timeout: float) -> None:
    """SIGTERM ``pid`` and its descendants; SIGKILL whatever is still there after ``timeout`` s."""
    try:
        parent = psutil.Process(pid)
        family = [*parent.children(recursive=True), parent]
    except psutil.Error:
        return
    for process in family:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    alive = _wait_gone(family, timeout)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    _wait_gone(alive, timeout)
