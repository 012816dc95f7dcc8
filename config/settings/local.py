"""The embedded default a developer or evaluator runs with ``make run``."""

from config.env import env

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, SECRET_KEY

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = SECRET_KEY or "local-only-insecure-key-do-not-deploy"
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]
# make run creates the demo learner and instructor (once; see create_demo_users).
DEMO_ACCOUNTS = True
