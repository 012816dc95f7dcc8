"""CI's PostgreSQL gate (.ci/postgres): under CI=true an unreachable PostgreSQL is a failure, not
a skip; elsewhere the PostgreSQL run may be skipped, and a reachable server is used."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _closed_port() -> int:
    """A local port nothing listens on (bound and released, so no server holds it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _gate(port: int, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "CI"}
    environ.update(
        PG_HOST="127.0.0.1",
        PG_PORT=str(port),
        PG_AUTOSTART="0",  # never start this machine's cluster from a test
        PY=sys.executable,
        **env,
    )
    return subprocess.run(
        ["bash", ".ci/postgres"], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def test_an_unreachable_postgresql_fails_ci() -> None:
    result = _gate(_closed_port(), CI="true")

    assert result.returncode == 1
    assert "is not reachable" in result.stdout
    assert "CI=true requires the PostgreSQL run" in result.stdout


def test_an_unreachable_postgresql_is_a_skip_outside_ci() -> None:
    result = _gate(_closed_port())

    assert result.returncode == 2
    assert "is not reachable" in result.stdout


def test_a_reachable_postgresql_passes_the_gate() -> None:
    psycopg = pytest.importorskip("psycopg")
    port = int(os.environ.get("PG_PORT", "5432"))
    try:
        psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=3
        ).close()
    except psycopg.OperationalError:
        pytest.skip(f"no PostgreSQL at 127.0.0.1:{port} on this machine")

    assert _gate(port, CI="true").returncode == 0
