"""The one reader of the process environment. Every setting that varies by deployment comes
through ``env``; ``.env.example`` lists every variable it reads."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A developer's .env file is read when present; real environment variables win over it.
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env", overwrite=False)

__all__ = ["BASE_DIR", "env"]
