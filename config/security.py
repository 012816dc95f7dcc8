"""Web hardening that is ours rather than a library's: the request-body cap and the answers a
client gets when it is refused (too large a body, or locked out after failed logins).

The login throttle itself is django-axes and the Content-Security-Policy header is django-csp;
their settings live in ``config/settings/base.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.html import format_html

from config.api_errors import error_body

__all__ = [
    "LoginThrottleBackend",
    "RequestBodyLimitMiddleware",
    "lockout_response",
    "request_body_limit",
]

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _refusal(
    request: HttpRequest, *, status: int, code: str, title: str, message: str
) -> HttpResponse:
    """Answer with the API's JSON error shape under /api/, with a short HTML page elsewhere."""
    if _is_api(request):
        return JsonResponse(error_body(code, message), status=status)
    page = format_html(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{}</title></head>'
        "<body><h1>{}</h1><p>{}</p></body></html>",
        title,
        title,
        message,
    )
    return HttpResponse(page, status=status, content_type="text/html; charset=utf-8")


def request_body_limit(request: HttpRequest) -> int:
    """Return how many body bytes this request may carry.

    Everyone may send ``REQUEST_BODY_MAX_BYTES`` (a login form, an API call). Signed-in staff may
    send a bank upload: ``BANK_UPLOAD_MAX_BYTES`` plus the same margin for the multipart framing
    and the other form fields, so that a file just under the upload cap still reaches the import
    view, which gives its own message for a file over it.
    """
    small: int = settings.REQUEST_BODY_MAX_BYTES
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        upload: int = settings.BANK_UPLOAD_MAX_BYTES
        return upload + small
    return small


class RequestBodyLimitMiddleware:
    """Refuse a request whose body is over the caller's cap before any of the body is read.

    It must come after ``AuthenticationMiddleware`` (the cap depends on who is asking) and before
    anything that reads the body; CSRF's ``process_view`` and the views run after every
    middleware's request phase, so nothing has read the body yet when this runs.

    Only the declared ``Content-Length`` is looked at: Django reads exactly that many bytes and no
    more. A body sent with ``Transfer-Encoding`` and no ``Content-Length`` (chunked) has no length
    to check up front, and Django would silently read it as empty, so it is refused with 411.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.strip():
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                return _refusal(
                    request,
                    status=400,
                    code="bad_request",
                    title="Bad request",
                    message="The Content-Length header is not a whole number of bytes.",
                )
            # The user (a session and database read) is only looked up for a large body.
            if length > settings.REQUEST_BODY_MAX_BYTES:
                limit = request_body_limit(request)
                if length > limit:
                    return _refusal(
                        request,
                        status=413,
                        code="too_large",
                        title="Request too large",
                        message=(
                            f"The request body is {length} bytes; at most {limit} bytes are "
                            "accepted here."
                        ),
                    )
        elif request.META.get("HTTP_TRANSFER_ENCODING"):
            return _refusal(
                request,
                status=411,
                code="length_required",
                title="Length required",
                message="Send the request body with a Content-Length header (no chunked bodies).",
            )
        return self.get_response(request)


class LoginThrottleBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """django-axes' gate on every login from a web request, and no gate where there is none.

    Every login over HTTP (the admin's form, the API's Basic authentication) passes its request
    and is throttled. ``authenticate()`` called without a request (a management command, a shell,
    the test client's ``login``) has no client to key a lockout on; axes would raise, so this
    backend lets the next backend decide instead.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is not None:
            # Returns nothing when the login may go on; raises PermissionDenied when locked.
            super().authenticate(request, username=username, password=password, **kwargs)
        return None


def _flag_lockout_on_the_django_request(sender: Any, request: Any = None, **kwargs: Any) -> None:
    """Copy axes' lockout flag from a DRF request to the Django request it wraps.

    DRF's Basic authentication hands its own ``Request`` to ``authenticate()``, so axes flags that
    object, while ``AxesMiddleware`` looks at the Django request; without this a locked-out API
    client would get a bare 403 instead of the lockout answer.
    """
    inner = getattr(request, "_request", None)
    if isinstance(inner, HttpRequest) and getattr(request, "axes_locked_out", False):
        inner.axes_locked_out = True  # type: ignore[attr-defined]
        inner.axes_credentials = getattr(request, "axes_credentials", None)  # type: ignore[attr-defined]


# Connected after axes' own receiver (axes connects when its app is ready, before any request
# loads this module through the middleware), so the flag is already set when this runs.
user_login_failed.connect(
    _flag_lockout_on_the_django_request, dispatch_uid="config.security.drf_lockout"
)


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """Tell a locked-out client so, and when to try again (django-axes' AXES_LOCKOUT_CALLABLE).

    The API gets its JSON error shape; a browser gets a page in the admin's look with the sign-in
    link. Both are 429 with a ``Retry-After`` header.
    """
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    minutes = max(1, math.ceil(seconds / 60))
    message = (
        f"Too many failed sign-in attempts. Sign-in for this account from your address is "
        f"locked for {minutes} minute{'s' if minutes != 1 else ''}; try again after that."
    )
    if _is_api(request):
        response: HttpResponse = JsonResponse(error_body("locked_out", message), status=429)
    else:
        response = HttpResponse(
            render_to_string(
                "registration/locked_out.html",
                {"title": "Sign-in locked", "message": message, "minutes": minutes},
                request=request,
            ),
            status=429,
        )
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
