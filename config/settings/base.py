"""Settings shared by every environment; ``local``, ``test`` and ``production`` refine them."""

from datetime import timedelta
from pathlib import Path

import django_stubs_ext
from csp.constants import NONE, SELF

from config.env import BASE_DIR, env

# Lets admin.ModelAdmin[Card] and friends be written with their type parameters at run time.
django_stubs_ext.monkeypatch()

DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "data")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "axes",
    "csp",
    "knowledge",
    "quizzes",
    "ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication (the cap depends on who asks), before anything reads the body.
    "config.security.RequestBodyLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a login that axes flagged as locked out into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database(url: str) -> dict[str, object]:
    config: dict[str, object] = env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web server read while the worker writes; IMMEDIATE transactions take the
        # write lock up front, so two writers queue on the busy timeout instead of failing with
        # "database is locked" when a read transaction tries to upgrade.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    else:
        config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}")
DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes checks every login from a web request first; ModelBackend then checks the password.
AUTHENTICATION_BACKENDS = [
    "config.security.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGIN_URL = "admin:login"

# Redis is the Celery broker and result store.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A task is acknowledged after it ran, so a worker killed mid-task leaves it queued for another.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Periodic tasks, all declared here. Each expires after one period, so a backlog built up while
# no worker ran is not replayed all at once.
HEARTBEAT_SECONDS = env.float("HEARTBEAT_SECONDS", default=30.0)
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=30.0)
# How often learners due for a fit of their FSRS parameters are fitted (quizzes.fitting).
PARAMETER_REFIT_SECONDS = env.float("PARAMETER_REFIT_SECONDS", default=24 * 3600.0)
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "ops.record_heartbeat",
        "schedule": HEARTBEAT_SECONDS,
        "options": {"expires": HEARTBEAT_SECONDS},
    },
    "outbox-sweep": {
        "task": "ops.outbox_sweep",
        "schedule": OUTBOX_SWEEP_SECONDS,
        "options": {"expires": OUTBOX_SWEEP_SECONDS},
    },
    "parameter-refit": {
        "task": "quizzes.refit_parameters",
        "schedule": PARAMETER_REFIT_SECONDS,
        "options": {"expires": PARAMETER_REFIT_SECONDS},
    },
}
# The outbox sweep sends a pending row's task again this long after its creation or last re-send
# (seconds), at most OUTBOX_MAX_RESENDS times.
OUTBOX_RESEND_AFTER = env.float("OUTBOX_RESEND_AFTER", default=60.0)
OUTBOX_MAX_RESENDS = env.int("OUTBOX_MAX_RESENDS", default=20)
OPS_PROBE_RETENTION_DAYS = env.int("OPS_PROBE_RETENTION_DAYS", default=7)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    # Every endpoint needs a signed-in user unless it opts out by naming its own permissions.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "config.api_errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DL/CV interview drill API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema is public on purpose (the home page links it): it describes, it holds no data.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
}

# Where the question bank lives and who owns the banks it loads.
BANK_FIXTURES_DIR = Path(env.str("BANK_FIXTURES_DIR", default=str(BASE_DIR / "fixtures")))
BANK_OWNER = env.str("BANK_OWNER", default="curator")
# Uploads larger than this are refused before they are parsed (bytes).
BANK_UPLOAD_MAX_BYTES = env.int("BANK_UPLOAD_MAX_BYTES", default=5 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = BANK_UPLOAD_MAX_BYTES
# Request bodies over the caller's cap are refused with 413 before they are read
# (config.security.RequestBodyLimitMiddleware): this many bytes for anyone, and
# BANK_UPLOAD_MAX_BYTES plus this margin for signed-in staff.
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=64 * 1024)

# Failed logins (django-axes): after LOGIN_FAILURE_LIMIT failures for one username from one
# address, that pair is locked for LOGIN_LOCKOUT_MINUTES; a success clears the count.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"

# Content-Security-Policy (django-csp): scripts, styles and fonts only from our own origin; no
# inline script or style anywhere (KaTeX and the admin load theirs as static files).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
# /healthz calls the worker alive when a heartbeat or probe completed within this many seconds.
HEALTHZ_HEARTBEAT_MAX_AGE = env.float("HEALTHZ_HEARTBEAT_MAX_AGE", default=3 * HEARTBEAT_SECONDS)
# Loopback callers see /healthz's details (staff always do); turn off behind a local proxy.
HEALTHZ_DETAILS_FOR_LOOPBACK = env.bool("HEALTHZ_DETAILS_FOR_LOOPBACK", default=True)
# Each web process reuses its last /healthz result for this long (seconds; 0 checks every time).
HEALTHZ_CACHE_SECONDS = env.float("HEALTHZ_CACHE_SECONDS", default=1.0)
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="drill-demo-2026")
# Whether create_demo_users may create the demo accounts: on in local and test, never in production.
DEMO_ACCOUNTS = False
