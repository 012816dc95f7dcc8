"""Checks every uploaded bank file passes before a parser sees it.

Size is capped before decoding; a gzip-compressed upload (the one compressed format accepted)
is inflated only up to the same cap, so a compression bomb is refused after reading at most
``limit + 1`` bytes of output. Text must be UTF-8.
"""

from __future__ import annotations

import gzip
import io
import zlib

from django.conf import settings

__all__ = ["UploadRejected", "read_upload_text"]

GZIP_MAGIC = b"\x1f\x8b"


class UploadRejected(ValueError):
    """The upload cannot be read at all; the message says why, for the person who sent it."""


def read_upload_text(data: bytes, *, name: str = "upload", limit: int | None = None) -> str:
    """Return the text of an upload, inflating gzip, refusing oversized or non-UTF-8 content."""
    limit = settings.BANK_UPLOAD_MAX_BYTES if limit is None else limit
    if len(data) > limit:
        raise UploadRejected(f"{name} is {len(data):,} bytes; the limit is {limit:,} bytes.")
    if not data.strip():
        raise UploadRejected(f"{name} is empty.")
    if data.startswith(GZIP_MAGIC):
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
                data = stream.read(limit + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise UploadRejected(
                f"{name} looks gzip-compressed but cannot be inflated: {exc}"
            ) from exc
        if len(data) > limit:
            raise UploadRejected(
                f"{name} inflates to more than {limit:,} bytes; compressed uploads must stay under the limit too."
            )
    if b"\x00" in data:
        raise UploadRejected(f"{name} is binary, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadRejected(
            f"{name} is not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r}); save it as UTF-8."
        ) from exc
