"""Run the whole service in the foreground: ``python -m config.stack`` (what ``make run`` does).

It prepares the database (migrate, static files, question bank, demo accounts), then starts and
supervises the web server (gunicorn), one Celery worker, Celery beat, and, unless ``REDIS_URL``
is set, a private Redis. Ctrl-C (or SIGTERM) stops all of them; if any one dies, the rest are
stopped too and the exit code is non-zero.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from config.env import BASE_DIR, env
from config.redis_server import PrivateRedis, start_private_redis

__all__ = ["main"]

GRACE_SECONDS = 15


def _say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def _manage(*args: str, environ: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=environ, check=True)


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for name, process in processes.items():
        if process.poll() is None:
            _say(f"stopping {name} (pid {process.pid})")
            # Each child leads its own process group; signal the group so that gunicorn's and
            # Celery's own children go too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _say(f"{name} did not stop in {GRACE_SECONDS} s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> int:
    host = env.str("HOST", default="127.0.0.1")
    port = env.int("PORT", default=8000)
    web_workers = env.int("WEB_CONCURRENCY", default=2)
    worker_concurrency = env.int("CELERY_CONCURRENCY", default=2)
    environ = dict(os.environ)
    environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    data_dir = Path(env.str("DATA_DIR", default=str(BASE_DIR / "data")))
    data_dir.mkdir(parents=True, exist_ok=True)

    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    redis: PrivateRedis | None = None
    processes: dict[str, subprocess.Popen[bytes]] = {}
    exit_code = 0
    try:
        if "REDIS_URL" in environ:
            _say(f"using the Redis at REDIS_URL={environ['REDIS_URL']}")
        else:
            redis = start_private_redis()
            environ["REDIS_URL"] = redis.url
            _say(f"started a private Redis at {redis.url} (pid {redis.process.pid})")

        _manage("migrate", "--noinput", environ=environ)
        _manage("collectstatic", "--noinput", "--verbosity", "0", environ=environ)
        _manage("load_bank", environ=environ)
        _manage("create_demo_users", environ=environ)

        bin_dir = Path(sys.executable).parent
        commands = {
            "web": [
                str(bin_dir / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(web_workers),
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "10",
            ],
            "worker": [
                str(bin_dir / "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(worker_concurrency),
                "--hostname",
                "worker@%h",
            ],
            "beat": [
                str(bin_dir / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(data_dir / "celerybeat-schedule"),
            ],
        }
        for name, command in commands.items():
            if stopping:
                break
            processes[name] = subprocess.Popen(
                command, cwd=BASE_DIR, env=environ, start_new_session=True
            )
            _say(f"started {name} (pid {processes[name].pid})")
        if not stopping:
            _say(
                f"serving on http://{host}:{port}/  (health: /healthz, admin: /admin/); Ctrl-C stops"
            )
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    _say(f"{name} exited with code {process.returncode}; stopping the rest")
                    exit_code = 1
                    stopping = True
                    break
            time.sleep(0.5)
    except subprocess.CalledProcessError as exc:
        _say(f"set-up step failed: {' '.join(map(str, exc.cmd))} (exit {exc.returncode})")
        exit_code = 1
    except RuntimeError as exc:
        _say(str(exc))
        exit_code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _stop(processes)
        if redis is not None:
            _say("stopping the private Redis")
            redis.stop()
        _say("stopped")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
