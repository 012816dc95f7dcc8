"""Read an uploaded bank file into cards in fixture form, or say why it cannot be read.

:func:`upload_read_cards` is the one entry point: the byte checks below, then the parser of the
format. Size is capped before decoding; a gzip-compressed upload (the one compressed format accepted)
is inflated only up to the same cap, so a compression bomb is refused after reading at most
``limit + 1`` bytes of output. Text must be UTF-8.
"""

from __future__ import annotations

import gzip
import io
import zlib
from typing import Any, Literal

from django.conf import settings

from knowledge.fixture_schema import FixtureError

__all__ = [
    "MAX_UPLOAD_CARDS",
    "ImportFormat",
    "UploadRejected",
    "read_upload_text",
    "upload_read_cards",
]

ImportFormat = Literal["fixture", "csv", "moodle"]
# Shown in messages and stored in revision notes; a browser may send a name of any length.
MAX_NAME = 100
# Cards one upload may hold, whatever the format: reading and validating this many takes about a
# second, so a refusal comes back quickly; a bigger bank is imported in parts.
MAX_UPLOAD_CARDS = 1000

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


def upload_name(name: str) -> str:
    """Return an upload's file name cut to a length every message and note can hold."""
    name = name.replace("\x00", "").strip() or "upload"
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"


def upload_read_cards(
    data: bytes, *, fmt: str, name: str, bank: str = "", topic: str = ""
) -> tuple[list[dict[str, Any]], list[FixtureError]]:
    """Return the cards of an upload in fixture form and the problems the parser found.

    Raise UploadRejected when the bytes cannot be read at all (size, compression, encoding).
    The cards are not validated yet: pass them to ``knowledge.fixture_schema.validate_cards``
    with the banks, topics and sections they may refer to. ``bank`` and ``topic`` are where
    Moodle questions go (Moodle has no such fields of ours). When the list of problems is not
    empty, nothing may be imported.
    """
    from .csv_format import csv_to_items
    from .fixture import fixture_yaml_to_items
    from .moodle import moodle_xml_to_items

    name = upload_name(name)
    text = read_upload_text(data, name=name)
    if fmt == "fixture":
        return fixture_yaml_to_items(text, name=name)
    if fmt == "csv":
        return csv_to_items(text, name=name)
    if fmt == "moodle":
        if not bank or not topic:
            return [], [
                FixtureError(name, "", "", "choose the bank and topic the Moodle questions go to")
            ]
        return moodle_xml_to_items(text, name=name, bank=bank, topic=topic)
    return [], [FixtureError(name, "", "format", f"unknown import format {fmt[:40]!r}")]
