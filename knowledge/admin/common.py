"""Helpers the admin modules share."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

__all__ = ["download", "owned"]


def download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def owned(request: HttpRequest, queryset: QuerySet[Any], owner_path: str) -> QuerySet[Any]:
    """Return the rows of ``queryset`` the user owns (all of them for a superuser)."""
    user = request.user
    if user.is_superuser:
        return queryset
    return queryset.filter(**{owner_path: user})
