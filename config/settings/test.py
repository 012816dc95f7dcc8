"""Settings for the test suite. DATABASE_URL selects PostgreSQL; the default is SQLite."""

import os
import tempfile
from pathlib import Path

from config.env import env

from .base import *  # noqa: F403
from .base import DATABASES

SECRET_KEY = "test-only-insecure-key"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEMO_ACCOUNTS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not Django's default in-memory test database: the Celery worker that integration
    # tests start in another process must open the same database. One file per test run, so
    # that two runs at once do not drop each other's tables.
    default_path = Path(tempfile.gettempdir()) / f"dlcv-test-{os.getpid()}.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_SQLITE_PATH", default=str(default_path))}
