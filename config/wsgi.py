"""WSGI entry point for gunicorn.

A web process serves with the settings it is told to use, never a default: ``make run``
(``config.stack``) sets ``DJANGO_SETTINGS_MODULE`` for the servers it starts, and a deployment
sets it to ``config.settings.production``. Without it, importing this module fails at once with
a message, instead of quietly serving a production database with the local settings.
"""

import os

from django.core.exceptions import ImproperlyConfigured

import config.env  # noqa: F401  (reads a developer's .env, which may set the variable)

if not os.environ.get("DJANGO_SETTINGS_MODULE"):
    raise ImproperlyConfigured(
        "DJANGO_SETTINGS_MODULE is not set. The WSGI application does not fall back to local "
        "settings: set it to config.settings.production (or config.settings.local to try the "
        "service on this machine; `make run` sets it for you)."
    )

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
