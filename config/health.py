"""``GET /healthz`` (and ``HEAD``): is each part of the service up, as seen from this web process?

Cheap enough to be polled by a load balancer: one ``SELECT 1``, one indexed read of the latest
worker heartbeat (the worker is alive when a heartbeat or probe completed within
``HEALTHZ_HEARTBEAT_MAX_AGE`` seconds; no message goes through the broker per request) and one
``PING`` to Redis on a pooled connection, at most once per ``HEALTHZ_CACHE_SECONDS`` in each
web process (a result that old is reused). The status code (200 or 503) and ``status`` are public;
the checks (errors, worker names, database vendor, timings) are shown only to staff and to
requests from loopback, since they describe the inside of the deployment. Behind a reverse proxy
on the same machine every request comes from loopback: set ``HEALTHZ_DETAILS_FOR_LOOPBACK=false``.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from ops.selectors import worker_liveness

__all__ = ["healthz"]

Check = dict[str, Any]


def _timed(probe: Callable[[], Check]) -> Check:
    started = time.perf_counter()
    try:
        result = probe()
    except Exception as exc:  # any failure of a dependency is a failed check, never a 500
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


@cache
def _redis_client(url: str) -> redis.Redis:
    # One client (and connection pool) per broker URL and process: a health check must pay
    # neither a TCP handshake nor the client's set-up (over a millisecond) on every request.
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)


def _broker() -> Check:
    _redis_client(settings.CELERY_BROKER_URL).ping()
    return {"ok": True}


def _worker() -> Check:
    max_age = settings.HEALTHZ_HEARTBEAT_MAX_AGE
    liveness = worker_liveness(max_age=max_age)
    if liveness.last_seen is None:
        return {"ok": False, "error": f"no worker heartbeat in the last {max_age:g} s"}
    age = (timezone.now() - liveness.last_seen).total_seconds()
    return {"ok": True, "workers": liveness.workers, "last_heartbeat_age_s": round(age, 1)}


_cached: tuple[float, dict[str, Check]] | None = None
_cache_lock = threading.Lock()


def _checks() -> dict[str, Check]:
    """Run the checks, or reuse this process's result from the last HEALTHZ_CACHE_SECONDS.

    A load balancer and a few monitors polling every web process then cost one round of checks
    per process and period, however often they ask.
    """
    global _cached
    max_age = settings.HEALTHZ_CACHE_SECONDS
    now = time.monotonic()
    with _cache_lock:
        if _cached is not None and now - _cached[0] < max_age:
            return _cached[1]
    checks: dict[str, Check] = {
        "database": _timed(_database),
        "broker": _timed(_broker),
        "worker": _timed(_worker),
    }
    with _cache_lock:
        _cached = (now, checks)
    return checks


def _may_see_details(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_staff:
        return True
    if not settings.HEALTHZ_DETAILS_FOR_LOOPBACK:
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Report database, broker and worker health: 200 when all are up, else 503.

    Staff and loopback callers get every check's details; anyone else only the status.
    """
    checks = _checks()
    failing = [name for name, check in checks.items() if not check["ok"]]
    body: dict[str, Any] = {"status": "ok" if not failing else "fail"}
    if _may_see_details(request):
        body.update(failing=failing, checks=checks)
    status = 200 if not failing else 503
    if request.method == "HEAD":
        # The test client drops a HEAD body, but gunicorn would send it (and warn): send none.
        return HttpResponse(status=status, content_type="application/json")
    return JsonResponse(body, status=status)
