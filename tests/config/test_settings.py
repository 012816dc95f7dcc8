"""Production settings refuse unsafe configuration and pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "-production-secret-for-the-settings-test-" + "x" * 20


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS"}}
    environ.update(DJANGO_SETTINGS_MODULE="config.settings.production", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"ALLOWED_HOSTS": "drill.example.com"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short", "ALLOWED_HOSTS": "drill.example.com"}, "SECRET_KEY"),
        ({"SECRET_KEY": GOOD_KEY}, "ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_without_its_required_settings(
    env: dict[str, str], complaint: str
) -> None:
    result = _run("check", **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr


def test_production_passes_the_deploy_check_with_no_warnings() -> None:
    result = _run(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="drill.example.com",
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_env_example_lists_every_variable_the_settings_read() -> None:
    import re

    sources = [*(ROOT / "config").rglob("*.py")]
    read = set()
    for path in sources:
        read |= set(
            re.findall(r'env\.(?:str|bool|int|float|list)\(\s*"([A-Z_]+)"', path.read_text())
        )
    listed = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))

    assert read, "the settings read no variables: the pattern is wrong"
    assert read - listed == set()


def _python_without_settings_module(code: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_wsgi_application_refuses_to_start_without_a_settings_module() -> None:
    result = _python_without_settings_module("import config.wsgi")

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SETTINGS_MODULE is not set" in result.stderr


def test_the_celery_app_never_loads_local_settings_by_itself() -> None:
    result = _python_without_settings_module(
        "import sys\n"
        "from config.celery_app import app\n"
        "assert 'config.settings.local' not in sys.modules\n"
        "app.conf.broker_url\n"
    )

    assert result.returncode != 0
    assert "settings are not configured" in result.stderr
    assert "AssertionError" not in result.stderr


def test_the_wsgi_application_serves_with_the_settings_it_is_given() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import config.wsgi; from django.conf import settings; print(settings.SETTINGS_MODULE)",
        ],
        cwd=ROOT,
        env=dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test"),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "config.settings.test"
