"""Web hardening: the login throttle, the request-body cap, the Content-Security-Policy header,
and the API's authenticated-only default. Everything goes through the real middleware stack
with Django's test client; one test starts gunicorn to show a large body is never read."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from tests.knowledge import factories

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pw-teach-123"  # what factories.instructor sets
LOGIN = "/admin/login/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> User:
    return factories.instructor("teacher")


def _login(client: Client, username: str, password: str, ip: str = "10.0.0.1") -> Any:
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )


# --- failed logins (django-axes) ------------------------------------------------------------


def test_admin_login_locks_after_the_failure_limit_and_says_so(staff: User, settings: Any) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _login(client, "teacher", "wrong")
        assert response.status_code == 200  # the form again, with Django's error
        assert "Please enter the correct username and password" in response.text

    locked = _login(client, "teacher", "wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.text
    assert "15 minutes" in locked.text
    assert locked["Retry-After"] == str(15 * 60)
    assert locked["Content-Type"].startswith("text/html")
    assert "Back to sign-in" in locked.text

    # Locked even with the right password, from that address.
    assert _login(client, "teacher", PASSWORD).status_code == 429
    assert not client.session.get("_auth_user_id")


def test_the_lock_is_keyed_on_username_and_address(staff: User, settings: Any) -> None:
    factories.instructor("colleague")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "teacher", "wrong", ip="10.0.0.1")

    assert _login(Client(), "teacher", PASSWORD, ip="10.0.0.1").status_code == 429
    # The same user from another address, and another user from the same address, sign in.
    assert _login(Client(), "teacher", PASSWORD, ip="10.0.0.2").status_code == 302
    assert _login(Client(), "colleague", PASSWORD, ip="10.0.0.1").status_code == 302


def test_the_lock_lifts_after_the_cool_off(staff: User, settings: Any) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "teacher", "wrong")
    assert _login(client, "teacher", PASSWORD).status_code == 429

    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )

    assert _login(client, "teacher", PASSWORD).status_code == 302


def test_a_successful_login_clears_the_failure_count(staff: User, settings: Any) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        _login(Client(), "teacher", "wrong")
    assert _login(Client(), "teacher", PASSWORD).status_code == 302
    for _ in range(limit - 1):
        assert _login(Client(), "teacher", "wrong").status_code == 200

    assert _login(Client(), "teacher", PASSWORD).status_code == 302


def test_api_basic_auth_failures_are_throttled_with_the_json_error_shape(
    staff: User, settings: Any
) -> None:
    url = f"/api/v1/ops/worker-probes/{uuid.uuid4()}/"
    bad = "Basic " + base64.b64encode(b"teacher:wrong").decode()
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.get(url, HTTP_AUTHORIZATION=bad).status_code in {401, 403}

    locked = client.get(url, HTTP_AUTHORIZATION=bad)
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "locked_out"
    assert "Too many failed sign-in attempts" in locked.json()["error"]["message"]


# --- request-body cap ----------------------------------------------------------------------


class _UnreadableStream:
    """A request body that fails the test if anything reads it."""

    def read(self, *args: Any) -> bytes:
        raise AssertionError("the body was read")

    readline = read


_UNREADABLE: dict[str, Any] = {"wsgi.input": _UnreadableStream()}


def test_an_anonymous_large_body_is_refused_with_413_before_it_is_read(settings: Any) -> None:
    response = Client().generic(
        "POST",
        LOGIN,
        b"",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(300 * 1024 * 1024),
        **_UNREADABLE,
    )

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert f"at most {settings.REQUEST_BODY_MAX_BYTES} bytes" in response.text
    assert "Content-Security-Policy" in response


def test_an_api_body_over_the_cap_gets_the_json_error_shape(settings: Any) -> None:
    body = b"x" * (settings.REQUEST_BODY_MAX_BYTES + 1)

    response = Client().post(
        "/api/v1/ops/worker-probes/", body, content_type="application/octet-stream"
    )

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large"
    assert str(settings.REQUEST_BODY_MAX_BYTES) in error["message"]


def test_a_body_at_the_cap_passes(settings: Any) -> None:
    body = b"x" * settings.REQUEST_BODY_MAX_BYTES

    response = Client().post(LOGIN, body, content_type="application/octet-stream")

    assert response.status_code == 200  # the login form again: nothing refused it


def test_a_signed_in_learner_gets_the_small_cap(settings: Any) -> None:
    learner = User.objects.create_user("learner1", password="pw-learner-1")
    client = Client()
    client.force_login(learner)

    response = client.post(
        "/", b"x" * (settings.REQUEST_BODY_MAX_BYTES + 1), content_type="text/plain"
    )

    assert response.status_code == 413


def test_staff_may_send_a_bank_upload_and_no_more(staff: User, settings: Any) -> None:
    settings.BANK_UPLOAD_MAX_BYTES = 200 * 1024
    client = Client()
    client.force_login(staff)
    url = reverse("admin:knowledge_card_import")
    cap = settings.BANK_UPLOAD_MAX_BYTES + settings.REQUEST_BODY_MAX_BYTES

    within = client.post(url, b"x" * cap, content_type="application/octet-stream")
    over = client.post(url, b"x" * (cap + 1), content_type="application/octet-stream")

    assert within.status_code != 413
    assert over.status_code == 413
    assert f"at most {cap} bytes" in over.text


def test_a_chunked_body_without_a_length_is_refused_unread() -> None:
    response = Client().generic(
        "POST",
        "/api/v1/ops/worker-probes/",
        b"",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **_UNREADABLE,
    )

    assert response.status_code == 411
    assert response.json()["error"]["code"] == "length_required"


def test_a_malformed_content_length_is_a_400() -> None:
    response = Client().generic("POST", LOGIN, b"", CONTENT_LENGTH="12abc")

    assert response.status_code == 400


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def gunicorn_url(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A real gunicorn serving config.wsgi with the test settings on a free local port."""
    port = _free_port()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test", DATA_DIR=str(tmp_path))
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        (tmp_path / "gunicorn.log").read_text() or "gunicorn did not start"
                    ) from None
                time.sleep(0.1)
        yield ("127.0.0.1", port)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _raw_request(address: tuple[str, int], head: bytes, body: bytes = b"") -> bytes:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(head + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.slow
def test_gunicorn_answers_413_to_a_300_mb_upload_without_waiting_for_the_body(
    gunicorn_url: tuple[str, int],
) -> None:
    head = (
        b"POST /admin/login/ HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 314572800\r\n\r\n"
    )
    started = time.monotonic()

    reply = _raw_request(gunicorn_url, head)  # not a byte of the body is sent

    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_gunicorn_refuses_a_chunked_upload(gunicorn_url: tuple[str, int]) -> None:
    head = (
        b"POST /api/v1/ops/worker-probes/ HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )

    reply = _raw_request(gunicorn_url, head, b"10000\r\n" + b"x" * 0x10000 + b"\r\n")

    assert reply.startswith(b"HTTP/1.1 411"), reply[:200]
    assert b'"length_required"' in reply


# --- Content-Security-Policy ----------------------------------------------------------------


def _policy(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def _assert_strict(response: Any) -> None:
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


class _InlineCode(HTMLParser):
    """Collect what a no-inline policy would block: inline scripts, styles and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.scripts_with_src: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            kind = (values.get("type") or "text/javascript").lower()
            if values.get("src"):
                self.scripts_with_src.append(values["src"] or "")
            elif "json" not in kind:  # a JSON data block is not executed
                self._in_inline_script = True
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}={value}")
            if name == "style":
                self.found.append(f"{tag} style={value}")
            if name in {"href", "src", "action"} and (value or "").startswith("javascript:"):
                self.found.append(f"{tag} {name}={value}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script and data.strip():
            self.found.append(f"inline script: {data.strip()[:60]}")


def _inline_code(html: str) -> _InlineCode:
    parser = _InlineCode()
    parser.feed(html)
    return parser


def test_the_home_page_has_a_strict_policy_and_no_inline_code() -> None:
    response = Client().get("/")

    assert response.status_code == 200
    _assert_strict(response)
    assert _inline_code(response.text).found == []


def test_the_admin_sends_the_policy(staff: User) -> None:
    client = Client()
    login_page = client.get(LOGIN)
    client.force_login(staff)
    index = client.get("/admin/")

    for response in (login_page, index):
        assert response.status_code == 200
        _assert_strict(response)
        assert _inline_code(response.text).found == []


def test_the_api_sends_the_policy() -> None:
    response = Client().get("/api/v1/schema/")

    assert response.status_code == 200
    _assert_strict(response)


def test_the_card_preview_and_variants_load_katex_from_files_only(staff: User) -> None:
    bank = factories.bank(staff)
    concept = factories.card(bank, question_en=r"Why does \(k^2 C\) count the weights?")
    numeric = factories.card(
        bank, kind="numeric", template_version=1, constraints={}, slug="conv-size"
    )
    client = Client()
    client.force_login(staff)

    change = client.get(reverse("admin:knowledge_card_change", args=[concept.pk]))
    variants = client.get(reverse("admin:knowledge_card_variants", args=[numeric.pk]))

    for response in (change, variants):
        assert response.status_code == 200
        _assert_strict(response)
        parsed = _inline_code(response.text)
        assert parsed.found == []
        loaded = " ".join(parsed.scripts_with_src)
        for script in ("katex.min.js", "auto-render.min.js", "knowledge/math.js"):
            assert script in loaded
    assert r"\(k^2 C\)" in change.text


# --- the API's default permission -----------------------------------------------------------


class _NoPermissionsNamed(APIView):
    def get(self, request: Request) -> Response:
        return Response({"ok": True})


def test_an_api_view_that_names_no_permission_needs_a_signed_in_user() -> None:
    view = _NoPermissionsNamed.as_view()
    factory = APIRequestFactory()
    signed_in_request = factory.get("/api/v1/anything/")
    force_authenticate(signed_in_request, user=User(username="someone"))

    anonymous = view(factory.get("/api/v1/anything/"))
    signed_in = view(signed_in_request)

    assert anonymous.status_code in {401, 403}
    assert signed_in.status_code == 200


def test_the_schema_stays_public() -> None:
    assert Client().get("/api/v1/schema/").status_code == 200
