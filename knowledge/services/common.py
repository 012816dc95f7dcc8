"""What every bank service shares: the digest of content, the acting user, the errors."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

__all__ = ["Actor", "CardConflict", "content_digest", "editor"]

#: Who performs a write: a user, or None for the system (the fixture loader, migrations).
Actor = AbstractBaseUser | AnonymousUser | None


class CardConflict(Exception):
    """Another writer changed the same card at the same moment; nothing of this write was kept."""


def content_digest(data: Any) -> str:
    """Return the SHA-256 of ``data`` as canonical JSON (sorted keys, no whitespace, UTF-8)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def editor(user: Actor) -> Any:
    """Return ``user`` when it is a saved user (to record as the editor), else None."""
    if isinstance(user, get_user_model()) and user.pk is not None:
        return user
    return None
