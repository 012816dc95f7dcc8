"""The Celery app. It reads every ``CELERY_*`` setting from Django's settings."""

from celery import Celery

# No default DJANGO_SETTINGS_MODULE here: a worker or beat started without it stops at its first
# use of the settings with Django's "settings are not configured" error, instead of running
# against a production broker and database with the local settings. `make run` sets it.

app = Celery("dlcv")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

__all__ = ["app"]
